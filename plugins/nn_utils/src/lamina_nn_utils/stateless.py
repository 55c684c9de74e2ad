"""``lamina.nn.utils.stateless``: the deprecated ``functional_call`` (now ``lamina.func.functional_call``)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import lamina
from lamina.nn import Module

__lamina_plugin_api__ = "1.0"

_DEPRECATED = ("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be removed "
               "in a future version of PyTorch. Please use `torch.func.functional_call` instead which is a "
               "drop-in replacement.")


def functional_call(module: Module, parameters_and_buffers: Mapping[str, Any], args: Any = None,
                    kwargs: dict[str, Any] | None = None, *, tie_weights: bool = True, strict: bool = False) -> Any:
    """``module(*args, **kwargs)`` with the named parameters and buffers replaced for the call (FutureWarning:
    deprecated, as in torch, for ``lamina.func.functional_call``, which this calls).

    Unlike torch's, it does not write back into ``parameters_and_buffers`` a tensor that the forward
    rebound to another object (torch's does; in-place updates, as batch norm's, show either way).
    """
    warnings.warn(_DEPRECATED, FutureWarning, stacklevel=2)
    if not isinstance(parameters_and_buffers, Mapping):  # torch's reads .keys(); lamina.func's takes a sequence too
        raise AttributeError(f"'{type(parameters_and_buffers).__name__}' object has no attribute 'keys'")
    return lamina.func.functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights,
                                       strict=strict)


__all__ = ["functional_call"]
