"""Numerical gradient checks: ``gradcheck`` and ``gradgradcheck`` (float64 central differences).

The analytic Jacobian (from backward passes) is compared with a numerical one built from central
differences ``(f(x + eps) - f(x - eps)) / (2 eps)``, element by element, with the test
``|analytic - numerical| <= atol + rtol * |numerical|``. ``fast_mode=True`` compares one random
directional derivative instead (``v . J u`` for random ``u``, ``v``), which costs two forward and
one backward pass whatever the input size.

Complex tensors are checked as real pairs, as PyTorch's gradcheck does through its Wirtinger
split: a complex input ``z`` becomes ``view_as_real(z)`` (its real and imaginary parts perturbed
one at a time) and a complex output ``view_as_real(output)``. With PyTorch's convention (the
gradient of a real loss is ``dL/dx + i dL/dy``), the analytic Jacobian of the pairs is what
backward gives, so a gradient missing a conjugate fails the check.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """A gradient check found analytic and numerical derivatives that disagree."""


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _host(t) -> np.ndarray:
    return np.array(t.device.backend.to_host(t.detach().array), dtype=np.float64)  # a copy: outputs may be views


def _diff_inputs(inputs: tuple) -> list[int]:
    from lamina import Tensor

    idx = []
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad:
            if x.dtype.name not in ("float64", "complex128"):
                warnings.warn(f"gradcheck: input {i} requires grad and is {x.dtype}, not float64; finite "
                              "differences in low precision are unreliable", UserWarning, stacklevel=3)
            if not x.array.flags.writeable:
                raise ValueError(f"gradcheck: input {i} is a read-only (expanded) array; pass a writable tensor")
            idx.append(i)
    if not idx:
        raise ValueError("gradcheck: expected at least one input tensor with requires_grad=True")
    return idx


def _outputs(fn: Callable, inputs: tuple) -> tuple:
    from lamina import Tensor

    out = _as_tuple(fn(*inputs))
    return tuple(_pairs(o) for o in out if isinstance(o, Tensor) and (o.is_floating_point() or o.is_complex()))


def _pairs(t):
    """A complex tensor as its real (*, 2) view (differentiable); a real one as it is."""
    import lamina

    return lamina.view_as_real(t) if t.is_complex() else t


def _as_real_inputs(fn: Callable, inputs: tuple) -> tuple[Callable, tuple]:
    """``fn`` as a function of real pairs in place of its complex inputs that require grad."""
    import lamina
    from lamina import Tensor

    cplx = [isinstance(x, Tensor) and x.requires_grad and x.is_complex() for x in inputs]
    if not any(cplx):
        return fn, inputs
    pairs = tuple(lamina.view_as_real(x.detach()).clone().requires_grad_(True) if c else x
                  for x, c in zip(inputs, cplx))

    def on_pairs(*xs: Any) -> Any:
        return fn(*(lamina.view_as_complex(x) if c else x for x, c in zip(xs, cplx)))

    return on_pairs, pairs


def _eval(fn: Callable, inputs: tuple) -> list[np.ndarray]:
    # grad mode stays on: fn may itself differentiate (gradgradcheck's first derivative)
    return [_host(o).reshape(-1) for o in _outputs(fn, inputs)]


def _perturb(x, flat: int, delta: float) -> Any:
    """Add ``delta`` to element ``flat`` of x's array in place; return the old value."""
    key = np.unravel_index(flat, x.shape) if x.ndim else ()
    arr = x.array
    old = arr[key].copy() if hasattr(arr[key], "copy") else arr[key]
    arr[key] = old + delta
    return key, old


def _numerical(fn: Callable, inputs: tuple, i: int, eps: float, n_out: list[int]) -> list[np.ndarray]:
    """d outputs / d inputs[i] as one (numel_out_k, numel_in) matrix per output k."""
    x = inputs[i]
    jac = [np.zeros((m, x.numel())) for m in n_out]
    for k in range(x.numel()):
        key, old = _perturb(x, k, eps)
        try:
            plus = _eval(fn, inputs)
            x.array[key] = old - eps
            minus = _eval(fn, inputs)
        finally:
            x.array[key] = old
        for o, (p, m) in enumerate(zip(plus, minus)):
            jac[o][:, k] = (p - m) / (2 * eps)
    return jac


def _vjp(fn: Callable, inputs: tuple, diff: list[int], o: int, v: np.ndarray) -> list[np.ndarray]:
    """v^T d output_o / d inputs (one flat vector per differentiable input; zeros where unused)."""
    from lamina import autograd, tensor

    outs = _outputs(fn, inputs)
    y = outs[o]
    g = tensor(v.reshape(tuple(y.shape)), dtype=y.dtype, device=y.device)
    if not y.requires_grad:
        return [np.zeros(inputs[i].numel()) for i in diff]
    grads = autograd.grad(y, [inputs[i] for i in diff], g, allow_unused=True)
    res = []
    for i, gr in zip(diff, grads):
        x = inputs[i]
        if gr is None:
            res.append(np.zeros(x.numel()))
            continue
        if tuple(gr.shape) != tuple(x.shape):
            raise GradcheckError(f"gradcheck: gradient for input {i} has shape {list(gr.shape)}, "
                                 f"expected {list(x.shape)} (the input's shape)")
        if gr.dtype != x.dtype:
            raise GradcheckError(f"gradcheck: gradient for input {i} has dtype {gr.dtype}, expected {x.dtype}")
        res.append(_host(gr).reshape(-1))
    return res


def _fail(msg: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False


def _slow(fn, inputs, diff, eps, atol, rtol, raise_exception) -> bool:
    base = _eval(fn, inputs)
    n_out = [b.size for b in base]
    analytic = {i: [np.zeros((m, inputs[i].numel())) for m in n_out] for i in diff}
    for o, m in enumerate(n_out):
        for r in range(m):
            v = np.zeros(m)
            v[r] = 1.0
            for i, row in zip(diff, _vjp(fn, inputs, diff, o, v)):
                analytic[i][o][r] = row
    for i in diff:
        numerical = _numerical(fn, inputs, i, eps, n_out)
        shape = tuple(inputs[i].shape)
        for o in range(len(n_out)):
            a, n = analytic[i][o], numerical[o]
            bad = ~(np.abs(a - n) <= atol + rtol * np.abs(n))
            if bad.any():
                r, k = (int(v[0]) for v in np.nonzero(bad))
                elem = np.unravel_index(k, shape) if shape else ()
                return _fail(
                    f"gradcheck: Jacobian mismatch for output {o} with respect to input {i}: "
                    f"{int(bad.sum())} of {bad.size} entries differ; first at output element {r}, input "
                    f"element {tuple(int(e) for e in elem)}: numerical {float(n[r, k])!r}, "
                    f"analytical {float(a[r, k])!r} "
                    f"(atol={atol}, rtol={rtol})\nnumerical:\n{n}\nanalytical:\n{a}", raise_exception)
    return True


def _fast(fn, inputs, diff, eps, atol, rtol, raise_exception) -> bool:
    rng = np.random.default_rng(0)
    base = _eval(fn, inputs)
    dirs = {i: rng.standard_normal(inputs[i].numel()) for i in diff}
    for o, b in enumerate(base):
        v = rng.standard_normal(b.size)
        analytic = sum(float(row @ dirs[i]) for i, row in zip(diff, _vjp(fn, inputs, diff, o, v)))
        saved = {i: inputs[i].array.copy() for i in diff}
        try:
            for sign, store in ((1.0, "plus"), (-1.0, "minus")):
                for i in diff:
                    x = inputs[i]
                    x.array[...] = saved[i] + x.array.dtype.type(sign * eps) * _like(x, dirs[i])
                if store == "plus":
                    plus = _eval(fn, inputs)[o]
                else:
                    minus = _eval(fn, inputs)[o]
        finally:
            for i in diff:
                inputs[i].array[...] = saved[i]
        numerical = float(v @ ((plus - minus) / (2 * eps)))
        if not abs(analytic - numerical) <= atol + rtol * abs(numerical):
            return _fail(f"gradcheck (fast mode): directional derivative mismatch for output {o} with respect to "
                         f"inputs {diff}: numerical {numerical!r}, analytical {analytic!r} "
                         f"(atol={atol}, rtol={rtol}); rerun with fast_mode=False to find the element",
                         raise_exception)
    return True


def _like(x, flat: np.ndarray):
    """A host vector moved to x's device with x's shape."""
    return x.device.backend.from_host(flat.reshape(tuple(x.shape)).astype(x.array.dtype), x.device.index)


def gradcheck(fn: Callable, inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, fast_mode: bool = False) -> bool:
    """Check the gradients of ``fn(*inputs)`` against central finite differences.

    Inputs with ``requires_grad=True`` are checked (they should be float64 or complex128); every
    floating or complex output is (complex ones as real pairs, see the module docstring). Returns
    True, or raises GradcheckError (False when ``raise_exception=False``) naming the output, input
    and element that mismatched with the numerical and analytical values.
    """
    fn, inputs = _as_real_inputs(fn, _as_tuple(inputs))
    diff = _diff_inputs(inputs)
    check = _fast if fast_mode else _slow
    return check(fn, inputs, diff, eps, atol, rtol, raise_exception)


def gradgradcheck(fn: Callable, inputs: Any, grad_outputs: Sequence | None = None, *, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
                  fast_mode: bool = False) -> bool:
    """Check second derivatives: gradcheck of ``(inputs, v) -> v^T d fn / d inputs`` built with create_graph.

    ``grad_outputs`` default to seeded random float64 tensors (which are themselves checked).
    """
    from lamina import autograd, tensor

    inputs = _as_tuple(inputs)
    diff = _diff_inputs(inputs)
    outs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype, device=o.device,
                                    requires_grad=True) for o in outs)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def first_derivative(*args):
        xs, vs = args[:n_in], args[n_in:]
        ys = [y for y in _outputs(fn, xs) if y.requires_grad]
        pairs = [(y, v) for y, v in zip(_outputs(fn, xs), vs) if y.requires_grad]
        if not ys:
            return ()
        grads = autograd.grad([p[0] for p in pairs], [xs[i] for i in diff], [p[1] for p in pairs],
                              create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, fast_mode=fast_mode)
