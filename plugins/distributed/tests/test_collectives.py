"""lamina.distributed's collectives inside real MPI jobs (mpiexec -n 2 and -n 3).

The programs under programs/ check every collective, op and dtype against NumPy references inside the
ranks and print what they found; these tests launch them and assert on the report. Without mpiexec
they fail (CI installs MPI: a skip would hide a breakage).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from _mpi_jobs import PROGRAMS, mpiexec

# variables that would change what a job does (init_process_group checks RANK/WORLD_SIZE against MPI's)
_SCRUB = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "TORCH_DISTRIBUTED_DEBUG", "LAMINA_DISTRIBUTED_DEBUG",
          "LAMINA_DISTRIBUTED_TIMEOUT", "TORCHELASTIC_RUN_ID")


def run_job(n: int, program: str, env: dict[str, str] | None = None, timeout: float = 180,
            ) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    clean.update(env or {})
    return subprocess.run([mpiexec(), "-n", str(n), sys.executable, "-m", "mpi4py", str(PROGRAMS / program)],
                          capture_output=True, text=True, timeout=timeout, env=clean, cwd=PROGRAMS)


def result(job: subprocess.CompletedProcess) -> list[dict]:
    lines = [line for line in job.stdout.splitlines() if line.startswith("RESULT ")]
    assert job.returncode == 0 and len(lines) == 1, (
        f"exit {job.returncode}\nstdout:\n{job.stdout[-4000:]}\nstderr:\n{job.stderr[-4000:]}")
    return json.loads(lines[0][len("RESULT "):])


# families the program must have run, on both reduction paths where they reduce
_FAMILIES = ("all_reduce+reduce", "broadcast+all_gather+gather+scatter", "reduce_scatter(+_tensor)", "all_to_all/",
             "all_to_all_single")
_DTYPES = ("float16", "float32", "float64", "complex64", "complex128", "uint8", "int8", "int16", "int32", "int64",
           "bool")


@pytest.mark.parametrize("n", [2, 3])
def test_every_collective_op_and_dtype_matches_numpy(n: int) -> None:
    ranks = result(run_job(n, "collectives_all.py"))
    assert [r["rank"] for r in ranks] == list(range(n))
    for r in ranks:
        assert r["failures"] == [], f"rank {r['rank']}:\n" + "\n".join(r["failures"][:10])
        names = r["names"]
        assert len(names) == len(ranks[0]["names"]) > 1000
        for path in ("native", "user_op"):
            for family in _FAMILIES:
                for dt in _DTYPES:
                    assert any(x.startswith(f"{path}:{family}") and f"/{dt}" in x for x in names), (path, family, dt)
        for shape in ("0d", "empty", "noncontig_t", "noncontig_slice"):
            assert any(f"/{shape}/" in x for x in names), shape
        for op in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"):
            assert any(x.endswith(f"/{op}") for x in names), op
        for case in ("groups", "p2p", "objects", "async_work", "devices", "large", "aliasing", "versions"):
            assert case in names


def test_results_and_errors_agree_with_torch_gloo_in_the_same_ranks(tmp_path) -> None:
    pytest.importorskip("torch")
    job = subprocess.run([mpiexec(), "-n", "2", sys.executable, "-m", "mpi4py", str(PROGRAMS / "collectives_torch.py"),
                          str(tmp_path / "rendezvous")], capture_output=True, text=True, timeout=180,
                         env={k: v for k, v in os.environ.items() if k not in _SCRUB}, cwd=PROGRAMS)
    ranks = result(job)
    for r in ranks:
        assert r["problems"] == [], "\n".join(r["problems"])
        assert r["cases"] == 9 * (8 * 2 + 1)  # dtypes x (ops x 2 collectives + the data movements)


def test_a_collective_that_a_rank_never_joins_times_out_and_ends_the_job() -> None:
    job = run_job(2, "collectives_timeout.py", timeout=120)
    out, err = job.stdout, job.stderr
    assert job.returncode != 0, (out, err)
    assert "NOT REACHED" not in out
    lines = {line.split(" ", 1)[0]: line for line in out.splitlines() if " " in line}
    assert "rank 1 (global rank 1) failed to pass monitored_barrier within 0:00:00.500000" in lines["MONITORED"]
    assert "all_reduce: timed out after 0:00:00.300000" in lines["WORK"] and "rank 0 of 2" in lines["WORK"]
    assert lines["STATE"] == "STATE False DistBackendError"
    assert "irecv: timed out after 0:00:00.300000" in lines["RECV"]
    assert "new_group: not every rank called it within 0.3 s (rank 0 of 2 waited)" in lines["GROUP"]
    assert "new_group: not every member of [0, 1] called it within 0.3 s" in lines["LOCAL"]
    assert "START" in out
    # the uncaught error, under the group's 1 s timeout, aborted the job
    assert "DistBackendError: all_reduce: timed out after 0:00:01 (timeout=1 s) on rank 0 of 2" in err, err


def test_init_process_group_does_not_wait_forever_for_a_rank_that_never_calls_it() -> None:
    job = run_job(2, "pg_timeout.py", timeout=120)
    assert job.returncode != 0, (job.stdout, job.stderr)
    assert ("INIT init_process_group: not every rank of the MPI job (2 ranks) called it within 0.5 s (rank 0 "
            "waited)") in job.stdout, job.stdout
    assert "INITIALIZED False" in job.stdout


@pytest.mark.parametrize("var", ["TORCH_DISTRIBUTED_DEBUG", "LAMINA_DISTRIBUTED_DEBUG"])
def test_detail_debug_mode_names_the_collective_and_the_mismatching_ranks(var: str) -> None:
    ranks = result(run_job(2, "collectives_debug.py", env={var: "DETAIL"}))
    for r in ranks:
        assert r["level"] == "DETAIL"
        errors = r["errors"]
        assert errors["matching"] is None and r["matching_value"] == [3.0, 3.0, 3.0]
        for case, mine, theirs in [("shape", "all_reduce(float32[4], op=SUM)", "all_reduce(float32[5], op=SUM)"),
                                   ("dtype", "all_reduce(float32[3], op=SUM)", "all_reduce(float64[3], op=SUM)"),
                                   ("collective", "all_reduce(float32[3], op=SUM)", "broadcast(float32[3], src=0)"),
                                   ("root", "broadcast(float32[3], src=0)", "broadcast(float32[3], src=1)")]:
            kind, message = errors[case]
            assert kind == "DistError", (case, kind)
            assert "ranks [1] do not call what rank 0 calls" in message, message
            assert f"rank 0: {mine}; rank 1: {theirs}" in message, message
        assert errors["collective"][1].startswith("all_reduce:" if r["rank"] == 0 else "broadcast:")


def test_without_mpiexec_the_mpi_tests_fail_naming_the_pip_command(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match=r'pip install "lamina-distributed\[mpi\]"'):
        mpiexec()
