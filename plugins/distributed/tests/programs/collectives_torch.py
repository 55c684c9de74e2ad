"""lamina.distributed next to torch.distributed (gloo) in the same ranks, on the same inputs.

    mpiexec -n 2 python -m mpi4py collectives_torch.py RENDEZVOUS_FILE

torch's gloo group meets through ``file://RENDEZVOUS_FILE`` (ranks from MPI). Every reduction of every
dtype both support, and a few data movements, run in both; results (or the exception types) must agree.
Rank 0 prints ``RESULT {json}``: per rank, the number of cases and the disagreements.
"""

from __future__ import annotations

import json
import os
import sys
import warnings

import lamina
import lamina.distributed as dist
import numpy as np
import torch
import torch.distributed as tdist
from mpi4py import MPI

DTYPES = ["float16", "float32", "float64", "complex64", "uint8", "int8", "int32", "int64", "bool"]
OPS = ["SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"]


def inputs(rank: int, name: str, salt: int) -> np.ndarray:
    g = np.random.default_rng(100 * salt + rank)
    if name == "bool":
        return g.random(6) < 0.5
    x = g.integers(0 if name == "uint8" else -3, 100 if "int" in name else 4, size=6)
    if name.startswith("complex"):
        return (x + 1j * g.integers(-3, 4, size=6)).astype(name)
    return x.astype(name)


def outcome(fn) -> tuple:
    """("ok", values) or ("raises", the exception)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = fn()
    except Exception as e:  # noqa: BLE001  (the type is what is compared)
        return ("raises", e)
    return ("ok", np.asarray(got).tolist())


def both(rank: int, size: int, case: str, run) -> list[str]:
    """``run(lib, make)``: the result array; make(np array) builds lib's tensor."""
    ours = outcome(lambda: run(dist, lambda a: lamina.from_numpy(np.array(a))))
    theirs = outcome(lambda: run(tdist, lambda a: torch.from_numpy(np.array(a))))
    if ours[0] == theirs[0] == "raises":  # lamina's error is a kind of torch's
        ok = isinstance(ours[1], type(theirs[1]))
    else:
        ok = ours == theirs
    return [] if ok else [f"{case}: lamina {ours!r}, torch {theirs!r}"]


def _np(t) -> np.ndarray:
    return t.numpy() if isinstance(t, lamina.Tensor) else t.numpy()


def main() -> None:
    rank, size = MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()
    tdist.init_process_group("gloo", init_method=f"file://{sys.argv[1]}", rank=rank, world_size=size)
    dist.init_process_group()
    problems, cases = [], 0
    for di, name in enumerate(DTYPES):
        for oi, op in enumerate(OPS):
            x = inputs(rank, name, 10 * di + oi)

            def reduce_all(lib, make, op=op, x=x):
                t = make(x)
                lib.all_reduce(t, op=getattr(lib.ReduceOp, op))
                return _np(t)

            problems += both(rank, size, f"all_reduce/{name}/{op}", reduce_all)

            def scatter_reduce(lib, make, op=op, name=name, di=di, oi=oi):
                out = make(np.zeros(3, name))
                lib.reduce_scatter_tensor(out, make(inputs(rank, name, 500 + 10 * di + oi)[:3 * size]),
                                          op=getattr(lib.ReduceOp, op))
                return _np(out)

            problems += both(rank, size, f"reduce_scatter_tensor/{name}/{op}", scatter_reduce)
            cases += 2

        def moves(lib, make, name=name, di=di):
            x = inputs(rank, name, 900 + di)
            out = make(np.zeros(6 * size, name))
            lib.all_gather_into_tensor(out, make(x))
            b = make(x)
            lib.broadcast(b, src=size - 1)
            sends = [(rank + d) % size + 1 for d in range(size)]
            a2a_in = make(inputs(rank, name, 950 + di)[:sum(sends)])
            a2a_out = make(np.zeros(sum((r + rank) % size + 1 for r in range(size)), name))
            lib.all_to_all_single(a2a_out, a2a_in, [(r + rank) % size + 1 for r in range(size)], sends)
            return np.concatenate([_np(out), _np(b), _np(a2a_out)])

        problems += both(rank, size, f"moves/{name}", moves)
        cases += 1
    dist.destroy_process_group()
    tdist.destroy_process_group()
    everyone = MPI.COMM_WORLD.gather({"rank": rank, "cases": cases, "problems": problems}, root=0)
    if rank == 0:
        print("RESULT " + json.dumps(everyone), flush=True)
    # gloo's threads sometimes std::terminate in static destructors at interpreter exit (exit status 6):
    # finish MPI here and leave without running them
    MPI.Finalize()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
