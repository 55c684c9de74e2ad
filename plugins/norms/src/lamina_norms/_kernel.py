"""The one normalisation kernel shared by batch, instance, layer, group and RMS norm.

``Normalize`` views x as ``spec.view``, normalises over ``spec.axes`` (mean and biased variance,
or the root mean square when ``center`` is False, or given running statistics), then scales by
weight and shifts by bias, both broadcast as ``spec.pshape``. Forward and the analytic backward
live side by side; under ``create_graph=True`` backward recomputes its intermediates from the
saved input with the differentiable ``ctx.xp``, so double backward works.

Statistics are computed in the input dtype (float32 stays float32); sums run axis by axis from
the last one, so each pass reduces a contiguous run (NumPy's pairwise summation, fast and accurate).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from lamina import Tensor
from lamina.autograd import Function


class Spec(NamedTuple):
    """How to normalise: the view of x, the reduced axes, the parameter broadcast shape, eps."""

    view: tuple[int, ...]
    axes: tuple[int, ...]
    pshape: tuple[int, ...]
    eps: float
    center: bool = True

    @property
    def count(self) -> int:
        n = 1
        for a in self.axes:
            n *= self.view[a]
        return n

    @property
    def param_axes(self) -> tuple[int, ...]:
        """Axes over which the parameters are constant (their gradients sum over these)."""
        return tuple(a for a, s in enumerate(self.pshape) if s == 1)

    @property
    def group_constant(self) -> bool:
        """Weight and bias are constant within each normalised group (batch and instance norm)."""
        return all(self.pshape[a] == 1 for a in self.axes)


def _sum(a: Any, axes: tuple[int, ...], xp: Any) -> Any:
    if isinstance(a, Tensor):
        return xp.sum(a, axis=axes, keepdims=True)
    for ax in sorted(axes, reverse=True):  # innermost first: each pass reduces a contiguous run
        a = a.sum(axis=ax, keepdims=True)
    return a


def _stats(xv: Any, spec: Spec, xp: Any) -> tuple[Any, Any, Any]:
    """(mean or None, variance or mean square, centred x) over ``spec.axes``."""
    n = max(spec.count, 1)
    if spec.center:
        mean = _sum(xv, spec.axes, xp) / n
        xc = xv - mean
    else:
        mean, xc = None, xv
    return mean, _sum(xc * xc, spec.axes, xp) / n, xc


class Normalize(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, statistics over ``spec.axes`` of ``spec.view``.

    Shape: x (*) viewed as ``spec.view`` -> y like x. With ``mean``/``var`` None (batch statistics)
    also returns the batch mean and biased variance (keepdims in the view, not differentiable);
    with given ``mean``/``var`` (running statistics, broadcast as ``spec.pshape``) returns y only.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, mean, var, spec):
        xp = ctx.xp
        xv = x.reshape(spec.view)
        given = mean is not None
        if given:
            m = mean.reshape(spec.pshape)
            xhat = xv - m
            rstd = 1.0 / xp.sqrt(var.reshape(spec.pshape) + spec.eps)
            xhat *= rstd
        else:
            m, v, xhat = _stats(xv, spec, xp)
            rstd = 1.0 / xp.sqrt(v + spec.eps)
            if xhat is xv:
                xhat = xv * rstd
            else:
                xhat *= rstd
        y = xhat if weight is None else xhat * weight.reshape(spec.pshape)
        if bias is not None:
            y = y + bias.reshape(spec.pshape)
        elif y is xhat:
            y = xhat.copy()
        ctx.spec, ctx.given = spec, given
        ctx.bias_shape = None if bias is None else bias.shape
        ctx.save_for_backward(x, weight, mean, var, xhat, rstd)
        if given:
            return y.reshape(x.shape)
        stat_mean = m if m is not None else xp.zeros_like(v)
        ctx.mark_non_differentiable(stat_mean, v)
        return y.reshape(x.shape), stat_mean, v

    @staticmethod
    def backward(ctx, dy, *_unused):
        x, weight, mean, var, xhat, rstd = ctx.saved_tensors
        spec, xp = ctx.spec, ctx.xp
        graph = isinstance(dy, Tensor)
        if graph:  # double backward: rebuild the intermediates as differentiable tensors
            xhat, rstd = _recompute(x, mean, var, spec, ctx.given, xp)
            dyv = xp.reshape(dy, spec.view)
        else:
            dyv = dy.reshape(spec.view)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        w = None if weight is None else (xp.reshape(weight, spec.pshape) if graph else weight.reshape(spec.pshape))
        pax = spec.param_axes
        dw = db = dx = None
        dy_xhat = dyv * xhat if (need_w or (need_x and not ctx.given)) else None
        if not graph and not ctx.given and spec.center and spec.group_constant:
            # weight is constant per group: reduce dy and dy*xhat once, reuse for dx, dw and db
            n = max(spec.count, 1)
            s1 = _sum(dyv, spec.axes, xp)
            s2 = _sum(dy_xhat, spec.axes, xp)
            if need_x:
                dx = xhat * (s2 / n)
                xp.subtract(dyv, dx, out=dx)
                dx -= s1 / n
                dx *= rstd if w is None else rstd * w
            if need_w:
                dw = _sum(s2, tuple(a for a in pax if a not in spec.axes), xp).reshape(weight.shape)
            if need_b:
                db = _sum(s1, tuple(a for a in pax if a not in spec.axes), xp).reshape(ctx.bias_shape)
            return (None if dx is None else dx.reshape(x.shape)), dw, db, None, None, None
        if need_x:
            g = dyv if w is None else dyv * w
            if ctx.given:
                dx = g * rstd
            else:
                n = max(spec.count, 1)
                proj = xhat * (_sum(g * xhat, spec.axes, xp) / n)
                dx = (g - _sum(g, spec.axes, xp) / n - proj) if spec.center else (g - proj)
                dx = dx * rstd
            dx = xp.reshape(dx, x.shape) if graph else dx.reshape(x.shape)
        if need_w:
            dw = _sum(dy_xhat, pax, xp)
            dw = xp.reshape(dw, weight.shape) if graph else dw.reshape(weight.shape)
        if need_b:
            db = _sum(dyv, pax, xp)
            db = xp.reshape(db, ctx.bias_shape) if graph else db.reshape(ctx.bias_shape)
        return dx, dw, db, None, None, None



def _recompute(x: Any, mean: Any, var: Any, spec: Spec, given: bool, xp: Any) -> tuple[Any, Any]:
    xv = xp.reshape(x, spec.view)
    if given:
        rstd = 1.0 / xp.sqrt(xp.reshape(var, spec.pshape) + spec.eps)
        return (xv - xp.reshape(mean, spec.pshape)) * rstd, rstd
    _, v, xc = _stats(xv, spec, xp)
    rstd = 1.0 / xp.sqrt(v + spec.eps)
    return xc * rstd, rstd


def normalize(x: Tensor, weight: Tensor | None, bias: Tensor | None, spec: Spec,
              mean: Tensor | None = None, var: Tensor | None = None) -> Any:
    """Apply :class:`Normalize`; returns y, or (y, batch mean, batch var) without given stats."""
    return Normalize.apply(x, weight, bias, mean, var, spec)
