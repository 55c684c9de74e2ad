"""lamina.save / lamina.load round trips: dtypes, shapes, layouts, nested structures, files, map_location."""

from __future__ import annotations

import io
import json
import math
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
