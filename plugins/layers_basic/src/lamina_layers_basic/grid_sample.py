"""Sampling an input at grid positions: ``F.grid_sample`` and ``F.affine_grid`` (spatial transformers),
and torch's top-level forms ``grid_sampler``/``grid_sampler_2d``/``grid_sampler_3d``/``affine_grid_generator``.

A grid holds, per output point, normalised coordinates in [-1, 1] ordered (x, y[, z]): x runs along
the input's last dim. Each coordinate is unnormalised to a pixel position (``align_corners`` decides
whether -1 and 1 are the centres or the outer edges of the corner pixels), folded by the padding
mode, and the output is a weighted sum of the input at a few taps per dim: 2 for bilinear (trilinear
in 3-D), 1 for nearest, 4 for bicubic (2-D only, cubic convolution with A = -0.75). One Function
serves 2-D and 3-D: the taps of each dim combine as a product.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence

import lamina
from lamina import Tensor
from lamina.amp import autocast_op
from lamina.autograd import Function

from . import __lamina_plugin_api__  # noqa: F401
from ._graph_grads import const
from .embedding import _ufunc_at

_MODES = ("bilinear", "nearest", "bicubic")
_PADDINGS = ("zeros", "border", "reflection")
_CUBIC_A = -0.75


def _reflect(xp, u, low2: float, high2: float):
    """Fold ``u`` into [low2 / 2, high2 / 2] by reflection; also d(result)/du (+1 or -1)."""
    if high2 == low2:
        return xp.zeros_like(u), xp.zeros_like(u)
    lo, span = low2 / 2, (high2 - low2) / 2
    v = u - lo
    sign = xp.where(v < 0, -1.0, 1.0)
    v = xp.abs(v)
    flips = xp.floor(v / span)
    extra = v - flips * span
    even = (flips % 2) == 0
    return xp.where(even, extra + lo, span - extra + lo), sign * xp.where(even, 1.0, -1.0)


def _fold(xp, u, size: int, padding: str, align: bool):
    """The padding mode applied to positions ``u``: (folded position, d folded / du)."""
    one = xp.ones_like(u)
    if padding == "zeros":
        return u, one
    grad = one
    if padding == "reflection":
        u, grad = _reflect(xp, u, 0.0, 2.0 * (size - 1)) if align else _reflect(xp, u, -1.0, 2.0 * size - 1)
    inside = (u > 0) & (u < size - 1)
    return xp.clip(u, 0, size - 1), grad * inside


def _cubic(xp, t):
    """The 4 cubic-convolution weights of taps -1, 0, 1, 2 at fraction ``t``, and their derivatives."""
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1, (3 * (a + 2) * x - 2 * (a + 3)) * x

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, (3 * a * x - 10 * a) * x + 8 * a

    (w0, d0), (w1, d1), (w2, d2), (w3, d3) = far(t + 1), near(t), near(1 - t), far(2 - t)
    return (w0, w1, w2, w3), (d0, d1, -d2, -d3)


def _taps(xp, g, size: int, mode: str, padding: str, align: bool):
    """Per-dim taps for normalised coordinates ``g``: [(index, weight, d weight / d g)], and the mask
    that keeps each tap inside the input (zero padding)."""
    scale = (size - 1) / 2 if align else size / 2
    u = (g + 1) * scale - (0.0 if align else 0.5)
    taps = []
    if mode == "bicubic":
        base = xp.floor(u)
        ws, ds = _cubic(xp, u - base)
        for k, (w, d) in enumerate(zip(ws, ds)):
            idx = base + (k - 1)
            if padding != "zeros":
                idx = _fold(xp, idx, size, padding, align)[0]
            taps.append((idx, w, d * scale))
    else:
        u, du = _fold(xp, u, size, padding, align)
        if mode == "nearest":
            taps.append((xp.rint(u), xp.ones_like(u), xp.zeros_like(u)))
        else:
            base = xp.floor(u)
            t = u - base
            taps.append((base, 1 - t, -du * scale))
            taps.append((base + 1, t, du * scale))
    out = []
    for idx, w, d in taps:
        ok = (idx >= 0) & (idx <= size - 1)
        out.append((xp.clip(idx, 0, size - 1).astype(xp.int64), w * ok, d * ok))
    return out


def _combos(xp, grid, spatial: tuple, mode: str, padding: str, align: bool):
    """Every combination of one tap per dim: (index tuple, weight, per-dim weight factors, per-dim d)."""
    d = len(spatial)
    per_dim = [_taps(xp, grid[..., d - 1 - k], spatial[k], mode, padding, align) for k in range(d)]
    for combo in itertools.product(*per_dim):
        yield tuple(t[0] for t in combo), [t[1] for t in combo], [t[2] for t in combo]


class GridSampleFn(Function):
    """y[n, c, *o] = sum over taps of w * x[n, c, *tap]. x: (N, C, *S), grid: (N, *O, d) -> (N, C, *O)"""

    @staticmethod
    def forward(ctx, x, grid, mode, padding, align):
        xp = ctx.xp
        ctx.save_for_backward(x, grid)
        ctx.opts = (mode, padding, align)
        xt = xp.moveaxis(x, 1, -1)  # (N, *S, C)
        n = xp.arange(x.shape[0]).reshape((-1,) + (1,) * (grid.ndim - 2))
        y = xp.zeros(grid.shape[:-1] + (x.shape[1],), dtype=x.dtype)
        for idx, ws, _ in _combos(xp, grid, x.shape[2:], mode, padding, align):
            w = ws[0]
            for v in ws[1:]:
                w = w * v
            y += w[..., None].astype(x.dtype) * xt[(n, *idx)]
        return xp.ascontiguousarray(xp.moveaxis(y, -1, 1))

    @staticmethod
    def backward(ctx, dy):  # dy: (N, C, *O)
        x, grid = ctx.saved_tensors
        if isinstance(dy, Tensor):  # create_graph: the same sums as differentiable gathers and index_adds
            return _graph_backward(ctx, dy, x, grid)
        xp = ctx.xp
        mode, padding, align = ctx.opts
        d = grid.shape[-1]
        xt = xp.moveaxis(x, 1, -1)
        dyt = xp.moveaxis(dy, 1, -1)  # (N, *O, C)
        n = xp.broadcast_to(xp.arange(x.shape[0]).reshape((-1,) + (1,) * (grid.ndim - 2)), grid.shape[:-1])
        dxt = xp.zeros(xt.shape, dtype=x.dtype) if ctx.needs_input_grad[0] else None
        dgrid = xp.zeros(grid.shape, dtype=grid.dtype) if ctx.needs_input_grad[1] else None
        for idx, ws, ds in _combos(xp, grid, x.shape[2:], mode, padding, align):
            if dxt is not None:
                w = ws[0]
                for v in ws[1:]:
                    w = w * v
                _ufunc_at(xp, "add", dxt, (n, *(xp.broadcast_to(i, n.shape) for i in idx)),
                          (w[..., None] * dyt).astype(x.dtype))
            if dgrid is not None and mode != "nearest":
                g = (dyt * xt[(n, *idx)]).sum(-1)  # (N, *O)
                for k in range(d):
                    part = ds[k]
                    for j in range(d):
                        if j != k:
                            part = part * ws[j]
                    dgrid[..., d - 1 - k] += g * part
        dx = xp.ascontiguousarray(xp.moveaxis(dxt, -1, 1)) if dxt is not None else None
        return dx, dgrid, None, None, None


def _graph_taps(xp, g: Tensor, size: int, mode: str, padding: str, align: bool) -> list:
    """``_taps`` with the weights and their d/dg as Tensors of the grid coordinate ``g`` (the indices stay
    constants): bilinear and nearest weights are affine in g between tap changes, bicubic ones cubic."""
    garr = g.array
    taps = _taps(xp, garr, size, mode, padding, align)
    if mode != "bicubic":
        step = g - const(garr, g, g.dtype)  # zero in value: carries d/dg (the weights' second derivative is 0)
        return [(i, const(w, g, g.dtype) + const(d, g, g.dtype) * step, const(d, g, g.dtype)) for i, w, d in taps]
    scale = (size - 1) / 2 if align else size / 2
    off = 0.0 if align else 0.5
    base = xp.floor((garr + 1) * scale - off)
    ws, ds = _cubic(xp, (g + 1) * scale - off - const(base, g, g.dtype))
    out = []
    for k, (tap, w, d) in enumerate(zip(taps, ws, ds)):
        idx = base + (k - 1)
        if padding != "zeros":
            idx = _fold(xp, idx, size, padding, align)[0]
        ok = const((idx >= 0) & (idx <= size - 1), g, g.dtype)  # a tap outside the input weighs 0, as in _taps
        out.append((tap[0], w * ok, d * (scale * ok)))
    return out


def _graph_backward(ctx, dy: Tensor, x: Tensor, grid: Tensor) -> tuple:
    """GridSampleFn's gradients as differentiable ops (double backward); dy (N, C, *O)."""
    xp = ctx.device.backend.xp
    mode, padding, align = ctx.opts
    d, spatial = grid.shape[-1], tuple(x.shape[2:])
    N, C = x.shape[:2]
    P = 1
    for v in spatial:
        P *= v
    steps = [1] * d
    for k in range(d - 2, -1, -1):
        steps[k] = steps[k + 1] * spatial[k + 1]
    n = xp.arange(N).reshape((-1,) + (1,) * (grid.ndim - 2)) * P
    per_dim = [_graph_taps(xp, grid[..., d - 1 - k], spatial[k], mode, padding, align) for k in range(d)]
    xt = x.movedim(1, -1).reshape(N * P, C)
    dyt = dy.movedim(1, -1)                                                # (N, *O, C)
    need_x, need_grid = ctx.needs_input_grad[:2]
    dxt = lamina.zeros(N * P, C, dtype=x.dtype, device=x.device) if need_x else None
    dgrid = [None] * d
    for combo in itertools.product(*per_dim):
        flat = n
        for k, tap in enumerate(combo):
            flat = flat + tap[0] * steps[k]
        pos = const(xp.broadcast_to(flat, grid.shape[:-1]).reshape(-1), x)
        w = combo[0][1]
        for tap in combo[1:]:
            w = w * tap[1]
        if need_x:
            dxt = dxt.index_add(0, pos, (w.unsqueeze(-1) * dyt).reshape(-1, C))
        if need_grid and mode != "nearest":
            g = (dyt * xt[pos].reshape(dyt.shape)).sum(-1)                  # (N, *O)
            for k in range(d):
                part = combo[k][2]
                for j in range(d):
                    if j != k:
                        part = part * combo[j][1]
                dgrid[k] = g * part if dgrid[k] is None else dgrid[k] + g * part
    dx = dxt.reshape((N,) + spatial + (C,)).movedim(-1, 1) if need_x else None
    dg = None
    if need_grid:
        zero = lamina.zeros(grid.shape[:-1], dtype=grid.dtype, device=grid.device)
        dg = lamina.stack([zero if p is None else p for p in reversed(dgrid)], -1)
    return dx, dg, None, None, None


def _align(align_corners: bool | None) -> bool:
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since "
                      "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
                      "documentation of grid_sample for details.", UserWarning, stacklevel=3)
        return False
    return bool(align_corners)


def _check(name: str, input: Tensor, grid: Tensor, mode: str) -> None:
    if input.ndim not in (4, 5) or grid.ndim != input.ndim or grid.shape[-1] != input.ndim - 2:
        raise lamina.ShapeError(f"{name}: expected a 4-D input (N, C, H, W) with a grid (N, H_out, W_out, 2) or a "
                                f"5-D input (N, C, D, H, W) with a grid (N, D_out, H_out, W_out, 3), got input "
                                f"{list(input.shape)} and grid {list(grid.shape)}")
    if grid.shape[0] != input.shape[0]:
        raise lamina.ShapeError(f"{name}: expected grid and input to have the same batch size, got input "
                                f"{list(input.shape)} and grid {list(grid.shape)}")
    if not (input.is_floating_point() and grid.is_floating_point()):
        raise lamina.DTypeError(f"{name}: expected floating-point input and grid, got {input.dtype} and {grid.dtype}")
    if grid.dtype != input.dtype:
        raise lamina.DTypeError(f"{name}: expected grid and input to have the same dtype, got input {input.dtype} "
                                f"and grid {grid.dtype}")
    if mode == "bicubic" and input.ndim == 5:
        raise ValueError(f"{name}: bicubic interpolation only supports 4D input")


@autocast_op("fp32")
def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Sample ``input`` at ``grid``'s normalised positions.

    Shape: input (N, C, H, W), grid (N, H_out, W_out, 2) -> (N, C, H_out, W_out); or 5-D with a 3-column grid
    """
    if mode not in _MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', "
                         f"but got: '{mode}'")
    if padding_mode not in _PADDINGS:
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    align = _align(align_corners)
    _check("grid_sample", input, grid, mode)
    return GridSampleFn.apply(input, grid, mode, padding_mode, align)


def grid_sampler(input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int,
                 align_corners: bool) -> Tensor:
    """torch.grid_sampler: ``grid_sample`` with the modes as ints (bilinear 0, nearest 1, bicubic 2; zeros 0,
    border 1, reflection 2)."""
    if interpolation_mode not in (0, 1, 2) or padding_mode not in (0, 1, 2):
        raise ValueError(f"grid_sampler: expected interpolation_mode and padding_mode in 0, 1, 2, got "
                         f"{interpolation_mode} and {padding_mode}")
    mode, padding = _MODES[interpolation_mode], _PADDINGS[padding_mode]
    _check("grid_sampler", input, grid, mode)
    return GridSampleFn.apply(input, grid, mode, padding, bool(align_corners))


def grid_sampler_2d(input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int,
                    align_corners: bool) -> Tensor:
    if input.ndim != 4:
        raise lamina.ShapeError(f"grid_sampler_2d: expected a 4-D input, got {input.ndim}-D {list(input.shape)}")
    return grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners)


def grid_sampler_3d(input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int,
                    align_corners: bool) -> Tensor:
    if input.ndim != 5:
        raise lamina.ShapeError(f"grid_sampler_3d: expected a 5-D input, got {input.ndim}-D {list(input.shape)}")
    return grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners)


def _base_coords(theta: Tensor, steps: int, align: bool) -> Tensor:
    if steps <= 1:
        return lamina.zeros(1, dtype=theta.dtype, device=theta.device)
    line = lamina.linspace(-1.0, 1.0, steps, dtype=theta.dtype, device=theta.device)
    return line if align else line * ((steps - 1) / steps)


def affine_grid_generator(theta: Tensor, size: Sequence[int], align_corners: bool) -> Tensor:
    """The sampling grid of the affine maps ``theta``. theta (N, 2, 3) / (N, 3, 4), size (N, C, *S) -> (N, *S, d)"""
    spatial = [int(s) for s in size[2:]]
    d = len(spatial)
    axes = [_base_coords(theta, s, bool(align_corners)) for s in spatial]  # per spatial dim (D,) H, W
    mesh = [a.reshape([-1 if j == k else 1 for j in range(d)]).expand(spatial) for k, a in enumerate(axes)]
    ones = lamina.ones(spatial, dtype=theta.dtype, device=theta.device)
    base = lamina.stack([*reversed(mesh), ones], -1).reshape(1, -1, d + 1)  # (1, prod S, d + 1): x, y[, z], 1
    grid = base @ theta.transpose(1, 2)  # (N, prod S, d)
    return grid.reshape([int(size[0]), *spatial, d])


def affine_grid(theta: Tensor, size: Sequence[int], align_corners: bool | None = None) -> Tensor:
    """The sampling grid of a batch of affine maps (for ``grid_sample``).

    Shape: theta (N, 2, 3) with size (N, C, H, W) -> (N, H, W, 2); theta (N, 3, 4) with 5-D size -> (N, D, H, W, 3)
    """
    align = _align(align_corners)
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = list(size)
    rows, cols = {4: (2, 3), 5: (3, 4)}.get(len(size), (None, None))
    if rows is None:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (rows, cols):
        raise ValueError(f"Expected a batch of {len(size) - 2}D affine matrices of shape Nx{rows}x{cols} for size "
                         f"{size}. Got {list(theta.shape)}.")
    if align and min(size[2:]) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation "
                      "of affine_grid for details.", UserWarning, stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    return affine_grid_generator(theta, size, align)
