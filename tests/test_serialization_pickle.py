"""Whole-object pickling is opt-in on both sides and warns (lamina.serialization.PickleWarning)."""

from __future__ import annotations

import io

import lamina
import numpy as np
import pytest
from lamina import nn
from lamina.errors import CheckpointFormatError
from lamina.serialization import PickleWarning


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(lamina.randn(3, 2))
        self.frozen = nn.Parameter(lamina.randn(2), requires_grad=False)
        self.register_buffer("running_mean", lamina.randn(3))
        self.register_buffer("count", lamina.tensor(4))
        self.tag = "block"


def _pickled(obj) -> bytes:
    buf = io.BytesIO()
    with pytest.warns(PickleWarning, match="writes a pickle"):
        lamina.save(obj, buf, pickle=True)
    return buf.getvalue()


def test_whole_module_pickle_round_trip(tmp_path):
    lamina.manual_seed(0)
    model = Block()
    path = tmp_path / "model.pkl"
    with pytest.warns(PickleWarning):
        lamina.save(model, path, pickle=True)
    with pytest.raises(CheckpointFormatError, match=r"model\.pkl.*Python pickle.*weights_only=False"):
        lamina.load(path)
    with pytest.warns(PickleWarning, match=r"unpickling .*model\.pkl.*executes code"):
        back = lamina.load(path, weights_only=False)
    assert type(back) is Block and back.tag == "block"
    assert type(back.weight) is nn.Parameter and back.weight.requires_grad and not back.frozen.requires_grad
    for (k, a), (k2, b) in zip(model.state_dict().items(), back.state_dict().items()):
        assert k == k2 and a.dtype is b.dtype
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_weights_only_default_refuses_and_never_unpickles():
    data = _pickled({"a": lamina.ones(2)})
    with pytest.raises(CheckpointFormatError, match="lamina.load refuses it by default"):
        lamina.load(io.BytesIO(data))
    with pytest.raises(CheckpointFormatError):
        lamina.load(io.BytesIO(data), weights_only=True)


def test_safe_files_load_without_warning_when_weights_only_is_false():
    buf = io.BytesIO()
    lamina.save({"a": lamina.ones(2)}, buf)
    buf.seek(0)
    assert lamina.load(buf, weights_only=False)["a"].tolist() == [1.0, 1.0]  # filterwarnings=error


def test_torch_zip_is_still_refused_with_weights_only_false():
    with pytest.raises(CheckpointFormatError, match="zip archive"):
        lamina.load(io.BytesIO(b"PK\x03\x04" + bytes(60)), weights_only=False)


@pytest.mark.parametrize("map_location", [None, "cpu", lamina.device("cpu"), {"cuda:0": "cpu"}],
                         ids=["none", "str", "device", "dict"])
def test_pickle_map_location_places_tensors(map_location):
    lamina.manual_seed(1)
    model = Block()
    data = _pickled({"model": model, "t": lamina.arange(3.0)})
    with pytest.warns(PickleWarning):
        back = lamina.load(io.BytesIO(data), map_location=map_location, weights_only=False)
    assert back["model"].weight.device.type == "cpu" and type(back["model"].weight) is nn.Parameter
    assert back["t"].tolist() == [0.0, 1.0, 2.0]


def test_pickle_map_location_callable_gets_saved_location():
    seen = []
    data = _pickled([lamina.ones(2), nn.Parameter(lamina.zeros(1))])
    with pytest.warns(PickleWarning):
        out = lamina.load(io.BytesIO(data), weights_only=False,
                          map_location=lambda t, loc: seen.append((type(t).__name__, loc)))
    assert seen == [("Tensor", "cpu"), ("Parameter", "cpu")]
    assert type(out[1]) is nn.Parameter


def test_truncated_pickle_with_weights_only_false_is_a_checkpoint_error():
    data = _pickled({"a": lamina.ones(3), "b": list(range(50))})
    for k in (3, 12, len(data) // 2, len(data) - 1):
        with pytest.warns(PickleWarning), pytest.raises(CheckpointFormatError, match="could not be unpickled"):
            lamina.load(io.BytesIO(data[:k]), weights_only=False)
