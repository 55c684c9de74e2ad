"""DistributedDataParallel on 2 ranks (mpiexec): equivalence with one process, and its behaviours.

Each test runs one program of ``programs/`` under ``mpiexec -n 2`` (one job checks many cases; see
the programs' docstrings) and fails listing every failed check of every rank.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _mpi_jobs import PROGRAMS, mpiexec


def run_program(program: str, out: Path, n: int = 2, timeout: float = 240) -> list[dict]:
    """Run ``program`` on ``n`` ranks; return each rank's recorded checks, failing on any failed one."""
    cmd = [mpiexec(), "-n", str(n), sys.executable, "-m", "mpi4py", str(PROGRAMS / program), str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}  # ranks share 2 cores
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    tail = f"\n--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"
    assert proc.returncode == 0, f"{program} exited with {proc.returncode}{tail}"
    results = []
    for r in range(n):
        path = out / f"rank{r}.json"
        assert path.exists(), f"{program}: rank {r} recorded no checks{tail}"
        results.append(json.loads(path.read_text()))
    failed = [f"rank {res['rank']}: {c['name']}: {c['detail']}" for res in results for c in res["checks"]
              if not c["ok"]]
    assert not failed, f"{program}: {len(failed)} failed checks:\n" + "\n".join(failed)
    return results


def test_ddp_equals_one_process_on_the_whole_batch(tmp_path):
    """MLP, ConvNet + SyncBatchNorm, LSTM, TransformerEncoderLayer: 10 Adam steps; bucket options bitwise."""
    results = run_program("ddp_equivalence.py", tmp_path)
    names = {c["name"] for c in results[0]["checks"]}
    for model in ("MLP", "ConvNet + SyncBatchNorm", "LSTM", "TransformerEncoderLayer"):
        assert f"{model}: mean loss of the ranks at each step == one process on the whole batch" in names
    assert len(results[0]["checks"]) >= 100


def test_ddp_behaviour(tmp_path):
    """no_sync, buffers, state_dict prefix, mismatch errors, unused parameters, argument errors."""
    results = run_program("ddp_behaviour.py", tmp_path)
    assert all(len(r["checks"]) >= 70 for r in results)


def test_nn_parallel_namespace_without_mpi():
    import lamina.nn.parallel as parallel

    assert parallel.DistributedDataParallel.__name__ == "DistributedDataParallel"
    assert parallel.DataParallel.__name__ == "DataParallel"  # one device (test_data_parallel.py)
    with pytest.raises(AttributeError, match="replicate is not provided.*use lamina.nn.parallel.Distributed"):
        parallel.replicate  # noqa: B018


def test_importing_ddp_does_not_import_mpi():
    code = "import lamina.nn.parallel, lamina.utils.data.distributed, sys; print('mpi4py' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_signature_is_torchs():
    import inspect

    import lamina.nn.parallel as parallel

    torch = pytest.importorskip("torch")
    ours = inspect.signature(parallel.DistributedDataParallel.__init__).parameters
    theirs = inspect.signature(torch.nn.parallel.DistributedDataParallel.__init__).parameters
    assert list(ours) == list(theirs)
    assert {k: p.default for k, p in ours.items()} == {k: p.default for k, p in theirs.items()}
