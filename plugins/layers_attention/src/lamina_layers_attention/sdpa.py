"""F.scaled_dot_product_attention: one fused Function with an analytic backward.

The attention core (``attend`` / ``attend_backward``) is shared with MultiheadAttention: scores
Z = scale * q @ k^T + mask, P = softmax(Z) along the keys, optional dropout on P, out = P @ v.
A row whose keys are all masked gives P = 0 (and so a zero output and zero gradients), as
PyTorch's CPU kernels do, instead of the NaN a plain softmax would give.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import lamina
from lamina import Tensor
from lamina.amp import autocast_op
from lamina.autograd import Function
from lamina.errors import DTypeError, ShapeError

__lamina_plugin_api__ = "1.0"


def attend(xp: Any, q: Any, k: Any, v: Any, mask: Any, drop: Any, scale: float, causal: bool,
           empty_rows_nan: bool = False):
    """Forward core on arrays. q (..., L, E), k (..., S, E), v (..., S, Ev) -> out (..., L, Ev), P, P_dropped.

    ``mask`` is None, a bool array (True = attend) or a float array added to the scores, broadcastable
    to (..., L, S); ``drop`` is None or the already scaled keep-mask multiplied into P. A fully masked
    row gives P = 0, or NaN with ``empty_rows_nan`` (PyTorch's weight-returning MultiheadAttention path).

    The scores are computed transposed, Z^T = k @ q^T (..., S, L), and P is its swapped view: the softmax
    then reduces over axis -2, which NumPy vectorises across the contiguous L axis (a max or sum along a
    short contiguous last axis runs ~5-10x slower). P (and P_dropped) may therefore be non-contiguous views.
    """
    zt = k @ q.swapaxes(-1, -2)                                # (..., S, L), a fresh array: work in place
    zt *= scale
    z = zt.swapaxes(-1, -2)                                    # (..., L, S), a view
    if mask is not None:
        if mask.dtype == bool:
            z = xp.where(mask, z, -math.inf).astype(z.dtype, copy=False)
        else:
            z += mask
    if causal:
        z += _causal_bias(xp, z.shape[-2], z.shape[-1], z.dtype)     # in place: -inf above the diagonal
    zt = z.swapaxes(-1, -2)                                    # (..., S, L); contiguous unless a bool mask copied
    if zt.shape[-2]:   # no key at all (S = 0): every row is empty, nothing to shift
        m = zt.max(axis=-2, keepdims=True)                     # (..., 1, L)
        zt -= xp.where(xp.isfinite(m), m, 0).astype(zt.dtype, copy=False)
    pt = xp.exp(zt, out=zt)
    denom = pt.sum(axis=-2, keepdims=True)
    denom[denom == 0] = math.nan if empty_rows_nan else 1      # fully masked row: P = 0 (or NaN), no warning
    pt *= xp.reciprocal(denom, out=denom)                      # (..., 1, L): one division a row
    p = pt.swapaxes(-1, -2)                                    # (..., L, S)
    pd = p if drop is None else p * drop
    return pd @ v, p, pd


def attend_backward(xp: Any, q: Any, k: Any, v: Any, p: Any, pd: Any, drop: Any, scale: float, dout: Any,
                    dweights: Any = None, out: Any = None):
    """Backward core: dout (..., L, Ev) (+ optional gradient of P_dropped) -> dq, dk, dv, dz (dz = d mask).

    ``out`` (..., L, Ev), the forward's output, when given and ``dweights`` is None, gives the softmax
    term sum_s(dP * P) as the smaller row dot dout . out (the same sum: out = P_dropped @ v). As in
    ``attend`` the work is on the transposed (..., S, L) arrays; dz comes back as a (possibly
    non-contiguous) (..., L, S) view.
    """
    pt, pdt = p.swapaxes(-1, -2), pd.swapaxes(-1, -2)          # (..., S, L), contiguous for attend's P
    dv = pdt @ dout                                            # (..., S, Ev)
    dpt = v @ dout.swapaxes(-1, -2)                            # (..., S, L), a fresh array: work in place
    if dweights is not None:
        dpt += dweights.swapaxes(-1, -2)
    if drop is not None:
        dpt *= drop.swapaxes(-1, -2)
    # softmax Jacobian-vector product in closed form: dz = P * (dP - sum(dP * P))
    if out is not None and dweights is None:
        rowdot = xp.einsum("...e,...e->...", dout, out)[..., None, :]   # (..., 1, L); no (..., L, Ev) product array
    else:
        rowdot = (dpt * pt).sum(axis=-2, keepdims=True)
    dpt -= rowdot
    dpt *= pt
    dq = dpt.swapaxes(-1, -2) @ k                              # (..., L, E)
    dq *= scale
    dk = dpt @ q                                               # (..., S, E)
    dk *= scale
    return dq, dk, dv, dpt.swapaxes(-1, -2)


def attend_backward_graph(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, drop: Tensor | None, scale: float,
                          causal: bool, dout: Tensor, dweights: Tensor | None = None) -> tuple:
    """``attend_backward`` in lamina ops, for create_graph=True: P is recomputed from q, k and the mask (Tensors
    tied to the graph), so the engine differentiates the gradients again, to any order.

    Shape: q (..., L, E), k (..., S, E), v (..., S, Ev), dout (..., L, Ev) -> dq, dk, dv, dz (..., L, S)
    (dz = d mask). ``mask`` bool (True = attend) or float (added); a fully masked row gives P = 0.
    """
    z = (q @ k.transpose(-1, -2)) * scale
    if mask is not None:
        z = lamina.where(mask, z, -math.inf) if mask.dtype == lamina.bool else z + mask
    if causal:
        xp = q.device.backend.xp
        z = z + lamina.as_tensor(_causal_bias(xp, z.shape[-2], z.shape[-1], z.array.dtype), device=q.device)
    if z.shape[-1]:                                                           # rows with a key to attend
        live = lamina.isfinite(z.detach().amax(dim=-1, keepdim=True))
    else:
        live = lamina.zeros(*z.shape[:-1], 1, dtype=lamina.bool, device=z.device)
    p = lamina.softmax(lamina.where(live, z, 0.0), dim=-1) * live.to(z.dtype)
    pd = p if drop is None else p * drop
    dv = pd.transpose(-1, -2) @ dout
    dp = dout @ v.transpose(-1, -2)
    if dweights is not None:
        dp = dp + dweights
    if drop is not None:
        dp = dp * drop
    dz = p * (dp - (dp * p).sum(dim=-1, keepdim=True))          # the softmax Jacobian-vector product
    return (dz @ k) * scale, (dz.transpose(-1, -2) @ q) * scale, dv, dz


def _repeat_heads(t: Tensor, groups: int) -> Tensor:
    """(..., Hk, S, E) -> (..., Hk * groups, S, E), each head repeated ``groups`` times in place (as xp.repeat)."""
    lead, (h, s, e) = tuple(t.shape[:-3]), tuple(t.shape[-3:])
    return t.unsqueeze(-3).expand(*lead, h, groups, s, e).reshape(*lead, h * groups, s, e)


def _sum_groups(g: Any, groups: int) -> Any:
    """(..., Hk * groups, S, E) -> (..., Hk, S, E): the gradient of repeated heads summed per key/value head."""
    return g.reshape(tuple(g.shape[:-3]) + (g.shape[-3] // groups, groups) + tuple(g.shape[-2:])).sum(-3)


@functools.lru_cache(maxsize=32)
def _causal_bias_cached(xp: Any, L: int, S: int, dtype: Any) -> Any:
    allowed = xp.arange(S)[None, :] <= xp.arange(L)[:, None]          # top-left aligned, as PyTorch
    bias = xp.where(allowed, 0.0, -math.inf).astype(dtype)
    if xp.__name__ == "numpy":
        bias.flags.writeable = False
    return bias


def _causal_bias(xp: Any, L: int, S: int, dtype: Any) -> Any:
    """(L, S): 0 where key s <= query l may be attended, -inf above the diagonal (cached, read-only)."""
    return _causal_bias_cached(xp, L, S, xp.dtype(dtype))


class ScaledDotProductAttention(Function):
    """softmax(scale * q @ k^T + mask) @ v. q (..., Hq, L, E), k (..., Hk, S, E), v (..., Hk, S, Ev) -> (..., Hq, L, Ev)

    With ``groups`` > 1 (grouped-query attention) each key/value head serves ``groups`` query heads.
    """

    @staticmethod
    def forward(ctx, q, k, v, mask, drop, scale, causal, groups):
        xp = ctx.xp
        q0, k0, v0, mask0 = q, k, v, mask                # the inputs, for the create_graph path
        if groups > 1:
            k, v = xp.repeat(k, groups, axis=-3), xp.repeat(v, groups, axis=-3)
        low = q.dtype if q.dtype.kind == "V" else None  # bfloat16: attend in float32, round the output once
        if low is not None:
            q, k, v = q.astype("float32"), k.astype("float32"), v.astype("float32")
            mask = mask.astype("float32") if mask is not None and mask.dtype == low else mask
        out, p, pd = attend(xp, q, k, v, mask, drop, scale, causal)
        ctx.save_for_backward(q, k, v, p, None if drop is None else pd, drop, out, q0, k0, v0, mask0)
        ctx.scale, ctx.groups, ctx.causal = scale, groups, causal
        return out if low is None else out.astype(low)

    @staticmethod
    def backward(ctx, dout):
        q, k, v, p, pd, drop, out, q0, k0, v0, mask = ctx.saved_tensors
        g = ctx.groups
        if isinstance(dout, Tensor):  # create_graph: recompute from the inputs with lamina ops
            if g > 1:
                k0, v0 = _repeat_heads(k0, g), _repeat_heads(v0, g)
            dq, dk, dv, dz = attend_backward_graph(q0, k0, v0, mask, drop, ctx.scale, ctx.causal, dout)
        else:
            dq, dk, dv, dz = attend_backward(ctx.xp, q, k, v, p, p if pd is None else pd, drop, ctx.scale, dout,
                                             out=out)
        if g > 1:
            dk, dv = _sum_groups(dk, g), _sum_groups(dv, g)
        dmask = None
        if ctx.needs_input_grad[3]:   # attend_backward's dz is a transposed view
            dmask = dz if isinstance(dz, Tensor) else ctx.xp.ascontiguousarray(dz)
        return dq, dk, dv, dmask, None, None, None, None


def broadcast_shape(*shapes: tuple, what: str = "scaled_dot_product_attention") -> tuple:
    """NumPy broadcasting of shapes, with an error naming the caller."""
    n = max(len(s) for s in shapes)
    out = []
    for dims in zip(*((1,) * (n - len(s)) + tuple(s) for s in shapes)):
        big = {d for d in dims if d != 1}
        if len(big) > 1:
            got = " and ".join(str(tuple(s)) for s in shapes)
            raise ShapeError(f"{what}: expected broadcastable shapes, got {got}")
        out.append(big.pop() if big else 1)
    return tuple(out)


def dropout_keep(like: Tensor, shape: tuple, p: float) -> Any:
    """A keep-mask array (0 or 1 / (1 - p)) in ``like``'s dtype, drawn from lamina's default generator."""
    if p >= 1.0:
        return lamina.zeros(*shape, dtype=like.dtype, device=like.device).array
    u = lamina.rand(tuple(shape), dtype=like.dtype, device=like.device).array
    return (u >= p).astype(u.dtype) * (1.0 / (1.0 - p))


def _check(query: Tensor, key: Tensor, value: Tensor, attn_mask: Any, dropout_p: float, is_causal: bool,
           enable_gqa: bool) -> int:
    name = "scaled_dot_product_attention"
    for arg, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: expected {arg} to be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise ShapeError(f"{name}: expected {arg} with at least 2 dims (..., L, E), got shape {tuple(t.shape)}")
        if not t.is_floating_point():
            raise DTypeError(f"{name}: expected floating point {arg}, got {t.dtype}")
    if not (query.dtype == key.dtype == value.dtype):
        raise DTypeError(f"{name}: expected query, key and value of one dtype, got {query.dtype}, {key.dtype} and "
                         f"{value.dtype}")
    if query.shape[-1] != key.shape[-1]:
        raise ShapeError(f"{name}: expected query (..., L, E) and key (..., S, E) with the same E, got query "
                         f"{tuple(query.shape)} and key {tuple(key.shape)}")
    if key.shape[-2] != value.shape[-2]:
        raise ShapeError(f"{name}: expected key (..., S, E) and value (..., S, Ev) with the same S, got key "
                         f"{tuple(key.shape)} and value {tuple(value.shape)}")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{name}: expected dropout_p in [0, 1], got {dropout_p}")
    if is_causal and attn_mask is not None:
        raise RuntimeError(f"{name}: explicit attn_mask should not be set when is_causal=True")
    groups = 1
    if enable_gqa and query.ndim >= 3 and key.ndim >= 3 and query.shape[-3] != key.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hk == 0 or hq % hk or value.shape[-3] != hk:
            raise ShapeError(f"{name}: with enable_gqa, expected the query heads ({hq}) to be a multiple of the "
                             f"key/value heads, got key heads {hk} and value heads {value.shape[-3]}")
        groups = hq // hk
    broadcast_shape(tuple(query.shape[:-2]), _kv_batch(key, groups), _kv_batch(value, groups), what=name)
    return groups


def _kv_batch(t: Tensor, groups: int) -> tuple:
    """The batch dims of key/value as the query sees them (heads repeated for grouped-query attention)."""
    if t.ndim < 3:
        return tuple(t.shape[:-2])
    return tuple(t.shape[:-3]) + (t.shape[-3] * groups,)


@autocast_op("lower_precision_fp")
def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(query @ key^T * scale + attn_mask) @ value, with optional dropout on the weights.

    ``attn_mask``: bool (True = take part in attention) or float (added to the scores), broadcastable
    to (..., L, S). ``is_causal``: a top-left aligned lower-triangular mask. ``scale`` defaults to
    1 / sqrt(E). ``enable_gqa``: key/value may have fewer heads (dim -3) than query.

    Shape:
        query (..., Hq, L, E), key (..., Hk, S, E), value (..., Hk, S, Ev) -> (..., Hq, L, Ev)
    """
    groups = _check(query, key, value, attn_mask, dropout_p, is_causal, enable_gqa)
    L, S = query.shape[-2], key.shape[-2]
    if attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            attn_mask = lamina.as_tensor(attn_mask, device=query.device)
        if attn_mask.dtype != lamina.bool:
            if not attn_mask.is_floating_point():
                raise DTypeError(f"scaled_dot_product_attention: expected a bool or floating attn_mask, got "
                                 f"{attn_mask.dtype}")
            if attn_mask.dtype != query.dtype:
                attn_mask = attn_mask.to(query.dtype)
        if attn_mask.ndim < 1 or attn_mask.shape[-1] not in (1, S) or (attn_mask.ndim > 1 and
                                                                     attn_mask.shape[-2] not in (1, L)):
            raise ShapeError(f"scaled_dot_product_attention: expected attn_mask broadcastable to (..., L, S) = "
                             f"(..., {L}, {S}), got shape {tuple(attn_mask.shape)}")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    drop = None
    if dropout_p > 0.0:
        batch = broadcast_shape(tuple(query.shape[:-2]), _kv_batch(key, groups))
        if attn_mask is not None:
            batch = broadcast_shape(batch, tuple(attn_mask.shape[:-2]))
        drop = dropout_keep(query, batch + (L, S), dropout_p)
    return ScaledDotProductAttention.apply(query, key, value, attn_mask, drop, scale, bool(is_causal), groups)
