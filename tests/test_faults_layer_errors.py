"""Fault: wrong shape or dtype into a layer inside a model names the layer path, expected and got."""

from __future__ import annotations

import lamina
import pytest
from lamina import nn


class Channels(nn.Module):
    """Checks its input the way a layer plugin does: "<Layer>: expected ..., got ..."."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels

    def forward(self, x):
        if x.dtype != lamina.float32:
            raise lamina.DTypeError(f"Channels: expected float32 input, got {x.dtype}")
        if x.shape[1] != self.channels:
            raise lamina.ShapeError(f"Channels: expected input with {self.channels} channels, got {x.shape[1]}")
        return x


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(Channels(3), nn.Identity(), nn.Sequential(nn.Identity(), Channels(32)))

    def forward(self, x):
        return self.features(x)


def test_shape_error_names_the_module_path_expected_and_got():
    with pytest.raises(lamina.ShapeError) as info:
        Net()(lamina.zeros(2, 3))
    assert str(info.value) == "features.2.1 (Channels): expected input with 32 channels, got 3"


def test_dtype_error_names_the_module_path():
    want = r"^features\.0 \(Channels\): expected float32 input, got lamina\.float64$"
    with pytest.raises(lamina.DTypeError, match=want):
        Net()(lamina.zeros(2, 3, dtype=lamina.float64))


def test_error_outside_a_model_keeps_its_own_message():
    with pytest.raises(lamina.ShapeError, match=r"^Channels: expected input with 4 channels, got 3$"):
        Channels(4)(lamina.zeros(2, 3))


def test_an_error_raised_twice_does_not_stack_prefixes():
    net = Net()
    for _ in range(2):
        with pytest.raises(lamina.ShapeError) as info:
            net(lamina.zeros(2, 3))
        assert str(info.value).count("(Channels)") == 1
