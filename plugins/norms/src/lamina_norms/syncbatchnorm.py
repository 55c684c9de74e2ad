"""SyncBatchNorm's cross-process kernel: batch statistics and input gradients over every rank's batch.

Forward: each rank computes its per-channel count, mean and sum of squared deviations (M2) in the
input dtype (two passes, as the one-process kernel), all-gathers them in float64, and combines
them exactly (Chan's parallel formula: M2 = sum(M2_r + n_r (mean_r - mean)^2)), which avoids the
cancellation of a float32 sum of squares. Backward: each rank's per-channel sums of dy and
dy * xhat are all-reduced, so the input gradient is that of one process over the concatenated
batch (with the ranks' losses summed); weight and bias get this rank's own sums, which DDP then
averages like every other parameter gradient.

``lamina.distributed`` is reached only through the ``sync`` object the layer builds at forward
time; this module imports nothing distributed. Double backward is not supported.
"""

from __future__ import annotations

from typing import Any

import lamina
from lamina import Tensor
from lamina.autograd import Function

from ._kernel import _sum, _sum_prod

__lamina_plugin_api__ = "1.0"


class ProcessGroupSync:
    """The two collectives of a SyncBatchNorm step on ``group`` of ``dist`` (``lamina.distributed``)."""

    def __init__(self, dist: Any, group: Any, device: Any) -> None:
        self.dist, self.group, self.device = dist, group, device
        self.world_size = dist.get_world_size(group)

    def _tensor(self, a: Any, dtype: Any) -> Tensor:
        t = lamina.empty(tuple(a.shape), dtype=dtype, device=self.device)
        t.array[...] = a
        return t

    def all_gather(self, a: Any, xp: Any) -> Any:
        """(3, C) float64 per rank -> (world_size, 3, C)."""
        mine = self._tensor(a, lamina.float64)
        out = [lamina.empty(tuple(a.shape), dtype=lamina.float64, device=self.device) for _ in range(self.world_size)]
        self.dist.all_gather(out, mine, group=self.group)
        return xp.stack([t.array for t in out])

    def all_reduce(self, a: Any, dtype: Any) -> Any:
        t = self._tensor(a, dtype)
        self.dist.all_reduce(t, group=self.group)
        return t.array


def _local_stats(xv: Any, xp: Any) -> Any:
    """(3, C) float64: count, mean, M2 of xv (N, C, L) over N and L (zeros for an empty batch)."""
    N, C, L = xv.shape
    n = N * L
    stats = xp.zeros((3, C), dtype=xp.float64)
    stats[0] = n
    if n:
        mean = _sum(xv, (0, 2), xp) / n
        xc = xv - mean
        stats[1] = mean.reshape(C)
        stats[2] = _sum_prod(xc, xc, (0, 2), xp).reshape(C)
    return stats


class SyncBatchNormFunction(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, mean and biased var over all ranks' (N, *).

    Shape: x (N, C, *) viewed as (N, C, L); weight, bias (C,) or None -> y like x, mean (C,), var (C,)
    (biased, global), count () (the global number of values per channel); the last three are not
    differentiable.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, eps, sync):
        xp = ctx.xp
        N, C = x.shape[0], x.shape[1]
        xv = x.reshape(N, C, -1)
        stats = sync.all_gather(_local_stats(xv, xp), xp)  # (R, 3, C)
        counts, means, m2s = stats[:, 0], stats[:, 1], stats[:, 2]
        total = counts.sum(axis=0)  # (C,), the same for every channel
        n = float(total[0]) if C else 0.0
        if n <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel over all ranks when training, "
                             f"got {int(n)} (input size {list(x.shape)} on this rank)")
        mean64 = (counts * means).sum(axis=0) / n
        var64 = (m2s + counts * (means - mean64) ** 2).sum(axis=0) / n
        mean = mean64.astype(x.dtype).reshape(1, C, 1)
        var = var64.astype(x.dtype)
        rstd = (1.0 / xp.sqrt(var + eps)).reshape(1, C, 1)
        y = xv - mean
        y *= rstd
        if weight is not None:
            y *= weight.reshape(1, C, 1)
        if bias is not None:
            y += bias.reshape(1, C, 1)
        ctx.sync, ctx.count = sync, n
        ctx.bias_shape = None if bias is None else bias.shape
        ctx.save_for_backward(x, weight, mean, rstd)
        out_mean, out_count = mean.reshape(C), xp.asarray(n, dtype=x.dtype)
        ctx.mark_non_differentiable(out_mean, var, out_count)
        return y.reshape(x.shape), out_mean, var, out_count

    @staticmethod
    def backward(ctx, dy, *_unused):
        if isinstance(dy, Tensor):
            raise NotImplementedError("SyncBatchNorm: double backward (create_graph=True) is not supported "
                                      "across processes")
        x, weight, mean, rstd = ctx.saved_tensors
        xp, n = ctx.xp, ctx.count
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        N, C = x.shape[0], x.shape[1]
        xv, dyv = x.reshape(N, C, -1), dy.reshape(N, C, -1)
        xc = xv - mean
        s1 = _sum(dyv, (0, 2), xp)  # sum(dy): (1, C, 1)
        s2 = _sum_prod(dyv, xc, (0, 2), xp) * rstd  # sum(dy * xhat)
        dw = s2.reshape(weight.shape) if need_w else None  # this rank's share; DDP averages it
        db = s1.reshape(ctx.bias_shape) if need_b else None
        dx = None
        if need_x:
            both = ctx.sync.all_reduce(xp.concatenate([s1.reshape(C), s2.reshape(C)]), _dtype_of(x))
            g1, g2 = both[:C].reshape(1, C, 1), both[C:].reshape(1, C, 1)
            k1 = rstd if weight is None else rstd * weight.reshape(1, C, 1)
            dx = dyv * k1
            xc *= k1 * rstd * (-1.0 / n) * g2
            dx += xc
            dx -= k1 * g1 / n
            dx = dx.reshape(x.shape)
        return dx, dw, db, None, None


def _dtype_of(a: Any) -> Any:
    return getattr(lamina, a.dtype.name)


def sync_batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None, eps: float,
                    sync: ProcessGroupSync) -> tuple[Tensor, Tensor, Tensor, float]:
    """Normalise ``input`` with the statistics of every rank of ``sync``'s group.

    Shape: input (N, C, *) -> y (N, C, *), mean (C,), biased var (C,), and the global count per channel
    """
    y, mean, var, count = SyncBatchNormFunction.apply(input, weight, bias, float(eps), sync)
    return y, mean, var, float(count.item())
