"""lamina-norms' ``Normalize`` on CUDA with batch statistics: one launch forward, one (or two) backward.

Two layouts of ``Spec`` are served: per-channel groups (batch norm: view (N, C, L), axes (0, 2);
instance norm: axes (2,); weight per channel) and rows with per-column parameters (layer norm and
RMS norm: view (R, D), axes (1,)). Saved values keep the reference's layout (x, weight, mean or
None, 1/std, keepdims in the view), so create_graph=True runs the reference backward. Running
statistics (eval) and group norm use the reference.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy

from ._source import fits, function, launch_pointwise, launch_rows


def layout(spec: Any) -> str | None:
    """'group', 'row' or None (the reference) for a ``Spec``."""
    view, axes, pshape = tuple(spec.view), tuple(spec.axes), tuple(spec.pshape)
    if len(view) == 3 and pshape == (1, view[1], 1) and axes in ((0, 2), (2,)) and spec.center:
        return "group"
    if len(view) == 2 and axes == (1,) and pshape == (1, view[1]):
        return "row"
    return None


def group_plan(spec: Any) -> tuple[int, int, int, int, int]:
    """(groups, A, B, outer_stride, P): group g holds x[g*B + a*outer_stride + k], a < A, k < B; params [g % P]."""
    N, C, L = spec.view
    if tuple(spec.axes) == (0, 2):
        return C, N, L, C * L, C
    return N * C, 1, L, C * L, C


def _flag(a: Any) -> numpy.int32:
    return numpy.int32(a is not None)


@cache
def norm_kernel(Normalize: type) -> type:
    """The kernel class for the op ``Normalize`` (registered by name: this pack never imports its plugin)."""

    class CudaNormalize(Normalize):
        """Normalisation with batch statistics in one block per group (or row)."""

        @staticmethod
        def forward(ctx, x, weight, bias, mean, var, spec):
            import cupy

            kind = layout(spec)
            y = cupy.empty_like(x)
            t = x.dtype.type
            if kind == "group":
                groups, A, B, outer, P = group_plan(spec)
                stat_shape = (1, spec.view[1], 1) if A > 1 else (spec.view[0], spec.view[1], 1)
                args = (numpy.int64(A), numpy.int64(B), numpy.int64(outer), numpy.int64(P), t(spec.eps),
                        _flag(weight), _flag(bias))
                name = "lm_group_norm_fwd"
            else:
                groups, L = spec.view
                stat_shape = (groups, 1)
                args = (numpy.int64(L), t(spec.eps), _flag(weight), _flag(bias), numpy.int32(spec.center))
                name = "lm_row_norm_fwd"
            m, v, rstd = (cupy.empty(stat_shape, dtype=x.dtype) for _ in range(3))
            launch_rows(function("norm", name, x.dtype), groups, spec.count, x.dtype,
                        (x, x if weight is None else weight, x if bias is None else bias, y, m, v, rstd) + args)
            ctx.spec, ctx.given = spec, False
            ctx.bias_shape = None if bias is None else bias.shape
            ctx.save_for_backward(x, weight, m if spec.center else None, rstd)
            ctx.mark_non_differentiable(m, v)
            return y, m, v

        @staticmethod
        def backward(ctx, dy, *_unused):
            import cupy

            if not fits(dy):
                return Normalize.backward(ctx, dy, *_unused)
            x, weight, mean, rstd = ctx.saved_tensors
            spec = ctx.spec
            need_x, need_w, need_b = ctx.needs_input_grad[:3]
            dy = cupy.ascontiguousarray(dy, dtype=x.dtype)
            dx = cupy.empty_like(x) if need_x else None
            dw = db = None
            mean = cupy.zeros_like(rstd) if mean is None else mean
            if layout(spec) == "group":
                groups, A, B, outer, P = group_plan(spec)
                s1, s2 = cupy.empty((groups,), x.dtype), cupy.empty((groups,), x.dtype)
                launch_rows(function("norm", "lm_group_norm_bwd", x.dtype), groups, A * B, x.dtype,
                            (x, dy, x if weight is None else weight, mean, rstd, x if dx is None else dx, s1, s2,
                             numpy.int64(A), numpy.int64(B), numpy.int64(outer), numpy.int64(P), _flag(weight),
                             numpy.int32(need_x)))
                if need_w:
                    dw = s2.reshape(-1, P).sum(axis=0).reshape(weight.shape)
                if need_b:
                    db = s1.reshape(-1, P).sum(axis=0).reshape(ctx.bias_shape)
                return dx, dw, db, None, None, None
            R, L = spec.view
            if need_x:
                launch_rows(function("norm", "lm_row_norm_bwd", x.dtype), R, L, x.dtype,
                            (x, dy, x if weight is None else weight, mean, rstd, dx, numpy.int64(L), _flag(weight),
                             numpy.int32(spec.center)))
            if need_w or need_b:
                dw = cupy.empty((L,), x.dtype) if need_w else None
                db = cupy.empty((L,), x.dtype) if need_b else None
                launch_pointwise(function("norm", "lm_row_norm_params", x.dtype), L,
                                 (x, dy, mean, rstd, x if dw is None else dw, x if db is None else db, numpy.int64(R),
                                  numpy.int64(L), numpy.int32(need_w), numpy.int32(need_b)))
                dw = None if dw is None else dw.reshape(weight.shape)
                db = None if db is None else db.reshape(ctx.bias_shape)
            return dx, dw, db, None, None, None

    return CudaNormalize


def supports(arrays: list, kwargs: dict) -> bool:
    x, weight, bias, mean, var, spec = arrays[:6]
    if mean is not None or var is not None or not fits(x) or layout(spec) is None or spec.count == 0:
        return False
    if x.size != _prod(spec.view):
        return False
    return all(p is None or (fits(p) and p.dtype == x.dtype and p.size == _param_size(spec)) for p in (weight, bias))


def _prod(shape: tuple) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def _param_size(spec: Any) -> int:
    return _prod(spec.pshape)


KERNELS = (("Normalize", norm_kernel, supports),)
