"""``lamina.nn.utils.memory_format``: convert the weights of every 2d (3d) convolution in a module to a
memory format.

lamina tensors have one layout, C-contiguous (torch's ``contiguous_format``); it has no ``channels_last``
objects. So ``memory_format`` may be ``None`` or a format named ``contiguous_format`` or
``preserve_format`` (the weights are made contiguous copies, in place of their ``.data``, so the
Parameters and their values stay the same; ``preserve_format`` raises torch's RuntimeError once a
convolution of that kind is met); a torch ``channels_last`` / ``channels_last_3d`` raises
NotImplementedError, anything else TypeError (as torch).
"""

from __future__ import annotations

from typing import Any, TypeVar

import lamina.nn as nn
from lamina.nn import Module

__lamina_plugin_api__ = "1.0"

_M = TypeVar("_M", bound=Module)
_SUPPORTED = ("contiguous_format", "preserve_format")


def _check(name: str, memory_format: Any) -> None:
    if memory_format is None:
        return
    label = str(memory_format).rpartition(".")[2]
    if type(memory_format).__name__ != "memory_format":
        raise TypeError(f"{name}: argument 'memory_format' must be torch.memory_format, not "
                        f"{type(memory_format).__name__}")
    if label not in _SUPPORTED:
        raise NotImplementedError(f"{name}: lamina tensors are always contiguous; only memory_format="
                                  f"contiguous_format or preserve_format is supported, got {memory_format}")


def _convert(module: Module, kinds: tuple, memory_format: Any) -> None:
    if isinstance(module, kinds):
        if str(memory_format).endswith("preserve_format"):  # torch's resize_ refuses it
            raise RuntimeError("Unsupported memory formatPreserve")
        module.weight.data = module.weight.detach().clone().contiguous()
    for child in module.children():
        _convert(child, kinds, memory_format)


def convert_conv2d_weight_memory_format(module: _M, memory_format: Any) -> _M:
    """``module`` with the weight of each ``Conv2d``/``ConvTranspose2d`` in it (itself included) converted."""
    _check("convert_conv2d_weight_memory_format", memory_format)
    _convert(module, (nn.Conv2d, nn.ConvTranspose2d), memory_format)
    return module


def convert_conv3d_weight_memory_format(module: _M, memory_format: Any) -> _M:
    """``module`` with the weight of each ``Conv3d``/``ConvTranspose3d`` in it (itself included) converted."""
    _check("convert_conv3d_weight_memory_format", memory_format)
    _convert(module, (nn.Conv3d, nn.ConvTranspose3d), memory_format)
    return module


__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]
