"""``lamina.nn.utils``: gradient clipping and parameter/vector conversion; submodules load lazily.

A submodule is either a file of this package or one published by a plugin: an entry point
``"nn.utils.<name>"`` in group ``lamina.namespaces`` pointing to a module (the recurrent-layers plugin
publishes ``rnn`` this way). ``lamina.nn.utils.rnn``, ``from lamina.nn.utils import rnn`` and
``from lamina.nn.utils.rnn import pack_padded_sequence`` all work; the plugin is imported on first use.
"""

from __future__ import annotations

from typing import Any

from ... import plugins as _plugins
from ...plugins._modules import provided_module
from .clip_grad import clip_grad_norm, clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .convert_parameters import parameters_to_vector, vector_to_parameters


def __getattr__(name: str) -> Any:
    module = provided_module(__name__, name)  # a plugin's submodule (lamina.nn.utils.rnn), imported now
    if module is not None:
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r} (no such function, submodule, or "
                         "plugin module in group 'lamina.namespaces')")


def __dir__() -> list[str]:
    served = (n.rpartition(".")[2] for n in _plugins.names("lamina.namespaces") if n.startswith("nn.utils."))
    return sorted(set(globals()) | {n for n in served if n.isidentifier()})


__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters"]
