"""Whole-object lamina.save / lamina.load: the pickle container and torch 2.13's weights_only rule.

Objects the safetensors format cannot hold exactly go to a container (a pickle with tensors as raw
bytes beside it). ``weights_only=True`` (the default) builds only allow-listed globals; the tests
below check that disallowed globals are named, that nothing they name runs or is imported, and
that torch makes the same calls (what loads, what raises an UnpicklingError).
"""

from __future__ import annotations

import io
import os
import pickle
import sys
from collections import Counter, OrderedDict

import lamina
import numpy as np
import pytest
from lamina import nn
from lamina.errors import CheckpointError, CheckpointTruncatedError
from lamina.serialization import PickleWarning, WeightsOnlyError

torch = pytest.importorskip("torch")
ser = lamina.serialization
MAGIC = b"\x89LAMINA\x01"
SIDE_EFFECTS: list = []


@pytest.fixture(autouse=True)
def _fresh_safe_globals():
    ser.clear_safe_globals()
    torch.serialization.clear_safe_globals()
    SIDE_EFFECTS.clear()
    yield
    ser.clear_safe_globals()
    torch.serialization.clear_safe_globals()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.scale = nn.Parameter(lamina.tensor(2.0))
        self.register_buffer("count", lamina.tensor(4))
        self.register_buffer("scratch", lamina.zeros(2), persistent=False)
        self.tag = "net"

    def forward(self, x):
        return self.fc(x) * self.scale


class Point:
    def __init__(self, x):
        self.x = x


class MyTensor(lamina.Tensor):
    pass


def _record(*args):
    SIDE_EFFECTS.append(args)
    return args


class CallsRecord:
    def __reduce__(self):
        return (_record, ("ran",))


class CallsSystem:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _saved(obj, **kw) -> bytes:
    buf = io.BytesIO()
    lamina.save(obj, buf, **kw)
    return buf.getvalue()


def _load_unsafe(data: bytes, **kw):
    with pytest.warns(PickleWarning, match="weights_only=False.*executes code"):
        return lamina.load(io.BytesIO(data), weights_only=False, **kw)


def _torch_saved(obj) -> io.BytesIO:
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return buf


def _pickle_bytes(data: bytes) -> bytes:
    n = int.from_bytes(data[8:16], "little")
    size = int(__import__("json").loads(data[16:16 + n])["pickle"])
    return data[16 + n:16 + n + size]


def _with_pickle(pickled: bytes) -> bytes:
    """A container whose pickle is ``pickled`` (no tensors): how a hostile file would be built."""
    import json

    table = json.dumps({"format": "lamina.pickle", "version": 1, "byteorder": sys.byteorder,
                        "pickle": len(pickled), "tensors": []}).encode()
    table += b" " * (-len(table) % 8)
    return MAGIC + len(table).to_bytes(8, "little") + table + pickled


# --- what goes where --------------------------------------------------------------------------------
def test_state_dicts_stay_safetensors_and_whole_objects_use_the_container():
    lamina.manual_seed(0)
    model = Net()
    opt = lamina.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(lamina.randn(4, 3)).sum().backward()
    opt.step()
    for state in (model.state_dict(), opt.state_dict(), {"model": model.state_dict(), "epoch": 3}):
        assert not _saved(state).startswith(MAGIC)
    for whole in (model, opt, lamina.Size([2, 3]), {"a": {1, 2}}, [Point(1)]):
        assert _saved(whole).startswith(MAGIC)


def test_tensors_are_raw_bytes_not_pickled_numpy():
    data = _saved({"w": lamina.arange(6.0), "s": lamina.Size([1]), "big": lamina.ones(1000)})
    pickled = _pickle_bytes(data)
    assert b"numpy" not in pickled and len(pickled) < 400  # 8000 bytes of "big" are not in the pickle
    assert ser.get_unsafe_globals_in_checkpoint(io.BytesIO(data)) == []


# --- round trips with weights_only=True (the default) --------------------------------------------------
def test_mixed_python_values_load_with_weights_only_true_like_torch():
    def build(lib):
        return {"size": lib.Size([2, 3]), "dtype": lib.float64, "device": lib.device("cpu"),
                "od": OrderedDict([("b", 1), ("a", [1.5, None, "x"])]), "tuple": (1, (2, 3)), "c": 1 + 2j,
                "bytes": b"\x00\xff", "set": {1, 2}, "counter": Counter("aab"), "nan": float("nan"),
                "t": lib.tensor([[1.0, 2.0]]), "bool": True, "none": None, "layout": lib.strided}

    out = lamina.load(io.BytesIO(_saved(build(lamina))))
    expected = torch.load(_torch_saved(build(torch)))  # torch too accepts all of it with weights_only=True
    assert list(out) == list(expected)
    # a superset of torch's defaults (torch 2.13 refuses these harmless builtins)
    extra = {"empty_bytes": b"", "fs": frozenset({"a"}), "slice": slice(1, None, 2), "range": range(3)}
    assert lamina.load(io.BytesIO(_saved(extra))) == extra
    assert type(out["size"]) is lamina.Size and out["size"] == (2, 3)
    assert out["dtype"] is lamina.float64 and out["device"] == lamina.device("cpu") and out["layout"] is lamina.strided
    assert type(out["od"]) is OrderedDict and out["od"] == expected["od"] and list(out["od"]) == ["b", "a"]
    for k in ("tuple", "c", "bytes", "set", "counter", "bool", "none"):
        assert out[k] == expected[k] and type(out[k]) is type(expected[k]), k
    assert out["nan"] != out["nan"] and out["t"].tolist() == expected["t"].tolist()


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_every_pickle_protocol_round_trips_and_is_used(protocol):
    obj = {"s": lamina.Size([3]), "t": lamina.arange(3), "o": OrderedDict(a=b"x"), "p": nn.Parameter(lamina.ones(2))}
    data = _saved(obj, pickle_protocol=protocol)
    if protocol >= 2:
        assert _pickle_bytes(data)[:2] == bytes([0x80, protocol])
    out = lamina.load(io.BytesIO(data))
    assert out["s"] == (3,) and type(out["s"]) is lamina.Size and out["t"].tolist() == [0, 1, 2]
    assert out["o"] == {"a": b"x"} and type(out["p"]) is nn.Parameter and out["p"].requires_grad


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
                                   "uint8", "bool", "complex64", "complex128"])
def test_tensor_values_dtypes_and_flags_are_bit_exact(dtype):
    rng = np.random.default_rng(0)
    d = getattr(lamina, dtype)
    base = lamina.tensor(rng.normal(size=(3, 4)) * 10).to(d)
    if d.is_floating_point:
        base[0, 0], base[0, 1], base[0, 2] = float("nan"), float("inf"), -float("inf")
    obj = [base, base.t(), base[:, ::2], base[1, 1], base[:0], lamina.Size(base.shape)]
    out = lamina.load(io.BytesIO(_saved(obj)))
    for a, b in zip(obj[:5], out[:5]):
        assert b.dtype is a.dtype and b.shape == a.shape and b.is_contiguous()
        np.testing.assert_array_equal(np.asarray(b.float() if dtype == "bfloat16" else b),
                                      np.asarray(a.float() if dtype == "bfloat16" else a))


def test_parameters_buffers_and_requires_grad_are_kept():
    p = nn.Parameter(lamina.ones(2))
    frozen = nn.Parameter(lamina.ones(2), requires_grad=False)
    leaf = lamina.ones(3, requires_grad=True)
    buf = nn.Buffer(lamina.zeros(1), persistent=False)
    out = lamina.load(io.BytesIO(_saved([p, frozen, leaf, buf, (p, p)])))
    assert type(out[0]) is nn.Parameter and out[0].requires_grad and not out[1].requires_grad
    assert type(out[2]) is lamina.Tensor and out[2].requires_grad and out[2].is_leaf
    assert type(out[3]) is nn.Buffer and out[3].persistent is False
    assert out[4][0] is out[4][1] is out[0]  # one object saved once loads as one object


def test_whole_module_loads_with_safe_globals_and_runs_the_same():
    lamina.manual_seed(0)
    model = Net()
    x = lamina.randn(5, 3)
    data = _saved(model)
    with pytest.raises(WeightsOnlyError, match=r"test_serialization_whole_object\.Net"):
        lamina.load(io.BytesIO(data))
    needed = ser.get_unsafe_globals_in_checkpoint(io.BytesIO(data))
    assert needed == ["test_serialization_whole_object.Net", f"{nn.Linear.__module__}.Linear"]
    with ser.safe_globals([Net, nn.Linear]):
        assert ser.get_safe_globals() == [Net, nn.Linear]
        back = lamina.load(io.BytesIO(data))
    assert ser.get_safe_globals() == []
    with pytest.raises(WeightsOnlyError):
        lamina.load(io.BytesIO(data))  # the context's globals are gone
    assert type(back) is Net and back.tag == "net" and back is not model
    assert [k for k, _ in back.named_buffers()] == ["count", "scratch"]
    assert "scratch" not in back.state_dict()  # non-persistent stays non-persistent
    np.testing.assert_array_equal(np.asarray(back(x).detach()), np.asarray(model(x).detach()))
    ser.add_safe_globals([Net, (nn.Linear, f"{nn.Linear.__module__}.Linear")])
    assert type(lamina.load(io.BytesIO(data))) is Net


def test_whole_module_and_optimizer_load_with_weights_only_false():
    lamina.manual_seed(1)
    model = Net()
    opt = lamina.optim.Adam(model.parameters(), lr=0.01)
    model(lamina.randn(4, 3)).sum().backward()
    opt.step()
    back = _load_unsafe(_saved({"model": model, "opt": opt}))
    m2, o2 = back["model"], back["opt"]
    assert type(o2) is lamina.optim.Adam and o2.param_groups[0]["lr"] == 0.01
    assert o2.param_groups[0]["params"][0] is next(m2.parameters())  # shared objects stay shared
    for sa, sb in zip(opt.state.values(), o2.state.values()):
        assert sorted(sa) == sorted(sb) and np.allclose(np.asarray(sa["exp_avg"]), np.asarray(sb["exp_avg"]))


def test_user_tensor_subclass_needs_allowing():
    t = lamina.ones(2).as_subclass(MyTensor) if hasattr(lamina.Tensor, "as_subclass") else None
    if t is None or type(t) is not MyTensor:
        pytest.skip("as_subclass is not available")
    data = _saved([t])
    with pytest.raises(WeightsOnlyError, match="MyTensor"):
        lamina.load(io.BytesIO(data))
    with ser.safe_globals([MyTensor]):
        out = lamina.load(io.BytesIO(data))
    assert type(out[0]) is MyTensor and out[0].tolist() == [1.0, 1.0]


# --- the weights_only rule --------------------------------------------------------------------------
def test_refusal_names_the_global_the_file_and_both_ways_out(tmp_path):
    path = tmp_path / "points.pt"
    lamina.save({"p": Point(3)}, path)
    with pytest.raises(WeightsOnlyError) as info:
        lamina.load(path)
    msg = str(info.value)
    for part in ("points.pt", "test_serialization_whole_object.Point", "add_safe_globals", "safe_globals",
                 "weights_only=False"):
        assert part in msg, part
    assert isinstance(info.value, pickle.UnpicklingError) and isinstance(info.value, CheckpointError)
    torch.save({"p": Point(3)}, tmp_path / "torch.pt")
    with pytest.raises(pickle.UnpicklingError, match="Point"):  # torch raises the same kind of error
        torch.load(tmp_path / "torch.pt")
    assert _load_unsafe(path.read_bytes())["p"].x == 3


def test_disallowed_reduce_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    for obj, name in ((CallsSystem(marker), f"{os.system.__module__}.system"),
                      (CallsRecord(), "test_serialization_whole_object._record")):
        data = _saved({"x": obj})
        with pytest.raises(WeightsOnlyError, match=name.replace(".", r"\.")):
            lamina.load(io.BytesIO(data))
        with pytest.raises(pickle.UnpicklingError):
            torch.load(_torch_saved({"x": obj}))
    assert not marker.exists() and SIDE_EFFECTS == []
    _load_unsafe(_saved({"x": CallsRecord()}))  # the same file does run its code when the caller opts in
    assert SIDE_EFFECTS == [("ran",)]


def test_no_module_is_imported_for_a_disallowed_global(tmp_path, monkeypatch):
    (tmp_path / "lamina_test_import_probe.py").write_text("import sys\nsys.modules['__probe_ran__'] = True\n"
                                                          "def f():\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    data = _with_pickle(b"clamina_test_import_probe\nf\n)R.")
    with pytest.raises(WeightsOnlyError, match=r"lamina_test_import_probe\.f"):
        lamina.load(io.BytesIO(data))
    assert "lamina_test_import_probe" not in sys.modules and "__probe_ran__" not in sys.modules


@pytest.mark.parametrize("pickled, match", [
    (b"cbuiltins\neval\n(V1\ntR.", r"builtins\.eval"),
    (b"c__builtin__\ngetattr\n(c__builtin__\nobject\nV__class__\ntR.", r"builtins\.getattr"),
    (b"\x80\x02clamina._tensor.base\nSize\n}(V__repr__\nclamina._base.dtype\n_by_name\nu\x86b.", "sets the state"),
    (b"\x80\x02cbuiltins\nint\n(V12\ntR", "EOFError"),
    (b"\x80\x02clamina._base.dtype\n_by_name\n(Vnope\ntR.", "KeyError"),
], ids=["eval", "getattr-py2-name", "build-on-a-class", "truncated", "bad-call"])
def test_crafted_pickles_are_refused(pickled, match):
    before = lamina.Size.__repr__
    with pytest.raises(WeightsOnlyError, match=match):
        lamina.load(io.BytesIO(_with_pickle(pickled)))
    assert lamina.Size.__repr__ is before


def test_add_safe_globals_validates_and_clear_forgets():
    with pytest.raises(TypeError, match="module.qualname"):
        ser.add_safe_globals([(Point, 3)])
    with pytest.raises(TypeError, match="__qualname__"):
        ser.add_safe_globals([3])
    assert ser.get_safe_globals() == []
    ser.add_safe_globals([Point])
    assert lamina.load(io.BytesIO(_saved([Point(1)])))[0].x == 1
    ser.clear_safe_globals()
    with pytest.raises(WeightsOnlyError):
        lamina.load(io.BytesIO(_saved([Point(1)])))


def test_numpy_arrays_and_cycles_save_now_and_need_weights_only_false():
    cyc: list = [1]
    cyc.append(cyc)
    out = lamina.load(io.BytesIO(_saved(cyc)))
    assert out[1] is out
    data = _saved({"a": np.arange(3)})
    with pytest.raises(WeightsOnlyError, match="numpy"):
        lamina.load(io.BytesIO(data))
    assert _load_unsafe(data)["a"].tolist() == [0, 1, 2]


# --- keywords ---------------------------------------------------------------------------------------
def test_pickle_module_and_weights_only_defaults_follow_torch():
    data = _saved([Point(2)])
    with pytest.raises(RuntimeError, match="pickle_module"):
        lamina.load(io.BytesIO(data), pickle_module=pickle, weights_only=True)
    with pytest.warns(PickleWarning):  # an explicit pickle_module means weights_only=False, as in torch
        assert lamina.load(io.BytesIO(data), pickle_module=pickle)[0].x == 2
    with pytest.raises(ValueError, match="standard library's pickle"):
        lamina.save([1], io.BytesIO(), pickle_module=io)
    with pytest.raises(ValueError, match="standard library's pickle"):
        lamina.load(io.BytesIO(data), pickle_module=io, weights_only=False)


def test_map_location_and_mmap(tmp_path):
    data = _saved({"w": nn.Parameter(lamina.arange(4.0)), "s": lamina.Size([1])})
    seen = []
    out = lamina.load(io.BytesIO(data), map_location=lambda t, loc: seen.append(loc))
    assert seen == ["cpu"] and type(out["w"]) is nn.Parameter
    for loc in ("cpu", lamina.device("cpu"), {"cuda:0": "cpu"}):
        assert lamina.load(io.BytesIO(data), map_location=loc)["w"].device == lamina.device("cpu")
    path = tmp_path / "m.pt"
    path.write_bytes(data)
    mapped = lamina.load(path, mmap=True)
    assert mapped["w"].tolist() == [0.0, 1.0, 2.0, 3.0]
    with lamina.no_grad():
        mapped["w"].add_(1)  # copy-on-write: the file keeps its bytes
    assert lamina.load(path)["w"].tolist() == [0.0, 1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="mmap=True needs a file path"):
        lamina.load(io.BytesIO(data), mmap=True)


# --- all or nothing ---------------------------------------------------------------------------------
def test_failing_save_leaves_the_old_file_and_no_temp_file(tmp_path):
    path = tmp_path / "ckpt.pt"
    lamina.save({"model": Net()}, path)
    before = path.read_bytes()
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        lamina.save({"model": Net(), "fn": lambda: 0}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.pt"]


@pytest.mark.parametrize("weights_only", [True, False])
def test_truncated_containers_raise_a_checkpoint_error(weights_only):
    data = _saved({"p": lamina.Size([2]), "t": lamina.arange(100.0), "u": lamina.ones(3)})
    for k in (9, 16, 40, len(_pickle_bytes(data)) + 20, len(data) - 1):
        ctx = pytest.warns(PickleWarning) if not weights_only else _nothing()
        with ctx, pytest.raises(CheckpointError) as info:
            lamina.load(io.BytesIO(data[:k]), weights_only=weights_only)
        assert isinstance(info.value, (CheckpointTruncatedError, WeightsOnlyError, CheckpointError))
        assert "<BytesIO>" in str(info.value)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_get_unsafe_globals_in_other_files():
    assert ser.get_unsafe_globals_in_checkpoint(io.BytesIO(_saved({"w": lamina.ones(2)}))) == []  # safetensors
    legacy = io.BytesIO()
    with pytest.warns(PickleWarning):
        lamina.save([Point(1)], legacy, pickle=True)
    legacy.seek(0)
    assert ser.get_unsafe_globals_in_checkpoint(legacy) == ["test_serialization_whole_object.Point"]


def test_safe_globals_context_restores_on_error_and_nests():
    ser.add_safe_globals([Net])
    with pytest.raises(KeyError):
        with ser.safe_globals([Point]):
            with ser.safe_globals([MyTensor]):
                assert ser.get_safe_globals() == [Net, Point, MyTensor]
            assert ser.get_safe_globals() == [Net, Point]
            raise KeyError("boom")
    assert ser.get_safe_globals() == [Net]
