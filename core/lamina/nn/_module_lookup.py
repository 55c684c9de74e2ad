"""Dotted-path lookups (bound as ``Module`` methods): ``get_submodule("features.3")``,
``get_parameter``, ``get_buffer``, ``set_submodule``. Errors name the path walked so far."""

from __future__ import annotations

from typing import Any

from ..ops.tensor import Tensor


def walk(self: Any, target: str, want: str, module_cls: type) -> Any:
    """The submodule at dotted path ``target`` (``module_cls`` is ``Module``, handed down by its caller)."""
    mod = self
    done = []
    for item in target.split(".") if target else []:
        if not hasattr(mod, item):
            where = ".".join(done) or "the root module"
            raise AttributeError(f"{mod._get_name()} has no attribute `{item}` (looking up {want} "
                                 f"'{target}', at {where})")
        mod = getattr(mod, item)
        done.append(item)
        if not isinstance(mod, module_cls):
            raise AttributeError(f"`{item}` is not an nn.Module")
    return mod


def get_submodule(self, target: str) -> Any:
    return self._walk(target, "submodule")


def set_submodule(self, target: str, module: Any, strict: bool = False) -> None:
    parent, _, name = target.rpartition(".")
    owner = self._walk(parent, "submodule")
    if strict and not hasattr(owner, name):
        raise AttributeError(f"{owner._get_name()} has no attribute `{name}`")
    setattr(owner, name, module)


def get_parameter(self, target: str) -> Any:
    path, _, name = target.rpartition(".")
    mod = self._walk(path, "parameter")
    if not hasattr(mod, name):
        raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
    param = getattr(mod, name)
    if name not in mod._parameters or param is None:
        raise AttributeError(f"`{name}` is not an nn.Parameter")
    return param


def get_buffer(self, target: str) -> Tensor:
    path, _, name = target.rpartition(".")
    mod = self._walk(path, "buffer")
    if not hasattr(mod, name):
        raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
    if name not in mod._buffers:
        raise AttributeError(f"`{name}` is not a buffer")
    return getattr(mod, name)


def name_module_path(caller: Any, err: BaseException) -> None:
    """Prefix a shape/dtype error with the path of the module that raised it, seen from ``caller``.

    Each enclosing module's ``__call__`` rewrites the message, so the outermost call leaves the full
    path: ``features.3 (Conv2d): expected input with 32 channels, got 64``.
    """
    origin = getattr(err, "_lamina_module", None)
    if origin is None:
        origin = err._lamina_module = caller
        msg = str(err)
        name = type(caller).__name__
        err._lamina_message = msg[len(name) + 2:] if msg.startswith(name + ": ") else msg
        return
    for path, m in caller.named_modules():
        if m is origin:
            if path:
                err.args = (f"{path} ({type(origin).__name__}): {err._lamina_message}",)
            return
