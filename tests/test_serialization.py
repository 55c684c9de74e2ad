"""lamina.save / lamina.load round trips: dtypes, shapes, layouts, nested structures, files, map_location."""

from __future__ import annotations

import io
import json
import math
import pathlib
from collections import OrderedDict

import lamina
import numpy as np
import pytest
from lamina import nn
from lamina.optim import Optimizer

DTYPES = [lamina.float16, lamina.float32, lamina.float64, lamina.complex64, lamina.int8, lamina.int16,
          lamina.int32, lamina.int64, lamina.uint8, lamina.bool]
SHAPES = [(), (0,), (5,), (2, 0, 3), (3, 4), (2, 3, 4)]


def _random(dtype, shape, rng) -> np.ndarray:
    npd = dtype.np
    if npd.kind == "f":
        a = rng.standard_normal(shape).astype(npd)
        if a.size >= 3:
            a.reshape(-1)[:3] = [np.nan, np.inf, -np.inf]
        return a
    if npd.kind == "c":
        return np.asarray(rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(npd)
    if npd.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    info = np.iinfo(npd)
    return rng.integers(info.min, info.max, shape, dtype=npd, endpoint=True)


def _roundtrip(obj, **load_kwargs):
    buf = io.BytesIO()
    lamina.save(obj, buf)
    buf.seek(0)
    return lamina.load(buf, **load_kwargs)


def assert_same(a, b, path="obj"):
    """Exact equality: same types (recursively), tensors bitwise equal with dtype, shape and device."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, lamina.Tensor):
        assert a.dtype is b.dtype and tuple(a.shape) == tuple(b.shape) and a.device == b.device, path
        assert a.requires_grad == b.requires_grad, path
        x, y = np.asarray(a.detach()), np.asarray(b.detach())
        assert x.tobytes() == np.ascontiguousarray(y).tobytes(), path
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys()), path
        for (k1, v1), (k2, v2) in zip(a.items(), b.items()):
            assert type(k1) is type(k2), f"{path}: key {k1!r}"
            assert_same(v1, v2, f"{path}[{k1!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), path
    else:
        assert a == b and (not isinstance(a, float) or math.copysign(1, a) == math.copysign(1, b)), path


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
def test_every_dtype_and_shape_round_trips_bitwise(dtype):
    rng = np.random.default_rng(0)
    sd = {f"t{i}": lamina.from_numpy(_random(dtype, s, rng)) for i, s in enumerate(SHAPES)}
    out = _roundtrip(sd)
    assert_same(sd, out)


def test_mixed_dtypes_are_aligned_and_keep_order():
    rng = np.random.default_rng(1)
    sd = OrderedDict((f"{d.name}_{i}", lamina.from_numpy(_random(d, (3,), rng))) for i, d in enumerate(DTYPES * 2))
    buf = io.BytesIO()
    lamina.save(sd, buf)
    raw = buf.getvalue()
    n = int.from_bytes(raw[:8], "little")
    assert n % 8 == 0 and raw[8:9] == b"{"
    header = json.loads(raw[8:8 + n])
    entries = [(k, v) for k, v in header.items() if k != "__metadata__"]
    assert {k for k, _ in entries} == set(sd)  # tensor names are the state_dict keys
    end = 0
    for _, info in entries:  # contiguous, in header order, each aligned to its element size
        begin, stop = info["data_offsets"]
        assert begin == end and begin % sd[_].element_size() == 0
        end = stop
    assert end == len(raw) - 8 - n
    assert_same(sd, _roundtrip(sd))


def test_nan_and_inf_round_trip_exactly():
    a = lamina.tensor([float("nan"), float("inf"), -float("inf"), -0.0, 1e-45, 3.4e38])
    out = _roundtrip({"a": a, "loss": float("nan"), "best": float("inf"), "worst": -float("inf"), "z": -0.0})
    assert np.asarray(out["a"]).tobytes() == np.asarray(a).tobytes()
    assert math.isnan(out["loss"]) and out["best"] == math.inf and out["worst"] == -math.inf
    assert math.copysign(1, out["z"]) == -1


@pytest.mark.parametrize("make", [
    lambda: lamina.arange(12.0).reshape(3, 4).t(),
    lambda: lamina.arange(20.0)[::3],
    lambda: lamina.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1)[1:, :, ::2],
    lambda: lamina.arange(3.0).reshape(3, 1).expand(3, 5),
    lambda: lamina.arange(10, dtype=lamina.int64).flip(0),
], ids=["transpose", "step", "permute-slice", "expand", "flip"])
def test_non_contiguous_tensors_are_saved_as_their_values(make):
    t = make()
    out = _roundtrip({"t": t})["t"]
    assert out.is_contiguous()
    np.testing.assert_array_equal(np.asarray(out), np.asarray(t))


def test_views_and_shared_storage_load_as_independent_copies():
    base = lamina.arange(6.0)
    view = base[2:5]
    out = _roundtrip({"base": base, "view": view, "again": base})
    out["base"][3] = 100.0
    assert out["view"].tolist() == [2.0, 3.0, 4.0] and out["again"][3].item() == 3.0


NESTED = {
    "epoch": 7, "loss": 0.123456789012345678, "best": None, "flag": True, "off": False, "name": "résumé ✓",
    "big": 2**100, "neg": -(2**70),
    "weights": OrderedDict([("fc.weight", lamina.ones(2, 3)), ("fc.bias", lamina.zeros(2))]),
    "list": [1, "two", 3.0, None, [lamina.tensor(1.5)], (), [], {}],
    "tuple": (1, (2, (3, lamina.tensor([4], dtype=lamina.int32)))),
    "int_keys": {0: "a", 1: {2: lamina.zeros(1)}, -5: None},
    "mixed_keys": {1.5: "f", None: "n", True: "t", "s": "s", (1, "a", (2.5, None)): "tuple"},
    "dtype": lamina.float64, "device": lamina.device("cpu"),
    "odict_empty": OrderedDict(),
}


def test_nested_structures_round_trip_with_types():
    assert_same(NESTED, _roundtrip(NESTED))


@pytest.mark.parametrize("obj", [
    lamina.tensor(3.0), [lamina.zeros(2), lamina.ones(1)], (lamina.zeros(2),), 5, "x", None, [], {},
    OrderedDict(a=1), 2.5, True,
], ids=repr)
def test_top_level_objects_round_trip(obj):
    assert_same(obj, _roundtrip(obj))


def test_numpy_scalars_travel_as_python_numbers():
    out = _roundtrip({"a": np.float32(0.5), "b": np.int64(3), "c": np.bool_(True)})
    assert out == {"a": 0.5, "b": 3, "c": True} and type(out["b"]) is int and type(out["c"]) is bool


def test_colliding_tensor_names_are_made_unique():
    obj = {"a.b": lamina.ones(1), "a": {"b": lamina.zeros(1)}, "__metadata__": lamina.full((1,), 2.0)}
    assert_same(obj, _roundtrip(obj))


def test_parameters_and_requires_grad_are_kept():
    p = nn.Parameter(lamina.randn(3))
    frozen = nn.Parameter(lamina.randn(2), requires_grad=False)
    g = lamina.randn(2).requires_grad_()
    out = _roundtrip({"p": p, "frozen": frozen, "g": g, "plain": lamina.ones(1)})
    assert type(out["p"]) is nn.Parameter and out["p"].requires_grad
    assert type(out["frozen"]) is nn.Parameter and not out["frozen"].requires_grad
    assert type(out["g"]) is lamina.Tensor and out["g"].requires_grad and out["g"].is_leaf
    assert not out["plain"].requires_grad


# --- modules and optimizers ---------------------------------------------------------------------
class Dense(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.weight = nn.Parameter(lamina.randn(o, i))
        self.bias = nn.Parameter(lamina.randn(o))


class Norm(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.weight = nn.Parameter(lamina.randn(c))
        self.bias = nn.Parameter(lamina.randn(c))
        self.register_buffer("running_mean", lamina.randn(c))
        self.register_buffer("running_var", lamina.rand(c))
        self.register_buffer("num_batches_tracked", lamina.tensor(11))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = Dense(4, 3)
        self.bn = Norm(3)
        self.fc2 = Dense(3, 2)


def test_module_state_dict_round_trip_and_load(tmp_path):
    lamina.manual_seed(0)
    src = Net()
    path = tmp_path / "net.safetensors"
    lamina.save(src.state_dict(), path)
    loaded = lamina.load(path)
    assert type(loaded) is OrderedDict and list(loaded) == list(src.state_dict())
    assert getattr(loaded, "_metadata", None) == getattr(src.state_dict(), "_metadata", None)
    lamina.manual_seed(1)
    dst = Net()
    dst.load_state_dict(loaded)
    assert_same(src.state_dict(), dst.state_dict())
    assert dst.bn.num_batches_tracked.dtype is lamina.int64 and dst.bn.num_batches_tracked.ndim == 0


class Momentum(Optimizer):
    """Heavy-ball SGD with a tensor 'step' counter, enough to exercise optimizer state."""

    def __init__(self, params, lr=0.01, momentum=0.9):
        super().__init__(params, {"lr": lr, "momentum": momentum})

    def step(self, closure=None):
        with lamina.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    st = self.state[p]
                    if not st:
                        st["step"] = lamina.tensor(0.0)
                        st["momentum_buffer"] = lamina.zeros_like(p)
                    st["step"] += 1
                    st["momentum_buffer"].mul_(group["momentum"]).add_(p.grad)
                    p.sub_(group["lr"] * st["momentum_buffer"])


def _train(model, opt, steps):
    for i in range(steps):
        x = lamina.arange(8.0).reshape(2, 4) / (10 * (i + 1))
        h = x @ model.fc1.weight.t() + model.fc1.bias
        loss = ((h @ model.fc2.weight.t() + model.fc2.bias) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_optimizer_state_dict_round_trip_continues_bitwise(tmp_path):
    lamina.manual_seed(0)
    model = Net()
    opt = Momentum([{"params": [model.fc1.weight, model.fc1.bias]},
                    {"params": [model.fc2.weight, model.fc2.bias], "lr": 0.005}])
    _train(model, opt, 3)
    ckpt = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3, "loss": 0.25}
    path = tmp_path / "ckpt.safetensors"
    lamina.save(ckpt, path)
    back = lamina.load(path)
    assert sorted(back["optimizer"]["state"]) == [0, 1, 2, 3]  # int keys stay ints
    assert_same(ckpt, back)
    model2 = Net()
    model2.load_state_dict(back["model"])
    opt2 = Momentum([{"params": [model2.fc1.weight, model2.fc1.bias]},
                     {"params": [model2.fc2.weight, model2.fc2.bias], "lr": 0.005}])
    opt2.load_state_dict(back["optimizer"])
    _train(model, opt, 2)
    _train(model2, opt2, 2)
    assert_same(model.state_dict(), model2.state_dict())


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


@pytest.mark.parametrize("make, error, match", [
    (lambda: Net(), TypeError, r"cannot save a Net \(a Module\).*state_dict\(\).*pickle=True"),
    (lambda: {"a": np.zeros(3)}, TypeError,
     r"cannot save a ndarray \(convert it with lamina.from_numpy\) at key path 'a'"),
    (lambda: {"a": {1, 2}}, TypeError, r"cannot save a set at key path 'a'"),
    (lambda: {"a": [object()]}, TypeError, r"cannot save a object at key path 'a'.0"),
    (lambda: {frozenset([1]): 1}, TypeError, r"dict keys must be str, int, float, bool, None or tuples"),
    (lambda: {("a", lamina.ones(1)): 1}, TypeError, r"got a Tensor key"),
    (lambda: {"c": lamina.zeros(2, dtype=lamina.complex128)}, TypeError, r"'c' has dtype complex128"),
], ids=["module", "ndarray", "set", "object", "frozenset-key", "tensor-key", "complex128"])
def test_unsupported_objects_are_refused_on_save(make, error, match):
    with pytest.raises(error, match=match):
        lamina.save(make(), io.BytesIO())


def test_cycles_are_refused():
    a: list = [1]
    a.append(a)
    with pytest.raises(ValueError, match="contains itself"):
        lamina.save(a, io.BytesIO())


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
