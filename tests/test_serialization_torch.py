"""Weight exchange with PyTorch through safetensors files, both directions, bitwise.

The lamina models are core-only Modules whose parameters and buffers are named like Linear's and
BatchNorm's, so their state_dict keys, shapes and dtypes equal those of the real torch layers.
"""

from __future__ import annotations

import io
import zipfile

import lamina
import numpy as np
import pytest
from lamina import nn
from lamina.errors import CheckpointFormatError, CheckpointHeaderError

torch = pytest.importorskip("torch")
st_torch = pytest.importorskip("safetensors.torch")
st_numpy = pytest.importorskip("safetensors.numpy")


class Linear(nn.Module):
    def __init__(self, i, o, bias=True):
        super().__init__()
        self.weight = nn.Parameter(lamina.randn(o, i))
        self.bias = nn.Parameter(lamina.randn(o)) if bias else None


class BatchNorm(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.weight = nn.Parameter(lamina.randn(c))
        self.bias = nn.Parameter(lamina.randn(c))
        self.register_buffer("running_mean", lamina.randn(c))
        self.register_buffer("running_var", lamina.rand(c))
        self.register_buffer("num_batches_tracked", lamina.tensor(0, dtype=lamina.int64))


class LaminaNet(nn.Module):
    def __init__(self, dtype=None):
        super().__init__()
        self.fc1 = Linear(5, 4)
        self.bn = BatchNorm(4)
        self.head = nn.Module()
        self.head.proj = Linear(4, 3, bias=False)
        if dtype is not None:
            self.to(dtype)


class TorchNet(torch.nn.Module):
    def __init__(self, dtype=None):
        super().__init__()
        self.fc1 = torch.nn.Linear(5, 4)
        self.bn = torch.nn.BatchNorm1d(4)
        self.head = torch.nn.Module()
        self.head.proj = torch.nn.Linear(4, 3, bias=False)
        if dtype is not None:
            self.to(dtype)

    def forward(self, x):
        return self.head.proj(self.bn(self.fc1(x)))


def _torch_np(t):
    return t.detach().numpy()


DTYPES = [("float32", lamina.float32, torch.float32), ("float64", lamina.float64, torch.float64),
          ("float16", lamina.float16, torch.float16)]


@pytest.mark.parametrize("name, ldt, tdt", DTYPES, ids=[d[0] for d in DTYPES])
def test_lamina_file_loads_into_torch_model(tmp_path, name, ldt, tdt):
    lamina.manual_seed(0)
    model = LaminaNet(ldt)
    model.bn.num_batches_tracked.fill_(17)
    path = tmp_path / "lamina.safetensors"
    lamina.save(model.state_dict(), path)
    sd = st_torch.load_file(str(path))
    assert list(sd) == list(model.state_dict()) or set(sd) == set(model.state_dict())
    tmodel = TorchNet(tdt)
    result = tmodel.load_state_dict(sd, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    tsd = tmodel.state_dict()
    for key, t in model.state_dict().items():
        assert tuple(tsd[key].shape) == tuple(t.shape) and str(tsd[key].dtype) == f"torch.{t.dtype.name}", key
        assert _torch_np(tsd[key]).tobytes() == np.asarray(t).tobytes(), key
    assert tsd["bn.num_batches_tracked"].item() == 17 and tsd["bn.num_batches_tracked"].dim() == 0


@pytest.mark.parametrize("name, ldt, tdt", DTYPES, ids=[d[0] for d in DTYPES])
def test_torch_file_loads_into_lamina_model(tmp_path, name, ldt, tdt):
    torch.manual_seed(0)
    tmodel = TorchNet(tdt)
    tmodel.train()
    if tdt is not torch.float16:
        tmodel(torch.randn(8, 5, dtype=tdt))  # moves running stats and num_batches_tracked
        assert tmodel.bn.num_batches_tracked.item() == 1
    with torch.no_grad():
        tmodel.bn.weight.uniform_(-1, 1)
    path = tmp_path / "torch.safetensors"
    st_torch.save_file(tmodel.state_dict(), str(path))
    loaded = lamina.load(path)
    assert type(loaded) is dict and set(loaded) == set(tmodel.state_dict())
    model = LaminaNet(ldt)
    model.load_state_dict(loaded)
    for key, t in tmodel.state_dict().items():
        mine = model.state_dict()[key]
        assert mine.dtype.name == str(t.dtype).removeprefix("torch.") and tuple(mine.shape) == tuple(t.shape)
        assert np.asarray(mine).tobytes() == _torch_np(t).tobytes(), key


def test_torch_forward_matches_after_exchange(tmp_path):
    lamina.manual_seed(3)
    model = LaminaNet(lamina.float64)
    path = tmp_path / "m.safetensors"
    lamina.save(model.state_dict(), path)
    tmodel = TorchNet(torch.float64)
    tmodel.load_state_dict(st_torch.load_file(str(path)))
    x = np.random.default_rng(0).standard_normal((2, 5))
    expected = tmodel.fc1(torch.from_numpy(x)).detach().numpy()
    got = lamina.from_numpy(x) @ model.fc1.weight.t() + model.fc1.bias
    np.testing.assert_allclose(np.asarray(got.detach()), expected, rtol=1e-12, atol=1e-12)


ALL = [("F16", np.float16), ("F32", np.float32), ("F64", np.float64), ("I8", np.int8), ("I16", np.int16),
       ("I32", np.int32), ("I64", np.int64), ("U8", np.uint8), ("BOOL", np.bool_), ("C64", np.complex64)]


def _arrays(rng):
    out = {}
    for code, npd in ALL:
        for j, shape in enumerate([(), (0,), (3,), (2, 3)]):
            a = rng.standard_normal(shape) * 50
            out[f"{code}.{j}"] = np.asarray(a > 0 if npd is np.bool_ else a).astype(npd)
    return out


def test_every_dtype_both_ways_with_safetensors_numpy(tmp_path):
    arrays = _arrays(np.random.default_rng(0))
    theirs = tmp_path / "theirs.safetensors"
    st_numpy.save_file(arrays, str(theirs))
    loaded = lamina.load(theirs)
    assert set(loaded) == set(arrays)
    for k, a in arrays.items():
        assert np.asarray(loaded[k]).dtype == a.dtype and np.asarray(loaded[k]).tobytes() == a.tobytes(), k
        assert tuple(loaded[k].shape) == a.shape
    ours = tmp_path / "ours.safetensors"
    lamina.save({k: lamina.from_numpy(a) for k, a in arrays.items()}, ours)
    back = st_numpy.load_file(str(ours))
    for k, a in arrays.items():
        assert back[k].dtype == a.dtype and back[k].shape == a.shape and back[k].tobytes() == a.tobytes(), k


def test_mixed_dtype_checkpoint_is_aligned_for_torch(tmp_path):
    sd = {"flag": lamina.tensor([True, False, True]), "w": lamina.randn(3, 2),
          "byte": lamina.tensor([7], dtype=lamina.uint8),
          "n": lamina.tensor(5), "h": lamina.ones(3, dtype=lamina.float16), "d": lamina.randn(2, dtype=lamina.float64)}
    path = tmp_path / "mixed.safetensors"
    lamina.save(sd, path)
    back = st_torch.load_file(str(path))
    for k, t in sd.items():
        assert back[k].numpy().tobytes() == np.asarray(t).tobytes(), k


def test_nested_checkpoint_is_readable_by_safetensors_with_dotted_names(tmp_path):
    lamina.manual_seed(0)
    ckpt = {"model": LaminaNet().state_dict(), "epoch": 4, "opt": {"state": {0: {"step": lamina.tensor(3.0)}}}}
    path = tmp_path / "ckpt.safetensors"
    lamina.save(ckpt, path)
    flat = st_torch.load_file(str(path))
    assert "model.fc1.weight" in flat and "opt.state.0.step" in flat
    assert flat["model.bn.running_var"].numpy().tobytes() == np.asarray(ckpt["model"]["bn.running_var"]).tobytes()


def test_tied_weights_are_saved_as_copies_and_torch_reads_them(tmp_path):
    w = lamina.randn(4, 3)
    path = tmp_path / "tied.safetensors"
    lamina.save({"enc.weight": w, "dec.weight": w}, path)
    back = st_torch.load_file(str(path))
    assert torch.equal(back["enc.weight"], back["dec.weight"])
    mine = lamina.load(path)
    mine["enc.weight"][0, 0] = 123.0
    assert mine["dec.weight"][0, 0].item() == w[0, 0].item()


def test_bfloat16_from_torch_loads_as_bfloat16_bit_for_bit(tmp_path):
    t = torch.randn(4, 5).to(torch.bfloat16)
    path = tmp_path / "bf16.safetensors"
    st_torch.save_file({"x": t, "y": torch.arange(3)}, str(path))
    out = lamina.load(path)
    assert out["x"].dtype is lamina.bfloat16
    np.testing.assert_array_equal(out["x"]._data.view(np.uint16), t.view(torch.int16).numpy().view(np.uint16))
    np.testing.assert_array_equal(np.asarray(out["x"].float()), t.float().numpy())
    assert out["y"].tolist() == [0, 1, 2]


def test_bfloat16_saved_by_lamina_loads_in_torch(tmp_path):
    x = lamina.tensor([[1.1, -2.5, 3e38], [float("inf"), float("nan"), 1e-40]]).to(lamina.bfloat16)
    path = tmp_path / "bf16.safetensors"
    lamina.save({"x": x}, path)
    back = st_torch.load_file(str(path))["x"]
    assert back.dtype == torch.bfloat16
    np.testing.assert_array_equal(back.view(torch.int16).numpy().view(np.uint16), x._data.view(np.uint16))
    again = lamina.load(path)["x"]
    assert again.dtype is lamina.bfloat16
    np.testing.assert_array_equal(again._data.view(np.uint16), x._data.view(np.uint16))


@pytest.mark.parametrize("tdt, code", [("uint16", "U16"), ("uint32", "U32"), ("uint64", "U64"),
                                       ("float8_e4m3fn", "F8_E4M3"), ("float8_e5m2", "F8_E5M2")])
def test_unsupported_torch_dtypes_are_named(tmp_path, tdt, code):
    dt = getattr(torch, tdt, None)
    if dt is None:
        pytest.skip(f"torch has no {tdt}")
    path = tmp_path / "u.safetensors"
    st_torch.save_file({"x": torch.zeros(3).to(dt)}, str(path))
    with pytest.raises(CheckpointHeaderError, match=rf"u\.safetensors.*'x': dtype {code} is a safetensors dtype"):
        lamina.load(path)


def test_torch_save_files_are_recognised_never_unpickled(tmp_path):
    sd = TorchNet().state_dict()
    zpath = tmp_path / "model.pt"
    torch.save(sd, zpath)
    assert zipfile.is_zipfile(zpath)
    for weights_only in (True, False):
        with pytest.raises(CheckpointFormatError, match=r"model\.pt.*torch\.save.*safetensors\.torch\.save_file"):
            lamina.load(zpath, weights_only=weights_only)
    legacy = io.BytesIO()
    torch.save(sd, legacy, _use_new_zipfile_serialization=False)
    legacy.seek(0)
    with pytest.raises(CheckpointFormatError, match=r"Python pickle \(protocol 2\).*legacy torch\.save"):
        lamina.load(legacy)


def test_safetensors_metadata_is_str_to_str_and_marks_pt_format(tmp_path):
    from safetensors import safe_open

    path = tmp_path / "m.safetensors"
    lamina.save({"a": lamina.ones(1), "epoch": 2}, path)
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    assert meta["format"] == "pt" and meta["lamina.format"] == "1" and "lamina.structure" in meta
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())
