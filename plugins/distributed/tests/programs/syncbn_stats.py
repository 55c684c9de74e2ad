"""SyncBatchNorm on every rank vs one BatchNorm over the ranks' concatenated batch (run by test_syncbn.py).

Rank r holds rows [start_r, start_r + N_r) of one seeded batch (N_r differs between ranks). Each
case compares this rank's output rows, input gradient rows (the reference loss is the sum of the
ranks' losses), the all-reduced weight/bias gradients and the running statistics after two steps,
then eval mode. Usage: mpiexec -n 2 python -m mpi4py syncbn_stats.py OUT_DIR
"""

from __future__ import annotations

import lamina
import lamina.distributed as dist
from ddp_checks import Checks
from lamina import nn

dist.init_process_group()
rank, world = dist.get_rank(), dist.get_world_size()
checks = Checks(rank)
sizes = [3 + 2 * r for r in range(world)]  # 3, 5, 7, ... rows per rank
start, rows = sum(sizes[:rank]), sizes[rank]


def summed(t: lamina.Tensor) -> lamina.Tensor:
    t = t.detach().clone()
    dist.all_reduce(t)
    return t


def run_case(name: str, spatial: tuple[int, ...], dtype, affine: bool = True, momentum: float | None = 0.1,
             track: bool = True, shift: float = 0.0, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    C = 4
    g = lamina.Generator().manual_seed(7)
    full = (sum(sizes), C, *spatial)
    x_full = (lamina.randn(*full, generator=g, dtype=dtype) * 0.5 + shift)
    upstream = lamina.randn(*full, generator=g, dtype=dtype)
    ref_cls = nn.BatchNorm2d if len(spatial) == 2 else nn.BatchNorm1d
    ref = ref_cls(C, momentum=momentum, affine=affine, track_running_stats=track, dtype=dtype)
    sync = nn.SyncBatchNorm(C, momentum=momentum, affine=affine, track_running_stats=track, dtype=dtype)
    if affine:
        with lamina.no_grad():
            for m in (ref, sync):
                m.weight.copy_(lamina.linspace(0.5, 2.0, C, dtype=dtype))
                m.bias.copy_(lamina.linspace(-1.0, 1.0, C, dtype=dtype))
    for step in range(2):
        xr = x_full[start:start + rows].detach().clone().requires_grad_(True)
        xf = x_full.detach().clone().requires_grad_(True)
        y = sync(xr)
        (y * upstream[start:start + rows]).sum().backward()
        yf = ref(xf)
        (yf * upstream).sum().backward()
        tag = f"{name} step {step}"
        checks.close(f"{tag}: output rows", y, yf[start:start + rows], rtol, atol)
        checks.close(f"{tag}: input gradient rows", xr.grad, xf.grad[start:start + rows], rtol, atol)
        if affine:
            checks.close(f"{tag}: weight gradient summed over ranks", summed(sync.weight.grad), ref.weight.grad,
                         rtol, atol)
            checks.close(f"{tag}: bias gradient summed over ranks", summed(sync.bias.grad), ref.bias.grad, rtol,
                         atol)
            sync.zero_grad()
            ref.zero_grad()
        if track:
            checks.close(f"{tag}: running_mean", sync.running_mean, ref.running_mean, rtol, atol)
            checks.close(f"{tag}: running_var (global unbiased variance)", sync.running_var, ref.running_var,
                         rtol, atol)
            checks.equal(f"{tag}: num_batches_tracked", sync.num_batches_tracked, ref.num_batches_tracked)
        x_full = x_full * 1.5 + 0.25  # a second batch with other statistics
    if track:
        sync.eval()
        ref.eval()
        xr = x_full[start:start + rows]
        checks.close(f"{name}: eval mode uses the running statistics", sync(xr), ref(x_full)[start:start + rows],
                     rtol, atol)


run_case("(N, C) float32", (), lamina.float32)
run_case("(N, C, L) float32", (6,), lamina.float32)
run_case("(N, C, H, W) float32", (3, 5), lamina.float32)
run_case("(N, C, H, W) float64", (3, 5), lamina.float64, rtol=1e-12, atol=1e-12)
run_case("(N, C, L) no affine, momentum None", (6,), lamina.float32, affine=False, momentum=None)
run_case("(N, C, L) no running stats", (6,), lamina.float32, track=False)
# mean 1000x the spread: a float32 sum of squares would lose the variance; compare with float64 BatchNorm
run_case("(N, C, L) float32 offset 300", (6,), lamina.float32, shift=300.0, rtol=2e-4, atol=2e-4)

# one value per channel on each rank is enough when there are several ranks (global count = world size)
rows1 = [lamina.arange(3, dtype=lamina.float32).reshape(1, 3) * (r + 1) for r in range(world)]
checks.close("one row per rank: normalised with the other ranks' rows", nn.SyncBatchNorm(3)(rows1[rank]),
             nn.BatchNorm1d(3)(lamina.cat(rows1))[rank:rank + 1])
checks.report()
dist.destroy_process_group()
