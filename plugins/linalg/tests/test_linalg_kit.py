"""The conformance kit over every record of lamina-linalg, in strict mode: one item per record, device,
dtype and check."""

from __future__ import annotations

from lamina.testing import parametrize_plugin, run_check
from lamina_linalg import _common

# torch's deprecated top-level forms warn once per process, as torch does; test_linalg_toplevel.py checks
# those warnings, here they count as given (filterwarnings = error)
_common._WARNED.update({"torch.lu", "torch.lu_solve", "torch.qr", "torch.cholesky", "chain_matmul", "triangular_solve",
                        "cross", "nuclear_norm", "frobenius_norm"})


@parametrize_plugin("lamina-linalg")
def test_kit(case, check):
    run_check(case, check)
