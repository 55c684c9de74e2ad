"""``torch.autograd.functional``: jacobian, hessian, vjp, jvp, hvp and vhp of a function of tensors, built on
``lamina.autograd.grad`` (reverse mode; ``jvp``/``hvp`` by the double-vjp trick, so they need the ops' double
backward, as torch's do).

Inputs and outputs follow torch's structure rule: a tensor in gives a tensor out, a tuple gives a tuple.
A gradient that does not exist (an output independent of an input) is zeros, or, with ``strict=True``, a
RuntimeError, as torch raises. ``vectorize=True`` and ``strategy="forward-mode"`` are refused with a clear
error: lamina computes Jacobians row by row in reverse mode only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lamina
from lamina import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _tuple(x: Any, what: str, fn: str) -> tuple[bool, tuple[Tensor, ...]]:
    is_tuple = isinstance(x, tuple | list)
    xs = tuple(x) if is_tuple else (x,)
    for i, t in enumerate(xs):
        if not isinstance(t, Tensor):
            raise TypeError(f"The {what} given to {fn} must be either a Tensor or a tuple of Tensors but the value "
                            f"at index {i} has type {type(t)}.")
    return is_tuple, xs


def _grad_inputs(inputs: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    """Fresh leaves (or graph-keeping views under create_graph) that require grad."""
    return tuple(x.view_as(x) if create_graph and x.requires_grad else x.detach().requires_grad_(True)
                 for x in inputs)


def _grads(outputs: tuple[Tensor, ...], inputs: tuple[Tensor, ...], grad_outputs: tuple[Tensor | None, ...],
           create_graph: bool, strict: bool, fn: str, who: str = "The output") -> tuple[Tensor, ...]:
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if pairs:
        got = lamina.autograd.grad([o for o, _ in pairs], inputs, [g for _, g in pairs], retain_graph=True,
                                   create_graph=create_graph, allow_unused=True)
    else:
        got = (None,) * len(inputs)
    out = []
    for i, (g, x) in enumerate(zip(got, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(f"{who} of the user-provided function is independent of input {i}. This "
                                   f"is not allowed in strict mode ({fn}).")
            g = lamina.zeros_like(x)
        out.append(g if create_graph else g.detach())
    return tuple(out)


def _check_v(v: Any, like: tuple[Tensor, ...], what: str, fn: str) -> tuple[Tensor, ...]:
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise RuntimeError(f"The vector v can only be None if the {what} to the user-provided function is a "
                               f"single Tensor with a single element ({fn}).")
        return (lamina.ones_like(like[0]),)
    _, vs = _tuple(v, "v", fn)
    if len(vs) != len(like):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(like)} but got {len(vs)} ({fn}).")
    for a, b in zip(vs, like):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"Mismatch in shape: v has shape {tuple(a.shape)} but the {what} has shape "
                               f"{tuple(b.shape)} ({fn}).")
    return vs


def _run(func: Callable, inputs: Any, create_graph: bool, fn: str):
    is_in, xs = _tuple(inputs, "inputs", fn)
    with lamina.enable_grad():
        xs = _grad_inputs(xs, create_graph)
        out = func(*xs)
    is_out, ys = _tuple(out, "outputs of the user-provided function", fn)
    return is_in, xs, is_out, ys


def _shape(is_tuple: bool, values: tuple) -> Any:
    return tuple(values) if is_tuple else values[0]


def _detach(ys: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    return ys if create_graph else tuple(y.detach() for y in ys)


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(inputs), v^T J)``: the vector-Jacobian product at ``inputs``."""
    is_in, xs, is_out, ys = _run(func, inputs, create_graph, "vjp")
    vs = _check_v(v, ys, "output", "vjp")
    with lamina.enable_grad():
        g = _grads(ys, xs, vs, create_graph, strict, "vjp")
    return _shape(is_out, _detach(ys, create_graph)), _shape(is_in, g)


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(inputs), J v)``, by differentiating the vjp ``u -> u^T J`` with respect to ``u``."""
    is_in, xs, is_out, ys = _run(func, inputs, create_graph, "jvp")
    vs = _check_v(v, xs, "input", "jvp")
    with lamina.enable_grad():
        us = tuple(lamina.zeros_like(y).requires_grad_(True) for y in ys)
        g = _grads(ys, xs, us, True, strict, "jvp")
        jv = _grads(g, us, vs, create_graph, strict, "jvp")
    return _shape(is_out, _detach(ys, create_graph)), _shape(is_out, jv)


def _refuse(vectorize: bool, strategy: str, fn: str) -> None:
    if vectorize:
        raise NotImplementedError(f"lamina.autograd.functional.{fn}(vectorize=True) is not supported: lamina "
                                  "computes Jacobians row by row (use lamina.func.jacrev with vmap for a batched form)")
    if strategy != "reverse-mode":
        raise NotImplementedError(f"lamina.autograd.functional.{fn}: strategy={strategy!r} is not supported (only "
                                  "'reverse-mode')")


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Any:
    """The Jacobian of ``func`` at ``inputs``: for output i and input j a tensor of shape
    ``outputs[i].shape + inputs[j].shape``; nested as torch nests it (tensor, tuple, or tuple of tuples)."""
    _refuse(vectorize, strategy, "jacobian")
    is_in, xs, is_out, ys = _run(func, inputs, create_graph, "jacobian")
    rows = []
    with lamina.enable_grad():
        for y in ys:
            flat = y.reshape(-1)
            per_input: list[list[Tensor]] = [[] for _ in xs]
            for k in range(flat.numel()):
                got = _grads((flat[k],), xs, (None,), create_graph, strict, "jacobian", f"Output {len(rows)}")
                for j, g in enumerate(got):
                    per_input[j].append(g)
            blocks = tuple(
                (lamina.stack(gs) if gs else lamina.zeros((0,) + tuple(x.shape), dtype=x.dtype))
                .reshape(tuple(y.shape) + tuple(x.shape)) for gs, x in zip(per_input, xs))
            rows.append(_shape(is_in, blocks))
    return _shape(is_out, tuple(rows))


def _scalar_func(func: Callable, fn: str) -> Callable:
    def scalar(*xs: Tensor) -> Tensor:
        out = func(*xs)
        _, ys = _tuple(out, "outputs of the user-provided function", fn)
        if len(ys) != 1 or ys[0].numel() != 1:
            raise RuntimeError(f"The function given to {fn} should return a single Tensor with a single element, "
                               f"got {tuple(tuple(y.shape) for y in ys)}")
        return ys[0]
    return scalar


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of the scalar ``func``: for inputs i, j a tensor of shape ``inputs[i].shape + inputs[j].shape``."""
    _refuse(vectorize, outer_jacobian_strategy, "hessian")
    is_in, _ = _tuple(inputs, "inputs", "hessian")
    scalar = _scalar_func(func, "hessian")

    def gradient(*xs: Tensor) -> tuple[Tensor, ...]:
        return _grads((scalar(*xs),), xs, (None,), True, strict, "hessian")

    out = jacobian(gradient, inputs, create_graph=create_graph, strict=strict)
    return out if is_in else out[0]


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(inputs), v^T H)`` for the scalar ``func``."""
    is_in, xs, _, ys = _run(_scalar_func(func, "vhp"), inputs, True, "vhp")
    vs = _check_v(v, xs, "input", "vhp")
    with lamina.enable_grad():
        g = _grads(ys, xs, (None,), True, strict, "vhp")
        h = _grads(g, xs, vs, create_graph, strict, "vhp")
    return _detach(ys, create_graph)[0], _shape(is_in, h)


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(inputs), H v)`` for the scalar ``func`` (H is symmetric for twice-differentiable functions, so this
    is ``vhp``'s value; torch computes it by the double-vjp trick and gets the same numbers)."""
    return vhp(func, inputs, v, create_graph=create_graph, strict=strict)
