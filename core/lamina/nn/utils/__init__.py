"""``lamina.nn.utils``: gradient clipping and parameter/vector conversion; submodules load lazily.

A submodule is either a file of this package or one published by a plugin: an entry point
``"nn.utils.<name>"`` in group ``lamina.namespaces`` pointing to a module (the recurrent-layers plugin
publishes ``rnn`` this way). ``lamina.nn.utils.rnn``, ``from lamina.nn.utils import rnn`` and
``from lamina.nn.utils.rnn import pack_padded_sequence`` all work; the plugin is imported on first use.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

from ... import plugins as _plugins
from ...plugins._modules import provided_module
from .clip_grad import clip_grad_norm, clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .convert_parameters import parameters_to_vector, vector_to_parameters

#: torch.nn.utils' functions that live in a (plugin-published) submodule: name -> the submodule
_FROM_SUBMODULE = {
    "weight_norm": "weight_norm", "remove_weight_norm": "weight_norm",
    "spectral_norm": "spectral_norm", "remove_spectral_norm": "spectral_norm",
    "skip_init": "init",
    "fuse_conv_bn_eval": "fusion", "fuse_conv_bn_weights": "fusion",
    "fuse_linear_bn_eval": "fusion", "fuse_linear_bn_weights": "fusion",
    "convert_conv2d_weight_memory_format": "memory_format", "convert_conv3d_weight_memory_format": "memory_format",
}


class _Package(ModuleType):
    """Importing the submodule ``weight_norm`` sets the package's attribute of that name to the module; torch's
    package attribute is the function (as its __init__ imports it last): keep the function there."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, ModuleType) and _FROM_SUBMODULE.get(name) == name and hasattr(value, name):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    sub = _FROM_SUBMODULE.get(name)
    if sub is not None:  # the function, even where a submodule of the same name exists (weight_norm)
        module = provided_module(__name__, sub)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}: it comes from the plugin module "
                                 f"{__name__}.{sub} (group 'lamina.namespaces'), which no installed distribution "
                                 "publishes (pip install lamina-nn-utils)")
        return getattr(module, name)
    module = provided_module(__name__, name)  # a plugin's submodule (lamina.nn.utils.rnn), imported now
    if module is not None:
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r} (no such function, submodule, or "
                         "plugin module in group 'lamina.namespaces')")


def __dir__() -> list[str]:
    served = (n.rpartition(".")[2] for n in _plugins.names("lamina.namespaces") if n.startswith("nn.utils."))
    return sorted(set(globals()) | {n for n in served if n.isidentifier()} | set(_FROM_SUBMODULE))


__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters"]
