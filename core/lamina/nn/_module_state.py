"""``Module.state_dict`` and ``Module.load_state_dict`` (bound as methods in ``module.py``).

state_dict order is PyTorch's: per module, its parameters then its persistent buffers (each in
registration order), then ``_extra_state``, then each child under ``<name>.``.

load_state_dict is all-or-nothing: every module's ``_load_from_state_dict`` only validates and
queues its copies; the queue runs after the whole tree has been checked and only if no problem
was found, so a failed load leaves the module unchanged. Every problem (missing and unexpected
keys when ``strict``, shape and dtype mismatches, non-tensor values) is listed in one
RuntimeError. Decision (DESIGN.md §6): unlike PyTorch, a dtype difference is a problem, not a
silent conversion: "dtype mismatch for fc.weight: checkpoint float64, model float32". Before its
checks, each module's part of the state dict passes through the ``lamina_migrate_state_dict``
hooks (``lamina.hooks``), called per module with that module's prefix.
"""

from __future__ import annotations

import contextvars
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Mapping
from typing import Any

from ..autograd.grad_mode import no_grad
from ..ops.tensor import Tensor
from ._module_hooks import RemovableHandle, add_hook

_PLAN: contextvars.ContextVar[list | None] = contextvars.ContextVar("lamina_load_plan", default=None)


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


# --- saving -------------------------------------------------------------------------------------
def get_extra_state(self) -> Any:
    raise RuntimeError("Reached a code path in Module.get_extra_state() that should never be called.")


def set_extra_state(self, state: Any) -> None:
    raise RuntimeError("Reached a code path in Module.set_extra_state() that should never be called.")


def save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
    for name, p in self._parameters.items():
        if p is not None:
            destination[prefix + name] = p if keep_vars else p.detach()
    skip = self._non_persistent_buffers_set
    for name, b in self._buffers.items():
        if b is not None and name not in skip:
            destination[prefix + name] = b if keep_vars else b.detach()
    if type(self).get_extra_state is not get_extra_state:
        destination[prefix + "_extra_state"] = self.get_extra_state()


def state_dict(self, *args: Any, destination: Any = None, prefix: str = "", keep_vars: bool = False) -> Any:
    """Parameters and persistent buffers by dotted name (detached unless ``keep_vars``)."""
    if args:  # PyTorch's legacy positional form state_dict(destination, prefix, keep_vars)
        destination = args[0]
        if len(args) > 1:
            prefix = args[1]
        if len(args) > 2:
            keep_vars = args[2]
    if destination is None:
        destination = OrderedDict()
        destination._metadata = OrderedDict()
    local_metadata = {"version": self._version}
    if hasattr(destination, "_metadata"):
        destination._metadata[prefix[:-1]] = local_metadata
    for hook in self._state_dict_pre_hooks.values():
        hook(self, prefix, keep_vars)
    self._save_to_state_dict(destination, prefix, keep_vars)
    for name, m in self._modules.items():
        if m is not None:
            m.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
    for hook in self._state_dict_hooks.values():
        result = hook(self, destination, prefix, local_metadata)
        if result is not None:
            destination = result
    return destination


def register_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
    """``hook(module, prefix, keep_vars)`` before ``state_dict`` saves this module."""
    return add_hook(self._state_dict_pre_hooks, hook)


def register_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
    """``hook(module, state_dict, prefix, local_metadata)`` after; may edit ``state_dict`` in place."""

    def checked(module, destination, prefix, local_metadata):
        if hook(module, destination, prefix, local_metadata) is not None:
            raise RuntimeError("state_dict post-hook must return None")

    return add_hook(self._state_dict_hooks, checked)


def register_state_dict_hook(self, hook: Callable) -> RemovableHandle:
    """PyTorch's private form: a non-None result replaces the state dict."""
    return add_hook(self._state_dict_hooks, hook)


def register_load_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
    """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)``."""
    return add_hook(self._load_state_dict_pre_hooks, hook)


def register_load_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
    """``hook(module, incompatible_keys)`` after a successful load; may edit the key lists in place."""
    return add_hook(self._load_state_dict_post_hooks, hook)


# --- loading ------------------------------------------------------------------------------------
def _check(key: str, current: Tensor, given: Any) -> tuple[Tensor | None, str | None]:
    """The checkpoint tensor ready to copy (on the model's device), or a problem description."""
    if not isinstance(given, Tensor):
        return None, (f'While copying the parameter named "{key}", expected lamina.Tensor or Tensor-like object '
                      f"from checkpoint but received {type(given)}")
    if current.ndim == 0 and given.ndim == 1 and given.shape[0] == 1:
        given = given.reshape(())  # PyTorch accepts a (1,) checkpoint entry for a 0-d parameter
    if tuple(given.shape) != tuple(current.shape):
        return None, (f"size mismatch for {key}: copying a param with shape {given.shape} from checkpoint, "
                      f"the shape in current model is {current.shape}.")
    if given.dtype is not current.dtype:
        return None, f"dtype mismatch for {key}: checkpoint {given.dtype.name}, model {current.dtype.name}"
    if given.device is not current.device:
        given = given.detach().to(current.device)
    return given, None


def _copy_into(target: Tensor, src: Tensor) -> None:
    target._data[...] = src._data
    target._vc.v += 1


def _assign(module: Any, name: str, current: Tensor, src: Tensor) -> None:
    from .parameter import Parameter

    if isinstance(current, Parameter):
        if not isinstance(src, Parameter):
            src = Parameter(src, requires_grad=current.requires_grad)
        else:
            src.requires_grad_(current.requires_grad)
    setattr(module, name, src)


def load_from_state_dict(self, state_dict: Mapping, prefix: str, local_metadata: dict, strict: bool,
                         missing_keys: list, unexpected_keys: list, error_msgs: list) -> None:
    """Check this module's entries of ``state_dict`` (no children) and queue the copies."""
    for hook in self._load_state_dict_pre_hooks.values():
        hook(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
    skip = self._non_persistent_buffers_set
    local = {k: v for k, v in self._parameters.items() if v is not None}
    local.update((k, v) for k, v in self._buffers.items() if v is not None and k not in skip)
    assign = local_metadata.get("assign_to_params_buffers", False)
    plan = _PLAN.get()
    immediate = plan is None
    if immediate:
        plan = []
    n_errors = len(error_msgs)
    for name, current in local.items():
        key = prefix + name
        if key not in state_dict:
            if strict:
                missing_keys.append(key)
            continue
        src, problem = _check(key, current, state_dict[key])
        if problem is not None:
            error_msgs.append(problem)
        elif assign:
            plan.append(lambda m=self, n=name, c=current, s=src: _assign(m, n, c, s))
        else:
            plan.append(lambda c=current, s=src: _copy_into(c, s))
    extra_key = prefix + "_extra_state"
    if type(self).set_extra_state is not set_extra_state:
        if extra_key in state_dict:
            plan.append(lambda m=self, v=state_dict[extra_key]: m.set_extra_state(v))
        elif strict:
            missing_keys.append(extra_key)
    elif strict and extra_key in state_dict:
        unexpected_keys.append(extra_key)
    if strict:
        for key in state_dict:
            if not key.startswith(prefix) or key == extra_key:
                continue
            head, dot, _ = key[len(prefix):].partition(".")
            if (dot and head not in self._modules) or (not dot and head not in local):
                unexpected_keys.append(key)
    if immediate and len(error_msgs) == n_errors:
        _run(plan)


def _run(plan: list) -> None:
    with no_grad():
        for step in plan:
            step()


def _migrate(module: Any, state_dict: dict, prefix: str) -> dict:
    from ..plugins import hooks

    out = hooks.call_migrate_state_dict(module, state_dict, prefix)
    if out is not state_dict and not hasattr(out, "_metadata") and hasattr(state_dict, "_metadata"):
        out = OrderedDict(out)
        out._metadata = state_dict._metadata
    return out


def _has_migrations() -> bool:
    from ..plugins import hooks

    return bool(hooks.get_plugin_manager().hook.lamina_migrate_state_dict.get_hookimpls())


def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False):
    """Copy ``state_dict`` into this module's parameters and buffers; all or nothing.

    Returns ``_IncompatibleKeys(missing_keys, unexpected_keys)``; raises one RuntimeError listing
    every problem (and changes nothing) when any is found.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
    missing: list[str] = []
    unexpected: list[str] = []
    errors: list[str] = []
    metadata = getattr(state_dict, "_metadata", None)
    state_dict = OrderedDict(state_dict)
    if metadata is not None:
        state_dict._metadata = metadata
    migrate = _has_migrations()
    loaded: list = []
    plan: list = []

    def load(module: Any, local_sd: dict, prefix: str) -> None:
        if migrate:
            local_sd = _migrate(module, local_sd, prefix)
        meta = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
        if assign:
            meta["assign_to_params_buffers"] = True
        module._load_from_state_dict(local_sd, prefix, meta, True, missing, unexpected, errors)
        loaded.append(module)
        for name, child in module._modules.items():
            if child is not None:
                child_prefix = prefix + name + "."
                load(child, {k: v for k, v in local_sd.items() if k.startswith(child_prefix)}, child_prefix)

    token = _PLAN.set(plan)
    try:
        load(self, state_dict, "")
    finally:
        _PLAN.reset(token)
    if strict:
        if unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in unexpected)))
        if missing:
            errors.insert(0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
    if errors:
        raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(self._get_name(),
                                                                               "\n\t".join(errors)))
    _run(plan)
    result = _IncompatibleKeys(missing, unexpected)
    for module in loaded:
        for hook in module._load_state_dict_post_hooks.values():
            hook(module, result)
    return result


__all__ = ["state_dict", "load_state_dict"]
