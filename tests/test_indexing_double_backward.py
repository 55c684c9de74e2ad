"""Second derivatives through gather (take_along_dim, Categorical.log_prob) and index_put/diag, against torch."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
import torch
from lamina.testing import gradgradcheck


def _put(m, x):
    y = x * 1
    return y.index_put((m.tensor([0, 2]),), m.ones(4, dtype=m.float64) * x[1].sum()) ** 2


CASES = {
    "gather": lambda m, x: x.gather(1, m.tensor([[0, 2], [1, 1], [3, 0]])).exp(),
    "take_along_dim": lambda m, x: m.take_along_dim(x, m.tensor([[3], [0], [2]]), dim=1) ** 3,
    "index_put": _put,
    "diag": lambda m, x: m.diag(x[0]).sin(),
    "setitem": lambda m, x: (x * 1).index_put((m.tensor([1]),), x[0] * 2).tanh(),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hessian_vector_products_match_torch(name):
    f = CASES[name]
    a = np.random.default_rng(0).standard_normal((3, 4))
    out = []
    for m in (lamina, torch):
        x = m.tensor(a, requires_grad=True)
        (g,) = m.autograd.grad(f(m, x).sum(), x, create_graph=True)
        (h,) = m.autograd.grad((g * g).sum(), x)
        out.append(h.detach().numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-10, atol=1e-12)
    assert gradgradcheck(lambda x: f(lamina, x), (lamina.tensor(a, requires_grad=True),))
