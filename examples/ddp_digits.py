"""Data-parallel training of an MLP on the 8x8 digits with DistributedDataParallel, as a torch program.

    lamina run --nproc-per-node 2 examples/ddp_digits.py          # 2 ranks, through the venv's mpiexec
    mpiexec -n 2 python -m mpi4py examples/ddp_digits.py          # the same, launched by hand
    python examples/ddp_digits.py                                 # one process (a world of size 1)

Each rank reads its share of the training set through DistributedSampler (reshuffled per epoch with
``set_epoch``), DDP averages the gradients, and every rank ends with the same weights; rank 0 reports
the test accuracy (each rank scores its share of the test set; the counts are all-reduced).
"""

from __future__ import annotations

import argparse
import sys

import lamina
import lamina.distributed as dist
from lamina import nn
from lamina.nn.parallel import DistributedDataParallel as DDP
from lamina.utils.data import DataLoader, TensorDataset
from lamina.utils.data.distributed import DistributedSampler


def digits() -> tuple[TensorDataset, TensorDataset]:
    from lamina_datasets import datasets

    def split(train: bool) -> TensorDataset:
        ds = datasets.Digits(train=train)
        return TensorDataset(ds.data.float().flatten(1) / 16.0, ds.targets)

    return split(True), split(False)


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32, help="per rank")
    parser.add_argument("--lr", type=float, default=1e-2)
    args = parser.parse_args(argv)

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    lamina.manual_seed(0)  # DDP broadcasts rank 0's weights anyway
    train, test = digits()
    model = DDP(nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)))
    opt = lamina.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    sampler = DistributedSampler(train, shuffle=True, seed=0)
    loader = DataLoader(train, batch_size=args.batch_size, sampler=sampler)
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        model.train()
        total = lamina.zeros(2)  # (loss sum, samples) over this rank's share
        for x, y in loader:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            total += lamina.tensor([loss.item() * len(y), len(y)])
        dist.all_reduce(total)
        if rank == 0:
            print(f"epoch {epoch + 1}/{args.epochs}: train loss {total[0].item() / total[1].item():.4f} "
                  f"({world} rank{'s' if world > 1 else ''})", flush=True)
    model.eval()
    right = lamina.zeros(2)
    with lamina.no_grad():
        for x, y in DataLoader(test, batch_size=256, sampler=DistributedSampler(test, shuffle=False)):
            right += lamina.tensor([(model(x).argmax(1) == y).sum().item(), len(y)])
    dist.all_reduce(right)
    accuracy = right[0].item() / right[1].item()
    if rank == 0:
        print(f"test accuracy {100 * accuracy:.2f}% (the test set scored across {world} ranks)", flush=True)
    dist.destroy_process_group()
    return accuracy


if __name__ == "__main__":
    main(sys.argv[1:])
