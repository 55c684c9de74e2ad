"""``lamina.nn.utils``: gradient clipping and parameter/vector conversion; submodules load lazily.

A submodule is either a file of this package or one published by a plugin: an entry point named
after the submodule in group ``lamina.nn.utils`` pointing to a module (the recurrent-layers plugin
publishes ``rnn`` this way). ``lamina.nn.utils.rnn``, ``from lamina.nn.utils import rnn`` and
``from lamina.nn.utils.rnn import pack_padded_sequence`` all work; the plugin is imported on first use.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types
from typing import Any

from ... import plugins as _plugins
from .clip_grad import clip_grad_norm, clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .convert_parameters import parameters_to_vector, vector_to_parameters

_GROUP = "lamina.nn.utils"


class _PluginSubmodules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves ``lamina.nn.utils.<name>`` from the plugin entry point ``<name>`` of group lamina.nn.utils."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None):
        head, _, name = fullname.rpartition(".")
        if head != __name__ or not name.isidentifier() or name not in _plugins.names(_GROUP):
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        source = _plugins.resolve(_GROUP, module.__name__.rpartition(".")[2])
        if isinstance(source, types.ModuleType):
            module.__dict__.update((k, v) for k, v in vars(source).items() if not k.startswith("__"))
            module.__doc__ = source.__doc__
            module.__getattr__ = lambda name: getattr(source, name)
        else:
            module.__dict__.update((k, v) for k, v in vars(source).items() if not k.startswith("_"))


if not any(isinstance(f, _PluginSubmodules) for f in sys.meta_path):
    sys.meta_path.append(_PluginSubmodules())


def __getattr__(name: str) -> Any:
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r} (no such function, submodule, or "
                         f"plugin entry point in group {_GROUP!r})")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_plugins.names(_GROUP)))


__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters"]
