"""Every tensor collective, op and dtype inside the ranks of an MPI job, against NumPy references.

    mpiexec -n N python -m mpi4py collectives_all.py

Each rank's inputs are a known function of (rank, case), so every rank computes the expected result of
every collective itself (a NumPy reduction over all ranks' inputs). Both reduction paths run: MPI's own
datatypes and ops, and the derived-datatype + NumPy-ufunc user ops (``_mpi_ops.USE_NATIVE = False``).
Groups, point-to-point, objects, async work and staged devices: ``collectives_more.py``.
Rank 0 prints ``RESULT {json}``: per rank, the names of the checks run and the failures.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import sys
import traceback

import lamina
import lamina.distributed as dist
import numpy as np
from lamina_distributed import _mpi_ops
from mpi4py import MPI

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

R = dist.ReduceOp
DTYPES = [lamina.float16, lamina.float32, lamina.float64, lamina.complex64, lamina.complex128, lamina.uint8,
          lamina.int8, lamina.int16, lamina.int32, lamina.int64, lamina.bool]
FLOAT_OPS = [R.SUM, R.AVG, R.PRODUCT, R.MIN, R.MAX]
INT_OPS = [R.SUM, R.PRODUCT, R.MIN, R.MAX, R.BAND, R.BOR, R.BXOR]
COMPLEX_OPS = [R.SUM, R.AVG]
# the reference of each op, written out here (not the library's table): bool follows torch (or / and)
UFUNCS = {R.SUM: np.add, R.PRODUCT: np.multiply, R.MIN: np.minimum, R.MAX: np.maximum, R.BAND: np.bitwise_and,
          R.BOR: np.bitwise_or, R.BXOR: np.bitwise_xor}
BOOL_UFUNCS = {R.SUM: np.logical_or, R.PRODUCT: np.logical_and, R.MIN: np.logical_and, R.MAX: np.logical_or,
               R.BAND: np.logical_and, R.BOR: np.logical_or, R.BXOR: np.logical_xor}
SHAPES = {"0d": (), "empty": (0,), "2d": (3, 4), "noncontig_t": "t", "noncontig_slice": "slice"}


class Checks:
    """Runs named cases. A case records its comparisons with ``expect`` and they are judged after it
    returns, so a wrong value on one rank does not make it skip collectives that the others then wait for."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.failures: list[str] = []

    def run(self, name: str, fn, *args) -> None:
        self.names.append(name)
        PENDING.clear()
        try:
            fn(*args)
            for got, want, what in PENDING:
                same(got, want, what)
        except Exception:
            self.failures.append(f"{name}: {traceback.format_exc(limit=4)}")


PENDING: list = []


def expect(got, want, what: str) -> None:
    """Compare ``got`` (a tensor or value, copied now) with ``want`` once the case is over."""
    PENDING.append((got.numpy().copy() if isinstance(got, lamina.Tensor) else got, want, what))


def expect_true(cond: bool, what: str) -> None:
    PENDING.append((bool(cond), True, what))


def ops_for(dt) -> list:
    return COMPLEX_OPS if dt.is_complex else FLOAT_OPS if dt.is_floating_point else INT_OPS


def values(rank: int, shape: tuple, dt, salt: int) -> np.ndarray:
    """Rank ``rank``'s input: small integer values (sums, products and averages are exact in every dtype)."""
    g = np.random.default_rng(1000 * salt + rank)
    npd = dt.np
    if npd.kind == "b":
        return np.asarray(g.random(shape) < 0.5)
    lo = 0 if npd.kind == "u" else -3
    x = g.integers(lo, 4, size=shape)
    if npd.kind == "c":
        return np.asarray(x + 1j * g.integers(-3, 4, size=shape)).astype(npd)
    return np.asarray(x).astype(npd)


def tensor_of(a: np.ndarray, kind: str):
    """A lamina tensor holding ``a``: contiguous, a transposed view, or a strided slice (non-contiguous)."""
    if kind == "t":
        return lamina.from_numpy(np.ascontiguousarray(a.T)).t()
    if kind == "slice":
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
        wide[..., ::2] = a
        return lamina.from_numpy(wide)[..., ::2]
    return lamina.from_numpy(a.copy())


def shape_of(kind) -> tuple:
    return (4, 3) if kind in ("t", "slice") else kind


def reduce_ref(arrays: list[np.ndarray], op, dt) -> np.ndarray:
    if op is R.AVG:
        total = functools.reduce(np.add, arrays)
        return (total / np.asarray(len(arrays), dtype=dt.np)).astype(dt.np)
    f = (BOOL_UFUNCS if dt.np.kind == "b" else UFUNCS)[op]
    with np.errstate(all="ignore"):
        return functools.reduce(f, arrays).astype(dt.np)


def same(got, want, what: str) -> None:
    if not isinstance(got, (lamina.Tensor, np.ndarray)) and not isinstance(want, np.ndarray):
        if got != want:
            raise AssertionError(f"{what}: got {got!r}, want {want!r}")
        return
    g = got.numpy() if isinstance(got, lamina.Tensor) else np.asarray(got)
    w = np.asarray(want)
    if isinstance(want, np.ndarray) and g.dtype != w.dtype:
        raise AssertionError(f"{what}: dtype {g.dtype} != {w.dtype}")
    if g.shape != w.shape or not np.array_equal(g, w):
        raise AssertionError(f"{what}: got {g!r}, want {w!r}")


def tensor_collectives(c: Checks, rank: int, size: int) -> None:
    for di, dt in enumerate(DTYPES):
        for si, (sname, kind) in enumerate(SHAPES.items()):
            ins = [values(r, shape_of(kind), dt, 10 * di + si) for r in range(size)]
            for op in ops_for(dt):
                c.run(f"all_reduce+reduce/{dt.name}/{sname}/{op.name}", reductions, rank, size, dt, ins, op, kind)
            c.run(f"broadcast+all_gather+gather+scatter/{dt.name}/{sname}", moves, rank, size, dt, ins, kind)
            # every rank's block list: block b of rank r is values(r, shape, dt, salt + b)
            blocks = [[values(r, shape_of(kind), dt, 500 + 10 * di + si + b) for b in range(size)]
                      for r in range(size)]
            for op in ops_for(dt)[:2]:
                c.run(f"reduce_scatter(+_tensor)/{dt.name}/{sname}/{op.name}", scatters, rank, size, dt, blocks, op,
                      kind)
            c.run(f"all_to_all/{dt.name}/{sname}", alltoall, rank, size, dt, blocks, kind)
        c.run(f"all_to_all_single/{dt.name}", all_to_all_single_case, rank, size, dt, di)


def reductions(rank: int, size: int, dt, ins: list, op, kind) -> None:
    t = tensor_of(ins[rank], kind)
    v = t._version
    expect_true(dist.all_reduce(t, op=op) is None, "all_reduce returns None")
    expect(t, reduce_ref(ins, op, dt), "all_reduce")
    expect_true(t._version > v, "the write was counted")
    t = tensor_of(ins[rank], kind)
    dist.reduce(t, dst=size - 1, op=op)
    expect(t, reduce_ref(ins, op, dt) if rank == size - 1 else ins[rank], "reduce")


def moves(rank: int, size: int, dt, ins: list, kind) -> None:
    shape = shape_of(kind)
    t = tensor_of(ins[rank], kind)
    dist.broadcast(t, src=size - 1)
    expect(t, ins[size - 1], "broadcast")
    t = tensor_of(ins[rank], kind)
    dist.broadcast(t, group_src=0)
    expect(t, ins[0], "broadcast group_src")
    outs = [tensor_of(np.zeros(shape, dt.np), kind) for _ in range(size)]
    dist.all_gather(outs, tensor_of(ins[rank], kind))
    for r in range(size):
        expect(outs[r], ins[r], f"all_gather[{r}]")
    big = lamina.zeros((size, *shape), dtype=dt)
    dist.all_gather_into_tensor(big, tensor_of(ins[rank], kind))
    expect(big, np.stack(ins), "all_gather_into_tensor")
    gl = [tensor_of(np.zeros(shape, dt.np), kind) for _ in range(size)] if rank == 1 else None
    dist.gather(tensor_of(ins[rank], kind), gl, dst=1)
    for r in range(size if gl is not None else 0):
        expect(gl[r], ins[r], f"gather[{r}]")
    out = tensor_of(np.zeros(shape, dt.np), kind)
    sl = [tensor_of(values(r, shape, dt, 99), kind) for r in range(size)] if rank == 0 else None
    dist.scatter(out, sl, src=0)
    expect(out, values(rank, shape, dt, 99), "scatter")


def scatters(rank: int, size: int, dt, blocks: list, op, kind) -> None:
    shape = shape_of(kind)
    want = reduce_ref([blocks[r][rank] for r in range(size)], op, dt)
    out = tensor_of(np.zeros(shape, dt.np), kind)
    dist.reduce_scatter(out, [tensor_of(b, kind) for b in blocks[rank]], op=op)
    expect(out, want, "reduce_scatter")
    out = tensor_of(np.zeros(shape, dt.np), kind)
    dist.reduce_scatter_tensor(out, lamina.from_numpy(np.stack(blocks[rank])), op=op)
    expect(out, want, "reduce_scatter_tensor")


def alltoall(rank: int, size: int, dt, blocks: list, kind) -> None:
    outs = [tensor_of(np.zeros(shape_of(kind), dt.np), kind) for _ in range(size)]
    dist.all_to_all(outs, [tensor_of(b, kind) for b in blocks[rank]])
    for r in range(size):
        expect(outs[r], blocks[r][rank], f"all_to_all[{r}]")


def all_to_all_single_case(rank: int, size: int, dt, salt: int) -> None:
    # equal splits, on a (2 * size, 3) input
    x = [values(r, (2 * size, 3), dt, 700 + salt) for r in range(size)]
    out = lamina.zeros(2 * size, 3, dtype=dt)
    dist.all_to_all_single(out, lamina.from_numpy(x[rank].copy()))
    expect(out, np.concatenate([x[r][2 * rank:2 * rank + 2] for r in range(size)]), "all_to_all_single equal")
    # uneven splits: rank r sends (r + d) % size + 1 rows to rank d; what rank d gets follows
    sends = [[(r + d) % size + 1 for d in range(size)] for r in range(size)]
    y = [values(r, (sum(sends[r]), 2), dt, 800 + salt) for r in range(size)]
    starts = [np.cumsum([0] + sends[r]) for r in range(size)]
    want = np.concatenate([y[r][starts[r][rank]:starts[r][rank + 1]] for r in range(size)])
    out = lamina.zeros(*want.shape, dtype=dt).t().contiguous().t()  # a non-contiguous output
    dist.all_to_all_single(out, lamina.from_numpy(y[rank].copy()), output_split_sizes=[sends[r][rank] for r in
                           range(size)], input_split_sizes=sends[rank])
    expect(out, want, "all_to_all_single uneven")


def main() -> None:
    dist.init_process_group(backend="gloo", timeout=datetime.timedelta(seconds=30))
    rank, size = dist.get_rank(), dist.get_world_size()
    c = Checks()
    c.run("world", lambda: (assert_eq(size, MPI.COMM_WORLD.Get_size()), assert_eq(dist.get_backend(), "mpi")))
    for native in (True, False):
        _mpi_ops.USE_NATIVE = native
        start = len(c.names)
        tensor_collectives(c, rank, size)
        c.names[start:] = [f"{'native' if native else 'user_op'}:{n}" for n in c.names[start:]]
    _mpi_ops.USE_NATIVE = True
    import collectives_more

    collectives_more.run(c, rank, size)
    dist.destroy_process_group()
    gathered = MPI.COMM_WORLD.gather({"rank": rank, "names": c.names, "failures": c.failures}, root=0)
    if rank == 0:
        print("RESULT " + json.dumps(gathered), flush=True)


def assert_eq(a, b) -> None:
    if a != b:
        raise AssertionError(f"{a!r} != {b!r}")


if __name__ == "__main__":
    main()
