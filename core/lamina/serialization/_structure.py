"""The non-tensor part of a checkpoint, as a JSON tree kept in the header metadata.

The tree mirrors the saved object. JSON scalars stand for themselves (``null``, ``true``,
``3``, ``0.5``, ``"adam"``); everything else is an object with one tag:

    {"tensor": "fc.weight"}                      a tensor stored under that header name; optional
                                                 "param": true, "requires_grad": true, "device": "cuda:0"
    {"float": "nan" | "inf" | "-inf"}            a non-finite float (kept out of the JSON numbers)
    {"list": [...]}  {"tuple": [...]}            sequences
    {"dict": [[key, value], ...]}                dicts keep their key types (optimizer state has int keys)
    {"odict": [[key, value], ...], "meta": ...}  an OrderedDict; "meta" is a state_dict's ``_metadata``
    {"dtype": "float32"}  {"device": "cuda:1"}   lamina dtypes and devices

Keys are scalars or tuples of scalars. Tensors are named by their path of keys joined with ``.``
(a flat state_dict's tensor names are its keys, so other safetensors readers see them as is).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from .._base import dtype as _dtype
from ..backends import device as _device
from ..ops.tensor import Tensor

FORMAT_VERSION = "1"
_FLOAT_TAGS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_TENSOR_OPTS = {"tensor", "param", "requires_grad", "device", "complex"}
_SUPPORTED = "tensors, dict, OrderedDict, list, tuple, str, int, float, bool, None, lamina.dtype and lamina.device"


class StructureError(Exception):
    """Raised while decoding; the caller turns it into a CheckpointHeaderError naming the file."""


# --- encoding (save) ----------------------------------------------------------------------------
def encode(obj: Any) -> tuple[Any, list[tuple[str, Tensor]]]:
    """The JSON tree for ``obj`` and the ``(name, tensor)`` list it references, in traversal order."""
    tensors: list[tuple[str, Tensor]] = []
    taken: set[str] = {"__metadata__"}
    active: set[int] = set()

    def name_for(path: tuple) -> str:
        base = ".".join(str(p) for p in path) if path else "tensor"
        name, i = base, 0
        while name in taken:
            i += 1
            name = f"{base}#{i}"
        taken.add(name)
        return name

    def enc(x: Any, path: tuple) -> Any:
        if x is None or isinstance(x, (bool, str)):
            return x
        if isinstance(x, int):
            return int(x)
        if isinstance(x, float):
            return float(x) if math.isfinite(x) else {"float": "nan" if x != x else ("inf" if x > 0 else "-inf")}
        if isinstance(x, Tensor):
            return _enc_tensor(x, name_for(path), tensors)
        if isinstance(x, _dtype.dtype):
            return {"dtype": x.name}
        if isinstance(x, _device):
            return {"device": str(x)}
        scalar = _numpy_scalar(x)
        if scalar is not None:
            return enc(scalar, path)
        if type(x) in (dict, OrderedDict, list, tuple):  # subclasses (Size, namedtuple) go to the pickle container
            if id(x) in active:
                raise ValueError(f"lamina.save: the object contains itself at {_where(path)}; cannot save a cycle")
            active.add(id(x))
            try:
                if isinstance(x, dict):
                    pairs = [[enc_key(k, path), enc(v, (*path, k))] for k, v in x.items()]
                    if isinstance(x, OrderedDict):
                        node = {"odict": pairs}
                        meta = getattr(x, "_metadata", None)
                        if isinstance(meta, dict):
                            node["meta"] = enc(meta, (*path, "_metadata"))
                        return node
                    return {"dict": pairs}
                return {"list" if isinstance(x, list) else "tuple": [enc(v, (*path, i)) for i, v in enumerate(x)]}
            finally:
                active.discard(id(x))
        raise TypeError(f"the safe format holds {_SUPPORTED}; got a {type(x).__name__} at {_where(path)}")

    def enc_key(k: Any, path: tuple) -> Any:
        if k is None or isinstance(k, (bool, str, int, float)) or _numpy_scalar(k) is not None:
            return enc(k, path)
        if isinstance(k, tuple):
            return {"tuple": [enc_key(v, path) for v in k]}
        raise TypeError(f"lamina.save: dict keys must be str, int, float, bool, None or tuples of them; "
                        f"got a {type(k).__name__} key at {_where(path)}")

    return enc(obj, ()), tensors


def _enc_tensor(t: Tensor, name: str, tensors: list) -> dict:
    tensors.append((name, t))
    node: dict[str, Any] = {"tensor": name}
    if type(t).__name__ == "Parameter" and type(t).__module__ == "lamina.nn.parameter":
        node["param"] = True
    elif type(t) is not Tensor:  # Buffer and user subclasses keep their class in the pickle container
        raise TypeError(f"the safe format holds Tensor and Parameter, not {type(t).__name__}")
    if t.requires_grad:
        node["requires_grad"] = True
    if t.device.type != "cpu":
        node["device"] = str(t.device)
    if t.dtype.name == "complex128":  # safetensors has no C128: stored as F64 (*, 2) real pairs
        node["complex"] = True
    return node


def _numpy_scalar(x: Any) -> Any:
    """NumPy scalars (``np.float32(0.5)``, ``np.int64(3)``) travel as Python numbers."""
    item = getattr(x, "item", None)
    if item is not None and type(x).__module__ == "numpy" and getattr(x, "shape", None) == ():
        return item()
    return None


def _where(path: tuple) -> str:
    return "the top level" if not path else "key path " + ".".join(repr(p) for p in path)


# --- decoding (load) ----------------------------------------------------------------------------
def decode(tree: Any, get_tensor: Callable[[str, dict], Any]) -> Any:
    """Rebuild the object; ``get_tensor(name, node)`` supplies each referenced tensor."""

    def dec(x: Any, path: str) -> Any:
        if x is None or isinstance(x, (bool, str)):
            return x
        if isinstance(x, (int, float)):
            return x
        if isinstance(x, list):
            raise StructureError(f"{path}: a bare JSON list; sequences are tagged {{'list': [...]}}")
        if not isinstance(x, dict) or not x:
            raise StructureError(f"{path}: unexpected JSON value {type(x).__name__}")
        if "tensor" in x:
            extra = set(x) - _TENSOR_OPTS
            if extra or not isinstance(x["tensor"], str):
                raise StructureError(f"{path}: malformed tensor reference {_short(x)}")
            return get_tensor(x["tensor"], x)
        if len(x) == 2 and "odict" in x and "meta" in x:
            out = OrderedDict(pairs(x["odict"], path))
            out._metadata = dec(x["meta"], path + "._metadata")  # type: ignore[attr-defined]
            return out
        if len(x) != 1:
            raise StructureError(f"{path}: expected one tag, got keys {sorted(x)}")
        (tag, v), = x.items()
        if tag == "float":
            if v not in _FLOAT_TAGS:
                raise StructureError(f"{path}: float tag must be one of {sorted(_FLOAT_TAGS)}, got {_short(v)}")
            return _FLOAT_TAGS[v]
        if tag in ("list", "tuple"):
            if not isinstance(v, list):
                raise StructureError(f"{path}: {tag} expects a JSON list, got {type(v).__name__}")
            items = [dec(e, f"{path}[{i}]") for i, e in enumerate(v)]
            return items if tag == "list" else tuple(items)
        if tag == "dict":
            return dict(pairs(v, path))
        if tag == "odict":
            return OrderedDict(pairs(v, path))
        if tag == "dtype":
            if v not in _dtype._NAMES:
                raise StructureError(f"{path}: unknown lamina dtype {_short(v)}")
            return _dtype._NAMES[v]
        if tag == "device":
            try:
                return _device(v)
            except (TypeError, ValueError) as e:
                raise StructureError(f"{path}: bad device {_short(v)} ({e})") from None
        raise StructureError(f"{path}: unknown tag {_short(tag)}")

    def pairs(v: Any, path: str) -> list:
        if not isinstance(v, list):
            raise StructureError(f"{path}: dict expects a JSON list of [key, value] pairs, got {type(v).__name__}")
        out, seen = [], set()
        for i, kv in enumerate(v):
            if not isinstance(kv, list) or len(kv) != 2:
                raise StructureError(f"{path}: entry {i} is not a [key, value] pair")
            k = dec(kv[0], f"{path}.<key {i}>")
            if not _is_key(k):
                raise StructureError(f"{path}: key {i} is a {type(k).__name__}; keys are scalars or tuples of them")
            if k in seen:
                raise StructureError(f"{path}: duplicate key {k!r}")
            seen.add(k)
            out.append((k, dec(kv[1], f"{path}[{k!r}]")))
        return out

    return dec(tree, "lamina.structure")


def _is_key(k: Any) -> bool:
    if k is None or isinstance(k, (bool, str, int, float)):
        return True
    return isinstance(k, tuple) and all(_is_key(e) for e in k)


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."
