"""RNNCell, LSTMCell and GRUCell against PyTorch (bias or not, batched or not, with or without a state),
their float64 gradchecks and their errors."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _layers_recurrent_helpers import compare, pair, twins
from lamina.errors import ShapeError
from lamina.testing import gradcheck

CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}), ("GRUCell", {})]


@pytest.mark.parametrize("name,extra", CELLS, ids=["RNNCell", "RNNCell-relu", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("unbatched", [False, True])
@pytest.mark.parametrize("with_h", [False, True])
def test_cells_match_torch(name, extra, bias, unbatched, with_h):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    m, t = twins(torch, name, "float64", input_size=3, hidden_size=4, bias=bias, **extra)
    assert repr(m) == repr(t)
    lead = () if unbatched else (5,)
    lx, tx = pair(torch, rng.standard_normal(lead + (3,)))
    lam_in, tch_in, largs, targs = [lx], [tx], [lx], [tx]
    if with_h:
        sts = [pair(torch, rng.standard_normal(lead + (4,))) for _ in range(2 if name == "LSTMCell" else 1)]
        lam_in += [s[0] for s in sts]
        tch_in += [s[1] for s in sts]
        largs.append(tuple(s[0] for s in sts) if name == "LSTMCell" else sts[0][0])
        targs.append(tuple(s[1] for s in sts) if name == "LSTMCell" else sts[0][1])
    compare(m(*largs), t(*targs), lam_in, tch_in, m, t, "float64", rng)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_gradcheck_float64(name):
    lamina.manual_seed(0)
    m = getattr(lamina.nn, name)(3, 2, dtype=lamina.float64)
    rng = np.random.default_rng(2)
    x = lamina.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    hs = [lamina.tensor(rng.standard_normal((2, 2)), requires_grad=True) for _ in range(2 if name == "LSTMCell"
                                                                                    else 1)]
    ps = list(m.parameters())
    n = len(hs)
    assert gradcheck(lambda x, *r: m(x, tuple(r[:n]) if n == 2 else r[0]), (x, *hs, *ps))


CELL_ERRORS = [
    (lambda: lamina.nn.GRUCell(3, 4)(lamina.randn(2, 3, 3)), ShapeError, "GRUCell: Expected input to be 1D or 2D"),
    (lambda: lamina.nn.LSTMCell(3, 4)(lamina.randn(2, 5)), ShapeError,
     r"LSTMCell: expected input with 3 features \(input_size\), got 5"),
    (lambda: lamina.nn.LSTMCell(3, 4)(lamina.randn(2, 3), (lamina.randn(3, 4), lamina.randn(3, 4))), ShapeError,
     "LSTMCell: Input batch size 2 doesn't match hidden0 batch size 3"),
]


@pytest.mark.parametrize("call,err,match", CELL_ERRORS, ids=[str(i) for i in range(len(CELL_ERRORS))])
def test_cell_errors(call, err, match):
    with pytest.raises(err, match=match):
        call()
