"""Safe checkpoints: ``lamina.save`` / ``lamina.load`` in the safetensors format (DESIGN.md §6).

``lamina.save(obj, f)`` accepts a tensor or nested dicts (OrderedDict and non-str keys kept),
lists and tuples of tensors, str, int, float, bool, None, lamina dtypes and devices. The file is
a valid safetensors file: a flat state_dict's tensor names are its keys, so
``safetensors.torch.load_file`` returns the same dict; the rest of the object is a JSON tree in
the header metadata under ``"lamina.structure"``. A safetensors file from elsewhere (no lamina
structure) loads as a flat ``{name: tensor}`` dict in header order.

Decisions:

- Loading never executes code and never falls back to pickle. The header (at most
  ``MAX_HEADER_BYTES`` = 100 MB) is fully validated against the real file size before any tensor
  memory is allocated. Every bad file raises :class:`lamina.CheckpointError` (subclasses
  :class:`CheckpointFormatError`, :class:`CheckpointTruncatedError`, :class:`CheckpointHeaderError`)
  with the file's name in the message.
- Every tensor is stored as its own C-contiguous copy: views and tensors sharing storage (tied
  weights) load as independent tensors. Tensors are laid out by decreasing element size, so each
  is aligned in the buffer (as safetensors does); the structure keeps the object's own order.
- dtypes: F16 BF16 F32 F64 I8 I16 I32 I64 U8 BOOL C64. safetensors has no complex128 code: a
  ``complex128`` tensor is stored as F64 ``(*, 2)`` (real, imaginary) pairs, as ``view_as_real``
  gives, marked ``"complex"`` in the structure (other readers see the pairs). BF16 loads as
  ``lamina.bfloat16``, bit for bit. Other safetensors dtypes
  (U16, U32, U64, F8_*) are refused with a CheckpointHeaderError naming the dtype.
- ``map_location``: None loads on CPU (not the saved device, unlike PyTorch: a checkpoint never
  needs a GPU to open); a device string or ``lamina.device`` sends everything there; a dict
  ``{"cuda:0": "cpu"}`` maps saved locations (unlisted ones keep their saved device); a callable
  ``fn(cpu_tensor, saved_location)`` returns the tensor to use, or None for CPU.
- Saving to a path is atomic (temp file in the same directory, fsync, ``os.replace``); saving to a
  file object writes in place. NumPy scalars are saved as Python numbers; dict/list/tuple
  subclasses load as the base type (OrderedDict excepted); Parameters load as Parameters.
- Anything the safe format cannot hold exactly (a whole Module or optimizer, ``Size``, other dict,
  list or tuple subclasses, user classes) is written as a whole-object container (``_container``:
  a pickle whose tensors are raw bytes beside it). ``lamina.load`` reads it with ``weights_only=True``
  (the default, as in torch 2.13) through an unpickler that builds only allow-listed globals
  (``_safe_globals``; extend it with :func:`add_safe_globals` / :class:`safe_globals`) and raises
  :class:`WeightsOnlyError` (a CheckpointError and a ``pickle.UnpicklingError``) naming the first
  other global. ``weights_only=False`` unpickles anything and warns with :class:`PickleWarning`.
- ``pickle=True`` (a lamina extension) writes a plain pickle instead, warning; it loads only with
  ``weights_only=False``. ``pickle_module`` must be the standard ``pickle``; ``pickle_protocol``
  (default 2, as torch) is the container's; ``_use_new_zipfile_serialization`` and
  ``_disable_byteorder_record`` are accepted and ignored. ``mmap=True`` (paths only) maps a
  container's tensors copy-on-write instead of reading them; safetensors files are read as usual.
"""

from __future__ import annotations

import io
import json
import os
import pickle as _stdlib_pickle
import warnings
from collections.abc import Callable
from typing import IO, Any

import numpy as np

from .._base.errors import CheckpointError, CheckpointFormatError, CheckpointHeaderError, CheckpointTruncatedError
from ..backends import device as _device
from ..ops.tensor import Tensor
from . import _container, _format, _pickle, _sniff, _structure
from ._atomic import atomic_write
from ._format import MAX_HEADER_BYTES
from ._pickle import PickleWarning
from ._safe_globals import WeightsOnlyError, add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals

FileLike = str | os.PathLike | IO[bytes]
MapLocation = str | _device | dict | Callable[[Tensor, str], Any] | None
_STRUCTURE_KEY = "lamina.structure"
_VERSION_KEY = "lamina.format"
_NO_STRUCTURE = object()  # a foreign safetensors file: load it as a flat {name: tensor} dict

DEFAULT_PROTOCOL = 2

__all__ = ["save", "load", "PickleWarning", "MAX_HEADER_BYTES", "CheckpointError", "CheckpointFormatError",
           "CheckpointTruncatedError", "CheckpointHeaderError", "WeightsOnlyError", "add_safe_globals",
           "get_safe_globals", "clear_safe_globals", "safe_globals", "get_unsafe_globals_in_checkpoint",
           "DEFAULT_PROTOCOL"]


# --- save ---------------------------------------------------------------------------------------
def save(obj: Any, f: FileLike, pickle_module: Any = _stdlib_pickle, pickle_protocol: int = DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization: bool = True, _disable_byteorder_record: bool = False, *,
         pickle: bool = False) -> None:
    """Write ``obj`` to a path or binary file object (atomic for paths).

    Tensors and state_dict-like trees are written as safetensors; other objects (a whole Module, an
    optimizer, user classes) as a whole-object container. ``pickle=True`` writes a plain pickle.
    """
    _check_pickle_module(pickle_module, "save")
    if pickle:
        _pickle.warn_dump()
        write = lambda fh: _pickle.dump(obj, fh)  # noqa: E731
    else:
        try:
            write = _safetensors_writer(obj)
        except (TypeError, ValueError):  # not exactly representable there: pickle it, tensors out of band
            write = _container.dump(obj, pickle_protocol)

    if _is_path(f):
        atomic_write(os.fspath(f), write)
    else:
        _check_binary(f, "save", "write")
        write(f)
        if hasattr(f, "flush"):
            f.flush()


def _safetensors_writer(obj: Any) -> Callable[[IO[bytes]], None]:
    """The writer of ``obj`` as safetensors; TypeError/ValueError when that format cannot hold it."""
    tree, tensors = _structure.encode(obj)
    named = [(name, _format.to_stored(_pairs(t.device.backend.to_host(t.array)), repr(name)))
             for name, t in tensors]
    named.sort(key=lambda na: -na[1].dtype.itemsize)  # stable: keeps the object's order per element size
    metadata = {"format": "pt", _VERSION_KEY: _structure.FORMAT_VERSION,
                _STRUCTURE_KEY: json.dumps(tree, separators=(",", ":"), allow_nan=False)}
    header = _format.build_header(named, metadata)
    if len(header) - 8 > MAX_HEADER_BYTES:
        raise ValueError(f"lamina.save: the header would take {len(header) - 8} bytes, more than the "
                         f"{MAX_HEADER_BYTES}-byte limit readers enforce; save fewer, larger tensors")
    arrays = [a for _, a in named]

    def write(fh: IO[bytes]) -> None:
        fh.write(header)
        _format.write_arrays(fh, arrays)

    return write


# --- load ---------------------------------------------------------------------------------------
def load(f: FileLike, map_location: MapLocation = None, pickle_module: Any = None, *, weights_only: bool | None = None,
         mmap: bool | None = None, **pickle_load_args: Any) -> Any:
    """Read a checkpoint written by ``lamina.save`` or any safetensors writer.

    ``weights_only`` (default True; False when ``pickle_module`` is given, as in torch) lets a
    whole-object file build only allowed globals. Raises ``lamina.CheckpointError`` (naming the
    file) for anything that is not a well-formed checkpoint.
    """
    if pickle_module is not None:
        if weights_only:
            raise RuntimeError("lamina.load: cannot load safely (weights_only=True) with an explicit pickle_module; "
                               "leave pickle_module out, or pass weights_only=False for a file you trust")
        _check_pickle_module(pickle_module, "load")
    weights_only = pickle_module is None if weights_only is None else bool(weights_only)
    place = _placer(map_location)
    if _is_path(f):
        name = repr(os.fspath(f))
        with open(f, "rb") as fh:
            return _load(fh, name, place, weights_only, os.fspath(f) if mmap else None, pickle_load_args)
    if mmap:
        raise ValueError("lamina.load: mmap=True needs a file path, got a file object")
    _check_binary(f, "load", "read")
    name = repr(getattr(f, "name", None) or f"<{type(f).__name__}>")
    if not (hasattr(f, "seekable") and f.seekable()):
        f = io.BytesIO(f.read())  # bounded by what the stream really holds
    return _load(f, name, place, weights_only, None, pickle_load_args)


def get_unsafe_globals_in_checkpoint(f: FileLike) -> list[str]:
    """The ``module.qualname`` globals of a whole-object file that a weights-only load would refuse."""
    from ._safe_globals import allowed_globals, globals_in

    if _is_path(f):
        with open(f, "rb") as fh:
            data = fh.read()
    else:
        data = f.read()
    if data.startswith(_container.MAGIC):
        n = int.from_bytes(data[8:16], "little")
        table = _format.parse_json(data[16:16 + n], "the whole-object table")
        data = data[16 + n:16 + n + int(table["pickle"])]
    elif not (data[:1] == b"\x80" and _sniff.describe(data[:16])):
        return []  # safetensors: no pickle at all
    allowed = allowed_globals({_container._REBUILD_KEY: None})
    return list(dict.fromkeys(g for g in globals_in(data) if g not in allowed))


def _load(f: IO[bytes], name: str, place: Callable, weights_only: bool, mmap_path: str | None,
          load_args: dict) -> Any:
    start = f.tell()
    size = f.seek(0, os.SEEK_END) - start
    f.seek(start)
    head = f.read(min(size, 16))
    if head.startswith(_container.MAGIC):
        f.seek(start)
        if not weights_only:
            _warn_unpickling(name)
        return _container.load(f, name, place, weights_only, mmap_path, load_args)
    n = int.from_bytes(head[:8], "little") if len(head) >= 8 else -1
    # a safetensors start (a sane length, then '{') is never second-guessed as another format
    safetensors_like = len(head) >= 9 and head[8:9] == b"{" and 0 < n <= MAX_HEADER_BYTES
    if not (safetensors_like and 8 + n <= size):
        what = None if safetensors_like else _sniff.describe(head)
        if what is not None:
            if not weights_only and what[0].startswith("a Python pickle"):
                f.seek(start)
                return _pickle.load(f, name, place)
            raise CheckpointFormatError(f"lamina.load: {name} is not a lamina/safetensors checkpoint: it looks like "
                                        f"{what[0]}. {what[1]}")
        _diagnose_start(name, head, n, size)
    f.seek(start + 8)
    raw = f.read(n)
    try:
        header = _format.parse_json(raw, "the JSON header")
        metadata, entries = _format.validate(header, size - 8 - n)
        tree = _structure_tree(metadata, entries)
    except _format.HeaderProblem as e:
        raise CheckpointHeaderError(f"lamina.load: {name}: {e}") from None
    except CheckpointTruncatedError as e:
        raise CheckpointTruncatedError(f"lamina.load: {name}: {e}") from None
    data_start = start + 8 + n
    arrays: dict[str, np.ndarray] = {}
    try:
        for tname, code, shape, begin, end in sorted(entries, key=lambda e: e[3]):
            f.seek(data_start + begin)
            arrays[tname] = _format.read_array(f, code, shape, end - begin)
    except CheckpointTruncatedError as e:
        raise CheckpointTruncatedError(f"lamina.load: {name}: {e}") from None
    if tree is _NO_STRUCTURE:
        return {tname: place(_to_tensor(arrays[tname], {}), "cpu") for tname, *_ in entries}
    return _structure.decode(tree, lambda tname, node: place(_to_tensor(arrays[tname], node),
                                                             node.get("device", "cpu")))


def _diagnose_start(name: str, head: bytes, n: int, size: int) -> None:
    """Raise the right error for a file whose first bytes are not a usable header length + '{'."""
    if size < 8:
        raise CheckpointTruncatedError(f"lamina.load: {name} holds only {size} bytes; a checkpoint starts with an "
                                       "8-byte header length (empty or truncated file)")
    if n == 0:
        raise CheckpointHeaderError(f"lamina.load: {name}: the header length field is 0 (empty header)")
    looks_right = len(head) < 9 or head[8:9] == b"{"
    if looks_right and n > MAX_HEADER_BYTES:
        raise CheckpointHeaderError(f"lamina.load: {name}: the header length field says {n} bytes, more than the "
                                    f"{MAX_HEADER_BYTES}-byte limit (corrupt or hostile file)")
    if looks_right:
        raise CheckpointTruncatedError(f"lamina.load: {name}: the header length field says {n} bytes but only "
                                       f"{size - 8} follow it (truncated file)")
    if 8 + n <= size:
        raise CheckpointHeaderError(f"lamina.load: {name}: the header must be a JSON object starting with '{{', "
                                    f"but it starts with {head[8:9]!r}")
    raise CheckpointFormatError(f"lamina.load: {name} is not a lamina/safetensors checkpoint (or is corrupt): it "
                                "should start with an 8-byte little-endian header length followed by a JSON object "
                                f"'{{...', but its first bytes are {_sniff.hexdump(head)}")


def _structure_tree(metadata: dict, entries: list) -> Any:
    """The decoded-but-not-materialised structure, validated against the header's tensor names."""
    version = metadata.get(_VERSION_KEY)
    if version is not None and version != _structure.FORMAT_VERSION:
        raise _format.HeaderProblem(f"written with lamina checkpoint format {version!r}; this lamina reads "
                                    f"format {_structure.FORMAT_VERSION!r} (upgrade lamina)")
    if _STRUCTURE_KEY not in metadata:
        return _NO_STRUCTURE
    tree = _format.parse_json(metadata[_STRUCTURE_KEY], f"__metadata__[{_STRUCTURE_KEY!r}]")
    names = {e[0] for e in entries}
    kinds = {e[0]: (e[1], list(e[2])) for e in entries}
    used: set[str] = set()

    def check(tname: str, node: dict) -> None:
        if tname not in names:
            raise _structure.StructureError(f"references tensor {tname!r}, which is not in the header")
        if not all(isinstance(node.get(k, False), bool) for k in ("param", "requires_grad", "complex")):
            raise _structure.StructureError(f"tensor reference {tname!r}: 'param'/'requires_grad'/'complex' must be "
                                            "booleans")
        if node.get("complex") and not (kinds[tname][0] == "F64" and kinds[tname][1][-1:] == [2]):
            raise _structure.StructureError(f"tensor reference {tname!r}: marked complex, so expected an F64 tensor "
                                            f"of shape (*, 2), got {kinds[tname][0]} {kinds[tname][1]}")
        try:
            _device(node.get("device", "cpu"))
        except (TypeError, ValueError) as e:
            raise _structure.StructureError(f"tensor reference {tname!r}: bad device ({e})") from None
        used.add(tname)

    try:
        _structure.decode(tree, check)
    except _structure.StructureError as e:
        raise _format.HeaderProblem(f"{_STRUCTURE_KEY}: {e}") from None
    except RecursionError:
        raise _format.HeaderProblem(f"{_STRUCTURE_KEY} is nested too deeply") from None
    unused = sorted(names - used)
    if unused:
        raise _format.HeaderProblem(f"{_STRUCTURE_KEY} does not reference tensor(s) {unused[:5]} of the header")
    return tree


def _pairs(a: np.ndarray) -> np.ndarray:
    """complex128 as float64 (*, 2) real pairs (what safetensors can hold); other arrays as they are."""
    return np.ascontiguousarray(a).view(np.float64).reshape(a.shape + (2,)) if a.dtype == np.complex128 else a


def _to_tensor(a: np.ndarray, node: dict) -> Tensor:
    cpu = _device("cpu")
    if node.get("complex"):
        a = np.ascontiguousarray(a).view(np.complex128)[..., 0]
    t = Tensor._make(cpu.backend.from_host(a, cpu.index), cpu)
    if node.get("param"):
        from ..nn.parameter import Parameter

        return Parameter(t, requires_grad=bool(node.get("requires_grad")))
    if node.get("requires_grad") and a.dtype.kind in "fc":
        t.requires_grad_(True)
    return t


# --- map_location -------------------------------------------------------------------------------
def _placer(map_location: MapLocation) -> Callable[[Tensor, str], Tensor]:
    """``place(cpu_tensor, saved_location)``: the tensor on the device ``map_location`` asks for."""
    if map_location is None:
        return lambda t, loc: t
    if isinstance(map_location, (str, _device)):
        target = _device(map_location)
        return lambda t, loc: _move(t, target)
    if isinstance(map_location, dict):
        table = {str(_device(k)): _device(v) for k, v in map_location.items()}
        return lambda t, loc: _move(t, table.get(str(_device(loc)), _device(loc)))
    if callable(map_location):
        def place(t: Tensor, loc: str) -> Tensor:
            r = map_location(t, loc)
            if r is None or r is t:
                return t
            if not isinstance(r, Tensor):
                raise TypeError(f"lamina.load: map_location callable must return a Tensor or None, "
                                f"got {type(r).__name__}")
            t._data, t._device = r._data, r._device  # keep the rebuilt type (Parameter) and flags
            return t
        return place
    raise TypeError("lamina.load: map_location must be None, a device string, a lamina.device, a dict "
                    f"{{saved: target}} or a callable, got {type(map_location).__name__}")


def _move(t: Tensor, d: _device) -> Tensor:
    if d is not t._device:
        # the tensor was just created by load: relocating it in place keeps its type and flags
        t._data, t._device = d.backend.from_host(t._data, d.index), d
    return t


# --- helpers ------------------------------------------------------------------------------------
def _check_pickle_module(module: Any, op: str) -> None:
    if module is not _stdlib_pickle:
        raise ValueError(f"lamina.{op}: pickle_module must be the standard library's pickle module, got "
                         f"{getattr(module, '__name__', module)!r}")


def _warn_unpickling(name: str) -> None:
    warnings.warn(f"lamina.load: unpickling {name} because weights_only=False; this executes code from the file "
                  "and can run anything. Only do this for files you trust.", PickleWarning, stacklevel=4)


def _is_path(f: Any) -> bool:
    return isinstance(f, (str, bytes, os.PathLike))


def _check_binary(f: Any, op: str, method: str) -> None:
    if not hasattr(f, method):
        raise TypeError(f"lamina.{op}: expected a path or a binary file object with .{method}(), "
                        f"got {type(f).__name__}")
    if isinstance(f, io.TextIOBase):
        raise TypeError(f"lamina.{op}: the file object is opened in text mode; open it in binary mode ('rb'/'wb')")
