"""The ``Optimizer`` base class: parameter groups, per-parameter state, state dicts and step hooks.

Concrete optimizers (``SGD``, ``Adam``, ...) are plugins (entry-point group ``lamina.optim``); they
subclass ``Optimizer`` and implement ``step(closure=None)`` exactly as in PyTorch. The base wraps
every subclass's ``step`` when the class is created, so each call runs::

    global pre-hooks -> instance pre-hooks
      -> lamina.hooks.call_optimizer_step(optimizer, closure, step)   (pluggy wrappers, if any)
    instance post-hooks -> global post-hooks

With no hook registered anywhere the wrapper costs a few attribute checks.

Decisions:
* ``state`` is a ``defaultdict(dict)`` keyed by the parameter tensors themselves. ``Tensor.__hash__``
  is ``id`` and dict lookups test identity before ``==``; a dict holds its keys alive, so two live
  keys never share a hash and the elementwise ``Tensor.__eq__`` is never called by a lookup.
* ``load_state_dict`` validates everything and builds the new state before touching the optimizer:
  on any error nothing is changed. Every value is deep-copied (tensors are cloned, cast to the
  parameter's dtype and device, except ``step`` which keeps its dtype), so the loaded dict and the
  optimizer never share storage.
* A set of parameters is rejected at the top level too (PyTorch accepts it there, but rejects it in
  a group): its iteration order changes between runs, and so would the state dict's numbering.
* A ``super().step()`` call from an overriding ``step`` runs the hooks once (only the outermost
  wrapped ``step`` of the instance's class runs them).
"""

from __future__ import annotations

import copy
import functools
import inspect
import warnings
import weakref
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

from .._tensor import zero_grads
from ..autograd import no_grad
from ..ops.tensor import Tensor
from ..plugins import hooks as _hooks
from ._authoring import _default_to_fused_or_foreach as _default_to_fused_or_foreach
from ._authoring import _get_value as _get_value
from ._authoring import _use_grad_for_differentiable as _use_grad_for_differentiable
from ._authoring import check_range, required

__all__ = [
    "Optimizer",
    "required",
    "register_optimizer_step_pre_hook",
    "register_optimizer_step_post_hook",
    "check_range",
]

StepHook = Callable[["Optimizer", tuple, dict], Any]


class RemovableHandle:
    """Returned by every ``register_*_hook``; ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: OrderedDict) -> None:
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def _add_hook(hooks: OrderedDict, hook: Callable, prepend: bool = False) -> RemovableHandle:
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


_global_optimizer_pre_hooks: OrderedDict[int, StepHook] = OrderedDict()
_global_optimizer_post_hooks: OrderedDict[int, StepHook] = OrderedDict()


def register_optimizer_step_pre_hook(hook: StepHook) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` before every optimizer's step (before instance hooks).

    ``args`` includes the optimizer; the hook may return ``(new_args, new_kwargs)``.
    """
    return _add_hook(_global_optimizer_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: StepHook) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` after every optimizer's step (after instance hooks)."""
    return _add_hook(_global_optimizer_post_hooks, hook)


def _split_closure(args: tuple, kwargs: dict) -> tuple[Any, tuple, dict]:
    """``(closure, other_args, other_kwargs)`` from a ``step(...)`` call's arguments (self excluded)."""
    if args:
        return args[0], args[1:], kwargs
    if "closure" in kwargs:
        kwargs = dict(kwargs)
        return kwargs.pop("closure"), (), kwargs
    return None, (), kwargs


_STEP_WRAPPERS: weakref.WeakSet = weakref.WeakSet()


def _count_writes(opt: Optimizer) -> None:
    """Bump the version of every parameter a step may have written (those with a gradient).

    Optimizers update ``p.array`` in place, fused or not, on any backend; counting the write here,
    once per step for every optimizer, makes a graph that saved the old values refuse to backward
    ("modified by an inplace operation"), as in PyTorch.
    """
    for group in opt.param_groups:
        for p in group["params"]:
            if p._grad is not None:
                (p._vcs or p._vc).v += 1  # (_vcs first: no property call per parameter)


def _wrap_step(step: Callable) -> Callable:
    @functools.wraps(step)
    def wrapper(self: Optimizer, *args: Any, **kwargs: Any) -> Any:
        if type(self).step is not wrapper:  # super().step() from an overriding step: hooks already ran
            return step(self, *args, **kwargs)
        self._opt_called = True
        if (self._optimizer_step_pre_hooks or self._optimizer_step_post_hooks
                or _global_optimizer_pre_hooks or _global_optimizer_post_hooks):
            out = self._hooked_step(step, args, kwargs)
        elif not args and not kwargs:
            out = _hooks.call_optimizer_step(self, None, step.__get__(self))
        else:
            closure, rest, kw = _split_closure(args, kwargs)
            if not rest and not kw:
                out = _hooks.call_optimizer_step(self, closure, step.__get__(self))
            else:
                out = _hooks.call_optimizer_step(self, closure, lambda c: step(self, c, *rest, **kw))
        _count_writes(self)
        return out

    _STEP_WRAPPERS.add(wrapper)
    return wrapper


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts (parameter
            groups, each with ``"params"`` and optional per-group hyperparameters).
        defaults: the hyperparameters' default values, filled into every group that omits them.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if inspect.isfunction(step) and step not in _STEP_WRAPPERS:
            cls.step = _wrap_step(step)

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._init_hooks()
        self._opt_called = False
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {type(params).__module__}.{type(params).__name__}")
        if isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def _init_hooks(self) -> None:
        self._optimizer_step_pre_hooks: OrderedDict[int, StepHook] = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict[int, StepHook] = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict[int, Callable] = OrderedDict()

    # --- pickling / copying -------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "_optimizer_step_pre_hooks" not in self.__dict__:
            self._init_hooks()
        self.__dict__.setdefault("_opt_called", False)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            if i:
                lines.append("")
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {group[k]}" for k in sorted(group) if k != "params")
        return "\n".join(lines) + "\n)"

    # --- parameter groups ---------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (with its own hyperparameters) to ``param_groups``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("param_group must have a 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str):
                names.append(p[0])
                p = p[1]
            tensors.append(p)
        if names and len(names) != len(tensors):
            raise ValueError("all optimizer params should be with/without names. Some param names are missing")
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__module__}.{type(p).__name__}")
            if not self.defaults.get("differentiable", False) and not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        group = dict(param_group)
        group["params"] = tensors
        if names:
            group["param_names"] = names
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        ids = {id(p) for p in tensors}
        if len(ids) != len(tensors):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error", UserWarning, stacklevel=3)
        for other in self.param_groups:
            if ("param_names" in other) != ("param_names" in group):
                raise ValueError("all optimizer param groups should be with/without names. cannot add param group "
                                 f"{'with' if names else 'without'} names to the optimizer")
            if any(id(p) in ids for p in other["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
        param_group.clear()  # PyTorch edits the caller's dict in place; keep that observable behaviour
        param_group.update(group)
        self.param_groups.append(param_group)

    # --- gradients ----------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to ``None`` (default) or to zeros in place."""
        zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    # --- the step -----------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        raise NotImplementedError(f"{type(self).__name__}.step is not implemented")

    def _hooked_step(self, step: Callable, args: tuple, kwargs: dict) -> Any:
        args = (self, *args)
        pre = (*_global_optimizer_pre_hooks.values(), *self._optimizer_step_pre_hooks.values())
        for hook in pre:
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"optimizer step pre-hook {hook!r} must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {result!r}")
                args, kwargs = result
        closure, rest, kw = _split_closure(args[1:], kwargs)
        out = _hooks.call_optimizer_step(self, closure, lambda c: step(self, c, *rest, **kw))
        post = (*self._optimizer_step_post_hooks.values(), *_global_optimizer_post_hooks.values())
        for hook in post:
            hook(self, args, kwargs)
        return out

    def register_step_pre_hook(self, hook: StepHook) -> RemovableHandle:
        """``hook(optimizer, args, kwargs) -> None | (new_args, new_kwargs)`` before each step."""
        return _add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook: StepHook) -> RemovableHandle:
        """``hook(optimizer, args, kwargs) -> None`` after each step."""
        return _add_hook(self._optimizer_step_post_hooks, hook)

    # --- state dicts --------------------------------------------------------------------------
    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer) -> None`` before ``state_dict()`` builds the dict."""
        return _add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer, state_dict) -> None | new_state_dict`` after ``state_dict()`` built it."""
        return _add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer, state_dict) -> None | new_state_dict`` before ``load_state_dict`` reads it."""
        return _add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer) -> None`` after ``load_state_dict`` succeeded."""
        return _add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``.

        Parameters are numbered in order across the groups; state tensors are referenced, not copied.
        """
        for hook in tuple(self._optimizer_state_dict_pre_hooks.values()):
            hook(self)
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): dict(v) for k, v in self.state.items()}
        state_dict = {"state": state, "param_groups": groups}
        for hook in tuple(self._optimizer_state_dict_post_hooks.values()):
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a ``state_dict()``; validates first and changes nothing on error."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"load_state_dict: expected a dict, got {type(state_dict).__name__}")
        state_dict = state_dict.copy()
        for hook in tuple(self._optimizer_load_state_dict_pre_hooks.values()):
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        missing = [k for k in ("state", "param_groups") if k not in state_dict]
        if missing:
            raise KeyError(f"load_state_dict: the state dict lacks {missing}; expected keys 'state' and 'param_groups'")
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = dict(zip(chain.from_iterable(s["params"] for s in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        with no_grad():
            for k, v in state_dict["state"].items():
                param = id_map.get(k)
                state[param if param is not None else k] = (_cast(param, v) if param is not None
                                                            else copy.deepcopy(v))
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.__setstate__({"state": state, "param_groups": saved_groups})
        for hook in tuple(self._optimizer_load_state_dict_post_hooks.values()):
            hook(self)


def _cast(param: Tensor, value: Any, key: Any = None) -> Any:
    """A deep copy of ``value`` with every tensor on ``param``'s device (and dtype, for floating state)."""
    if isinstance(value, Tensor):
        if key == "step" or not param.is_floating_point() or not value.is_floating_point():
            return value.detach().to(device=param.device, copy=True)
        return value.detach().to(device=param.device, dtype=param.dtype, copy=True)
    if isinstance(value, dict):
        return {k: _cast(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_cast(param, v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    return copy.deepcopy(value)
