"""The conformance kit over every lamina-sparse record, in strict mode (a served function without an info
record fails): one item per record, device, dtype and check; and proof that the records can fail."""

from __future__ import annotations

import dataclasses

import numpy as np
from lamina.testing import parametrize_plugin, run_check, run_records
from lamina_sparse.testing import records


@parametrize_plugin("lamina-sparse")
def test_kit(case, check):
    run_check(case, check)


def test_records_catch_a_wrong_product_and_a_wrong_gradient():
    import lamina

    rec = next(r for r in records() if r.name == "spmm[sparse, dense]")
    wrong_value = dataclasses.replace(rec, reference=lambda idx, v, d: np.zeros((4, 2)))
    report = run_records("<broken>", [wrong_value], backend="cpu", only=["fn_forward_reference"])
    assert report.failures and all(r.status in ("failed", "passed") for r in report.results)

    def detached_values(idx, v, d):      # the values' gradient is lost: gradcheck must notice
        return lamina.spmm(lamina.sparse_coo_tensor(idx, v.detach(), (4, 3)), d)

    wrong_grad = dataclasses.replace(rec, fn=detached_values, covers=())
    report = run_records("<broken>", [wrong_grad], backend="cpu", only=["fn_gradcheck"])
    assert report.failures
