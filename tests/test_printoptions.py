"""lamina.set_printoptions: the same repr as torch's under each option and profile."""

from __future__ import annotations

import re

import lamina
import numpy as np
import pytest

torch = pytest.importorskip("torch")

ARRAYS = [
    np.array([1.123456789, -2.5, 3.0]),
    np.arange(30, dtype=np.float64).reshape(5, 6) / 7,
    np.array([1e-5, 1.0, 1234.5]),
    np.array([1.0, 2.0, 3.0e9]),
    np.arange(2000, dtype=np.float32) / 3,
    np.arange(12, dtype=np.int64),
    np.arange(40, dtype=np.float32).reshape(2, 4, 5),
]
OPTIONS = [
    {"precision": 2}, {"precision": 7}, {"threshold": 5}, {"edgeitems": 1, "threshold": 5}, {"linewidth": 30},
    {"sci_mode": True}, {"sci_mode": False}, {"profile": "short"}, {"profile": "full"},
    {"profile": "short", "precision": 6},
]


def _norm(text: str) -> str:
    """torch's repr with lamina's dtype names; where the dtype suffix wraps depends on the name's length
    (torch.float64 is one character shorter than lamina.float64), so a wrapped suffix is joined back."""
    return re.sub(r",\n +dtype=", ", dtype=", text.replace("torch.", "lamina."))


@pytest.fixture(autouse=True)
def _restore():
    yield
    lamina.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_repr_matches_torch_under_the_options(options):
    lamina.set_printoptions(**options)
    torch.set_printoptions(**options)
    for a in ARRAYS:
        assert _norm(repr(lamina.tensor(a))) == _norm(repr(torch.tensor(a))), (options, a.shape)


def test_the_default_profile_restores_the_defaults():
    x = lamina.tensor([1.123456789])
    before = repr(x)
    lamina.set_printoptions(precision=1, sci_mode=True)
    assert repr(x) != before
    lamina.set_printoptions(profile="default")
    assert repr(x) == before == "tensor([1.1235])"


def test_an_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="profile must be one of"):
        lamina.set_printoptions(profile="wide")


def test_a_suffix_that_overflows_the_line_wraps_as_torch():
    x = lamina.arange(8, dtype=lamina.float64) / 3
    assert repr(torch.arange(8, dtype=torch.float64) / 3) == (
        "tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333],\n       dtype=torch.float64)")
    assert repr(x) == ("tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333],\n"
                       "       dtype=lamina.float64)")
