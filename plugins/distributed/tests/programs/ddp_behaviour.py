"""DDP's behaviours on 2+ ranks (run by test_ddp.py): no_sync accumulation, buffer broadcasts, the
``module.`` state_dict prefix, model mismatch errors, unused parameters with and without
find_unused_parameters, static_graph, argument errors. Gradients are compared directly (SGD-free),
against plain copies of the model run on the ranks' concatenated batch on rank 0, or against the
torch rule for unused parameters: param.grad = mean over ranks of the local .grad (None counting as
zero), and None where it is None on every rank. Every rank makes the same collectives whatever the
checks find. Usage: mpiexec -n 2 python -m mpi4py ddp_behaviour.py OUT_DIR
"""

from __future__ import annotations

import copy
import warnings

import lamina
import lamina.distributed as dist
import lamina.nn.functional as F
from ddp_checks import Checks
from lamina import nn
from lamina.nn.parallel import DistributedDataParallel as DDP

checks = Checks(-1)
checks.raises("before init_process_group: a clear error", lambda: DDP(nn.Linear(2, 2)), ValueError,
              "default process group has not been initialized")
dist.init_process_group()
rank, world = dist.get_rank(), dist.get_world_size()
checks.rank = rank


def gathered(t: lamina.Tensor | None, like: lamina.Tensor) -> list[lamina.Tensor | None]:
    """Every rank's ``t`` (None travels as a flag)."""
    flag = lamina.tensor([0 if t is None else 1])
    flags = [lamina.zeros(1, dtype=lamina.int64) for _ in range(world)]
    dist.all_gather(flags, flag)
    value = lamina.zeros_like(like) if t is None else t.detach().clone()
    values = [lamina.zeros_like(like) for _ in range(world)]
    dist.all_gather(values, value)
    return [v if int(f.item()) else None for v, f in zip(values, flags)]


def mean_of_ranks(ts: list[lamina.Tensor | None], like: lamina.Tensor) -> lamina.Tensor | None:
    if all(t is None for t in ts):
        return None
    return sum((lamina.zeros_like(like) if t is None else t) for t in ts) / world


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))


g = lamina.Generator().manual_seed(11)
micro = [(lamina.randn(2 * world, 3, generator=g), lamina.randn(2 * world, 2, generator=g)) for _ in range(3)]
mine = [(x[2 * rank:2 * rank + 2], y[2 * rank:2 * rank + 2]) for x, y in micro]

# --- no_sync: two local micro-batches, then a synchronised one == one process on all of it --------------
lamina.manual_seed(1)
model = mlp()
ref = copy.deepcopy(model)
ddp = DDP(model)
with ddp.no_sync():
    for x, y in mine[:2]:
        F.mse_loss(ddp(x), y).backward()
w = ddp.module[0].weight
local = gathered(w.grad, w)
checks.true("no_sync: gradients stay local (they differ between ranks)",
            not all(bool((t == local[0]).all()) for t in local[1:]))
F.mse_loss(ddp(mine[2][0]), mine[2][1]).backward()
for x, y in micro:
    F.mse_loss(ref(x), y).backward()
for (name, p), q in zip(ddp.module.named_parameters(), ref.parameters()):
    checks.close(f"no_sync: {name}.grad after 2 local + 1 synced micro-batches == one process", p.grad, q.grad)
    checks.equal(f"no_sync: {name}.grad the same on every rank", p.grad, gathered(p.grad, p)[0])
ddp.zero_grad()
ref.zero_grad()
F.mse_loss(ddp(mine[0][0]), mine[0][1]).backward()
F.mse_loss(ref(micro[0][0]), micro[0][1]).backward()
checks.close("one synced step: grads averaged over ranks", w.grad, ref[0].weight.grad)
with lamina.no_grad():  # a forward without gradients prepares no reduction; training goes on after it
    ddp(mine[0][0])
ddp.zero_grad()
F.mse_loss(ddp(mine[1][0]), mine[1][1]).backward()
ref.zero_grad()
F.mse_loss(ref(micro[1][0]), micro[1][1]).backward()
checks.close("a no_grad forward in between changes nothing", w.grad, ref[0].weight.grad)

# --- state_dict: the module. prefix ---------------------------------------------------------------
keys = list(ddp.state_dict())
checks.true("state_dict keys carry the module. prefix", keys == ["module." + k for k in model.state_dict()],
            str(keys))
other = DDP(mlp())
other.load_state_dict(ddp.state_dict())
checks.equal("load_state_dict of a DDP state_dict", other.module[2].bias, model[2].bias)
checks.true("module attribute", ddp.module is model)


# --- buffers: broadcast from rank 0 at construction and before each synchronised forward -------------
class WithBuffer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 2)
        self.register_buffer("offset", lamina.full((2,), float(rank)))

    def forward(self, x: lamina.Tensor) -> lamina.Tensor:
        return self.lin(x) + self.offset


m = DDP(WithBuffer())
checks.equal("buffers broadcast at construction", m.module.offset, lamina.zeros(2))
m.module.offset.fill_(5.0 + rank)
out = m(mine[0][0])
checks.equal("buffers broadcast before forward (rank 0's value)", m.module.offset, lamina.full((2,), 5.0))
checks.close("the forward used rank 0's buffer", out, m.module.lin(mine[0][0]) + 5.0)
m = DDP(WithBuffer(), forward_sync_buffers=False)
checks.equal("forward_sync_buffers=False: still broadcast at construction", m.module.offset, lamina.zeros(2))
m.module.offset.fill_(float(rank))
m(mine[0][0])
checks.equal("forward_sync_buffers=False: no broadcast at forward", m.module.offset, lamina.full((2,), float(rank)))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    m = DDP(WithBuffer(), broadcast_buffers=False)
checks.true("broadcast_buffers= warns FutureWarning (deprecated as in torch 2.13)",
            any(issubclass(c.category, FutureWarning) for c in caught))
checks.equal("broadcast_buffers=False: buffers left alone at construction", m.module.offset,
             lamina.full((2,), float(rank)))
bn = DDP(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)))
for x, _ in mine:
    bn(x).sum().backward()
stats = bn.module[1].running_mean
checks.true("BatchNorm running stats differ between ranks after training forwards (each rank's own batch)",
            not bool((gathered(stats, stats)[world - 1] == gathered(stats, stats)[0]).all()))
bn.eval()
bn(mine[0][0])  # eval mode updates no statistics; the forward's broadcast makes them rank 0's
checks.equal("BatchNorm running stats broadcast before forward", stats, gathered(stats, stats)[0])

# --- model mismatch across ranks --------------------------------------------------------------------
checks.raises("a shape mismatch names the parameter and ranks",
              lambda: DDP(nn.Linear(4, 5 + rank)), RuntimeError,
              r"parameter 0 \('weight' on rank \d\) has shape \(5, 4\) dtype float32 on rank 0 and shape \(6, 4\) "
              r"dtype float32 on rank 1")
checks.raises("a count mismatch names both counts",
              lambda: DDP(nn.Sequential(*[nn.Linear(2, 2) for _ in range(1 + rank)])), RuntimeError,
              r"rank 0 has 2 parameters and rank 1 has 4")
checks.raises("a dtype mismatch", lambda: DDP(nn.Linear(2, 2).double() if rank else nn.Linear(2, 2)),
              RuntimeError, r"dtype float32 on rank 0 and shape \(2, 2\) dtype float64 on rank 1")


# --- unused parameters ----------------------------------------------------------------------------------
class Branches(nn.Module):
    """a: always used; b: used on the last rank only; c: never used (registered last: in the first bucket)."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.c = nn.Linear(3, 2), nn.Linear(3, 2), nn.Linear(3, 2)

    def forward(self, x: lamina.Tensor) -> lamina.Tensor:
        y = self.a(x)
        return y + self.b(x) if rank == world - 1 else y


for label, options in [("find_unused_parameters", {"find_unused_parameters": True}),
                       ("find_unused_parameters, many buckets",
                        {"find_unused_parameters": True, "bucket_cap_mb": 16 / 2**20}),
                       ("static_graph", {"static_graph": True})]:
    lamina.manual_seed(3)
    net = DDP(Branches(), **options)
    plain = copy.deepcopy(net.module)
    for it in range(2):  # the second iteration accumulates onto the first's (averaged) gradients
        x, y = mine[it]
        F.mse_loss(net(x), y).backward()
        F.mse_loss(plain(x), y).backward()
        for (name, p), q in zip(net.module.named_parameters(), plain.parameters()):
            want = mean_of_ranks(gathered(q.grad, q), q)
            if want is None:
                checks.true(f"{label} it {it}: {name}.grad None (unused on every rank)", p.grad is None)
            else:
                checks.close(f"{label} it {it}: {name}.grad == mean of the ranks' local grads", p.grad, want)
            with lamina.no_grad():
                q.grad = None if p.grad is None else p.grad.clone()  # continue from the averaged state


# an output the loss leaves out: its parameters are found unused as backward starts (torch's DDPSink)
class TwoOutputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(3, 2), nn.Linear(3, 2)

    def forward(self, x: lamina.Tensor) -> dict:
        return {"kept": self.a(x), "left out": (self.b(x), 3)}


lamina.manual_seed(4)
net = DDP(TwoOutputs(), find_unused_parameters=True)
plain = copy.deepcopy(net.module)
for it in range(2):
    x, y = mine[it]
    out = net(x)
    checks.true(f"output left out, it {it}: the output's structure is kept",
                sorted(out) == ["kept", "left out"] and out["left out"][1] == 3)
    F.mse_loss(out["kept"], y).backward()
    F.mse_loss(plain(x)["kept"], y).backward()
    for (name, p), q in zip(net.module.named_parameters(), plain.parameters()):
        want = mean_of_ranks(gathered(q.grad, q), q)
        if want is None:  # the sink's backward sees None (ctx.set_materialize_grads(False)), as torch's
            checks.true(f"output left out, it {it}: {name}.grad None (as torch)", p.grad is None)
        else:
            checks.close(f"output left out, it {it}: {name}.grad averaged", p.grad, want)
        with lamina.no_grad():
            q.grad = None if p.grad is None or want is None else p.grad.clone()

# without find_unused_parameters: the next forward raises, naming the parameters
lamina.manual_seed(3)
net = DDP(Branches())
F.mse_loss(net(mine[0][0]), mine[0][1]).backward()
missing = "c.weight, c.bias" if rank == world - 1 else "b.weight, b.bias, c.weight, c.bias"
checks.raises("unused parameters without find_unused_parameters: torch's error at the next forward",
              lambda: net(mine[1][0]), RuntimeError,
              rf"^Expected to have finished reduction in the prior iteration before starting a new one\. .*"
              rf"on rank {rank}, parameters {missing} \(indices")


# a parameter completed twice in one iteration (two backward passes of one forward)
class TwoHeads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.h1, self.h2 = nn.Linear(3, 1), nn.Linear(3, 1)

    def forward(self, x: lamina.Tensor) -> tuple[lamina.Tensor, lamina.Tensor]:
        return self.h1(x), self.h2(x)


heads = DDP(TwoHeads())
o1, _ = heads(mine[0][0])
o1.sum().backward(retain_graph=True)
checks.raises("a gradient completed twice before the reduction: clear error", lambda: o1.sum().backward(),
              RuntimeError, r"expected to mark parameter 'h1\.(weight|bias)' ready only once per iteration")

# --- DistributedSampler: num_replicas and rank default to the group's --------------------------------
from lamina.utils.data.distributed import DistributedSampler  # noqa: E402

sampler = DistributedSampler(list(range(10)), seed=2)
checks.true("DistributedSampler defaults: the default group's size and rank",
            (sampler.num_replicas, sampler.rank) == (world, rank), str((sampler.num_replicas, sampler.rank)))
share = lamina.tensor(list(sampler))
shares = [lamina.zeros_like(share) for _ in range(world)]
dist.all_gather(shares, share)
union = sorted(i for s in shares for i in s.tolist())
checks.true("DistributedSampler shares of the ranks cover the dataset (padding repeats the head)",
            set(union) == set(range(10)) and len(union) == world * -(-10 // world), str(union))

# --- argument errors ----------------------------------------------------------------------------------
lin = nn.Linear(2, 2)
for label, kwargs, exc, pattern in [
    ("device_ids on a CPU module", {"device_ids": [0]}, ValueError, r"must be None, but got device_ids \[0\]"),
    ("output_device on a CPU module", {"output_device": 0}, ValueError, "output_device 0"),
    ("two device_ids", {"device_ids": [0, 1]}, ValueError, "device_ids can only be None or contain a single"),
    ("mixed_precision", {"mixed_precision": object()}, NotImplementedError, "mixed_precision is not implemented"),
    ("device_mesh", {"device_mesh": object()}, NotImplementedError, "device_mesh is not implemented"),
    ("skip_all_reduce_unused_params", {"skip_all_reduce_unused_params": True}, NotImplementedError,
     "skip_all_reduce_unused_params=True is not implemented"),
    ("delay_all_reduce_named_params alone", {"delay_all_reduce_named_params": []}, ValueError,
     "need to be set at the same time"),
    ("bucket_cap_mb <= 0", {"bucket_cap_mb": 0}, ValueError, "expected bucket_cap_mb > 0, got 0"),
]:
    checks.raises(f"argument error: {label}", lambda kw=kwargs: DDP(lin, **kw), exc, pattern)
checks.raises("a module without trainable parameters", lambda: DDP(nn.Linear(2, 2).requires_grad_(False)),
              RuntimeError, "doesn't have any parameter that requires a gradient")
checks.raises("not a module", lambda: DDP(lambda x: x), TypeError, "expected module to be a lamina.nn.Module")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    DDP(lin, check_reduction=True)
checks.true("check_reduction warns (deprecated)", any(issubclass(c.category, FutureWarning) for c in caught))
checks.raises("join() is not implemented", lambda: DDP(lin).join(), NotImplementedError, r"join\(\)")
checks.raises("register_comm_hook() is not implemented", lambda: DDP(lin).register_comm_hook(None, None),
              NotImplementedError, r"register_comm_hook\(\)")

checks.report()
dist.destroy_process_group()
