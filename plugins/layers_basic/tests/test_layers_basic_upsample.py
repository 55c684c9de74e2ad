"""F.interpolate (every mode, align_corners, float64 and float32) and the upsampling layers against
PyTorch, gradchecks, errors and F.upsample's deprecation warning."""

from __future__ import annotations

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest
from _layers_basic_torch_parity import F32, compare
from lamina.testing import gradcheck

INTERP = [("nearest", 1, dict(scale_factor=2)), ("nearest", 2, dict(scale_factor=1.7)),
          ("nearest", 2, dict(size=(3, 7))),
          ("nearest", 3, dict(scale_factor=(2, 1, 0.5))), ("nearest-exact", 2, dict(scale_factor=1.5)),
          ("linear", 1, dict(size=9)), ("linear", 1, dict(scale_factor=0.6)), ("bilinear", 2, dict(scale_factor=2)),
          ("bilinear", 2, dict(size=(3, 9))), ("bilinear", 2, dict(scale_factor=1.3, recompute_scale_factor=True)),
          ("trilinear", 3, dict(size=(3, 5, 2))), ("area", 2, dict(size=(3, 2))),
          ("bicubic", 2, dict(scale_factor=1.7)), ("bicubic", 2, dict(size=(9, 2))),
          ("bicubic", 2, dict(scale_factor=(0.5, 2.3), recompute_scale_factor=True))]


# align_corners applies to the interpolating modes only (PyTorch refuses it elsewhere: tested below)
INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")
INTERP_ALIGN = [(mode, n, kw, align) for mode, n, kw in INTERP
                for align in ([None, True, False] if mode in INTERPOLATING else [None])]


@pytest.mark.parametrize("mode, n, kw, align_corners", INTERP_ALIGN)
def test_interpolate_matches_torch(mode, n, kw, align_corners):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3) + (5, 4, 6)[:n])
    compare(lambda x: torch.nn.functional.interpolate(x, mode=mode, align_corners=align_corners, **kw),
            lambda x: F.interpolate(x, mode=mode, align_corners=align_corners, **kw), [x], rng)
    compare(lambda x: torch.nn.functional.interpolate(x, mode=mode, align_corners=align_corners, **kw),
            lambda x: F.interpolate(x, mode=mode, align_corners=align_corners, **kw), [x.astype(np.float32)], rng,
            tol=F32)


@pytest.mark.parametrize("name, kw, shape", [
    ("Upsample", dict(scale_factor=2), (2, 3, 4, 5)), ("Upsample", dict(size=7, mode="linear"), (2, 3, 4)),
    ("Upsample", dict(scale_factor=(1.5, 2.0), mode="bilinear", align_corners=True), (2, 3, 4, 5)),
    ("UpsamplingNearest2d", dict(size=(5, 7)), (1, 2, 3, 4)),
    ("UpsamplingBilinear2d", dict(scale_factor=2), (1, 2, 3, 4)),
])
def test_upsample_modules_match_torch(name, kw, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    lm, tm = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
    assert repr(lm) == repr(tm)
    compare(tm, lm, [rng.standard_normal(shape)], rng)


def test_interpolate_gradcheck_and_errors():
    x = lamina.tensor(np.random.default_rng(7).standard_normal((1, 2, 3, 4)), requires_grad=True)
    assert gradcheck(lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"), (x,))
    assert gradcheck(lambda x: F.interpolate(x, size=(5, 3)), (x,))
    with pytest.raises(ValueError, match="interpolate: expected exactly one of size or scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(NotImplementedError, match="interpolate: got 4D input, but linear mode needs 3D input"):
        F.interpolate(x, size=3, mode="linear")
    assert gradcheck(lambda x: F.interpolate(x, size=(5, 2), mode="bicubic"), (x,))
    with pytest.raises(NotImplementedError, match="interpolate: got 3D input, but bicubic mode needs 4D input"):
        F.interpolate(x[0], size=3, mode="bicubic")
    with pytest.raises(ValueError, match="align_corners option can only be set with the interpolating modes"):
        F.interpolate(x, size=3, align_corners=True)
    with pytest.warns(UserWarning, match="nn.functional.upsample is deprecated"):
        F.upsample(x, scale_factor=2)
