"""``lamina.autograd.Function``: the one way to define a differentiable op.

``forward(ctx, *args)`` receives the backend arrays of tensor arguments (other arguments as
given) and returns an array or a tuple of arrays; ``backward(ctx, *grads)`` receives one
gradient array per output and returns one gradient (or None) per forward argument. Gradients
are reduced to each input's shape and dtype by the engine, so broadcasting ops may return
the broadcast gradient. ``ctx.xp`` is the array namespace of the inputs' backend.

Under ``create_graph=True`` the engine calls ``backward`` with Tensors and a differentiable
namespace as ``ctx.xp``; ops whose backward uses only that namespace's functions (and
operators) support double backward.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import repeat
from operator import is_not
from typing import Any

from .._base.errors import DeviceMismatchError, broadcast_error
from .._tensor import Tensor, _init_from
from ..backends import get_default_device
from ..backends import kernels as _kernels
from . import grad_mode as _grad_mode
from .grad_mode import state as _state

_new = object.__new__
_observers: list[Callable[..., None]] = []


class _NeedsInputGrad:
    """``ctx.needs_input_grad``: per forward argument, whether its gradient is wanted; worked out from the
    node's edges on first read (most ops never ask), then an ordinary attribute of the ctx."""

    def __get__(self, ctx: Any, owner: Any = None) -> Any:
        if ctx is None:
            return self
        nig = ctx.__dict__["needs_input_grad"] = tuple(map(is_not, ctx._edges, repeat(None)))
        return nig


class Function:
    """Base class of differentiable ops. Subclasses define static ``forward`` and ``backward``."""

    needs_input_grad = _NeedsInputGrad()

    #: set by engine while backward runs with create_graph
    _graph_mode = False
    _saved = None
    _saved_src = None
    _freed = False
    _non_diff = None
    _materialize = True
    _anomaly_trace = None
    _hooks = None
    _pre_hooks = None
    _retain_refs = None
    _n_out = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _kernels.note_op(cls)

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("Function subclasses must implement a static forward(ctx, ...)")

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        raise NotImplementedError(f"{type(ctx).__name__}: backward is not implemented")

    # --- ctx API ------------------------------------------------------------------------------
    @property
    def device(self) -> Any:
        """The device the op runs on (its inputs'); ``ctx.device.backend`` owns ``xp`` and the workspace."""
        return self._device

    def save_for_backward(self, *arrays: Any) -> None:
        self._saved = arrays  # apply records which inputs' and outputs' versions they are

    @property
    def saved_tensors(self) -> tuple:
        saved = self._saved
        if saved is None:
            if self._freed:
                raise RuntimeError(
                    f"{self.name()}: Trying to backward through the graph a second time (or directly access "
                    "saved tensors after they have already been freed). Saved intermediate values of the "
                    "graph are freed when you call .backward() or autograd.grad(). Specify "
                    "retain_graph=True if you need to backward through the graph a second time or if you "
                    "need to access saved tensors after calling backward.")
            return ()
        src = self._saved_src
        if src is not None:
            for s in src:
                if s is not None and s[2].v != s[3]:
                    a = saved[src.index(s)]
                    where = f"output {s[1]} of {self.name()}" if s[0] == "out" else f"input {s[1]} of {self.name()}"
                    raise RuntimeError(
                        "one of the variables needed for gradient computation has been modified by an "
                        f"inplace operation: [{a.dtype} {list(a.shape)}], which is {where}, is at version "
                        f"{s[2].v}; expected version {s[3]} instead.")
        if self._graph_mode:
            return tuple(self._saved_as_tensor(k, a) for k, a in enumerate(saved))
        return saved

    def _saved_as_tensor(self, k: int, a: Any) -> Any:
        if a is None or not hasattr(a, "shape") or not hasattr(a, "dtype") or isinstance(a, (int, float)):
            return a
        s = self._saved_src[k] if self._saved_src is not None else None
        if s is not None:
            kind, i = s[0], s[1]
            if kind == "in":
                edge = self._edges[i]
                if edge is not None:
                    target, nr = edge[0], edge[1]
                    if isinstance(target, Tensor):
                        return target
                    t = Tensor._make(a, self._device, True)
                    t._node, t._output_nr = target, nr
                    return t
            else:
                t = Tensor._make(a, self._device, True)
                t._node, t._output_nr = self, i
                return t
        return Tensor._make(a, self._device)

    def mark_non_differentiable(self, *arrays: Any) -> None:
        self._non_diff = tuple(id(a) for a in arrays)

    def set_materialize_grads(self, value: bool) -> None:
        self._materialize = bool(value)

    def mark_dirty(self, *arrays: Any) -> None:
        """Accepted for API compatibility; in-place ops bump version counters themselves."""

    @classmethod
    def name(cls) -> str:
        # a registered kernel shows its op's name (grad_fn=<MulBackward> whichever kernel ran)
        return cls.__dict__.get("_kernel_of", cls).__name__ + "Backward"

    @property
    def next_functions(self) -> tuple:
        return tuple((None, 0) if e is None else
                     ((_LeafView(e[0]), 0) if isinstance(e[0], Tensor) else (e[0], e[1]))
                     for e in getattr(self, "_edges", ()))

    def register_hook(self, hook) -> Any:
        """``hook(grad_inputs, grad_outputs)`` after this node's backward."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _Handle(self._hooks, hook)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    # --- the call -----------------------------------------------------------------------------
    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        if _observers:
            return _observed_apply(cls, args, kwargs)
        grad_on = _state.enabled
        dev = None
        needs = False
        arrays = []
        edges = []  # per argument: None, (producing node, output_nr, shape, dtype) or (leaf, -1, shape, dtype)
        for a in args:
            if isinstance(a, Tensor):
                d = a._data
                if dev is None:
                    dev = a._device
                elif a._device is not dev:
                    _raise_mixed(cls, args)
                arrays.append(d)
                if a._requires_grad and grad_on:
                    needs = True
                    node = a._node
                    edges.append((a, -1, d.shape, d.dtype) if node is None else (node, a._output_nr, d.shape, d.dtype))
                    continue
            else:
                arrays.append(a)
            edges.append(None)
        if dev is None:
            dev = get_default_device()
        backend = dev._backend or dev.backend
        op = _kernels.select(cls, dev.type, arrays, kwargs) if cls in _kernels.kernel_ops else cls
        ctx = _new(op)
        ctx.xp = backend.xp
        ctx._device = dev
        ctx._edges = edges
        if dev.index:  # a non-default device (cuda:1): allocate and launch there
            with backend.device_scope(dev.index):
                out = op.forward(ctx, *arrays, **kwargs)
        else:
            try:
                out = op.forward(ctx, *arrays, **kwargs)
            except ValueError as e:
                if "could not be broadcast" in str(e):
                    raise broadcast_error([a.shape for a in arrays if hasattr(a, "shape")]) from None
                raise
        atype = backend.array_type
        if not needs:
            if type(out) is tuple:
                return tuple(_plain(o, dev) for o in out)
            t = _new(Tensor._concrete)
            _init_from(t, out if out.__class__ is atype else _coerce(out, backend), dev)
            return t
        if _grad_mode.anomaly_seen and _state.anomaly:
            import traceback

            ctx._anomaly_trace = "".join(traceback.format_stack()[:-1])
        nd = ctx._non_diff
        if type(out) is tuple:
            ctx._n_out = len(out)
            ctx._out_meta = tuple((o.shape, o.dtype) for o in out)
            outs = []
            for k, o in enumerate(out):
                o = _coerce(o, backend)
                diff = o.dtype.kind in "fcV" and (nd is None or id(o) not in nd)
                t = Tensor._make(o, dev, diff)
                if diff:
                    t._node, t._output_nr = ctx, k
                outs.append(t)
            if ctx._saved is not None:
                _track_saved(ctx, args, arrays, out, outs)
            return tuple(outs)
        o = out if out.__class__ is atype else _coerce(out, backend)
        diff = o.dtype.kind in "fcV" and (nd is None or id(out) not in nd)
        t = _new(Tensor._concrete)
        _init_from(t, o, dev, diff)
        if diff:
            t._node = ctx
        if ctx._saved is not None:
            _track_saved(ctx, args, arrays, (out,) if diff else (), (t,))
        return t


@contextmanager
def observe_ops(observer: Callable[[Any, tuple, dict, Any], None]) -> Iterator[None]:
    """Within the block, call ``observer(cls, args, kwargs, result)`` after each ``cls.apply(*args, **kwargs)``.

    Only top-level applications are seen: ops applied inside another op's forward, or by an
    observer, are not. For tools that record the ops a program runs (tracers, exporters, profilers).
    Non-differentiable ops (comparisons, logical ops, predicates, argmax/argmin, any/all) are seen
    too, through ``notify_observers``: for them the first argument is the op function itself
    (``lamina.gt``), not a Function class; both are keyed by ``f"{op.__module__}.{op.__qualname__}"``
    (``"lamina.ops.comparison.gt"``, ``"lamina.ops.elementwise.Mul"``).
    """
    _observers.append(observer)
    try:
        yield
    finally:
        _observers.remove(observer)


def notify_observers(op: Callable[..., Any], args: tuple, kwargs: dict, result: Any) -> None:
    """Tell the ``observe_ops`` observers that the non-differentiable ``op(*args, **kwargs)`` returned
    ``result``. Callers check ``_observers`` first, so that unobserved code pays one truthiness test."""
    watching, _observers[:] = _observers[:], []
    try:
        for observer in watching:
            observer(op, args, kwargs, result)
    finally:
        _observers[:] = watching


def _observed_apply(cls: type[Function], args: tuple, kwargs: dict) -> Any:
    watching, _observers[:] = _observers[:], []
    try:
        out = cls.apply(*args, **kwargs)
        for observer in watching:
            observer(cls, args, kwargs, out)
    finally:
        _observers[:] = watching
    return out


def _coerce(o: Any, backend) -> Any:
    """Backends return 0-d results as scalars (NumPy); keep arrays arrays."""
    if isinstance(o, backend.array_type):
        return o
    return backend.xp.asarray(o)


def _plain(o: Any, dev) -> Tensor:
    return Tensor._make(_coerce(o, dev.backend), dev)


def _track_saved(ctx: Function, args: tuple, arrays: list, raw: tuple, outs: tuple) -> None:
    """For each saved array that is a tensor input's or an output's, note that tensor's version now
    (``saved_tensors`` checks it); a saved output is replaced by its tensor's array (NumPy hands back
    0-d results as scalars)."""
    saved = ctx._saved
    src = [None] * len(saved)
    k = 0
    for a in saved:
        if a is not None:
            i = 0
            for x in arrays:
                if x is a and isinstance(args[i], Tensor):
                    vc = args[i]._vcs or args[i]._vc
                    src[k] = ("in", i, vc, vc.v)
                    break
                i += 1
            else:
                j = 0
                for o in raw:
                    if o is a:
                        t = outs[j]
                        vc = t._vcs or t._vc
                        src[k] = ("out", j, vc, vc.v)
                        if t._data is not a:
                            ctx._saved = saved = saved[:k] + (t._data,) + saved[k + 1:]
                        break
                    j += 1
        k += 1
    ctx._saved_src = src


def _raise_mixed(cls, args) -> None:
    devs = ", ".join(f"argument {i}: {a._device}" for i, a in enumerate(args) if isinstance(a, Tensor))
    raise DeviceMismatchError(
        f"{cls.__name__}: expected all tensors to be on the same device, but found at least two devices "
        f"({devs}); move them with .to(device) first")


class _LeafView:
    """What ``next_functions`` shows for a leaf (PyTorch's AccumulateGrad)."""

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


class _Handle:
    """Removable handle returned by hook registration."""

    def __init__(self, hooks: list, hook: Any) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)
