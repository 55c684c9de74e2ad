"""What a ``weights_only`` load may build: the default allow-list plus the user's safe globals.

A pickle names every class or function it calls as ``module.qualname`` (opcodes GLOBAL,
STACK_GLOBAL, INST, OBJ and EXT*, all resolved through ``find_class``). The weights-only
unpickler answers from this table alone and never imports anything, so a file naming
``os.system`` fails with :class:`WeightsOnlyError` before any of it runs. It is the pure-Python
unpickler with one opcode tightened: BUILD (``__setstate__`` / ``__dict__`` updates) applies only
to instances of allowed classes, never to a class or function object, so a file cannot patch
lamina's own code. The whole-object pickle is small (tensor bytes live outside it), so the
slower unpickler costs little.
"""

from __future__ import annotations

import _compat_pickle
import contextlib
import copyreg
import pickle
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .._base import dtype as _dtype
from .._base import layout as _layout
from .._base.errors import CheckpointFormatError

SafeGlobal = Callable | tuple  # an object, or (object, "module.qualname") when its own name differs
_user: list[SafeGlobal] = []


class WeightsOnlyError(CheckpointFormatError, pickle.UnpicklingError):
    """A ``weights_only=True`` load met a global that is not allowed, or a malformed pickle."""


def add_safe_globals(safe_globals: list[SafeGlobal]) -> None:
    """Allow these classes/functions (or ``(obj, "module.qualname")`` pairs) in ``weights_only`` loads."""
    for entry in safe_globals:
        _key_of(entry)  # validate before adding any
    _user.extend(safe_globals)


def get_safe_globals() -> list[SafeGlobal]:
    """The user-added safe globals (the defaults are not listed)."""
    return list(_user)


def clear_safe_globals() -> None:
    """Forget every user-added safe global."""
    _user.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: list[SafeGlobal]) -> Iterator[None]:
    """``with safe_globals([Net, nn.Linear]):`` allows them for the loads inside the block only."""
    saved = list(_user)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _user[:] = saved


def _key_of(entry: SafeGlobal) -> str:
    if isinstance(entry, tuple):
        if len(entry) != 2 or not isinstance(entry[1], str):
            raise TypeError(f"safe globals: expected a class/function or an (object, 'module.qualname') pair, "
                            f"got {entry!r}")
        return entry[1]
    key = f"{getattr(entry, '__module__', None)}.{getattr(entry, '__qualname__', None)}"
    if "None" in key.split("."):
        raise TypeError(f"safe globals: {entry!r} has no __module__/__qualname__; pass (obj, 'module.qualname')")
    return key


def _latin1(text: str, encoding: str = "latin1") -> bytes:
    """``_codecs.encode`` as pickle protocols 0-2 use it for ``bytes``: latin-1 only, no codec lookup."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"_codecs.encode is allowed only as (str, 'latin1'), got encoding {encoding!r}")
    return text.encode("latin-1")


def default_globals() -> dict[str, Any]:
    """``module.qualname -> object`` for what every weights-only load may build."""
    from .._tensor.base import Size
    from ..backends import device
    from ..nn.parameter import Buffer, Parameter
    from ..ops.tensor import Tensor

    table: dict[str, Any] = {f"builtins.{t.__name__}": t for t in (
        dict, list, tuple, set, frozenset, int, float, complex, bool, str, bytes, bytearray, slice, range, object)}
    table.update({"collections.OrderedDict": OrderedDict, "collections.Counter": Counter, "_codecs.encode": _latin1,
                  "copyreg._reconstructor": copyreg._reconstructor,  # protocols 0 and 1; its args are allowed too
                  "lamina._base.dtype._by_name": _dtype._by_name})
    table.update({_key_of(c): c for c in (device, Size, Tensor, Parameter, Buffer)})
    table.update({f"lamina._base.layout.{v.name}": v for v in vars(_layout).values()
                  if isinstance(v, _layout.layout)})
    return table


def allowed_globals(extra: dict[str, Any]) -> dict[str, Any]:
    table = default_globals()
    table.update({_key_of(e): e[0] if isinstance(e, tuple) else e for e in _user})
    table.update(extra)
    return table


class WeightsOnlyUnpickler(pickle._Unpickler):  # type: ignore[name-defined]
    """Builds only what ``allowed`` (``module.qualname -> object``) names; see the module docstring."""

    def __init__(self, f: Any, name: str, allowed: dict[str, Any], persistent_load: Callable[[Any], Any],
                 **kwargs: Any) -> None:
        super().__init__(f, **kwargs)
        self._name, self._allowed, self.persistent_load = name, allowed, persistent_load
        self._classes = tuple(v for v in allowed.values() if isinstance(v, type) and v is not object)

    def find_class(self, module: str, name: str) -> Any:
        key = _py3_name(module, name) if self.proto < 3 and self.fix_imports else f"{module}.{name}"
        if key not in self._allowed:
            raise WeightsOnlyError(unsupported_message(self._name, key))
        return self._allowed[key]

    def _load_build(self) -> None:
        inst = self.stack[-2] if len(self.stack) >= 2 else None
        if isinstance(inst, type) or not isinstance(inst, self._classes):
            raise WeightsOnlyError(f"lamina.load: weights-only load of {self._name} failed: the pickle sets the "
                                   f"state of a {type(inst).__name__} object, which only instances of allowed "
                                   "classes may have set")
        pickle._Unpickler.load_build(self)  # type: ignore[attr-defined]

    dispatch = {**pickle._Unpickler.dispatch, pickle.BUILD[0]: _load_build}  # type: ignore[attr-defined]


def _py3_name(module: str, name: str) -> str:
    """``__builtin__.set`` -> ``builtins.set``: the Python 2 names that protocols 0-2 write by default."""
    module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
    return f"{_compat_pickle.IMPORT_MAPPING.get(module, module)}.{name}"


def unsupported_message(name: str, key: str) -> str:
    return (f"lamina.load: weights-only load of {name} failed: the pickle needs the global {key}, which "
            "weights_only=True does not allow by default. If you trust this class or function, allow it with "
            f"lamina.serialization.add_safe_globals([{key}]) or inside `with lamina.serialization.safe_globals("
            f"[{key}]):`. If you trust the whole file, load it with weights_only=False (this can execute "
            "arbitrary code from the file).")


def globals_in(pickled: bytes) -> Iterable[str]:
    """Every ``module.qualname`` the pickle names, in order, without unpickling it."""
    import pickletools

    pushed: list[Any] = []  # what each opcode pushed (strings kept), enough to pair STACK_GLOBAL's two args
    memo: dict[int, Any] = {}
    for op, arg, _ in pickletools.genops(pickled):
        if op.name in ("GLOBAL", "INST"):
            yield _py3_name(*arg.split(" ", 1))
        elif op.name == "STACK_GLOBAL" and len(pushed) >= 2:
            yield _py3_name(str(pushed[-2]), str(pushed[-1]))
        elif op.name.startswith("EXT"):
            yield ".".join(copyreg._inverted_registry.get(arg, ("<extension>", str(arg))))  # type: ignore
        if op.name == "MEMOIZE":
            memo[len(memo)] = pushed[-1] if pushed else None
        elif op.name.endswith("PUT"):
            memo[arg] = pushed[-1] if pushed else None
        elif op.name.endswith("GET"):
            pushed.append(memo.get(arg))
        else:
            pushed.append(arg if isinstance(arg, str) and "UNICODE" in op.name else None)
