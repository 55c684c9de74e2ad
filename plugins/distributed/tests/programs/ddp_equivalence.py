"""DDP on every rank vs one process on the concatenated batch, 10 Adam steps (run by test_ddp.py).

Each rank starts from different random weights (DDP's construction broadcasts rank 0's) and trains
on its own B rows of a seeded batch of world_size * B rows; rank 0 also trains a plain copy of its
initial model on the whole batch. Compared: the mean of the ranks' losses with the reference loss at
every step, the final parameters with the reference's, and the ranks' parameters with each other
(bitwise). Then DDP options that must not change the result (bucket sizes, gradient_as_bucket_view,
batched_grad_copy, static_graph, MPI's all-reduce instead of the shared-memory sum) are compared
bitwise with the default on the MLP.
Usage: mpiexec -n 2 python -m mpi4py ddp_equivalence.py OUT_DIR
"""

from __future__ import annotations

import copy
import os

import lamina
import lamina.distributed as dist
import lamina.nn.functional as F
from ddp_checks import Checks
from lamina import nn
from lamina.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group()
rank, world = dist.get_rank(), dist.get_world_size()
checks = Checks(rank)
B, STEPS = 4, 10


class LSTMNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(4, 8, batch_first=True)
        self.head = nn.Linear(8, 3)

    def forward(self, x: lamina.Tensor) -> lamina.Tensor:
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


class EncoderNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)
        self.head = nn.Linear(8, 3)
        # The key third of in_proj_bias has an exactly zero true gradient (softmax ignores a shift shared
        # by all keys): its computed gradient is round-off (~1e-9), which Adam scales to +-lr steps, so two
        # correct runs drift apart by up to STEPS * lr there. Frozen, it also covers a parameter that does
        # not require grad (broadcast at construction, in no bucket).
        self.layer.self_attn.in_proj_bias.requires_grad_(False)

    def forward(self, x: lamina.Tensor) -> lamina.Tensor:
        return self.head(self.layer(x).mean(dim=1))


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3))


def convnet(norm: type) -> nn.Module:
    # no bias before the norm (it would cancel, leaving round-off for Adam to amplify, as above)
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, bias=False), norm(4), nn.ReLU(), nn.Conv2d(4, 3, 3),
                         nn.Flatten(), nn.Linear(3 * 3 * 3, 3))


def batches(sample_shape: tuple[int, ...], seed: int) -> list[tuple[lamina.Tensor, lamina.Tensor]]:
    g = lamina.Generator().manual_seed(seed)
    return [(lamina.randn(world * B, *sample_shape, generator=g), lamina.randn(world * B, 3, generator=g))
            for _ in range(STEPS)]


def train_ddp(model: nn.Module, data: list, **options) -> tuple[DDP, list[float]]:
    ddp = DDP(model, **options)
    opt = lamina.optim.Adam(ddp.parameters(), lr=1e-2)
    losses = []
    for x, y in data:
        loss = F.mse_loss(ddp(x[rank * B:(rank + 1) * B]), y[rank * B:(rank + 1) * B])
        opt.zero_grad()
        loss.backward()
        opt.step()
        mean = loss.detach().clone()
        dist.all_reduce(mean)
        losses.append(mean.item() / world)
    return ddp, losses


def train_reference(model: nn.Module, data: list) -> list[float]:
    opt = lamina.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for x, y in data:
        loss = F.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def same_on_every_rank(name: str, module: nn.Module) -> None:
    for pname, t in module.state_dict().items():  # every rank makes every broadcast, whatever the outcome
        theirs = t.detach().clone()
        dist.broadcast(theirs, 0)
        checks.equal(f"{name}: {pname} is the same on every rank", t, theirs)


def compare(name: str, build, sample_shape: tuple[int, ...], reference_build=None, rtol: float = 1e-5,
            atol: float = 1e-6) -> None:
    data = batches(sample_shape, seed=len(name))
    lamina.manual_seed(100 + rank)  # different initial weights per rank: DDP must broadcast rank 0's
    model = build()
    ref = None
    if rank == 0:
        ref = reference_build() if reference_build else copy.deepcopy(model)
        ref.load_state_dict(model.state_dict())
    ddp, losses = train_ddp(model, data)
    same_on_every_rank(name, ddp.module)
    if rank != 0:
        return
    ref_losses = train_reference(ref, data)
    checks.close(f"{name}: mean loss of the ranks at each step == one process on the whole batch", losses,
                 ref_losses, rtol, atol)
    got = ddp.module.state_dict()
    for key, want in ref.state_dict().items():
        checks.close(f"{name}: {key} after {STEPS} Adam steps", got[key], want, rtol, atol)


compare("MLP", mlp, (6,))
compare("ConvNet + SyncBatchNorm", lambda: convnet(nn.SyncBatchNorm), (2, 5, 5),
        reference_build=lambda: convnet(nn.BatchNorm2d))
compare("LSTM", LSTMNet, (5, 4))
compare("TransformerEncoderLayer", EncoderNet, (5, 8))

# options that change how gradients travel, not what they are: bitwise the default's parameters
data = batches((6,), seed=1)
lamina.manual_seed(5)
init = mlp().state_dict()
results = {}
for label, options in [("default", {}), ("bucket_cap_mb tiny", {"bucket_cap_mb": 200 / 2**20}),
                       ("bucket_cap_mb_list", {"bucket_cap_mb_list": [100 / 2**20, 1000 / 2**20]}),
                       ("gradient_as_bucket_view", {"gradient_as_bucket_view": True}),
                       ("batched_grad_copy", {"batched_grad_copy": True}),
                       ("static_graph", {"static_graph": True}),
                       ("find_unused_parameters", {"find_unused_parameters": True}),
                       ("MPI all-reduce, not shared memory", {"LAMINA_DDP_SHARED_MEMORY": "0"})]:
    model = mlp()
    model.load_state_dict(init)
    env = {k: options.pop(k) for k in list(options) if k.isupper()}
    os.environ.update(env)
    try:
        ddp, losses = train_ddp(model, data, **options)
    finally:
        for k in env:
            del os.environ[k]
    results[label] = (ddp, losses)
    if label != "default":
        base = results["default"][0].module.state_dict()
        for key, t in ddp.module.state_dict().items():
            checks.equal(f"{label}: {key} bitwise as with the default options", t, base[key])
        checks.equal(f"{label}: losses bitwise as with the default options", losses, results["default"][1])
n_buckets = len(results["bucket_cap_mb tiny"][0].reducer.buckets)
checks.true("bucket_cap_mb tiny: many buckets", n_buckets >= 5, f"{n_buckets} buckets")
checks.true("default: one bucket", len(results["default"][0].reducer.buckets) == 1,
            f"{len(results['default'][0].reducer.buckets)} buckets")
# how the gradients met: in shared memory by default (all ranks on this machine), else MPI's all-reduce
checks.true("default: gradients summed in shared memory", results["default"][0].reducer.local is not None)
for label in ("gradient_as_bucket_view", "MPI all-reduce, not shared memory"):
    checks.true(f"{label}: gradients all-reduced by MPI", results[label][0].reducer.local is None)
view = results["gradient_as_bucket_view"][0]
p = next(view.module.parameters())
checks.true("gradient_as_bucket_view: param.grad is a view of its bucket",
            p.grad is view.reducer.grad_views[0] or any(p.grad is v for v in view.reducer.grad_views))

checks.report()
dist.destroy_process_group()
