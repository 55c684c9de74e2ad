"""``lamina run --nproc-per-node N``: MPI jobs through mpiexec (small ones; each job starts in ~0.5 s).

Every job runs under a timeout; one that outlives it gets SIGTERM (which the launcher forwards to the
job) and then SIGKILL, and the test fails with its output. Programs are ``programs/launch_*.py``.
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _mpi_jobs import PROGRAMS, mpiexec, reports

TIMEOUT = 60  # seconds for a whole job; a failing rank must end its job well within it


def require_mpiexec() -> None:
    mpiexec()  # fails naming the pip command when there is none


def start(*argv: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.Popen:
    require_mpiexec()
    return subprocess.Popen([sys.executable, "-m", "lamina", "run", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)


def finish(proc: subprocess.Popen, timeout: float = TIMEOUT) -> tuple[int, str, str]:
    """Wait for the launcher (and, through its pipes, every rank); (status, stdout, stderr)."""
    if proc.stdout.closed:  # finished already (a failing test finishes it before its clean-up does)
        return proc.wait(), "", ""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()  # forwarded to the job
        try:
            out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        pytest.fail(f"the job outlived {timeout} s\n--- stdout ---\n{out[-3000:]}\n--- stderr ---\n{err[-3000:]}")
    return proc.returncode, out, err


def lamina_run(*argv: str, env: dict | None = None, cwd: Path | None = None) -> tuple[int, str, str]:
    return finish(start(*argv, env=env, cwd=cwd))


def env_without(*names: str, **values: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(values)
    return env


def by_rank(found: list[dict], key=lambda r: int(r["env"]["RANK"])) -> list[dict]:
    return sorted(found, key=key)


def test_two_ranks_get_torchruns_variables():
    status, out, err = lamina_run("--nproc-per-node", "2", str(PROGRAMS / "launch_report.py"), "ok", "--x",
                                  env=env_without("OMP_NUM_THREADS", "RANK", "WORLD_SIZE"))
    assert status == 0, err
    ranks = by_rank(reports(out))
    assert [r["env"] for r in ranks] == [
        {"RANK": str(r), "WORLD_SIZE": "2", "LOCAL_RANK": str(r), "LOCAL_WORLD_SIZE": "2", "GROUP_RANK": "0",
         "NODE_RANK": "0", "GROUP_WORLD_SIZE": "1", "OMP_NUM_THREADS": "1", "MASTER_ADDR": None, "MASTER_PORT": None}
        for r in range(2)]
    for r in ranks:
        assert r["argv"] == [str(PROGRAMS / "launch_report.py"), "ok", "--x"] and r["name"] == "__main__"
        assert r["path0"] == str(PROGRAMS.resolve())


def test_three_ranks_of_a_module_keep_the_users_omp_num_threads():
    status, out, err = lamina_run("--nproc_per_node=3", "-m", "launch_report", "ok", cwd=PROGRAMS,
                                  env=env_without(OMP_NUM_THREADS="2"))
    assert status == 0, err
    ranks = by_rank(reports(out))
    assert [(r["env"]["RANK"], r["env"]["WORLD_SIZE"], r["env"]["LOCAL_RANK"], r["env"]["LOCAL_WORLD_SIZE"])
            for r in ranks] == [(str(r), "3", str(r), "3") for r in range(3)]
    assert {r["env"]["OMP_NUM_THREADS"] for r in ranks} == {"2"}
    assert {r["argv"][0] for r in ranks} == {str((PROGRAMS / "launch_report.py").resolve())}


def test_one_rank_is_a_job_too():
    status, out, err = lamina_run("--nproc-per-node", "1", str(PROGRAMS / "launch_report.py"))
    assert status == 0, err
    assert [(r["env"]["RANK"], r["env"]["WORLD_SIZE"]) for r in reports(out)] == [("0", "1")]


def test_hostfile_is_passed_to_mpiexec(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("localhost:2\n")
    status, out, err = lamina_run("--hostfile", str(hosts), "--nproc-per-node", "2",
                                  str(PROGRAMS / "launch_report.py"))
    assert status == 0, err
    assert sorted((r["env"]["RANK"], r["env"]["LOCAL_WORLD_SIZE"]) for r in reports(out)) == [("0", "2"), ("1", "2")]


def test_a_raising_rank_ends_the_job_with_its_traceback():
    began = time.monotonic()
    status, out, err = lamina_run("--nproc-per-node", "3", str(PROGRAMS / "launch_failures.py"), "raise")
    assert status == 1, err
    assert time.monotonic() - began < TIMEOUT  # the others, in a barrier, were aborted (communicate also waits)
    assert "Traceback (most recent call last):" in err and "ValueError: rank 1 fails on purpose" in err


def test_sys_exit_3_in_one_rank_gives_3():
    status, _, err = lamina_run("--nproc-per-node", "2", str(PROGRAMS / "launch_failures.py"), "exit3")
    assert status == 3, err


def test_the_first_failing_rank_gives_the_status(tmp_path):
    """Rank 1 exits 3, then rank 0 exits 5 (no MPI, so no abort): 3, where hydra alone says 3 | 5 = 7."""
    fifo = tmp_path / "rank1-alive"
    os.mkfifo(fifo)
    status, _, err = lamina_run("--nproc-per-node", "2", str(PROGRAMS / "launch_failures.py"), "ordered", str(fifo))
    assert status == 3, err


def test_a_rank_killed_by_a_signal_ends_the_job():
    status, _, err = lamina_run("--nproc-per-node", "2", str(PROGRAMS / "launch_failures.py"), "sigkill")
    assert status == signal.SIGKILL  # hydra's status for a rank killed by signal S is S


def read_pids(proc: subprocess.Popen, n: int, timeout: float = TIMEOUT) -> dict[int, int]:
    """The ``pid RANK PID;`` records of ``n`` ranks, read from the launcher's stdout as they come."""
    pids: dict[int, int] = {}
    buffer = ""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while len(pids) < n:
            left = deadline - time.monotonic()
            chunk = os.read(proc.stdout.fileno(), 4096).decode() if left > 0 and selector.select(left) else ""
            if not chunk:  # the job ended, or the time is up: fail with its output
                finish(proc, timeout=max(left, 0.1))
                pytest.fail(f"expected {n} ranks' pids, got {pids} before the job ended: {buffer!r}")
            buffer += chunk
            pids.update((int(rank), int(pid)) for rank, pid in re.findall(r"pid (\d+) (\d+);", buffer))
    return pids


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_launcher_ends_the_job(sig):
    proc = start("--nproc-per-node", "2", str(PROGRAMS / "launch_failures.py"), "hang")
    try:
        pids = read_pids(proc, 2)
        assert all(running(pid) for pid in pids.values())
        proc.send_signal(sig)
    finally:
        status, _, err = finish(proc)  # a job that does not end is terminated
    assert status == 128 + sig, err
    left = [pid for pid in pids.values() if running(pid)]
    assert not left, f"rank processes {left} outlived the job"
    if sig == signal.SIGINT:  # forwarded as SIGINT: the rank waiting in Python saw KeyboardInterrupt
        assert "KeyboardInterrupt" in err


def test_lamina_distributed_under_the_launcher_and_plain_mpiexec():
    program = str(PROGRAMS / "launch_collectives.py")
    status, out, err = lamina_run("--nproc-per-node", "2", program)
    assert status == 0, err
    got = sorted(reports(out), key=lambda r: r["rank"])
    assert got == [{"rank": r, "world_size": 2, "sum": 3.0, "env_rank": str(r), "env_world_size": "2"}
                   for r in range(2)]
    mpiexec = Path(sys.executable).parent / "mpiexec"
    plain = subprocess.run([str(mpiexec) if mpiexec.exists() else shutil.which("mpiexec"), "-n", "2",
                            sys.executable, "-m", "mpi4py", program], capture_output=True, text=True,
                           timeout=TIMEOUT, env=env_without("RANK", "WORLD_SIZE"))
    assert plain.returncode == 0, plain.stderr
    got = sorted(reports(plain.stdout), key=lambda r: r["rank"])
    assert got == [{"rank": r, "world_size": 2, "sum": 3.0, "env_rank": None, "env_world_size": None}
                   for r in range(2)]
