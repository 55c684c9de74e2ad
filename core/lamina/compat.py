"""``lamina.compat.install_torch_alias()``: ``import torch`` (and every ``torch.<sub>``) gives lamina's modules.

For running an unmodified PyTorch program, or a notebook, on lamina: after the call, ``import torch``,
``import torch.nn.functional as F`` and ``from torch.utils.data import DataLoader`` -- in the program and in
every library it imports -- return the very same module objects as ``lamina``, ``lamina.nn.functional`` and
``lamina.utils.data`` (``torch.nn.Linear is lamina.nn.Linear``). A torch module lamina does not have raises
``ModuleNotFoundError`` naming the torch module; a missing name inside a module raises lamina's error for it
(naming the plugin distribution that provides it, where one does). The real torch must not be imported yet.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

ALIAS = "torch"
TARGET = "lamina"


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        try:
            return importlib.import_module(self.target)
        except ModuleNotFoundError as exc:
            if exc.name is not None and exc.name != self.target and not self.target.startswith(exc.name + "."):
                raise  # something the lamina module itself imports is missing
            raise ModuleNotFoundError(f"No module named {spec.name!r}: lamina does not provide torch's {spec.name} "
                                      f"(looked for {self.target})", name=spec.name) from None

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module is lamina's, already imported."""


class _TorchAliasFinder(importlib.abc.MetaPathFinder):
    """Finds ``torch`` and ``torch.<sub>`` as ``lamina`` and ``lamina.<sub>``."""

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != ALIAS and not fullname.startswith(ALIAS + "."):
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(TARGET + fullname[len(ALIAS):]))


_FINDER = _TorchAliasFinder()


def install_torch_alias() -> None:
    """Make ``import torch`` give lamina (idempotent). Raises RuntimeError when the real torch is imported."""
    if _FINDER in sys.meta_path:
        return
    real = sorted(n for n, m in sys.modules.items() if (n == ALIAS or n.startswith(ALIAS + "."))
                  and not getattr(m, "__name__", "").startswith(TARGET))
    if real:
        raise RuntimeError(f"lamina.compat.install_torch_alias: the real torch is already imported ({real[0]}); "
                           "call it before anything imports torch")
    sys.meta_path.insert(0, _FINDER)


def uninstall_torch_alias() -> None:
    """Undo :func:`install_torch_alias`: the finder goes, and the ``torch`` entries it made leave sys.modules."""
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name in [n for n in sys.modules if n == ALIAS or n.startswith(ALIAS + ".")]:
        if getattr(sys.modules[name], "__name__", "").startswith(TARGET):
            del sys.modules[name]


def torch_alias_installed() -> bool:
    """Whether ``import torch`` gives lamina in this process."""
    return _FINDER in sys.meta_path
