"""``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``, ``hessian``: torch.func's transforms.

They run on lamina's autograd engine. A transform takes fresh graph leaves for the arguments it
differentiates (connected to the caller's graph when an argument already requires grad, or when the
call is nested inside another transform) and returns results detached from its own graph at the
outermost level, so ``grad(f)(x)`` is a plain tensor as in torch and ``grad(grad(f))(x)`` is the
second derivative. ``jvp`` is computed as the derivative of a vector-Jacobian product with respect
to its cotangent (the "double vjp"), so it needs each op's double backward; ``jacfwd`` gives
``jacrev``'s values (the same Jacobian, computed in reverse mode).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import lamina

from ._pytree import tree_flatten, tree_map, tree_unflatten

_entry_grad_modes: list[bool] = []  # grad mode at the entry of each active transform, outermost first


@contextmanager
def _level() -> Iterator[None]:
    _entry_grad_modes.append(lamina.is_grad_enabled())
    try:
        with lamina.enable_grad():
            yield
    finally:
        _entry_grad_modes.pop()


def _leaf_for(x: Any) -> Any:
    """A graph leaf of this level standing for ``x`` (connected to ``x``'s graph if it has one)."""
    if not isinstance(x, lamina.Tensor):
        raise TypeError(f"torch.func: expected the differentiated arguments to be Tensors (or structures of them), "
                        f"got {type(x).__name__}")
    if x.requires_grad:
        return x.view_as(x) if x.is_floating_point() or x.is_complex() else x
    return x.detach().requires_grad_(True)


def _argnums(argnums: Any, n: int, where: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise RuntimeError(f"{where}: argnums must be non-empty")
    for a in nums:
        if not isinstance(a, int) or isinstance(a, bool):
            raise RuntimeError(f"{where}: argnums must be int or Tuple[int, ...], got: {type(a).__name__}")
        if not -n <= a < n:
            raise RuntimeError(f"{where}: Got argnums={a}, but only {n} positional inputs")
    return tuple(a % n for a in nums)


def _detach_out(x: Any, keep: bool) -> Any:
    return tree_map(lambda t: t.detach() if isinstance(t, lamina.Tensor) and not keep else t, x)


def _grads(outputs: list[Any], inputs: list[Any], cotangents: list[Any] | None, keep: bool) -> list[Any]:
    """d(outputs . cotangents)/d(inputs), zeros where an input does not reach the outputs."""
    pairs = [(o, c) for o, c in zip(outputs, cotangents or [None] * len(outputs)) if o.requires_grad]
    if not pairs:
        return [lamina.zeros_like(x) for x in inputs]
    gs = lamina.autograd.grad([o for o, _ in pairs], inputs, grad_outputs=[c for _, c in pairs],
                              retain_graph=True, create_graph=keep, allow_unused=True)
    return [lamina.zeros_like(x) if g is None else g for x, g in zip(inputs, gs)]


def _prepare(args: tuple, nums: tuple[int, ...]) -> tuple[list[Any], list[Any], list[Any]]:
    """New positional args with fresh leaves at ``nums``; the leaves; and each differentiated arg's spec."""
    new = list(args)
    leaves, specs = [], []
    for a in nums:
        flat, spec = tree_flatten(args[a])
        fresh = [_leaf_for(x) for x in flat]
        new[a] = tree_unflatten(fresh, spec)
        leaves.append(fresh)
        specs.append(spec)
    return new, leaves, specs


def _keep(originals: list[Any]) -> bool:
    """Whether this level's results must stay differentiable: an enclosing transform, or a caller's graph
    (an argument requiring grad, with grad mode on where the transform was called) will differentiate them."""
    if len(_entry_grad_modes) > 1:
        return True
    return _entry_grad_modes[-1] and any(isinstance(x, lamina.Tensor) and x.requires_grad for x in originals)


def _split_aux(out: Any, where: str) -> tuple[Any, Any]:
    """``(output, aux)`` of a function called with ``has_aux=True``."""
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{where}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return out


def grad_and_value(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False
                   ) -> Callable[..., Any]:
    """``(gradient, value)`` of a function returning a scalar tensor (``(gradient, (value, aux))`` with aux)."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        where = "grad_and_value(f)(*args)"
        nums = _argnums(argnums, len(args), where)
        with _level():
            originals = [x for a in nums for x in tree_flatten(args[a])[0]]
            new, leaves, specs = _prepare(args, nums)
            out = func(*new, **kwargs)
            out, aux = _split_aux(out, where) if has_aux else (out, None)
            if not isinstance(out, lamina.Tensor):
                raise RuntimeError(f"{where}: Expected f(*args) to return a Tensor, got {type(out)}")
            if out.ndim != 0:
                raise RuntimeError(f"{where}: Expected f(*args) to return a scalar Tensor, got tensor with {out.ndim} "
                                   "dims. Maybe you wanted to use the vjp or jacrev APIs instead?")
            keep = _keep(originals)
            flat = [x for group in leaves for x in group]
            gs = iter(_grads([out], flat, None, keep))
            per_arg = [tree_unflatten([next(gs) for _ in group], spec) for group, spec in zip(leaves, specs)]
            g = per_arg[0] if isinstance(argnums, int) else tuple(per_arg)
            value = _detach_out(out, keep)
            if has_aux:
                return g, (value, _detach_out(aux, keep))
            return g, value
    return wrapper


def grad(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable[..., Any]:
    """The gradient of a scalar-valued ``func`` with respect to the arguments ``argnums`` (``(grad, aux)`` with aux)."""
    inner = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g, value = inner(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def vjp(func: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple:
    """``(func(*primals), vjp_fn)``; ``vjp_fn(cotangents)`` returns one gradient per primal (a tuple)."""
    with _level():
        originals = [x for p in primals for x in tree_flatten(p)[0]]
        new, leaves, specs = _prepare(primals, tuple(range(len(primals))))
        out = func(*new)
        out, aux = _split_aux(out, "vjp(f, *primals)") if has_aux else (out, None)
        keep = _keep(originals)
        outs, out_spec = tree_flatten(out)
        for o in outs:
            if not isinstance(o, lamina.Tensor):
                raise RuntimeError(f"vjp(f, *primals): Expected f to be a function that has only Tensors as outputs, "
                                   f"got {type(o)}")
    flat_in = [x for group in leaves for x in group]

    def vjp_fn(cotangents: Any, *, retain_graph: bool = True, create_graph: bool | None = None) -> tuple:
        cts, ct_spec = tree_flatten(cotangents)
        if ct_spec != out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree structure of "
                               f"outputs to the function: got {ct_spec.kind} for outputs of kind {out_spec.kind}")
        for o, c in zip(outs, cts):
            if tuple(o.shape) != tuple(c.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {tuple(c.shape)} and output[0] "
                                   f"has a shape of {tuple(o.shape)}.")
        with _level():
            gs = iter(_grads(outs, flat_in, cts, keep or bool(create_graph)))
            return tuple(tree_unflatten([next(gs) for _ in group], spec) for group, spec in zip(leaves, specs))

    value = _detach_out(out, keep)
    return (value, vjp_fn, _detach_out(aux, keep)) if has_aux else (value, vjp_fn)


def jvp(func: Callable[..., Any], primals: Any, tangents: Any, *, strict: bool = False, has_aux: bool = False
        ) -> tuple:
    """``(func(*primals), J @ tangents)``: the Jacobian-vector product at ``primals``."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to be tuples. E.g. it should be "
                           "valid to call f(*primals).")
    if len(primals) != len(tangents):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have the same python "
                           f"structure. For example, if primals is a tuple of 3 tensors, tangents also must be. Got "
                           f"primals with structure {len(primals)} and tangents with structure {len(tangents)}")
    if strict:
        raise RuntimeError("jvp(f, primals, tangents, strict=True): strict=True is not implemented in torch.func.jvp")
    with _level():
        originals = [x for p in primals for x in tree_flatten(p)[0]]
        new, leaves, _ = _prepare(tuple(primals), tuple(range(len(primals))))
        out = func(*new)
        out, aux = _split_aux(out, "jvp(f, primals, tangents)") if has_aux else (out, None)
        keep = _keep(originals)
        outs, out_spec = tree_flatten(out)
        flat_in = [x for group in leaves for x in group]
        flat_t = [t for tg in tangents for t in tree_flatten(tg)[0]]
        for x, t in zip(flat_in, flat_t):
            if tuple(x.shape) != tuple(t.shape):
                raise RuntimeError(f"jvp(f, primals, tangents): Expected primals and tangents to have the same shape, "
                                   f"got {tuple(x.shape)} and {tuple(t.shape)}")
        us = [lamina.zeros_like(o).requires_grad_(True) for o in outs]
        live = [(o, u) for o, u in zip(outs, us) if o.requires_grad]
        if live:
            gs = lamina.autograd.grad([o for o, _ in live], flat_in, grad_outputs=[u for _, u in live],
                                      create_graph=True, allow_unused=True)
            pairs = [(g, t) for g, t in zip(gs, flat_t) if g is not None and g.requires_grad]
        else:
            pairs = []
        if pairs:
            jv = lamina.autograd.grad([g for g, _ in pairs], us, grad_outputs=[t for _, t in pairs],
                                      create_graph=keep, allow_unused=True)
        else:
            jv = [None] * len(us)
        tangents_out = [lamina.zeros_like(o) if j is None else j for o, j in zip(outs, jv)]
        result = (_detach_out(out, keep), _detach_out(tree_unflatten(tangents_out, out_spec), keep))
        return result + (_detach_out(aux, keep),) if has_aux else result


def jacrev(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, *, has_aux: bool = False,
           chunk_size: int | None = None, _preallocate_and_copy: bool = False) -> Callable[..., Any]:
    """The Jacobian of ``func`` with respect to ``argnums`` by reverse mode: shape ``output.shape + input.shape``."""
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"jacrev: `chunk_size` should be greater than 0. Got {chunk_size}")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args), "jacrev(f, argnums)(*args)")
        with _level():
            originals = [x for a in nums for x in tree_flatten(args[a])[0]]
            new, leaves, specs = _prepare(args, nums)
            out = func(*new, **kwargs)
            out, aux = _split_aux(out, "jacrev(f, ...)(*args)") if has_aux else (out, None)
            keep = _keep(originals)
            outs, out_spec = tree_flatten(out)
            flat_in = [x for group in leaves for x in group]
            per_out = []
            for o in outs:
                if not isinstance(o, lamina.Tensor):
                    raise RuntimeError(f"jacrev(f, ...)(*args): Expected f to be a function that has only Tensors as "
                                       f"outputs, got {type(o)}")
                rows: list[list[Any]] = [[] for _ in flat_in]
                flat_o = o.reshape(-1)
                for k in range(flat_o.shape[0]):
                    gs = _grads([flat_o[k]], flat_in, None, keep)
                    for r, g in zip(rows, gs):
                        r.append(g)
                jac = [(lamina.stack(r) if r else lamina.zeros((0,) + tuple(x.shape), dtype=x.dtype))
                       .reshape(tuple(o.shape) + tuple(x.shape)) for r, x in zip(rows, flat_in)]
                it = iter(jac)
                per_arg = [tree_unflatten([next(it) for _ in group], spec) for group, spec in zip(leaves, specs)]
                per_out.append(per_arg[0] if isinstance(argnums, int) else tuple(per_arg))
            result = _detach_out(tree_unflatten(per_out, out_spec), keep)
            return (result, _detach_out(aux, keep)) if has_aux else result
    return wrapper


def jacfwd(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable[..., Any]:
    """The Jacobian of ``func`` (``jacrev``'s values: lamina computes it in reverse mode)."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")
    return jacrev(func, argnums, has_aux=has_aux)


def hessian(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The Hessian of a scalar-valued ``func``: ``jacfwd(jacrev(func, argnums), argnums)``."""
    return jacfwd(jacrev(func, argnums), argnums)
