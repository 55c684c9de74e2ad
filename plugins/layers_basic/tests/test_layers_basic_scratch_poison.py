"""Scratch arrays from ``backend.workspace`` are written before they are read.

The CPU backend hands out pooled arrays that still hold an earlier call's values (inf and NaN
among them, after a test of non-finite weights). Here the workspace returns arrays full of
signalling NaNs (``zeros=True`` ones are zeros, as promised): arithmetic on one raises "invalid
value encountered" (warnings are errors), and a value read from one propagates NaN, so any layer
that computes with scratch it did not write fails. Each case runs once with the real pool and once poisoned; forward
values and every gradient must be identical.
"""

from __future__ import annotations

import lamina
import lamina.nn as nn
import numpy as np
import pytest

CASES = [
    ("conv2d strided grouped", lambda: nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2), (2, 4, 9, 9)),
    ("conv2d stride 3 dilated", lambda: nn.Conv2d(3, 4, 3, stride=3, dilation=2, padding=2), (2, 3, 11, 10)),
    ("conv2d replicate padding", lambda: nn.Conv2d(2, 4, 3, stride=2, padding=2, padding_mode="replicate"),
     (2, 2, 8, 8)),
    ("conv2d stride 2 dilation 2 groups 4 circular",
     lambda: nn.Conv2d(4, 8, 3, stride=2, padding=2, padding_mode="circular", dilation=2, groups=4, bias=False),
     (2, 4, 10, 10)),
    ("conv2d depthwise", lambda: nn.Conv2d(8, 8, 3, padding=1, groups=8), (2, 8, 12, 12)),
    ("conv2d pointwise", lambda: nn.Conv2d(8, 16, 1), (2, 8, 16, 16)),
    ("conv1d strided", lambda: nn.Conv1d(3, 5, 4, stride=2, padding=1), (3, 3, 40)),
    ("conv3d strided", lambda: nn.Conv3d(2, 3, 3, stride=2, padding=1), (1, 2, 7, 7, 7)),
    ("conv_transpose2d", lambda: nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1), (2, 4, 6, 6)),
    ("lstm", lambda: nn.LSTM(6, 8, num_layers=2, batch_first=True), (4, 12, 6)),
    ("gru bidirectional", lambda: nn.GRU(6, 8, bidirectional=True), (12, 4, 6)),
    ("rnn tanh", lambda: nn.RNN(6, 8), (12, 4, 6)),
]


#: signalling-NaN bit patterns: any arithmetic on them sets the invalid flag
_SNAN = {np.dtype(np.float32): (np.uint32, 0x7FA00000), np.dtype(np.float64): (np.uint64, 0x7FF4000000000000)}


def _poisoned(real):
    def workspace(shape, dtype, tag=None, *, zeros=False):
        a = np.zeros(shape, dtype=dtype)
        if not zeros and a.dtype in _SNAN:
            bits, pattern = _SNAN[a.dtype]
            a.view(bits)[...] = pattern
        elif not zeros:
            a[...] = -1  # integer scratch: a value no layer would compute
        return a

    return workspace


def _run(make, shape):
    lamina.manual_seed(0)
    m = make()
    x = lamina.randn(*shape, requires_grad=True)
    y = m(x)
    y = y[0] if isinstance(y, tuple) else y
    (y * lamina.randn(*y.shape)).sum().backward()
    grads = [p.grad.numpy().copy() for p in m.parameters()]
    return y.detach().numpy().copy(), x.grad.numpy().copy(), grads


@pytest.mark.parametrize("name, make, shape", CASES, ids=[c[0] for c in CASES])
def test_layers_write_scratch_before_reading_it(name, make, shape, monkeypatch):
    backend = lamina.device("cpu").backend
    want = _run(make, shape)
    _run(make, shape)  # a second call: the real pool now hands back the first call's arrays
    monkeypatch.setattr(backend, "workspace", _poisoned(backend.workspace), raising=False)
    got = _run(make, shape)
    np.testing.assert_array_equal(got[0], want[0], err_msg=f"{name}: forward read stale scratch")
    np.testing.assert_array_equal(got[1], want[1], err_msg=f"{name}: input gradient read stale scratch")
    for g, w in zip(got[2], want[2]):
        np.testing.assert_array_equal(g, w, err_msg=f"{name}: a parameter gradient read stale scratch")


def test_the_poisoned_workspace_is_used(monkeypatch):
    """The poison reaches the layers: a layer that read unwritten scratch would see NaN."""
    backend = lamina.device("cpu").backend
    seen = []
    poisoned = _poisoned(backend.workspace)

    def spy(shape, dtype, tag=None, *, zeros=False):
        seen.append(tag)
        return poisoned(shape, dtype, tag, zeros=zeros)

    monkeypatch.setattr(backend, "workspace", spy, raising=False)
    _run(CASES[0][1], CASES[0][2])
    assert seen
    with np.errstate(invalid="warn"), pytest.raises(RuntimeWarning, match="invalid value"):  # the backend quiets NumPy
        poisoned((4,), np.float32) + 1.0
