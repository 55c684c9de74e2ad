"""lamina.save / lamina.load with paths, file objects and streams, refused objects, and map_location."""

from __future__ import annotations

import io
import json
import pathlib

import lamina
import numpy as np
import pytest
from lamina import nn
from test_serialization import Net, _roundtrip, assert_same


# --- files ----------------------------------------------------------------------------------------
def test_paths_str_pathlib_and_file_objects(tmp_path):
    obj = {"w": lamina.randn(3, 2), "e": 1}
    p = tmp_path / "a.safetensors"
    lamina.save(obj, str(p))
    assert_same(obj, lamina.load(p))
    lamina.save(obj, p)
    assert_same(obj, lamina.load(str(p)))
    with open(p, "wb") as fh:
        lamina.save(obj, fh)
    with open(p, "rb") as fh:
        assert_same(obj, lamina.load(fh))


def test_file_object_at_an_offset_and_consecutive_checkpoints():
    buf = io.BytesIO()
    buf.write(b"preamble")
    lamina.save({"a": lamina.ones(2)}, buf)
    lamina.save({"b": lamina.zeros(3)}, buf)
    whole = buf.getvalue()
    first = len(whole) - len(_bytes({"b": lamina.zeros(3)}))
    assert_same({"a": lamina.ones(2)}, lamina.load(io.BytesIO(whole[8:first])))
    f = io.BytesIO(whole[:first])
    f.seek(8)
    assert_same({"a": lamina.ones(2)}, lamina.load(f))


def _bytes(obj) -> bytes:
    buf = io.BytesIO()
    lamina.save(obj, buf)
    return buf.getvalue()


class _Stream(io.RawIOBase):
    """A non-seekable binary stream."""

    def __init__(self, data):
        self._src = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, b):
        return self._src.readinto(b)


def test_non_seekable_stream():
    obj = {"w": lamina.randn(4), "n": [1, 2]}
    assert_same(obj, lamina.load(_Stream(_bytes(obj))))


@pytest.mark.parametrize("bad, match", [
    (lambda tmp: io.StringIO(), "text mode"),
    (lambda tmp: 42, "expected a path or a binary file object"),
])
def test_bad_file_arguments(bad, match, tmp_path):
    with pytest.raises(TypeError, match=match):
        lamina.save({"a": 1}, bad(tmp_path))
    with pytest.raises(TypeError, match=match):
        lamina.load(bad(tmp_path))


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        lamina.load(tmp_path / "nope.safetensors")


@pytest.mark.parametrize("make, refused", [
    (lambda: Net(), r"global [\w.]*\bNet, which"), (lambda: {"a": np.zeros(3)}, "numpy"),
    (lambda: {"a": {1, 2}}, None), (lambda: {"a": [object()]}, None), (lambda: {frozenset([1]): 1}, None),
    (lambda: {("a", lamina.ones(1)): 1}, None),
], ids=["module", "ndarray", "set", "object", "frozenset-key", "tensor-key"])
def test_objects_beyond_the_safe_format_go_to_the_pickle_container(make, refused):
    buf = io.BytesIO()
    lamina.save(make(), buf)
    assert not buf.getvalue()[8:9] == b"{"  # not safetensors
    buf.seek(0)
    if refused:  # weights_only=True (the default) names the global it will not build
        with pytest.raises(lamina.serialization.WeightsOnlyError, match=refused):
            lamina.load(buf)
    else:
        assert type(lamina.load(buf)) is dict


def test_cycles_round_trip_through_the_pickle_container():
    a: list = [1]
    a.append(a)
    buf = io.BytesIO()
    lamina.save(a, buf)
    buf.seek(0)
    out = lamina.load(buf)
    assert out[0] == 1 and out[1] is out


# --- map_location ---------------------------------------------------------------------------------
def _saved_on(location: str) -> bytes:
    """A checkpoint whose structure records a tensor saved on ``location`` (no GPU needed to write it)."""
    raw = _bytes({"w": lamina.arange(3.0)})
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    header["__metadata__"]["lamina.structure"] = json.dumps(
        {"dict": [["w", {"tensor": "w", "device": location}]]})
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + raw[8 + n:]


@pytest.mark.parametrize("map_location", [None, "cpu", lamina.device("cpu"), {"cuda:0": "cpu"},
                                          {lamina.device("cuda", 0): lamina.device("cpu")}],
                         ids=["none", "str", "device", "dict", "dict-devices"])
def test_map_location_loads_cuda_checkpoints_on_cpu(map_location):
    out = lamina.load(io.BytesIO(_saved_on("cuda:0")), map_location=map_location)
    assert out["w"].device == lamina.device("cpu") and out["w"].tolist() == [0.0, 1.0, 2.0]


def test_map_location_callable_sees_the_saved_location():
    seen = []

    def fn(t, loc):
        seen.append((loc, t.device.type, t.tolist()))
        return None

    out = lamina.load(io.BytesIO(_saved_on("cuda:1")), map_location=fn)
    assert seen == [("cuda:1", "cpu", [0.0, 1.0, 2.0])] and out["w"].device.type == "cpu"
    doubled = lamina.load(io.BytesIO(_saved_on("cpu")), map_location=lambda t, loc: t * 2)
    assert doubled["w"].tolist() == [0.0, 2.0, 4.0]
    with pytest.raises(TypeError, match="must return a Tensor or None"):
        lamina.load(io.BytesIO(_saved_on("cpu")), map_location=lambda t, loc: "cpu")


def test_map_location_rejects_other_types():
    with pytest.raises(TypeError, match="map_location must be"):
        lamina.load(io.BytesIO(_bytes({})), map_location=3.5)


def test_map_location_dict_keeps_unlisted_locations():
    out = lamina.load(io.BytesIO(_saved_on("cpu")), map_location={"cuda:0": "cpu"})
    assert out["w"].device.type == "cpu"


def _cuda_available() -> bool:
    from lamina.backends import backend_available

    return backend_available("cuda")[0]


@pytest.mark.gpu
@pytest.mark.skipif(not _cuda_available(), reason="needs a CUDA backend and device")
def test_map_location_moves_to_cuda_and_back():
    sd = {"w": lamina.randn(3, 2), "p": nn.Parameter(lamina.randn(2))}
    out = _roundtrip(sd, map_location="cuda")
    assert all(t.device.type == "cuda" for t in out.values()) and type(out["p"]) is nn.Parameter
    np.testing.assert_array_equal(np.asarray(out["w"].cpu()), np.asarray(sd["w"]))
    back = _roundtrip(out)  # saved from cuda, default loads on cpu
    assert back["w"].device.type == "cpu"
    again = _roundtrip(out, map_location={"cuda:0": "cuda:0"})
    assert again["w"].device.type == "cuda"


def test_lazy_top_level_names():
    assert lamina.save is lamina.serialization.save and lamina.load is lamina.serialization.load
    assert issubclass(lamina.serialization.PickleWarning, UserWarning)
    assert pathlib.Path(lamina.serialization.__file__).parent.name == "serialization"


@pytest.mark.skipif(_cuda_available(), reason="checks the error on a machine without CUDA")
def test_unmapped_cuda_location_without_cuda_raises_backend_unavailable():
    with pytest.raises(lamina.BackendUnavailableError, match="cuda"):
        lamina.load(io.BytesIO(_saved_on("cuda:0")), map_location={"cuda:1": "cpu"})
    with pytest.raises(lamina.BackendUnavailableError):
        lamina.load(io.BytesIO(_saved_on("cpu")), map_location="cuda")
