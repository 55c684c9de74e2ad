"""Second derivatives of reductions and scans against torch (they once saved intermediates that double
backward treated as constants), and the conjugate transposes and complex-backward rule."""

from __future__ import annotations

import lamina
import numpy as np
import pytest

torch = pytest.importorskip("torch")

CASES = {
    "logsumexp": lambda m, x: m.logsumexp(x, 1),
    "logsumexp_keepdim": lambda m, x: m.logsumexp(x, 1, keepdim=True),
    "logsumexp_all": lambda m, x: m.logsumexp(x, (0, 1)),
    "var": lambda m, x: x.var(1),
    "var_all_biased": lambda m, x: x.var(correction=0),
    "std": lambda m, x: x.std(0),
    "var_mean": lambda m, x: m.var_mean(x, 1)[0],
    "prod": lambda m, x: x.prod(1),
    "prod_all": lambda m, x: x.prod(),
    "cumprod": lambda m, x: x.cumprod(1),
    "cumsum": lambda m, x: x.cumsum(0),
    "logcumsumexp": lambda m, x: x.logcumsumexp(1),
    "cdist_p2_mm": lambda m, x: m.cdist(x, x.flip(0) + 0.1, compute_mode="use_mm_for_euclid_dist"),
    "cdist_p3": lambda m, x: m.cdist(x, x.flip(0) + 0.1, p=3.0),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_derivative_matches_torch(name):
    a = np.random.default_rng(0).standard_normal((3, 4))
    if name.startswith("cdist"):  # torch has no double backward for cdist: check lamina numerically instead
        x = lamina.tensor(a, requires_grad=True)
        assert lamina.testing.gradgradcheck(lambda v: CASES[name](lamina, v), (x,))
        return
    out = []
    for m in (lamina, torch):
        x = m.tensor(a, requires_grad=True)
        y = CASES[name](m, x)
        (g,) = m.autograd.grad((y ** 2).sum(), x, create_graph=True)
        (h,) = m.autograd.grad((g * g).sum(), x)
        out.append(h.detach().numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["logsumexp", "var", "std", "prod", "cumprod", "logcumsumexp", "cdist_p3"])
def test_gradgradcheck(name):
    x = lamina.tensor(np.random.default_rng(1).uniform(0.5, 1.5, (3, 4)), requires_grad=True)
    assert lamina.testing.gradgradcheck(lambda v: CASES[name](lamina, v), (x,))


def test_conjugate_transposes_match_torch():
    data = [[1 + 2j, 3 - 1j], [0 + 1j, 2 + 0j]]
    z, t = lamina.tensor(data), torch.tensor(data)
    np.testing.assert_array_equal(z.H.numpy(), t.H.resolve_conj().numpy())
    np.testing.assert_array_equal(z.mH.numpy(), t.mH.resolve_conj().numpy())
    batch = np.arange(12).reshape(2, 2, 3) * (1 - 1j)
    np.testing.assert_array_equal(lamina.tensor(batch).mH.numpy(), torch.tensor(batch).mH.resolve_conj().numpy())
    for attr, match in (("H", "only supported on matrices \\(2-D tensors\\). Got 1-D"),
                        ("mH", "only supported on matrices or batches of matrices. Got 1-D")):
        for m in (lamina, torch):
            with pytest.raises(RuntimeError, match=match):
                getattr(m.ones(3), attr)
    with pytest.raises(RuntimeError, match="Got 3-D"):
        _ = lamina.ones(2, 2, 2).H
    np.testing.assert_array_equal(lamina.ones(2, 3).H.numpy(), np.ones((3, 2)))


def test_backward_of_a_complex_scalar_needs_a_gradient():
    for m in (lamina, torch):
        z = m.tensor(1 + 2j, requires_grad=True)
        with pytest.raises(RuntimeError, match="implicitly created only for real scalar outputs"):
            (z * 2).backward()
