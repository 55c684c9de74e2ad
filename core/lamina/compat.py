"""``lamina.compat.install_torch_alias()``: ``import torch`` (and every ``torch.<sub>``) gives lamina's modules.

For running an unmodified PyTorch program, or a notebook, on lamina: after the call, ``import torch``,
``import torch.nn.functional as F`` and ``from torch.utils.data import DataLoader`` -- in the program and in
every library it imports -- return the very same module objects as ``lamina``, ``lamina.nn.functional`` and
``lamina.utils.data`` (``torch.nn.Linear is lamina.nn.Linear``). A torch module lamina does not have raises
``ModuleNotFoundError`` naming the torch module; a missing name inside a module raises lamina's error for it,
led by the torch name (``torch.nested: lamina does not provide torch.nested ...``) and naming the plugin
distribution that provides it, where one does. The real torch must not be imported yet.

Companion libraries are aliased the same way by plugins: an entry ``torchvision = "lamina_datasets.vision"``
in the group ``lamina.aliases`` makes ``import torchvision`` (and its submodules) give that module.
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
            module = importlib.import_module(self.target)
        except ModuleNotFoundError as exc:
            if exc.name is not None and exc.name != self.target and not self.target.startswith(exc.name + "."):
                raise  # something the lamina module itself imports is missing
            raise ModuleNotFoundError(f"No module named {spec.name!r}: lamina does not provide {spec.name} "
                                      f"(looked for {self.target})", name=spec.name) from None
        _name_missing_after(module, spec.name)
        return module

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module is lamina's, already imported."""


#: module -> its own ``__getattr__`` (or None) before :func:`_name_missing_after` wrapped it
_WRAPPED: dict[ModuleType, object] = {}


def _torch_error(exc: AttributeError, torch_name: str) -> AttributeError:
    """``exc`` with its message led by the torch name it stands for (the same exception object and type)."""
    exc.args = (f"{torch_name}: lamina does not provide it ({exc.args[0] if exc.args else exc})",) + exc.args[1:]
    return exc


def _name_missing_after(module: ModuleType, served_as: str) -> None:
    """Make a missing attribute of ``module`` (served as ``served_as``) raise an error naming the torch name."""
    if module in _WRAPPED:
        return
    own = module.__dict__.get("__getattr__")
    _WRAPPED[module] = own

    def __getattr__(name: str) -> object:
        if own is None:
            exc = AttributeError(f"module {module.__name__!r} has no attribute {name!r}", name=name, obj=module)
        else:
            try:
                value = own(name)
            except AttributeError as caught:
                exc = caught
            else:
                if isinstance(value, ModuleType):  # lamina.linalg (a plugin's module) reached as torch.linalg
                    _name_missing_after(value, f"{served_as}.{name}")
                return value
        raise _torch_error(exc, f"{served_as}.{name}") from exc.__cause__

    module.__getattr__ = __getattr__  # type: ignore[attr-defined]
    for key, child in list(vars(module).items()):  # lamina.nn.functional, imported with lamina.nn
        if isinstance(child, ModuleType) and child.__name__ == f"{module.__name__}.{key}":
            _name_missing_after(child, f"{served_as}.{key}")


def _tensor_getattr(self: object, name: str) -> object:
    exc = AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}", name=name, obj=self)
    raise _torch_error(exc, f"{ALIAS}.Tensor.{name}")


def aliases() -> dict[str, str]:
    """The import names served by lamina while the alias is installed: ``{"torch": "lamina", **plugin aliases}``."""
    from . import plugins

    found = {e.name: e.value for e in plugins.entries("lamina.aliases")}
    return {**found, ALIAS: TARGET}


class _TorchAliasFinder(importlib.abc.MetaPathFinder):
    """Finds ``torch`` and ``torch.<sub>`` as ``lamina`` and ``lamina.<sub>`` (and the plugins' aliases)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        top, dot, rest = fullname.partition(".")
        served = self.names.get(top)
        if served is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(served + dot + rest))


_FINDER = _TorchAliasFinder()


def install_torch_alias() -> None:
    """Make ``import torch`` give lamina (idempotent). Raises RuntimeError when the real torch is imported."""
    if _FINDER in sys.meta_path:
        return
    names = aliases()
    real = sorted(n for n, m in sys.modules.items() if n.partition(".")[0] in names
                  and not getattr(m, "__name__", "").startswith(names[n.partition(".")[0]]))
    if real:
        raise RuntimeError(f"lamina.compat.install_torch_alias: the real {real[0]} is already imported; "
                           "call it before anything imports torch")
    _FINDER.names = names
    sys.meta_path.insert(0, _FINDER)
    from ._base import REPR_PREFIX

    REPR_PREFIX[0] = ALIAS  # torch.float32, torch.Size([2, 3]): what the program prints on torch
    for name, module in list(sys.modules.items()):  # lamina.nn & co., reached as attributes of torch
        if (name == TARGET or name.startswith(TARGET + ".")) and isinstance(module, ModuleType):
            _name_missing_after(module, ALIAS + name[len(TARGET):])
    from ._tensor import Tensor

    Tensor.__getattr__ = _tensor_getattr  # type: ignore[attr-defined]  # only reached for a missing name


def uninstall_torch_alias() -> None:
    """Undo :func:`install_torch_alias`: the finder goes, and the ``torch`` entries it made leave sys.modules."""
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name in [n for n in sys.modules if n.partition(".")[0] in _FINDER.names and n.partition(".")[0] != TARGET]:
        if getattr(sys.modules[name], "__name__", "") != name:
            del sys.modules[name]
    for module, own in _WRAPPED.items():
        if own is None:
            module.__dict__.pop("__getattr__", None)
        else:
            module.__getattr__ = own  # type: ignore[attr-defined]
    _WRAPPED.clear()
    from ._base import REPR_PREFIX

    REPR_PREFIX[0] = TARGET
    from ._tensor import Tensor

    if "__getattr__" in Tensor.__dict__:
        del Tensor.__getattr__  # type: ignore[misc]


def torch_alias_installed() -> bool:
    """Whether ``import torch`` gives lamina in this process."""
    return _FINDER in sys.meta_path

