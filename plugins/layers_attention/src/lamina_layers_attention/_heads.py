"""The multi-head attention core: heads split by a reshape, batched matmuls, heads merged; one Function.

Projected inputs come in the layer's layout, (L, N, E) or with ``batch_first`` (N, L, E); a head
is a reshape + transpose view (N, H, L, head_dim), so no copy is made before the matmuls. In the
packed self-attention case the three projections arrive as one (.., 3E) array (one GEMM upstream)
and their gradients leave as one array as well.
"""

from __future__ import annotations

from typing import Any

import lamina
from lamina import Tensor
from lamina.autograd import Function

from .sdpa import attend, attend_backward, attend_backward_graph


def split_heads(x: Any, heads: int, batch_first: bool) -> Any:
    """(L, N, E) or (N, L, E) -> a (N, H, L, E // H) view."""
    a, b, e = x.shape
    x = x.reshape(a, b, heads, e // heads)
    return x.transpose(0, 2, 1, 3) if batch_first else x.transpose(1, 2, 0, 3)


def merge_heads(y: Any, batch_first: bool, out: Any = None) -> Any:
    """(N, H, L, d) -> (L, N, H * d) or (N, L, H * d); written into ``out`` (a (.., H, d) view) when given."""
    n, h, length, d = y.shape
    t = y.transpose(0, 2, 1, 3) if batch_first else y.transpose(2, 0, 1, 3)
    if out is not None:
        out[...] = t
        return out
    return t.reshape(t.shape[:2] + (h * d,))


class MultiHeadAttentionCore(Function):
    """Attention over ``heads`` heads. q (L, N, E), k (S, N, E), v (S, N, Ev) (or batch-first) -> (L, N, Ev)

    With ``k`` and ``v`` None, ``q`` is the packed (L, N, 3E) output of one in-projection GEMM.
    ``mask`` is an additive float array broadcastable to (N, H, L, S); ``drop`` the scaled keep-mask.
    With ``need_weights`` the (dropped-out) attention weights (N, H, L, S) are a second output, and
    fully masked rows give NaN as in PyTorch's weight-returning path (zeros otherwise).
    """

    @staticmethod
    def forward(ctx, q, k, v, mask, drop, heads, scale, causal, batch_first, need_weights):
        xp = ctx.xp
        inputs = (q, k, v, mask)                         # for the create_graph path
        packed = k is None
        if packed:
            e = q.shape[-1] // 3
            q, k, v = q[..., :e], q[..., e:2 * e], q[..., 2 * e:]
        qh, kh, vh = (split_heads(x, heads, batch_first) for x in (q, k, v))
        out, p, pd = attend(xp, qh, kh, vh, mask, drop, scale, causal, empty_rows_nan=need_weights)
        ctx.save_for_backward(qh, kh, vh, p, None if drop is None else pd, drop, *inputs)
        ctx.cfg = (heads, scale, batch_first, packed, q.shape[-1], k.shape[-1], v.shape[-1])
        ctx.causal = causal
        ctx.set_materialize_grads(False)
        y = merge_heads(out, batch_first)
        ctx.y_meta = (y.shape, y.dtype)
        if need_weights:
            return y, xp.ascontiguousarray(pd)          # attend's P may be a transposed view
        return y

    @staticmethod
    def backward(ctx, dy, dweights=None):
        if isinstance(dy, Tensor) or isinstance(dweights, Tensor):
            return _backward_graph(ctx, dy, dweights)
        qh, kh, vh, p, pd, drop = ctx.saved_tensors[:6]
        heads, scale, batch_first, packed, eq, ek, ev = ctx.cfg
        xp = ctx.xp
        if dy is None:  # only the weights reach the loss (grads are not materialised: dweights may be None)
            dy = xp.zeros(*ctx.y_meta)
        dout = split_heads(dy, heads, batch_first)
        dq, dk, dv, dz = attend_backward(xp, qh, kh, vh, p, p if pd is None else pd, drop, scale, dout, dweights)
        dmask = xp.ascontiguousarray(dz) if ctx.needs_input_grad[3] else None
        if packed:
            a, b = dy.shape[:2]
            dqkv = xp.empty((a, b, 3, heads, eq // heads), dtype=dy.dtype)   # (.., 3, H, d) == (.., 3E)
            for i, g in enumerate((dq, dk, dv)):
                merge_heads(g, batch_first, out=dqkv[:, :, i])
            return dqkv.reshape(a, b, 3 * eq), None, None, dmask, None, None, None, None, None, None
        need = ctx.needs_input_grad
        dq = merge_heads(dq, batch_first) if need[0] else None
        dk = merge_heads(dk, batch_first) if need[1] else None
        dv = merge_heads(dv, batch_first) if need[2] else None
        return dq, dk, dv, dmask, None, None, None, None, None, None


def _split(x: Tensor, heads: int, batch_first: bool) -> Tensor:
    """``split_heads`` in lamina ops: (L, N, E) or (N, L, E) -> (N, H, L, E // H)."""
    a, b, e = x.shape
    x = x.reshape(a, b, heads, e // heads)
    return x.permute(0, 2, 1, 3) if batch_first else x.permute(1, 2, 0, 3)


def _merge(y: Tensor, batch_first: bool) -> Tensor:
    """``merge_heads`` in lamina ops: (N, H, L, d) -> (L, N, H * d) or (N, L, H * d)."""
    t = y.permute(0, 2, 1, 3) if batch_first else y.permute(2, 0, 1, 3)
    return t.reshape(t.shape[0], t.shape[1], -1)


def _backward_graph(ctx, dy: Tensor | None, dweights: Tensor | None) -> tuple:
    """The gradients of the array path in lamina ops (create_graph=True), from the saved inputs."""
    q, k, v, mask = ctx.saved_tensors[6:]
    drop = ctx.saved_tensors[5]
    heads, scale, batch_first, packed, eq, ek, ev = ctx.cfg
    if packed:
        e = q.shape[-1] // 3
        q, k, v = q[..., :e], q[..., e:2 * e], q[..., 2 * e:]
    if dy is None:
        dy = lamina.zeros(*ctx.y_meta[0], dtype=q.dtype, device=q.device)
    qh, kh, vh = (_split(x, heads, batch_first) for x in (q, k, v))
    dq, dk, dv, dz = attend_backward_graph(qh, kh, vh, mask, drop, scale, ctx.causal, _split(dy, heads, batch_first),
                                           dweights)
    dmask = dz if ctx.needs_input_grad[3] else None
    dq, dk, dv = (_merge(g, batch_first) for g in (dq, dk, dv))
    if packed:
        return lamina.cat([dq, dk, dv], -1), None, None, dmask, None, None, None, None, None, None
    return dq, dk, dv, dmask, None, None, None, None, None, None
