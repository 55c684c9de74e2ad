"""Faults lamina.load must survive: truncation, hostile headers, foreign formats, crashes mid-save.

Every bad file raises lamina.CheckpointError (a documented subclass), never another exception
type, never allocates what the header merely claims, never unpickles.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import tracemalloc
import zipfile

import lamina
import numpy as np
import pytest
from lamina.errors import CheckpointFormatError, CheckpointHeaderError, CheckpointTruncatedError
from lamina.serialization import _format

T = CheckpointTruncatedError
H = CheckpointHeaderError
F = CheckpointFormatError


def _small_checkpoint() -> bytes:
    buf = io.BytesIO()
    lamina.save({"w": lamina.arange(6, dtype=lamina.float32).reshape(2, 3), "step": 3,
                 "b": lamina.tensor([True, False]), "h": lamina.zeros(2, dtype=lamina.float16)}, buf)
    return buf.getvalue()


def _file(header, data: bytes = b"", length: int | None = None, pad: bool = True) -> bytes:
    """A checkpoint from a header (object -> JSON, or raw bytes) and a data buffer."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    if pad:
        raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw) if length is None else length) + raw + data


def _load_bytes(data: bytes):
    return lamina.load(io.BytesIO(data))


# --- truncation -----------------------------------------------------------------------------------
def test_truncated_at_every_byte_offset_raises_checkpoint_error():
    data = _small_checkpoint()
    assert _load_bytes(data)["step"] == 3
    n = int.from_bytes(data[:8], "little")
    for k in range(len(data)):
        with pytest.raises(lamina.CheckpointError) as info:
            _load_bytes(data[:k])
        if k < 8 + n:  # inside the length field or the header: always reported as truncation
            assert isinstance(info.value, T), (k, info.value)
        assert "<BytesIO>" in str(info.value)


def test_truncated_file_on_disk_names_the_path(tmp_path):
    data = _small_checkpoint()
    path = tmp_path / "cut.safetensors"
    for k in (0, 5, 8, 40, len(data) - 1):
        path.write_bytes(data[:k])
        with pytest.raises(T, match=r"cut\.safetensors"):
            lamina.load(path)


def test_trailing_garbage_is_a_size_mismatch():
    with pytest.raises(H, match="size mismatch"):
        _load_bytes(_small_checkpoint() + b"\0")


# --- hostile headers ------------------------------------------------------------------------------
_F32_2 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
HOSTILE = [
    # (id, file bytes, error type, message regex)
    ("huge-length", _file({"a": _F32_2}, bytes(8), length=2**62), H, r"header length field says \d+ bytes, more than"),
    ("length-past-eof", _file({"a": _F32_2}, bytes(8), length=4096), T, r"only \d+ follow it"),
    ("zero-length", _file(b"", pad=False) + bytes(8), H, r"header length field is 0"),
    ("bad-json", _file(b"{\"a\": ", bytes(8)), H, r"not valid JSON"),
    ("not-utf8", _file(b"{\"\xff\xfe\": 1}", b""), H, r"not valid UTF-8"),
    ("truncated-json", b"\x08" + bytes(7) + b"{" + b"       ", H, r"not valid JSON"),
    ("array-top", _file(b"[1, 2]"), H, r"must be a JSON object starting with '\{', but it starts with b'\['"),
    ("string-top", _file(b'"abc"'), H, r"must be a JSON object"),
    ("leading-space", _file(b' {"a": 1}'), H, r"must be a JSON object"),
    ("duplicate-key", _file(b'{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, '
                            b'"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}', bytes(8)),
     H, r"duplicate key 'a'"),
    ("duplicate-inner-key", _file(b'{"a": {"dtype": "F32", "dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}',
                                  bytes(8)), H, r"duplicate key 'dtype'"),
    ("nan-constant", _file(b'{"a": {"dtype": "F32", "shape": [NaN], "data_offsets": [0, 8]}}', bytes(8)),
     H, r"NaN"),
    ("unknown-dtype", _file({"a": {"dtype": "Q7", "shape": [2], "data_offsets": [0, 8]}}, bytes(8)),
     H, r"'a': unknown dtype 'Q7'; expected one of F16"),
    ("dtype-not-str", _file({"a": {"dtype": 4, "shape": [2], "data_offsets": [0, 8]}}, bytes(8)),
     H, r"unknown dtype 4"),
    ("unsupported-dtype", _file({"a": {"dtype": "U32", "shape": [2], "data_offsets": [0, 8]}}, bytes(8)),
     H, r"dtype U32 is a safetensors dtype that lamina does not support"),
    ("negative-shape", _file({"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, bytes(8)),
     H, r"shape must be a list of integers"),
    ("float-shape", _file({"a": {"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]}}, bytes(8)),
     H, r"shape must be a list of integers"),
    ("bool-shape", _file({"a": {"dtype": "F32", "shape": [True, 2], "data_offsets": [0, 8]}}, bytes(8)),
     H, r"shape must be a list of integers"),
    ("shape-not-list", _file({"a": {"dtype": "F32", "shape": 2, "data_offsets": [0, 8]}}, bytes(8)),
     H, r"shape must be a list"),
    ("overflowing-dim", _file({"a": {"dtype": "F32", "shape": [2**64], "data_offsets": [0, 8]}}, bytes(8)),
     H, r"shape must be a list of integers in \[0, 2\*\*63\)"),
    ("overflowing-product", _file({"a": {"dtype": "F32", "shape": [2**62, 2**62], "data_offsets": [0, 8]}},
                                  bytes(8)), H, r"needs \d+"),
    ("too-many-dims", _file({"a": {"dtype": "F32", "shape": [1] * 65, "data_offsets": [0, 4]}}, bytes(4)),
     H, r"65 dimensions"),
    ("huge-int-literal", _file(b'{"a": {"dtype": "F32", "shape": [' + b"9" * 5000 + b'], "data_offsets": [0, 8]}}',
                               bytes(8)), H, r"not valid JSON"),
    ("deep-nesting", _file(b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"), H, r"nested too deeply|shape|expected"),
    ("missing-field", _file({"a": {"dtype": "F32", "shape": [2]}}, bytes(8)), H, r"expected an object with keys"),
    ("extra-field", _file({"a": {**_F32_2, "x": 1}}, bytes(8)), H, r"expected an object with keys"),
    ("entry-not-object", _file({"a": [1, 2]}, bytes(8)), H, r"expected an object with keys"),
    ("offsets-reversed", _file({"a": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}}, bytes(8)),
     H, r"0 <= begin <= end"),
    ("offsets-negative", _file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}}, bytes(8)),
     H, r"0 <= begin <= end"),
    ("offsets-three", _file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8, 9]}}, bytes(8)),
     H, r"data_offsets must be"),
    ("offsets-float", _file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8.0]}}, bytes(8)),
     H, r"data_offsets must be"),
    ("size-inconsistent", _file({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, bytes(8)),
     H, r"span 8 bytes, but F32 with shape \[3\] needs 12"),
    ("overlap", _file({"a": _F32_2, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, bytes(12)),
     H, r"overlap"),
    ("same-range", _file({"a": _F32_2, "b": _F32_2}, bytes(8)), H, r"overlap"),
    ("gap", _file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, bytes(12)), H, r"gap"),
    ("gap-between", _file({"a": _F32_2, "b": {"dtype": "F32", "shape": [1], "data_offsets": [12, 16]}}, bytes(16)),
     H, r"gap after byte 8"),
    ("out-of-file", _file({"a": {"dtype": "F32", "shape": [2**20], "data_offsets": [0, 2**22]}}, bytes(8)),
     T, r"describes 4194304 bytes of tensor data but the file holds only 8"),
    ("buffer-larger", _file({"a": _F32_2}, bytes(12)), H, r"holds 12 bytes .* account for 8 \(size mismatch\)"),
    ("metadata-not-object", _file({"__metadata__": ["x"], "a": _F32_2}, bytes(8)), H, r"__metadata__ must be"),
    ("metadata-int-value", _file({"__metadata__": {"k": 1}, "a": _F32_2}, bytes(8)), H, r"__metadata__ must be"),
    ("metadata-null", _file({"__metadata__": None, "a": _F32_2}, bytes(8)), H, r"__metadata__ must be"),
    ("structure-missing-tensor", _file({"__metadata__": {"lamina.structure": '{"dict": [["w", {"tensor": "zz"}]]}'},
                                        "a": _F32_2}, bytes(8)), H, r"references tensor 'zz', which is not"),
    ("structure-unreferenced", _file({"__metadata__": {"lamina.structure": '{"list": []}'}, "a": _F32_2}, bytes(8)),
     H, r"does not reference tensor\(s\) \['a'\]"),
    ("structure-bad-json", _file({"__metadata__": {"lamina.structure": '{"list": ['}, "a": _F32_2}, bytes(8)),
     H, r"lamina.structure.*not valid JSON"),
    ("structure-unknown-tag", _file({"__metadata__": {"lamina.structure": '{"set": []}'}}), H, r"unknown tag 'set'"),
    ("structure-bare-list", _file({"__metadata__": {"lamina.structure": '[1]'}}), H, r"bare JSON list"),
    ("structure-two-tags", _file({"__metadata__": {"lamina.structure": '{"list": [], "tuple": []}'}}),
     H, r"expected one tag"),
    ("structure-bad-float", _file({"__metadata__": {"lamina.structure": '{"float": "big"}'}}), H, r"float tag"),
    ("structure-dup-dict-key", _file({"__metadata__": {"lamina.structure": '{"dict": [[1, 2], [1, 3]]}'}}),
     H, r"duplicate key 1"),
    ("structure-list-key", _file({"__metadata__": {"lamina.structure": '{"dict": [[{"list": []}, 2]]}'}}),
     H, r"keys are scalars"),
    ("structure-bad-pair", _file({"__metadata__": {"lamina.structure": '{"dict": [[1, 2, 3]]}'}}),
     H, r"not a \[key, value\] pair"),
    ("structure-bad-ref-opts", _file({"__metadata__": {"lamina.structure": '{"tensor": "a", "param": 1}'},
                                      "a": _F32_2}, bytes(8)), H, r"must be booleans"),
    ("structure-bad-ref-key", _file({"__metadata__": {"lamina.structure": '{"tensor": "a", "evil": 1}'},
                                     "a": _F32_2}, bytes(8)), H, r"malformed tensor reference"),
    ("structure-bad-device", _file({"__metadata__": {"lamina.structure": '{"tensor": "a", "device": "cu da"}'},
                                    "a": _F32_2}, bytes(8)), H, r"bad device"),
    ("structure-bad-dtype", _file({"__metadata__": {"lamina.structure": '{"dtype": "float128"}'}}),
     H, r"unknown lamina dtype"),
    ("structure-deep", _file({"__metadata__": {"lamina.structure": '{"list": [' * 5000 + ']}' * 5000}}),
     H, r"nested too deeply"),
    ("newer-format", _file({"__metadata__": {"lamina.format": "2", "lamina.structure": "null"}}),
     H, r"format '2'; this lamina reads format '1'"),
]


@pytest.mark.parametrize("data, error, match", [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_header_is_rejected(data, error, match, tmp_path):
    with pytest.raises(error, match=match) as info:
        _load_bytes(data)
    assert "lamina.load: " in str(info.value)
    path = tmp_path / "hostile.safetensors"
    path.write_bytes(data)
    with pytest.raises(error, match=r"hostile\.safetensors"):
        lamina.load(path)


def test_hostile_headers_are_checked_before_any_tensor_is_read(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("a tensor was read before the header was validated")

    monkeypatch.setattr(_format, "read_array", boom)
    for _, data, error, _match in HOSTILE:
        with pytest.raises(error):
            _load_bytes(data)


@pytest.mark.parametrize("length", [2**40, 2**63, 2**64 - 1, 100_000_001])
def test_small_file_claiming_terabytes_stays_small_in_memory(length):
    claims = [
        _file({"a": _F32_2}, bytes(8), length=length),
        # a valid-looking header whose single tensor claims 4 TiB
        _file({"a": {"dtype": "F32", "shape": [2**20, 2**20], "data_offsets": [0, 2**42]}}, bytes(16)),
    ]
    for data in claims:
        data = (data + bytes(128))[:128] if len(data) < 128 else data
        tracemalloc.start()
        try:
            with pytest.raises(lamina.CheckpointError):
                _load_bytes(data)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 256 * 1024, peak


# --- other formats --------------------------------------------------------------------------------
def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"a": 1}))
    return buf.getvalue()


def _npy_bytes() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.arange(4))
    return buf.getvalue()


FOREIGN = [
    ("pickle-p2", pickle.dumps({"a": [1, 2]}, protocol=2), r"Python pickle \(protocol 2\).*weights_only=False"),
    ("pickle-p4", pickle.dumps({"a": [1, 2]}, protocol=4), r"Python pickle \(protocol 4\)"),
    ("pickle-p5", pickle.dumps(list(range(100)), protocol=5), r"Python pickle \(protocol 5\)"),
    ("zip", _zip_bytes(), r"zip archive, as written by torch.save.*never unpickles.*safetensors.torch.save_file"),
    ("npy", _npy_bytes(), r"NumPy \.npy file.*numpy.load"),
    ("gzip", b"\x1f\x8b\x08\x00" + bytes(40), r"gzip"),
    ("hdf5", b"\x89HDF\r\n\x1a\n" + bytes(40), r"HDF5"),
    ("json", b'{"weights": [1, 2, 3]}', r"JSON or text file"),
]


@pytest.mark.parametrize("data, match", [f[1:] for f in FOREIGN], ids=[f[0] for f in FOREIGN])
def test_foreign_format_is_named_with_a_hint(data, match, tmp_path):
    path = tmp_path / "foreign.bin"
    path.write_bytes(data)
    with pytest.raises(F, match=match) as info:
        lamina.load(path)
    assert "foreign.bin" in str(info.value)


def test_pickle_is_never_unpickled_by_default(tmp_path, monkeypatch):
    def trap(*a, **k):
        raise AssertionError("lamina.load unpickled a file")

    monkeypatch.setattr(pickle, "load", trap)
    monkeypatch.setattr(pickle, "loads", trap)
    monkeypatch.setattr(pickle, "Unpickler", trap)
    for data in (pickle.dumps({"a": 1}), pickle.dumps([os.getcwd], protocol=4)):
        with pytest.raises(F, match="weights_only=False"):
            _load_bytes(data)


@pytest.mark.parametrize("size", [0, 1, 7, 8, 9, 16, 64, 1000, 100_000])
def test_random_bytes_raise_checkpoint_error(size):
    rng = np.random.default_rng(size)
    for _ in range(20):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        with pytest.raises(lamina.CheckpointError):
            _load_bytes(data)


def test_random_bytes_message_shows_first_bytes():
    data = bytes(range(200, 232)) * 3
    with pytest.raises(F, match=r"not a lamina/safetensors checkpoint.*first bytes are c8 c9 ca"):
        _load_bytes(data)


def test_empty_file_is_truncated(tmp_path):
    path = tmp_path / "empty.safetensors"
    path.write_bytes(b"")
    with pytest.raises(T, match=r"empty\.safetensors' holds only 0 bytes"):
        lamina.load(path)


def test_file_shrinking_while_loading_is_truncated(monkeypatch):
    data = _small_checkpoint()
    real = _format.read_array

    def shrink(f, code, shape, nbytes):
        f.truncate(f.tell())
        return real(f, code, shape, nbytes)

    monkeypatch.setattr(_format, "read_array", shrink)
    with pytest.raises(T, match="file ended after 0 of the"):
        _load_bytes(data)


# --- crash during save ----------------------------------------------------------------------------
@pytest.mark.parametrize("exc", [RuntimeError("disk on fire"), KeyboardInterrupt()], ids=["error", "interrupt"])
@pytest.mark.parametrize("existing", [True, False], ids=["replace", "new"])
def test_crash_mid_save_leaves_previous_file_and_no_temp(tmp_path, monkeypatch, exc, existing):
    path = tmp_path / "model.safetensors"
    old = {"w": lamina.ones(4)}
    if existing:
        lamina.save(old, path)
    before = path.read_bytes() if existing else None

    def crash(f, arrays):
        f.write(arrays[0].tobytes()[:3])
        f.flush()
        raise exc

    monkeypatch.setattr(_format, "write_arrays", crash)
    with pytest.raises(type(exc)):
        lamina.save({"w": lamina.zeros(1000), "v": lamina.zeros(3)}, path)
    assert sorted(os.listdir(tmp_path)) == (["model.safetensors"] if existing else [])
    if existing:
        assert path.read_bytes() == before
        monkeypatch.undo()
        assert lamina.load(path)["w"].tolist() == [1.0] * 4


def test_unsavable_object_leaves_previous_file(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    lamina.save({"epoch": 1}, path)
    before = path.read_bytes()
    with pytest.raises((pickle.PicklingError, AttributeError)):  # as torch.save: a lambda cannot be pickled
        lamina.save({"epoch": 2, "bad": lambda: 2}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_save_keeps_the_existing_file_mode(tmp_path):
    path = tmp_path / "m.safetensors"
    lamina.save({"a": 1}, path)
    os.chmod(path, 0o640)
    lamina.save({"a": 2}, path)
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert lamina.load(path) == {"a": 2}


def test_save_through_a_symlink_replaces_the_target(tmp_path):
    real = tmp_path / "real.safetensors"
    link = tmp_path / "link.safetensors"
    lamina.save({"v": 1}, real)
    link.symlink_to(real)
    lamina.save({"v": 2}, link)
    assert link.is_symlink() and lamina.load(real) == {"v": 2}


@pytest.mark.parametrize("n", [0x0280, 0x0380, 0x010480], ids=hex)
def test_header_length_that_looks_like_pickle_magic_is_still_safetensors(n):
    base = {"a": _F32_2, "__metadata__": {"pad": ""}}
    pad = n - len(json.dumps(base).encode())
    raw = json.dumps({"a": _F32_2, "__metadata__": {"pad": "x" * pad}}).encode()
    data = _file(raw, np.arange(2, dtype="<f4").tobytes())
    assert data[0] == 0x80 and 2 <= data[1] <= 5
    assert _load_bytes(data)["a"].tolist() == [0.0, 1.0]
    for k in (9, 100, n, n + 9):
        with pytest.raises(T):
            _load_bytes(data[:k])
