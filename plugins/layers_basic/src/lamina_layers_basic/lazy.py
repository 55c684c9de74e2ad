"""``LazyModuleMixin``: a module whose parameters wait, as ``UninitializedParameter``s, for the first input.

The first forward calls ``initialize_parameters(*args, **kwargs)`` (which materializes them from the input's
shape and resets them), then the module becomes ``cls_to_become`` (LazyConv2d -> Conv2d). Until then its
state_dict holds the uninitialized objects themselves; loading a checkpoint materializes them to the
checkpoint's shapes first, as PyTorch's lazy modules do.

PyTorch's ``torch.nn.modules.lazy.LazyModuleMixin``; public here for lamina-norms' lazy norms and third-party
lazy layers (the core keeps only the uninitialized tensor kinds).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lamina.nn.parameter import is_lazy

from . import __lamina_plugin_api__  # noqa: F401


class LazyModuleMixin:
    """Mix in before the module class: ``class LazyConv2d(LazyModuleMixin, Conv2d)``."""

    cls_to_become: type | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # the hook's id, not its handle: a handle holds weak references, which would stop pickling
        self._initialize_hook_id = self.register_forward_pre_hook(_infer_parameters, with_kwargs=True).id

    def has_uninitialized_params(self) -> bool:
        """True while a parameter or buffer of this module (not its children) is uninitialized."""
        tensors = list(self._parameters.values()) + list(self._buffers.values())
        return any(is_lazy(t) for t in tensors)

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        """Materialize the parameters from the first input (each lazy module defines it)."""
        raise NotImplementedError(f"initialize_parameters is not implemented for {type(self).__name__}")

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        # an uninitialized tensor is saved as itself (detaching it would give a shaped, empty tensor)
        for name, t in list(self._parameters.items()) + [
                (n, b) for n, b in self._buffers.items() if n not in self._non_persistent_buffers_set]:
            if t is not None:
                destination[prefix + name] = t if keep_vars or is_lazy(t) else t.detach()

    def _load_from_state_dict(self, state_dict: Mapping, prefix: str, local_metadata: dict, strict: bool,
                              missing_keys: list, unexpected_keys: list, error_msgs: list) -> None:
        from lamina import no_grad

        both_lazy = []
        tensors = dict(self._parameters)
        tensors.update(self._buffers)
        for name, t in tensors.items():
            key = prefix + name
            if not is_lazy(t) or key not in state_dict:
                continue
            given = state_dict[key]
            if is_lazy(given):
                both_lazy.append(key)  # nothing to copy: both sides wait for a first forward
            else:
                with no_grad():
                    t.materialize(given.shape)
        if both_lazy:
            state_dict = {k: v for k, v in state_dict.items() if k not in both_lazy}
            n = len(missing_keys)
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                          error_msgs)
            missing_keys[n:] = [k for k in missing_keys[n:] if k not in both_lazy]
            return
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


def _infer_parameters(module: Any, args: tuple, kwargs: dict) -> None:
    """Forward pre-hook: initialize from this first input, then become the non-lazy class."""
    module.initialize_parameters(*args, **kwargs)
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {type(module).__name__} has not been fully initialized")
    hook_id = module.__dict__.pop("_initialize_hook_id")
    module._forward_pre_hooks.pop(hook_id, None)
    module._forward_pre_hooks_with_kwargs.pop(hook_id, None)
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become


__all__ = ["LazyModuleMixin"]
