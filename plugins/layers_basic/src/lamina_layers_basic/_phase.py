"""Input gradient of a strided convolution by phase decomposition (col2im without short strided rows).

Kernel offset ``i`` of output position ``o`` reads padded input position ``s * o + i * d``, which
is ``s * (o + a) + r`` with phase ``r = (i * d) % s`` and shift ``a = (i * d) // s``. So the input
gradient splits into ``prod(stride)`` phase grids, and on its phase grid every kernel offset is a
plain shift. The output gradient is laid out at the phase grid's sizes (zeros appended on every
spatial dim) and the GEMM writes the rows of one kernel offset together, so each offset is one
flat, contiguous add per (n, group). The phase grids are then interleaved into dx with one strided copy each.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from ._im2col import padded

__lamina_plugin_api__ = "1.0"


def _phase_slices(phase, pads, stride, sizes, grid):
    """(dx slices, phase-grid slices) of the input positions that belong to ``phase``; None if none."""
    dst, src = [], []
    for r, (lo, _), s, size, A in zip(phase, pads, stride, sizes, grid):
        h0 = (r - lo) % s
        a0 = (h0 + lo - r) // s
        count = min(len(range(h0, size, s)), A - a0)
        if count <= 0:
            return None
        dst.append(slice(h0, h0 + s * (count - 1) + 1, s))
        src.append(slice(a0, a0 + count))
    return tuple(dst), tuple(src)


def strided_input_grad(xp: Any, ws: Any, dyg: Any, w: Any, x_shape: tuple[int, ...], pads, stride, dilation,
                       groups: int, out: tuple[int, ...]) -> Any:
    """dx (N, C, *S) from dyg (N, G, O/G, L) for weight w (O, C/G, *k)."""
    N, C = x_shape[:2]
    sizes, kernel = tuple(x_shape[2:]), tuple(w.shape[2:])
    O = w.shape[0]
    shifts = [d * (k - 1) // s for k, s, d in zip(kernel, stride, dilation)]
    grid = tuple(o + a for o, a in zip(out, shifts))                          # phase grid (A_0, ..., A_n-1)
    dyo = dyg.reshape((N, O) + tuple(out))
    dyr = padded(xp, ws, dyo, tuple((0, a) for a in shifts))              # (N, O, *grid), zeros appended
    P = math.prod(grid)
    K = math.prod(kernel)
    Og, Cg = O // groups, C // groups
    # weight rows ordered (k, c) so that one kernel offset's rows are a (C/G * P) contiguous run
    wk = xp.ascontiguousarray(w.reshape(groups, Og, Cg, K).swapaxes(2, 3)).reshape(groups, Og, K * Cg)
    dcols = xp.matmul(wk.swapaxes(-1, -2), dyr.reshape(N, groups, Og, P)).reshape(N, groups, K, Cg * P)
    step = [math.prod(grid[t + 1:]) for t in range(len(grid))]
    phases: dict[tuple, list] = {}
    for kidx, k in enumerate(itertools.product(*(range(v) for v in kernel))):
        phase = tuple(i * d % s for i, s, d in zip(k, stride, dilation))
        off = sum(i * d // s * t for i, s, d, t in zip(k, stride, dilation, step))
        phases.setdefault(phase, []).append((kidx, off))
    slack = max(off for items in phases.values() for _, off in items)
    where = {phase: _phase_slices(phase, pads, stride, sizes, grid) for phase in phases}
    covered = sum(math.prod(len(range(*sl.indices(n))) for sl, n in zip(wh[0], sizes))
                  for wh in where.values() if wh is not None)
    dx = (xp.empty if covered == math.prod(x_shape[2:]) else xp.zeros)(x_shape, dtype=dcols.dtype)
    buf = ws.workspace((N * C * P + slack,), dcols.dtype, "phase_grid")
    buf[N * C * P:] = 0  # the slack is written into and never read: zeros keep stale pool data (inf, NaN) out
    for phase, items in phases.items():
        if where[phase] is None:
            continue
        items = sorted(items, key=lambda item: item[1])
        if items[0][1]:
            buf[:N * C * P] = 0
        for kidx, off in items:
            # the appended zeros of dyr give exact zeros here, wherever they land (the slack is never read)
            dst = buf[off:off + N * C * P].reshape(N, groups, Cg * P)
            if off:
                dst += dcols[:, :, kidx]
            else:
                dst[...] = dcols[:, :, kidx]
        g = buf[:N * C * P].reshape((N, C) + grid)
        dx[(Ellipsis,) + where[phase][0]] = g[(Ellipsis,) + where[phase][1]]
    return dx
