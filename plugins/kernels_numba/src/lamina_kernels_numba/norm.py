"""lamina-norms' ``Normalize`` with batch statistics, fused: one compiled pass forward, one backward.

Served (the ``supports`` predicate): float32/float64 contiguous CPU arrays in two layouts of
``Spec`` — per-channel statistics over (N, L) of the view (N, C, L) (batch norm), and per-row
statistics over the last axis of the view (R, D) with per-column parameters (layer norm; RMS norm
when ``center`` is False). Running statistics (eval), instance and group norm use the reference.
Saved values keep the reference's layout (x, weight, mean or None, 1/std, keepdims in the view),
so ``create_graph=True`` runs the reference backward.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from . import _threads


def layout(spec: Any) -> str | None:
    """'channels', 'rows' or None (the reference) for a ``Spec``."""
    view, axes, pshape = tuple(spec.view), tuple(spec.axes), tuple(spec.pshape)
    if len(view) == 3 and axes == (0, 2) and pshape == (1, view[1], 1) and spec.center:
        return "channels"
    if len(view) == 2 and axes == (1,) and pshape == (1, view[1]):
        return "rows"
    return None


def _fits(a: Any) -> bool:
    return isinstance(a, np.ndarray) and a.dtype in (np.float32, np.float64) and a.flags.c_contiguous


def supports(arrays: list, kwargs: dict) -> bool:
    x, weight, bias, mean, var, spec = arrays[:6]
    if mean is not None or var is not None or not _fits(x) or layout(spec) is None or spec.count == 0:
        return False
    if x.size != int(np.prod(spec.view)):
        return False
    size = int(np.prod(spec.pshape))
    return all(p is None or (_fits(p) and p.dtype == x.dtype and p.size == size) for p in (weight, bias))


def _flat(p: Any, dtype: Any) -> np.ndarray:
    return np.empty(0, dtype) if p is None else p.reshape(-1)


@cache
def norm_kernel(Normalize: type) -> type:
    """The kernel class for the op ``Normalize`` (reached by name: this pack never imports lamina-norms)."""
    _threads.prepare()
    from . import _norm_jit as jit

    class NumbaNormalize(Normalize):
        """Normalisation with batch statistics, each channel (or row) in one pass per statistic."""

        @staticmethod
        def forward(ctx, x, weight, bias, mean, var, spec):
            _threads.sync()
            xv = x.reshape(spec.view)
            y = np.empty_like(xv)
            if layout(spec) == "channels":
                C = spec.view[1]
                m, v, rstd = (np.empty(C, np.float64) for _ in range(3))
                jit.channels_forward(xv, _flat(weight, x.dtype), _flat(bias, x.dtype), float(spec.eps), y, m, v, rstd)
                shape = (1, C, 1)
            else:
                R = spec.view[0]
                m, v, rstd = (np.empty(R, np.float64) for _ in range(3))
                jit.rows_forward(xv, _flat(weight, x.dtype), _flat(bias, x.dtype), float(spec.eps), bool(spec.center),
                                 y, m, v, rstd)
                shape = (R, 1)
            m, v, rstd = (a.astype(x.dtype).reshape(shape) for a in (m, v, rstd))
            ctx.spec, ctx.given = spec, False
            ctx.bias_shape = None if bias is None else bias.shape
            ctx.save_for_backward(x, weight, m if spec.center else None, rstd)
            stat_mean = m if spec.center else np.zeros_like(v)
            ctx.mark_non_differentiable(stat_mean, v)
            return y.reshape(x.shape), stat_mean, v

        @staticmethod
        def backward(ctx, dy, *_unused):
            x, weight, mean, rstd = ctx.saved_tensors
            spec = ctx.spec
            if not isinstance(dy, np.ndarray):  # double backward: dy is a Tensor
                return Normalize.backward(ctx, dy, *_unused)
            _threads.sync()
            dy = np.ascontiguousarray(dy, dtype=x.dtype)  # a broadcast gradient (of a sum) is not contiguous
            need_x, need_w, need_b = ctx.needs_input_grad[:3]
            xv, dyv = x.reshape(spec.view), dy.reshape(spec.view)
            dx = np.empty_like(xv) if need_x else np.empty((0,) * xv.ndim, x.dtype)
            w = _flat(weight, x.dtype)
            mu = np.zeros(rstd.size, np.float64) if mean is None else mean.reshape(-1).astype(np.float64)
            r = rstd.reshape(-1).astype(np.float64)
            if layout(spec) == "channels":
                C = spec.view[1]
                dw, db = np.empty(C, np.float64), np.empty(C, np.float64)
                jit.channels_backward(xv, dyv, w, mu, r, dx, dw, db, bool(need_x))
            else:
                D = spec.view[1]
                blocks = -(-spec.view[0] // jit.ROW_BLOCK)
                pw, pb = np.empty((blocks, D), np.float64), np.empty((blocks, D), np.float64)
                jit.rows_backward(xv, dyv, w, mu, r, bool(spec.center), dx, bool(need_x), pw, pb)
                dw, db = jit.block_sums(pw), jit.block_sums(pb)
            dx = dx.reshape(x.shape) if need_x else None
            dw = dw.astype(x.dtype).reshape(weight.shape) if need_w else None
            db = db.astype(x.dtype).reshape(ctx.bias_shape) if need_b else None
            return dx, dw, db, None, None, None

    NumbaNormalize.__name__ = NumbaNormalize.__qualname__ = "NumbaNormalize"
    return NumbaNormalize


KERNELS = (("Normalize", norm_kernel, supports),)
