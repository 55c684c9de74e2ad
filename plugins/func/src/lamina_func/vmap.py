"""``vmap``: a function of one example mapped over a batch dimension.

lamina runs ``func`` once per batch entry on the entries' slices (``select`` views) and stacks the
results along ``out_dims``; torch rewrites the ops to batched ones. The values, shapes, gradients
(stack and select are differentiable) and error cases are torch's; the cost is a Python loop, so
``vmap`` over a large batch of small ops is slower than writing the batched op. ``chunk_size`` bounds
how many entries run before their results are stacked, as torch's bounds memory.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import lamina

from ._pytree import broadcast_prefix, tree_flatten, tree_unflatten

_RANDOMNESS = ("error", "different", "same")


def _name(func: Any) -> str:
    return getattr(func, "__name__", type(func).__name__)


def vmap(func: Callable[..., Any], in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable[..., Any]:
    """Map ``func`` over dimension ``in_dims`` of its tensor arguments; results batched along ``out_dims``.

    ``in_dims``: an int (every argument), ``None`` (not mapped) or a structure matching the positional
    arguments (a leaf covers everything under it). Keyword arguments are passed unmapped.
    ``randomness``: ``"error"`` (a random op inside ``func`` raises), ``"different"`` (each entry draws
    its own numbers), ``"same"`` (every entry sees the same random numbers).
    """
    if randomness not in _RANDOMNESS:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")
    if not callable(func):
        raise TypeError(f"vmap: expected func to be callable, got {type(func).__name__}")

    @functools.wraps(func)
    def batched(*args: Any, **kwargs: Any) -> Any:
        return _run(func, in_dims, out_dims, randomness, chunk_size, args, kwargs)

    return batched


def _in_dims_per_leaf(func: Any, in_dims: Any, args: tuple) -> tuple[list[Any], list[Any], Any]:
    where = f"vmap({_name(func)}, in_dims={in_dims!r}, ...)(<inputs>)"
    if not isinstance(in_dims, (int, tuple)) and in_dims is not None:
        raise ValueError(f"{where}: expected `in_dims` to be int or a (potentially nested) tuple matching the "
                         f"structure of inputs, got: {type(in_dims).__name__}.")
    if isinstance(in_dims, tuple) and len(in_dims) != len(args):
        raise ValueError(f"{where}: in_dims is not compatible with the structure of `inputs`. in_dims has "
                         f"{len(in_dims)} entries but the function was called with {len(args)} positional arguments.")
    leaves, spec = tree_flatten(args)
    dims = broadcast_prefix(in_dims, args, f"{where}: in_dims")
    for leaf, d in zip(leaves, dims):
        if d is None:
            continue
        if not isinstance(d, int) or isinstance(d, bool):
            raise ValueError(f"{where}: in_dim must be an int or None, got {d!r}")
        if not isinstance(leaf, lamina.Tensor):
            raise ValueError(f"{where}: Got in_dim={d} for an input but the input is of type {type(leaf)}. We cannot "
                             "vmap over non-Tensor arguments, please use None as the respective in_dim")
        if not -leaf.ndim <= d < max(leaf.ndim, 1) or leaf.ndim == 0:
            raise ValueError(f"{where}: Got in_dim={d} for some input, but that input is a Tensor of dimensionality "
                             f"{leaf.ndim} so expected in_dim to satisfy -{leaf.ndim} <= in_dim < {leaf.ndim}.")
    return leaves, dims, spec


def _run(func: Any, in_dims: Any, out_dims: Any, randomness: str, chunk_size: int | None,
         args: tuple, kwargs: dict) -> Any:
    leaves, dims, spec = _in_dims_per_leaf(func, in_dims, args)
    sizes = [leaf.shape[d] for leaf, d in zip(leaves, dims) if d is not None]
    if not sizes:
        raise ValueError(f"vmap({_name(func)}, in_dims={in_dims!r}, ...)(<inputs>): Expected at least one Tensor to "
                         "vmap over, got none (every in_dim is None or the inputs hold no Tensor).")
    if len(set(sizes)) > 1:
        raise ValueError("vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                         f"{sizes} for the mapped dimension")
    size = sizes[0]
    if size == 0:
        raise ValueError(f"vmap({_name(func)}, ...): the mapped dimension has size 0; lamina runs the function once "
                         "per batch entry, so it cannot infer the shape of an empty batch's results")
    state = lamina.get_rng_state() if randomness != "different" else None
    step = size if chunk_size is None else chunk_size
    per_entry: list[Any] = []
    out_spec = None
    for start in range(0, size, step):
        chunk: list[list[Any]] = []
        for b in range(start, min(start + step, size)):
            entry = [leaf.select(d, b) if d is not None else leaf for leaf, d in zip(leaves, dims)]
            if randomness == "same":
                lamina.set_rng_state(state)
            out = func(*tree_unflatten(entry, spec), **kwargs)
            if randomness == "error" and lamina.get_rng_state() != state:
                raise RuntimeError("vmap: called random operation while in randomness error mode. Please either use "
                                   "the 'same' or 'different' randomness flags on vmap or perform the randomness "
                                   "operation out of vmap")
            flat, this_spec = tree_flatten(out)
            if out_spec is None:
                out_spec = this_spec
            elif this_spec != out_spec:
                raise ValueError(f"vmap({_name(func)}, ...): the function returned differently structured outputs "
                                 "for different batch entries")
            chunk.append(flat)
        per_entry.extend(chunk)
    assert out_spec is not None
    outs = broadcast_prefix(out_dims, tree_unflatten(list(range(out_spec.num_leaves)), out_spec),
                            f"vmap({_name(func)}, ..., out_dims={out_dims!r})")
    results = []
    for i, od in enumerate(outs):
        column = [flat[i] for flat in per_entry]
        if od is None:
            results.append(column[0])
            continue
        if not isinstance(column[0], lamina.Tensor):
            raise ValueError(f"vmap({_name(func)}, ...): `{_name(func)}` must only return Tensors, got type "
                             f"{type(column[0])}. Did you mean to set out_dims= to None for output?")
        nd = column[0].ndim + 1
        if not isinstance(od, int) or not -nd <= od < nd:
            raise ValueError(f"vmap({_name(func)}, ..., out_dims={out_dims!r}): out_dim {od!r} is out of range for "
                             f"an output of {nd} dims with the batch dimension")
        results.append(lamina.stack(column, dim=od))
    return tree_unflatten(results, out_spec)
