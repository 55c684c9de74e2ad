"""F.grid_sample / F.affine_grid and torch's grid_sampler forms against torch: values and gradients (input
and grid) for every mode, padding mode and align_corners, in 2-D and 3-D."""

from __future__ import annotations

import lamina
import lamina.nn.functional as F
import numpy as np
import pytest

torch = pytest.importorskip("torch")

MODES = ["bilinear", "nearest", "bicubic"]
PADDINGS = ["zeros", "border", "reflection"]


def _both(fn_l, fn_t, arrays, weights_seed=1):
    lt = [lamina.tensor(a, requires_grad=True) for a in arrays]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    ly, ty = fn_l(*lt), fn_t(*tt)
    w = np.random.default_rng(weights_seed).standard_normal(tuple(ty.shape))
    (ly * lamina.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(ly.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(lt, tt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("dims, mode", [(d, m) for d in (2, 3) for m in MODES if (d, m) != (3, "bicubic")])
def test_grid_sample_matches_torch(dims, mode, padding, align):  # bicubic is 2-D only (5-D raises: below)
    rng = np.random.default_rng(dims * 100 + MODES.index(mode) * 10 + PADDINGS.index(padding))
    shape = (2, 3, 5, 6) if dims == 2 else (2, 2, 3, 4, 5)
    gshape = (2, 4, 3, 2) if dims == 2 else (2, 2, 3, 2, 3)
    x, g = rng.standard_normal(shape), rng.uniform(-1.3, 1.3, gshape)  # some points fall outside
    kw = {"mode": mode, "padding_mode": padding, "align_corners": align}
    _both(lambda a, b: F.grid_sample(a, b, **kw), lambda a, b: torch.nn.functional.grid_sample(a, b, **kw), [x, g])


def test_grid_sampler_int_forms_match_torch():
    rng = np.random.default_rng(5)
    x, g = rng.standard_normal((1, 2, 4, 4)), rng.uniform(-1, 1, (1, 3, 3, 2))
    for m in range(3):
        for p in range(3):
            _both(lambda a, b, m=m, p=p: lamina.grid_sampler_2d(a, b, m, p, True),
                  lambda a, b, m=m, p=p: torch.grid_sampler_2d(a, b, m, p, True), [x, g])
    x3, g3 = rng.standard_normal((1, 2, 3, 3, 3)), rng.uniform(-1, 1, (1, 2, 2, 2, 3))
    _both(lambda a, b: lamina.grid_sampler(a, b, 0, 2, False), lambda a, b: torch.grid_sampler(a, b, 0, 2, False),
          [x3, g3])
    _both(lambda a, b: lamina.grid_sampler_3d(a, b, 1, 1, False),
          lambda a, b: torch.grid_sampler_3d(a, b, 1, 1, False), [x3, g3])


@pytest.mark.filterwarnings("ignore:Since version 1.3.0, affine_grid behavior has changed for unit-size grids")
@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 3, 4, 2), (1, 1, 1, 4)])
def test_affine_grid_matches_torch_with_theta_gradients(size, align):
    rng = np.random.default_rng(len(size))
    theta = rng.standard_normal((size[0], len(size) - 2, len(size) - 1))
    _both(lambda t: F.affine_grid(t, size, align_corners=align),
          lambda t: torch.nn.functional.affine_grid(t, size, align_corners=align), [theta])
    _both(lambda t: lamina.affine_grid_generator(t, size, align), lambda t: torch.affine_grid_generator(t, size, align),
          [theta])


def test_spatial_transformer_round_trip_matches_torch():
    rng = np.random.default_rng(9)
    x, theta = rng.standard_normal((2, 1, 8, 8)), rng.standard_normal((2, 2, 3)) * 0.3
    theta[:, 0, 0] += 1
    theta[:, 1, 1] += 1

    def stn(lib, fn):
        def run(a, t):
            grid = fn.affine_grid(t, list(a.shape), align_corners=False)
            return fn.grid_sample(a, grid, align_corners=False)
        return run

    _both(stn(lamina, F), stn(torch, torch.nn.functional), [x, theta])


def test_gradcheck_in_float64():
    rng = np.random.default_rng(3)
    x = lamina.tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True)
    g = lamina.tensor(rng.uniform(-0.9, 0.9, (1, 2, 2, 2)), requires_grad=True)
    for mode in ("bilinear", "bicubic"):
        assert lamina.testing.gradcheck(lambda a, b, mode=mode: F.grid_sample(a, b, mode=mode, align_corners=False),
                                        (x, g))


def test_errors_and_the_align_corners_warning():
    x, g = lamina.zeros(1, 1, 3, 3), lamina.zeros(1, 2, 2, 2)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(x, g)
    with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: 'area'"):
        F.grid_sample(x, g, mode="area", align_corners=False)
    with pytest.raises(ValueError, match="expected padding_mode to be 'zeros', 'border', or 'reflection'"):
        F.grid_sample(x, g, padding_mode="wrap", align_corners=False)
    with pytest.raises(lamina.ShapeError, match="grid_sample: expected a 4-D input"):
        F.grid_sample(x, lamina.zeros(1, 2, 2, 3), align_corners=False)
    with pytest.raises(ValueError, match="bicubic interpolation only supports 4D input"):
        F.grid_sample(lamina.zeros(1, 1, 2, 2, 2), lamina.zeros(1, 1, 1, 1, 3), mode="bicubic", align_corners=False)
    with pytest.raises(ValueError, match="Expected a batch of 2D affine matrices of shape Nx2x3"):
        F.affine_grid(lamina.zeros(1, 3, 4), [1, 1, 2, 2], align_corners=False)
    with pytest.warns(UserWarning, match="for unit-size grids when align_corners=True"):
        F.affine_grid(lamina.zeros(1, 2, 3), [1, 1, 1, 3], align_corners=True)
    with pytest.raises(NotImplementedError, match="affine_grid only supports 4D and 5D sizes"):
        F.affine_grid(lamina.zeros(1, 2, 3), [1, 1, 2], align_corners=False)
