"""Second derivatives through lamina-special's in-place methods on a non-leaf (the kit's in-place records feed
leaves, which cannot be written in place under autograd, so their double backward is checked here), against
torch float64 and by gradgradcheck. The special functions torch gives no derivative (Bessel, Airy, the
orthogonal polynomials) return outputs without a graph in both libraries, which the first test pins down."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from lamina.testing import gradgradcheck

torch = pytest.importorskip("torch")

X = np.array([0.3, 0.7, 1.2, -0.4])
P = np.array([0.2, 0.45, 0.6, 0.9])     # logit_'s domain


@pytest.mark.parametrize("name", ["bessel_j0", "modified_bessel_k1", "airy_ai", "spherical_bessel_j0"])
def test_no_derivative_as_torch(name):
    for mod in (lamina, torch):
        y = getattr(mod.special, name)(mod.tensor(X, requires_grad=True))
        assert not y.requires_grad and y.grad_fn is None


def _inplace(name, x, other=None):
    z = x * 1.0                                   # a non-leaf: in-place writes are recorded
    getattr(z, name)() if other is None else getattr(z, name)(other)
    return z


@pytest.mark.parametrize("name, data", [("erf_", X), ("erfc_", X), ("i0_", X), ("sinc_", X), ("exp2_", X),
                                        ("logit_", P), ("xlogy_", np.abs(X) + 0.1)])
def test_inplace_second_derivative(name, data):
    """xlogy_ is linear in self: its second derivative is the mixed one, with respect to self and other."""
    rng = np.random.default_rng(1)
    w, u = rng.standard_normal(data.shape), rng.standard_normal(data.shape)
    arrays = [data] + ([np.array([0.5, 1.5, 2.0, 0.8])] if name == "xlogy_" else [])
    got = []
    for mod in (lamina, torch):
        xs = [mod.tensor(a, requires_grad=True) for a in arrays]
        gs = mod.autograd.grad((_inplace(name, *xs) * mod.tensor(w)).sum(), xs, create_graph=True)
        ggs = mod.autograd.grad(sum((g * mod.tensor(u)).sum() for g in gs), xs)
        got.append([gg.numpy() for gg in ggs])
    for g, e in zip(*got):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)
    assert gradgradcheck(lambda *xs: _inplace(name, *xs), [lamina.tensor(a, requires_grad=True) for a in arrays])
