"""SyncBatchNorm across 2 ranks (mpiexec) vs one BatchNorm over the concatenated batch; one process as before.

The multi-rank cases run in one job, ``programs/syncbn_stats.py`` (see its docstring); the one-process
behaviour (no process group: exactly BatchNorm) is checked here directly.
"""

from __future__ import annotations

import lamina
import pytest
from lamina import nn
from test_ddp import run_program  # the DDP programs' runner (checks files per rank)


def test_syncbn_matches_batchnorm_over_all_ranks(tmp_path):
    results = run_program("syncbn_stats.py", tmp_path)
    assert all(len(r["checks"]) >= 90 for r in results)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 4)])
def test_one_process_is_exactly_batchnorm(shape):
    ref_cls = nn.BatchNorm2d if len(shape) == 4 else nn.BatchNorm1d
    x = lamina.randn(*shape, generator=lamina.Generator().manual_seed(0))
    sync, ref = nn.SyncBatchNorm(3), ref_cls(3)
    for _ in range(2):
        xs, xr = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
        ys, yr = sync(xs), ref(xr)
        (ys * ys).sum().backward()
        (yr * yr).sum().backward()
        assert lamina.equal(ys, yr) and lamina.equal(xs.grad, xr.grad)
        assert lamina.equal(sync.weight.grad, ref.weight.grad)
        assert lamina.equal(sync.running_var, ref.running_var)
    sync.eval()
    ref.eval()
    assert lamina.equal(sync(x), ref(x))


def test_one_process_keeps_batchnorm_errors():
    with pytest.raises(ValueError, match="expected more than 1 value per channel"):
        nn.SyncBatchNorm(3)(lamina.randn(1, 3))
    with pytest.raises(ValueError, match="SyncBatchNorm: expected at least 2D input"):
        nn.SyncBatchNorm(3)(lamina.randn(3))
