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


def _sum_prod(a: Any, b: Any, axes: tuple[int, ...], xp: Any) -> Any:
    """sum(a * b) over ``axes`` (keepdims) without the a * b temporary when the last axis is reduced."""
    last = a.ndim - 1
    vecdot = getattr(xp, "vecdot", None)
    if last not in axes or vecdot is None or a.shape != b.shape:
        return _sum(a * b, axes, xp)
    s = vecdot(a, b)[..., None]
    rest = tuple(ax for ax in axes if ax != last)
    return _sum(s, rest, xp) if rest else s


def _stats(xv: Any, spec: Spec, xp: Any) -> tuple[Any, Any, Any]:
    """(mean or None, variance or mean square, centred x) over ``spec.axes``; arrays or tensors."""
    n = max(spec.count, 1)
    if spec.center:
        mean = _sum(xv, spec.axes, xp) / n
        xc = xv - mean
    else:
        mean, xc = None, xv
    var = _sum(xc * xc, spec.axes, xp) / n if isinstance(xv, Tensor) else _sum_prod(xc, xc, spec.axes, xp) / n
    return mean, var, xc


class Normalize(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, statistics over ``spec.axes`` of ``spec.view``.

    Shape: x (*) viewed as ``spec.view`` -> y like x. With ``mean``/``var`` None (batch statistics)
    also returns the batch mean and biased variance (keepdims in the view, not differentiable);
    with given ``mean``/``var`` (running statistics, broadcast as ``spec.pshape``) returns y only.
    Saves x, weight, mean and 1/std; x - mean is recomputed in backward (one pass, no stored copy).
    """

    #: the type of ``spec``, for kernel packs (and their records) that reach this op by name
    Spec = Spec

    @staticmethod
    def forward(ctx, x, weight, bias, mean, var, spec):
        if x.dtype.kind == "V":  # bfloat16: normalise in float32, round the outputs once (torch CPU)
            out = Normalize.forward(ctx, *(None if a is None else a.astype("float32")
                                           for a in (x, weight, bias, mean, var)), spec)
            if not isinstance(out, tuple):
                return out.astype(x.dtype)
            y, stat_mean, v = (o.astype(x.dtype) for o in out)
            ctx.mark_non_differentiable(stat_mean, v)
            return y, stat_mean, v
        xp = ctx.xp
        xv = x.reshape(spec.view)
        given = mean is not None
        w = None if weight is None else weight.reshape(spec.pshape)
        if given:
            m = mean.reshape(spec.pshape)
            rstd = 1.0 / xp.sqrt(var.reshape(spec.pshape) + spec.eps)
            scale = rstd if w is None else rstd * w
            y = xv * scale  # y = x * scale + (bias - mean * scale): one pass over x
            y += (-m * scale) if bias is None else (bias.reshape(spec.pshape) - m * scale)
        else:
            m, v, xc = _stats(xv, spec, xp)
            rstd = 1.0 / xp.sqrt(v + spec.eps)
            y = xv * rstd if xc is xv else xc  # the centred copy becomes the output, in place
            if xc is not xv:
                y *= rstd
            if w is not None:
                y *= w
            if bias is not None:
                y += bias.reshape(spec.pshape)
        ctx.spec, ctx.given = spec, given
        ctx.bias_shape = None if bias is None else bias.shape
        ctx.save_for_backward(x, weight, m, rstd)
        if given:
            return y.reshape(x.shape)
        stat_mean = m if m is not None else xp.zeros_like(v)
        ctx.mark_non_differentiable(stat_mean, v)
        return y.reshape(x.shape), stat_mean, v

    @staticmethod
    def backward(ctx, dy, *_unused):
        x, weight, mean, rstd = ctx.saved_tensors
        spec, xp = ctx.spec, ctx.xp
        if isinstance(dy, Tensor):  # double backward: rebuild the intermediates as differentiable tensors
            return _backward_graph(ctx, dy, x, weight, mean, rstd)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        dyv = dy.reshape(spec.view)
        xv = x.reshape(spec.view)
        w = None if weight is None else weight.reshape(spec.pshape)
        xc = xv if mean is None else xv - mean
        pax = spec.param_axes
        n = max(spec.count, 1)
        dx = dw = db = None
        if not ctx.given and spec.center and spec.group_constant:
            # weight is constant within a group: dx = k1 * dy + k2 * (x - mean) + k3, per-group k's
            s1 = _sum(dyv, spec.axes, xp)
            s2 = _sum_prod(dyv, xc, spec.axes, xp) * rstd  # sum(dy * xhat)
            rest = tuple(a for a in pax if a not in spec.axes)
            if need_x:
                k1 = rstd if w is None else rstd * w
                dx = dyv * k1
                xc *= k1 * rstd * (-1.0 / n) * s2  # xc is a fresh x - mean here
                dx += xc
                dx -= k1 * s1 / n
                dx = dx.reshape(x.shape)
            if need_w:
                dw = _sum(s2, rest, xp).reshape(weight.shape)
            if need_b:
                db = _sum(s1, rest, xp).reshape(ctx.bias_shape)
            return dx, dw, db, None, None, None
        xhat = xc * rstd if xc is xv else _scale_inplace(xc, rstd)
        if need_w:
            dw = _sum(dyv * xhat, pax, xp).reshape(weight.shape)
        if need_b:
            db = _sum(dyv, pax, xp).reshape(ctx.bias_shape)
        if need_x:
            g = dyv if w is None else dyv * w
            if ctx.given:
                dx = g * rstd
            else:
                proj = _sum_prod(g, xhat, spec.axes, xp) / n
                xhat *= proj
                dx = g - xhat
                if spec.center:
                    dx -= _sum(g, spec.axes, xp) / n
                dx *= rstd
            dx = dx.reshape(x.shape)
        return dx, dw, db, None, None, None


def _scale_inplace(a: Any, s: Any) -> Any:
    a *= s
    return a


def _backward_graph(ctx, dy, x, weight, mean, rstd) -> tuple:
    """The same gradients written with the differentiable namespace (create_graph=True)."""
    spec, xp = ctx.spec, ctx.xp
    xv = xp.reshape(x, spec.view)
    if ctx.given:  # running statistics are constants
        xhat = (xv - mean) * rstd
    else:
        _, v, xc = _stats(xv, spec, xp)
        rstd = 1.0 / xp.sqrt(v + spec.eps)
        xhat = xc * rstd
    dyv = xp.reshape(dy, spec.view)
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    pax = spec.param_axes
    dx = dw = db = None
    if need_x:
        g = dyv if weight is None else dyv * xp.reshape(weight, spec.pshape)
        if ctx.given:
            dx = g * rstd
        else:
            n = max(spec.count, 1)
            dx = g - xhat * (xp.sum(g * xhat, axis=spec.axes, keepdims=True) / n)
            if spec.center:
                dx = dx - xp.sum(g, axis=spec.axes, keepdims=True) / n
            dx = dx * rstd
        dx = xp.reshape(dx, x.shape)
    if need_w:
        dw = xp.reshape(xp.sum(dyv * xhat, axis=pax, keepdims=True), weight.shape)
    if need_b:
        db = xp.reshape(xp.sum(dyv, axis=pax, keepdims=True), ctx.bias_shape)
    return dx, dw, db, None, None, None


def normalize(x: Tensor, weight: Tensor | None, bias: Tensor | None, spec: Spec,
              mean: Tensor | None = None, var: Tensor | None = None) -> Any:
    """Apply :class:`Normalize`; returns y, or (y, batch mean, batch var) without given stats."""
    return Normalize.apply(x, weight, bias, mean, var, spec)
