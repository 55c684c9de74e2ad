"""Hook plumbing for ``Module``: removable handles, process-wide module hooks, and the identity
autograd Function that carries full backward hooks.

Full backward hooks (``register_full_backward_hook`` / ``register_full_backward_pre_hook``) work as
in PyTorch: the module's positional tensor inputs and its tensor outputs each pass through one
identity ``Function``. Backward through the outputs' identity runs the pre-hooks on
``grad_output``; backward through the inputs' identity runs the hooks on
``(grad_input, grad_output)``. Either may replace the gradients.
"""

from __future__ import annotations

import itertools
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ..autograd.function import Function
from ..autograd.grad_mode import state as _grad_state
from ..ops.tensor import Tensor

_next_id = itertools.count()


class RemovableHandle:
    """Removes a registered hook with ``handle.remove()`` (or on leaving a ``with`` block)."""

    def __init__(self, hooks_dict: dict, *, extra_dict: Any = None) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = next(_next_id)
        if extra_dict is None:
            extra_dict = ()
        elif isinstance(extra_dict, dict):
            extra_dict = (extra_dict,)
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict)

    def remove(self) -> None:
        hooks = self.hooks_dict_ref()
        if hooks is not None and self.id in hooks:
            del hooks[self.id]
        for ref in self.extra_dict_ref:
            d = ref()
            if d is not None and self.id in d:
                del d[self.id]

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def add_hook(hooks: OrderedDict, hook: Any, prepend: bool = False, extra: tuple = ()) -> RemovableHandle:
    """Put ``hook`` in ``hooks`` (first when ``prepend``) and mark it in each dict of ``extra``."""
    handle = RemovableHandle(hooks, extra_dict=tuple(extra))
    hooks[handle.id] = hook
    for d in extra:
        d[handle.id] = True
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


# Process-wide hooks, run for every module (PyTorch's register_module_forward_hook & co.).
_global_forward_pre_hooks: OrderedDict = OrderedDict()
_global_forward_hooks: OrderedDict = OrderedDict()
_global_forward_hooks_always_called: OrderedDict = OrderedDict()
_global_forward_hooks_with_kwargs: OrderedDict = OrderedDict()
_global_backward_pre_hooks: OrderedDict = OrderedDict()
_global_backward_hooks: OrderedDict = OrderedDict()
_global_any = [False]


def _refresh_global() -> None:
    _global_any[0] = bool(_global_forward_pre_hooks or _global_forward_hooks or _global_backward_pre_hooks
                          or _global_backward_hooks)


class _GlobalHandle(RemovableHandle):
    def remove(self) -> None:
        super().remove()
        _refresh_global()


def _add_global(hooks: OrderedDict, hook: Any, extra: tuple = (), prepend: bool = False) -> RemovableHandle:
    handle = _GlobalHandle(hooks, extra_dict=tuple(extra))
    hooks[handle.id] = hook
    for d in extra:
        d[handle.id] = True
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    _refresh_global()
    return handle


def register_module_forward_pre_hook(hook: Any) -> RemovableHandle:
    """``hook(module, args)`` before every module's forward."""
    return _add_global(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook: Any, *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """``hook(module, args, output)`` after every module's forward."""
    extra = ((_global_forward_hooks_with_kwargs,) if with_kwargs else ()) + \
        ((_global_forward_hooks_always_called,) if always_call else ())
    return _add_global(_global_forward_hooks, hook, extra)


def register_module_full_backward_pre_hook(hook: Any) -> RemovableHandle:
    """``hook(module, grad_output)`` for every module, when its output gradients are computed."""
    return _add_global(_global_backward_pre_hooks, hook)


def register_module_full_backward_hook(hook: Any) -> RemovableHandle:
    """``hook(module, grad_input, grad_output)`` for every module, when its input gradients are computed."""
    return _add_global(_global_backward_hooks, hook)


# --- full backward hooks ------------------------------------------------------------------------
def _as_tensor(g: Any, dev: Any) -> Any:
    if g is None or isinstance(g, Tensor):
        return g
    return Tensor._make(g, dev)


def _as_grad(g: Any, graph_mode: bool) -> Any:
    if g is None or graph_mode or not isinstance(g, Tensor):
        return g
    return g._data


class _HookIdentity(Function):
    """y_i = x_i for every tensor; backward hands the gradients to a ``BackwardHook`` callback."""

    @staticmethod
    def forward(ctx, callback, *xs):
        ctx.callback = callback
        return xs if len(xs) != 1 else xs[0]

    @staticmethod
    def backward(ctx, *grads):
        graph_mode = ctx._graph_mode
        got = ctx.callback(tuple(_as_tensor(g, ctx._device) for g in grads))
        return (None,) + tuple(_as_grad(g, graph_mode) for g in got)


class BackwardHook:
    """One forward call's full backward hooks: wraps inputs and outputs in ``_HookIdentity``."""

    def __init__(self, module: Any, hooks: list, pre_hooks: list) -> None:
        self.module = module
        self.hooks = hooks
        self.pre_hooks = pre_hooks
        self.n_inputs = 0
        self.input_index: list[int] | None = None
        self.output_index: list[int] = []
        self.grad_outputs: tuple | None = None

    def _wrap(self, values: tuple, callback: Any) -> tuple[tuple, list[int] | None]:
        index = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
        if not index or not _grad_state.enabled or not any(values[i]._requires_grad for i in index):
            return values, None
        out = _HookIdentity.apply(callback, *(values[i] for i in index))
        if not isinstance(out, tuple):
            out = (out,)
        values = list(values)
        for i, t in zip(index, out):
            values[i] = t
        return tuple(values), index

    def _pack(self, index: list[int], grads: tuple, size: int) -> tuple:
        full = [None] * size
        for i, g in zip(index, grads):
            full[i] = g
        return tuple(full)

    def setup_input_hook(self, args: tuple) -> tuple:
        self.n_inputs = len(args)
        args, self.input_index = self._wrap(args, self._on_input_grads)
        return args

    def setup_output_hook(self, result: Any) -> Any:
        single = not isinstance(result, tuple)
        values = (result,) if single else result
        self.n_outputs = len(values)
        values, index = self._wrap(values, self._on_output_grads)
        if index is not None:
            self.output_index = index
        return values[0] if single else values

    def _on_output_grads(self, grads: tuple) -> tuple:
        index = self.output_index
        grad_outputs = self._pack(index, grads, self.n_outputs)
        for hook in self.pre_hooks:
            res = hook(self.module, grad_outputs)
            if res is None:
                continue
            res = res if isinstance(res, tuple) else (res,)
            if len(res) != len(grad_outputs):
                raise RuntimeError(f"{self.module._get_name()}: backward pre hook returned {len(res)} gradients, "
                                   f"expected {len(grad_outputs)} (one per output)")
            grad_outputs = res
        self.grad_outputs = grad_outputs
        if self.input_index is None:  # no input requires grad: the hooks run now, with grad_input all None
            if self.hooks:
                warnings.warn("Full backward hook is firing when gradients are computed with respect to module "
                              "outputs since no inputs require gradients (grad_input is all None).",
                              UserWarning, stacklevel=2)
            grad_inputs = (None,) * self.n_inputs
            for hook in self.hooks:
                res = hook(self.module, grad_inputs, grad_outputs)
                if res is not None and not (isinstance(res, tuple) and all(r is None for r in res)):
                    raise RuntimeError("Backward hook for Modules where no input requires gradient should always "
                                       "return None or None for all gradients.")
        return tuple(grad_outputs[i] for i in index)

    def _on_input_grads(self, grads: tuple) -> tuple:
        index = self.input_index
        grad_inputs = self._pack(index, grads, self.n_inputs)
        for hook in self.hooks:
            res = hook(self.module, grad_inputs, self.grad_outputs)
            if res is None:
                continue
            res = res if isinstance(res, tuple) else (res,)
            if len(res) != len(grad_inputs):
                raise RuntimeError(f"{self.module._get_name()}: backward hook returned {len(res)} gradients, "
                                   f"expected {len(grad_inputs)} (one per positional input)")
            grad_inputs = res
        return tuple(grad_inputs[i] for i in index)


# --- Module methods (bound in module.py) ---------------------------------------------------------
def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False) -> RemovableHandle:
    extra = (self._forward_pre_hooks_with_kwargs,) if with_kwargs else ()
    return add_hook(self._forward_pre_hooks, hook, prepend, extra)



def register_forward_hook(self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False,
                          always_call: bool = False) -> RemovableHandle:
    extra = ((self._forward_hooks_with_kwargs,) if with_kwargs else ()) + \
        ((self._forward_hooks_always_called,) if always_call else ())
    return add_hook(self._forward_hooks, hook, prepend, extra)



def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
    return add_hook(self._backward_pre_hooks, hook, prepend)



def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
    return add_hook(self._backward_hooks, hook, prepend)


def call_with_hooks(self: Any, args: tuple, kwargs: dict) -> Any:
    """``Module.__call__`` when any hook is registered, in PyTorch's order."""
    kw_pre = self._forward_pre_hooks_with_kwargs
    for hook_id, hook in (*_global_forward_pre_hooks.items(), *self._forward_pre_hooks.items()):
        if hook_id in kw_pre:
            res = hook(self, args, kwargs)
            if res is not None:
                if not (isinstance(res, tuple) and len(res) == 2):
                    raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, "
                                       f"new_kwargs), but got {res}.")
                args, kwargs = res
        else:
            res = hook(self, args)
            if res is not None:
                args = res if isinstance(res, tuple) else (res,)
    bw_hook = None
    if self._backward_hooks or self._backward_pre_hooks or _global_backward_hooks or _global_backward_pre_hooks:
        bw_hook = BackwardHook(self, [*_global_backward_hooks.values(), *self._backward_hooks.values()],
                               [*_global_backward_pre_hooks.values(), *self._backward_pre_hooks.values()])
        args = bw_hook.setup_input_hook(args)
    called = set()
    try:
        result = self.forward(*args, **kwargs)
        kw = self._forward_hooks_with_kwargs
        for hook_id, hook in (*_global_forward_hooks.items(), *self._forward_hooks.items()):
            called.add(hook_id)
            res = hook(self, args, kwargs, result) if (hook_id in kw or hook_id in _global_forward_hooks_with_kwargs) \
                else hook(self, args, result)
            if res is not None:
                result = res
    except Exception:
        always = self._forward_hooks_always_called
        for hook_id, hook in (*_global_forward_hooks.items(), *self._forward_hooks.items()):
            if (hook_id in always or hook_id in _global_forward_hooks_always_called) and hook_id not in called:
                try:
                    if hook_id in self._forward_hooks_with_kwargs or hook_id in _global_forward_hooks_with_kwargs:
                        hook(self, args, kwargs, None)
                    else:
                        hook(self, args, None)
                except Exception:
                    pass  # the forward's own error is the one to report
        raise
    if bw_hook is not None:
        result = bw_hook.setup_output_hook(result)
    return result


__all__ = ["RemovableHandle", "register_module_forward_pre_hook", "register_module_forward_hook",
           "register_module_full_backward_pre_hook", "register_module_full_backward_hook"]
