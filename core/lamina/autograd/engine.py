"""The backward engine: iterative, topologically ordered, no recursion.

A graph node is the ``Function`` instance (ctx) that produced a tensor. Its ``_edges`` hold,
per forward argument, ``None`` or ``(target, output_nr, shape, dtype)`` where ``target`` is the
producing node or, for a leaf, the leaf tensor itself (and ``output_nr`` -1). Gradients are
arrays, or Tensors when ``create_graph=True``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import filterfalse
from typing import Any

from .._base.dtype import _FROM_NP
from .._tensor import Tensor
from . import grad_mode as _grad_mode
from . import sparse_grads as _sparse
from .grad_mode import state as _state
from .graph import graph_namespace


def reduce_to(g: Any, shape: tuple, node: Any, edge: tuple) -> Any:
    """Sum a broadcast gradient back to ``shape`` (``edge``: the node's edge it flows along)."""
    gshape = g.shape
    nd = len(gshape) - len(shape)
    if nd < 0 or any(s != 1 and s != gshape[i + nd] for i, s in enumerate(shape)):
        index = next(k for k, e in enumerate(node._edges) if e is edge)
        raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {index} - got "
                           f"{list(gshape)} but expected shape compatible with {list(shape)}")
    axes = (*range(nd), *(i + nd for i, s in enumerate(shape) if s == 1 and gshape[i + nd] != 1))
    if axes:
        g = g.sum(dim=axes) if isinstance(g, Tensor) else g.sum(axis=axes)
    if tuple(g.shape) != tuple(shape):
        g = g.reshape(shape)
    return g


def _root_grads(tensors: Sequence[Tensor], grads: Sequence[Any], create_graph: bool) -> list:
    roots = []
    for i in range(min(len(tensors), len(grads))):  # (not enumerate(zip()): this runs on every backward call)
        t, g = tensors[i], grads[i]
        if not isinstance(t, Tensor):
            raise TypeError(f"backward: expected tensors, got {type(t).__name__} at position {i}")
        if not t._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if t._data.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs, but tensor {i} "
                                   f"has shape {list(t.shape)}; pass a gradient of that shape")
            d = t._data
            if d.dtype.kind == "c":
                raise RuntimeError("grad can be implicitly created only for real scalar outputs")
            xp = (t._device._backend or t._device.backend).xp
            arr = xp.ones_like(d) if d.ndim else xp.asarray(1, dtype=d.dtype)
            g = Tensor._make(arr, t._device) if create_graph else arr
        else:
            if not isinstance(g, Tensor):
                import numpy as np

                host = np.asarray(t._device.backend.to_host(g) if hasattr(g, "device") else g, dtype=t._data.dtype)
                g = Tensor._make(t._device.backend.from_host(host, t._device.index), t._device)
            if tuple(g.shape) != tuple(t.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {list(g.shape)} and "
                                   f"output[{i}] has a shape of {list(t.shape)}.")
            if not create_graph:
                g = g._data
        roots.append((t, g))
    return roots


def run(roots: list, retain_graph: bool, create_graph: bool, capture: Sequence[Tensor] | None = None,
        accumulate: bool = True) -> list | None:
    """Propagate ``roots`` [(tensor, grad)] backwards. Returns captured grads for ``capture``."""
    cap_leaf: dict[int, int] = {}
    cap_node: dict[tuple, int] = {}
    captured: list = [None] * (len(capture) if capture else 0)
    if capture:
        for i, t in enumerate(capture):
            if t._node is None:
                cap_leaf[id(t)] = i
            else:
                cap_node[(id(t._node), t._output_nr)] = i

    def finish_leaf(t: Tensor, g: Any) -> None:
        """``t``'s gradient is complete: its hooks, capture, accumulation and post-accumulate hooks, now
        (as soon as the last edge into it has delivered, so that DDP can all-reduce during backward)."""
        if t._hooks:
            for h in list(t._hooks):
                r = h(g if isinstance(g, Tensor) else Tensor._make(g, t._device))
                if r is not None:
                    g = r if create_graph or r.is_sparse else r._data
        i = cap_leaf.get(id(t))
        if i is not None:
            captured[i] = g
        if accumulate and (capture is None or i is not None):
            _accumulate(t, g, create_graph, foreign)
            if t._post_hooks:
                for h in list(t._post_hooks):
                    h(t)

    deps: dict[Any, int] = {}  # node, or id(leaf): edges into it not yet delivered
    bufs: dict[Any, list] = {}  # node -> its output grads so far; first the roots
    leaf_buf: dict[int, list] = {}  # id(leaf) -> [leaf, grad so far] while edges into it are still to come
    foreign = set()
    root_leaves = []
    for t, g in roots:
        foreign.add(id(g))
        if t._node is None:
            _gather(leaf_buf, t, g, True)
            deps[id(t)] = deps.get(id(t), 0) + 1  # a root that is a leaf counts as one more delivery into it
            root_leaves.append(t)
        else:
            deps[t._node] = 0
            b = bufs.setdefault(t._node, [None] * t._node._n_out)
            b[t._output_nr] = g if b[t._output_nr] is None else b[t._output_nr] + g
    stack = list(bufs)  # count the edges into each node and leaf (by id) reachable from the roots
    while stack:
        for e in stack.pop()._edges:
            if e is None:
                continue
            tgt = e[0]
            if e[1] < 0:  # a leaf
                deps[id(tgt)] = deps.get(id(tgt), 0) + 1
            elif tgt in deps:
                deps[tgt] += 1
            else:
                deps[tgt] = 1
                stack.append(tgt)
    ready = list(filterfalse(deps.__getitem__, bufs))  # the roots no other root leads to
    plain = capture is None and accumulate and not create_graph  # a leaf without hooks just adds into .grad
    nan_check = _grad_mode.anomaly_seen and _state.anomaly and _state.anomaly_check_nan
    prev_enabled = _state.enabled
    _state.enabled = create_graph
    try:
        for t in root_leaves:
            deps[id(t)] -= 1
            if not deps[id(t)]:
                finish_leaf(t, leaf_buf.pop(id(t))[1])
        while ready:
            n = ready.pop()
            gs = bufs.pop(n)
            if n._pre_hooks:
                _run_pre_hooks(n, gs, create_graph)
            if cap_node:
                for k in range(len(gs)):
                    i = cap_node.get((id(n), k))
                    if i is not None:
                        captured[i] = gs[k]
            edges = n._edges
            if gs[0] is not None if len(gs) == 1 else _flows(n, gs, create_graph):
                out = _call_backward(n, gs, create_graph) if create_graph or n._device.index else n.backward(n, *gs)
                if type(out) is not tuple:
                    out = (out,)
                if len(out) != len(edges) and not (len(out) == len(edges) + 1 and out[-1] is None):
                    _check_count(n, out)  # one extra None (for a non-tensor argument) is common and fine
                if nan_check:
                    _check_nan(n, out)
                if n._hooks:
                    for h in list(n._hooks):
                        h(out, tuple(gs))
                if not retain_graph:
                    n._saved = None
                    n._freed = True
            else:
                out = (None,) * len(edges)  # nothing flows through; still release children
            i = -1
            for e in edges:
                i += 1
                if e is None:
                    continue
                g = out[i]
                tgt, nr, shape, dt = e
                if g is not None and (g.dtype is not dt or g.shape != shape):
                    if nr < 0 and _sparse.is_sparse(g):  # a sparse gradient reaches a leaf as it is
                        k = id(tgt)
                        deps[k] -= 1
                        g = _gather(leaf_buf, tgt, g, deps[k])
                        if g is not None:
                            finish_leaf(tgt, g)
                        continue
                    g = _conform(g, e, n, create_graph)
                if nr < 0:  # a leaf
                    k = id(tgt)
                    d = deps[k] - 1
                    deps[k] = d
                    if d or leaf_buf:
                        g = _gather(leaf_buf, tgt, g, d)
                    if g is None:
                        continue
                    tg = tgt._grad
                    if plain and tg is not None and not tg._requires_grad and not tgt._hooks and not tgt._post_hooks:
                        try:
                            tg._data += g
                        except NotImplementedError:  # a sparse .grad: its storage refuses dense arithmetic
                            finish_leaf(tgt, g)
                            continue
                        (tg._vcs or tg._vc).v += 1
                    else:
                        finish_leaf(tgt, g)
                    continue
                b = bufs.get(tgt)
                if b is None:
                    b = bufs[tgt] = [None] * tgt._n_out
                if g is not None:
                    b[nr] = g if b[nr] is None else b[nr] + g
                d = deps[tgt] - 1
                deps[tgt] = d
                if not d:
                    ready.append(tgt)
    finally:
        _state.enabled = prev_enabled
    return captured


def _gather(leaf_buf: dict, t: Tensor, g: Any, more: bool) -> Any:
    """Add ``g`` (None: nothing) to what leaf ``t`` received so far: None while ``more`` edges are to
    come, then the sum (in delivery order)."""
    entry = leaf_buf.pop(id(t), None)
    if entry is not None:
        if g is None:
            g = entry[1]
        elif isinstance(g, Tensor) or isinstance(entry[1], Tensor):  # sparse, or under create_graph
            g = _sparse.add(g, entry[1], _state.enabled)  # new + old, as torch's buffer (create_graph: grad mode)
        else:
            g = entry[1] + g
    if more and g is not None:
        leaf_buf[id(t)] = [t, g]
    return None if more else g


def _conform(g: Any, edge: tuple, n: Any, create_graph: bool) -> Any:
    """``g`` summed back to its input's shape and cast to its dtype (an array, a Tensor under create_graph)."""
    shape, dt = edge[2], edge[3]
    if isinstance(g, Tensor) and g.is_sparse:  # into a non-leaf node: dense (the formulas are strided)
        g = _sparse.dense(g, create_graph)
    if isinstance(g, Tensor) and not create_graph:
        g = g._data
    if g.shape != shape:
        g = reduce_to(g, shape, n, edge)
    if isinstance(g, Tensor):
        return g.to(_FROM_NP[dt]) if g._data.dtype != dt else g
    return g.astype(dt) if g.dtype != dt else g


def _flows(n: Any, gs: list, create_graph: bool) -> bool:
    """Whether any of a multi-output node's grads is there; if so the missing ones become zeros
    (unless ``ctx.set_materialize_grads(False)``: then backward sees None)."""
    if all(g is None for g in gs):
        return False
    if n._materialize:
        _materialize(n, gs, create_graph)
    return True


def _accumulate(t: Tensor, g: Any, create_graph: bool, foreign: set) -> None:
    if create_graph:
        if not isinstance(g, Tensor):
            g = Tensor._make(g, t._device)
        if t._grad is not None and (g.is_sparse or t._grad.is_sparse):
            return _sparse.accumulate(t, g, True)
        t._grad = g if t._grad is None else t._grad + g
        return
    if isinstance(g, Tensor):
        if g.is_sparse:
            return _sparse.accumulate(t, g, False)
        g = g._data
    if t._grad is None:
        if id(g) in foreign or getattr(g, "base", None) is not None:
            g = g.copy()
        foreign.add(id(g))
        t._grad = Tensor._make(g, t._device)
    elif t._grad._requires_grad:
        t._grad = t._grad + Tensor._make(g, t._device)
    elif t._grad.is_sparse:
        _sparse.accumulate(t, g, False)
    else:
        t._grad._data += g
        t._grad._vc.v += 1


def _materialize(n: Any, gs: list, create_graph: bool) -> None:
    meta = n._out_meta
    xp = n._device.backend.xp
    for k, g in enumerate(gs):
        if g is None:
            shape, dt = meta[k]
            z = xp.zeros(shape, dtype=dt)
            gs[k] = Tensor._make(z, n._device) if create_graph else z


def _call_backward(n: Any, gs: list, create_graph: bool) -> Any:
    """``n.backward`` with a differentiable namespace (create_graph), or on its non-default device."""
    if create_graph:
        real_xp = n.xp
        first = next((g for g in gs if isinstance(g, Tensor)), None)
        if first is None:
            raise RuntimeError(f"create_graph=True: the gradient reaching {type(n).__name__} is not differentiable "
                               "(an op after it returned arrays from backward): double backward is not supported "
                               "through that op")
        n.xp = graph_namespace(real_xp, type(first)._graph_ops)
        n._graph_mode = True
        try:
            return n.backward(n, *gs)
        finally:
            n.xp = real_xp
            n._graph_mode = False
    with n._device.backend.device_scope(n._device.index):  # a non-default device (cuda:1): allocate there
        return n.backward(n, *gs)


def _check_count(n: Any, out: tuple) -> None:
    """More gradients than forward arguments are fine when the extra ones are None."""
    if len(out) > len(n._edges):
        for g in out[len(n._edges):]:
            if g is not None:
                break
        else:
            return
    raise RuntimeError(f"function {n.name()} returned an incorrect number of gradients "
                       f"(expected {len(n._edges)}, got {len(out)})")


def _check_nan(n: Any, out: tuple) -> None:
    for i, g in enumerate(out):
        if g is None:
            continue
        arr = (g._values() if g.is_sparse else g)._data if isinstance(g, Tensor) else g
        if arr.dtype.kind in "fcV" and bool(n._device.backend.xp.isnan(arr).any()):
            trace = n._anomaly_trace or "(forward trace not recorded: enable anomaly mode before the forward pass)\n"
            raise RuntimeError(f"Function '{n.name()}' returned nan values in its {i}th output.\n"
                               f"Traceback of the forward call that created the failing op:\n{trace}")


def _run_pre_hooks(n: Any, gs: list, create_graph: bool) -> None:
    for k, hooks in list(n._pre_hooks.items()):
        if gs[k] is None:
            continue
        for h in list(hooks):
            g = gs[k]
            r = h(g if isinstance(g, Tensor) else Tensor._make(g, n._device))
            if r is not None:
                gs[k] = r if create_graph else r._data


def backward(tensors: Sequence[Tensor], grad_tensors: Sequence[Any] | None = None,
             retain_graph: bool | None = None, create_graph: bool = False, inputs: Any = None) -> None:
    """Accumulate gradients of ``tensors`` into the ``.grad`` of graph leaves."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    if retain_graph is None:
        retain_graph = create_graph
    roots = _root_grads(tensors, grad_tensors, create_graph)
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        got = run(roots, retain_graph, create_graph, capture=inputs, accumulate=False)
        foreign: set = set()
        for t, g in zip(inputs, got):
            if g is not None:
                _accumulate(t, g, create_graph, foreign)
        return
    run(roots, retain_graph, create_graph)

