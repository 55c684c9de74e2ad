"""Complex autograd against PyTorch's convention: for a real loss L of z = x + iy, z.grad = dL/dx + i dL/dy.

Gradients of real losses are compared with torch's on the same inputs; lamina.testing.gradcheck and
gradgradcheck (real pairs) check the formulas numerically, and a backward missing its conjugate fails.
"""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from lamina.testing import GradcheckError, gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

LOSSES = {
    "abs2": lambda m, z, w, r: (z.abs() ** 2).sum(),
    "real_imag": lambda m, z, w, r: z.real.sum() + (z.imag * r).sum(),
    "mul": lambda m, z, w, r: (z * w).abs().sum(),
    "mul_real": lambda m, z, w, r: (z * r).real.sum() + (r * 1j * z).imag.sum(),
    "div": lambda m, z, w, r: (z / w).abs().sum() + (r / z).real.sum(),
    "add_sub_alpha": lambda m, z, w, r: m.add(z, w, alpha=2 - 1j).abs().sum() + m.sub(z, w, alpha=1j).real.sum(),
    "exp": lambda m, z, w, r: m.exp(z).abs().sum(),
    "log": lambda m, z, w, r: m.log(z).imag.sum() + m.log(z).real.sum(),
    "sqrt": lambda m, z, w, r: m.sqrt(z).abs().sum() + m.sqrt(z).imag.sum(),
    "trig": lambda m, z, w, r: (m.sin(z) + m.cos(w) + m.tan(z) * 0.1).abs().sum(),
    "hyperbolic": lambda m, z, w, r: m.tanh(z).real.sum() + m.sinh(w).imag.sum() + m.cosh(z).abs().sum(),
    "sigmoid": lambda m, z, w, r: m.sigmoid(w).imag.sum() + m.sigmoid(z).abs().sum(),
    "reciprocal_rsqrt": lambda m, z, w, r: m.reciprocal(z).real.sum() + (-w).imag.sum() + m.rsqrt(w).real.sum(),
    "logs": lambda m, z, w, r: (m.log2(z) + m.log10(w) + m.log1p(z) + m.expm1(w)).abs().sum(),
    "inverse_trig": lambda m, z, w, r: (m.asin(z) + m.acos(w) + m.atan(z)).abs().sum(),
    "pow": lambda m, z, w, r: (z ** 2).abs().sum() + (z ** w).real.sum() + (z ** 2.5).imag.sum() + (2 ** z).real.sum(),
    "pow_complex_scalars": lambda m, z, w, r: (z ** (1 + 1j)).abs().sum() + ((2 - 1j) ** w).real.sum(),
    "square": lambda m, z, w, r: m.square(z).imag.sum(),
    "matmul": lambda m, z, w, r: (z.reshape(2, 2) @ w.reshape(2, 2)).abs().sum() + (z @ w).real,
    "mm_mixed": lambda m, z, w, r: m.mm(z.reshape(2, 2), r.reshape(2, 2).to(m.complex128)).abs().sum(),
    "einsum": lambda m, z, w, r: m.einsum("i,j->ij", z, w).abs().sum(),
    "conj": lambda m, z, w, r: (z.conj() * w).imag.sum(),
    "angle": lambda m, z, w, r: z.angle().sum() + r.angle().sum(),
    "sgn": lambda m, z, w, r: (z.sgn() * w).real.sum(),
    "reductions": lambda m, z, w, r: z.var() + z.mean().abs() + z.prod().real + z.norm(),
    "cumulative": lambda m, z, w, r: (z.sum() * w.mean()).abs() + m.cumprod(z, 0).real.sum()
    + m.cumsum(w, 0).imag.sum(),
    "view_as_real": lambda m, z, w, r: (m.view_as_real(z) * m.stack([r, r * r], -1)).sum(),
    "view_as_complex": lambda m, z, w, r: m.view_as_complex(m.stack([r, r * 2], -1)).mul(z).abs().sum(),
    "complex_polar": lambda m, z, w, r: (m.complex(r, r * r) * z).abs().sum() + m.polar(r.abs(), r).real.sum(),
    "cast": lambda m, z, w, r: (r.to(m.complex128) * z).imag.sum(),
    "joins_indexing": lambda m, z, w, r: m.cat([z, w]).abs().sum() + m.stack([z, w])[1, 2:].real.sum()
    + z[::2].imag.sum(),
    "where_expand": lambda m, z, w, r: m.where(r > 0, z, w).abs().sum() + z.reshape(4, 1).expand(4, 3).real.sum(),
}


def _run(mod, fn, seed: int):
    rng = np.random.default_rng(seed)
    z0, w0 = (rng.standard_normal(4) + 1j * rng.standard_normal(4) for _ in range(2))
    r0 = rng.standard_normal(4)
    z, w, r = (mod.tensor(a, requires_grad=True) for a in (z0, w0, r0))
    loss = fn(mod, z, w, r)
    loss.backward()
    grads = [None if t.grad is None else (t.grad.dtype, t.grad.detach().resolve_conj().numpy()) for t in (z, w, r)]
    return float(loss.detach()), grads


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_gradients_of_real_losses_match_torch(name):
    seed = sum(map(ord, name))
    lv, lg = _run(lamina, LOSSES[name], seed)
    tv, tg = _run(torch, LOSSES[name], seed)
    assert lv == pytest.approx(tv, rel=1e-10)
    for got, want in zip(lg, tg, strict=True):
        assert (got is None) == (want is None)
        if got is not None:
            assert str(got[0]).rpartition(".")[2] == str(want[0]).rpartition(".")[2]
            np.testing.assert_allclose(got[1], want[1], rtol=1e-9, atol=1e-12)


def test_complex_float32_gradients_keep_the_dtype():
    grads = []
    for m in (lamina, torch):
        z = m.tensor([1 + 2j, -0.5j], requires_grad=True)
        r = m.tensor([0.5, 2.0], requires_grad=True)
        (z * r).abs().sum().backward()
        assert str(z.grad.dtype).endswith("complex64") and str(r.grad.dtype).endswith("float32")
        grads.append((z.grad.numpy(), r.grad.numpy()))
    for got, want in zip(*grads, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_vector_jacobian_products_with_complex_grad_outputs_match_torch():
    rng = np.random.default_rng(7)
    z0, v0 = (rng.standard_normal(3) + 1j * rng.standard_normal(3) for _ in range(2))
    for fn in (lambda m, z: m.exp(z) * z, lambda m, z: z.conj() * 2j, lambda m, z: m.sgn(z), lambda m, z: z @ z * z):
        res = []
        for m in (lamina, torch):
            z = m.tensor(z0, requires_grad=True)
            (g,) = m.autograd.grad(fn(m, z), [z], m.tensor(v0))
            res.append(g.detach().resolve_conj().numpy())
        np.testing.assert_allclose(res[0], res[1], rtol=1e-10)


# --- numerical checks ---------------------------------------------------------------------------------
def _c(rng, *shape):
    return lamina.tensor(rng.standard_normal(shape) + 1j * rng.standard_normal(shape), dtype=lamina.complex128,
                         requires_grad=True)


def _r(rng, *shape, positive=False):
    a = rng.standard_normal(shape)
    return lamina.tensor(np.abs(a) + 0.5 if positive else a, dtype=lamina.float64, requires_grad=True)


GRADCHECK = {
    "mul": (lambda a, b: a * b, "cc"), "div": (lambda a, b: a / b, "cc"), "pow": (lambda a, b: a ** b, "cc"),
    "mixed_mul": (lambda a, b: a * b, "cr"), "exp": (lamina.exp, "c"), "log": (lamina.log, "c"),
    "sqrt": (lamina.sqrt, "c"), "sigmoid": (lamina.sigmoid, "c"), "tanh": (lamina.tanh, "c"),
    "sin": (lamina.sin, "c"), "reciprocal": (lamina.reciprocal, "c"), "abs": (lamina.abs, "c"),
    "angle": (lamina.angle, "c"), "sgn": (lamina.sgn, "c"), "conj": (lamina.conj, "c"),
    "real": (lamina.real, "c"), "imag": (lamina.imag, "c"), "view_as_real": (lamina.view_as_real, "c"),
    "matmul": (lambda a, b: a.reshape(3, 1) @ b.reshape(1, 3), "cc"), "sum_mean": (lambda a: a.sum() * a.mean(), "c"),
    "complex": (lamina.complex, "rr"), "polar": (lamina.polar, "pr"), "norm": (lambda a: a.norm(), "c"),
}


def _gc_inputs(kinds: str, seed: int):
    rng = np.random.default_rng(seed)
    return tuple(_c(rng, 3) if k == "c" else _r(rng, 3, positive=k == "p") for k in kinds)


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradcheck_and_gradgradcheck_on_complex_inputs(name):
    fn, kinds = GRADCHECK[name]
    inputs = _gc_inputs(kinds, sum(map(ord, name)))
    assert gradcheck(fn, inputs)
    assert gradcheck(fn, inputs, fast_mode=True)
    assert gradgradcheck(fn, inputs)


def test_gradcheck_agrees_with_torch_gradcheck():
    rng = np.random.default_rng(3)
    z0, w0 = (rng.standard_normal(3) + 1j * rng.standard_normal(3) for _ in range(2))
    for fn in (lambda m, a, b: a * b.conj(), lambda m, a, b: m.exp(a) / b, lambda m, a, b: (a.abs() * b).sgn()):
        t_in = tuple(torch.tensor(a, requires_grad=True) for a in (z0, w0))
        l_in = tuple(lamina.tensor(a, requires_grad=True) for a in (z0, w0))
        assert torch.autograd.gradcheck(lambda a, b, fn=fn: fn(torch, a, b), t_in)
        assert gradcheck(lambda a, b, fn=fn: fn(lamina, a, b), l_in)


class _MulWithoutConj(lamina.autograd.Function):
    """A complex multiply whose backward forgets the conjugate (the holomorphic derivative instead)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, dy):
        a, b = ctx.saved_tensors
        return dy * b, dy * a


def test_gradcheck_catches_a_missing_conjugate():
    rng = np.random.default_rng(5)
    inputs = (_c(rng, 3), _c(rng, 3))
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(_MulWithoutConj.apply, inputs)
    assert not gradcheck(_MulWithoutConj.apply, inputs, fast_mode=True, raise_exception=False)
    # and on real inputs the same Function is right: the check does not fail for nothing
    assert gradcheck(_MulWithoutConj.apply, (_r(rng, 3), _r(rng, 3)))


def test_gradcheck_leaves_complex_inputs_unchanged():
    rng = np.random.default_rng(6)
    z = _c(rng, 2, 2)
    before = z.detach().clone().numpy()
    assert gradcheck(lambda a: (a @ a).exp(), (z,))
    np.testing.assert_array_equal(z.detach().numpy(), before)
    assert z.grad is None
