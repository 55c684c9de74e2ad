"""``lamina run --nproc-per-node N``: the job through ``mpiexec``, its signals and its exit status."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from ._bootstrap import STATUS_DIR_ENV

INSTALL_HINT = 'pip install "lamina-distributed[mpi]" (or pip install "lamina[mpi]")'


class LaunchError(RuntimeError):
    """The job cannot be started (no mpiexec, no mpi4py, an unreadable hostfile)."""


def find_mpiexec() -> str:
    """The ``mpiexec`` next to this Python (a venv with MPICH's wheel), else the first on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("mpiexec")
    if found is None:
        raise LaunchError(f"lamina run --nproc-per-node: expected an mpiexec next to {sys.executable} or on "
                          f"PATH, found none; install MPI with {INSTALL_HINT}")
    return found


def _is_hydra(mpiexec: str) -> bool:
    """MPICH's hydra (the default, also Intel MPI's); Open MPI's mpiexec sits next to ompi_info."""
    return not (Path(mpiexec).parent / "ompi_info").exists()


def hostfile_hosts(hostfile: str) -> int:
    """The number of machines a hostfile names (one ``host[:slots]`` a line; ``#`` starts a comment)."""
    try:
        text = Path(hostfile).read_text()
    except OSError as exc:
        raise LaunchError(f"lamina run --hostfile: expected a readable file of host names, got {hostfile!r} "
                          f"({exc.strerror})") from exc
    hosts = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    hosts = [h for h in hosts if h]
    if not hosts:
        raise LaunchError(f"lamina run --hostfile: expected at least one host name in {hostfile!r}, got none")
    return len(hosts)


def mpiexec_command(target: Sequence[str], nproc_per_node: int, *, module: bool = False,
                    hostfile: str | None = None, mpiexec: str | None = None) -> list[str]:
    """The command line that starts the job: ``nproc_per_node`` ranks on each machine of ``hostfile``
    (this machine alone without one), each running ``python -m lamina_distributed._bootstrap``."""
    mpiexec = find_mpiexec() if mpiexec is None else mpiexec
    layout: list[str] = []
    nodes = 1
    if hostfile is not None:
        nodes = hostfile_hosts(hostfile)
        hydra = _is_hydra(mpiexec)
        layout = (["-f", hostfile, "-ppn"] if hydra else ["--hostfile", hostfile, "-N"]) + [str(nproc_per_node)]
    program = ["-m", *target] if module else list(target)
    return [mpiexec, *layout, "-n", str(nproc_per_node * nodes), sys.executable, "-m",
            "lamina_distributed._bootstrap", *program]


def _first_failure(folder: str) -> int | None:
    """The status of the rank that failed first, from the records the ranks' bootstrap wrote."""
    records = []
    for path in Path(folder).glob("rank*"):
        if path.suffix == ".tmp":
            continue
        try:
            when, status = path.read_text().split()
            records.append((int(when), int(status)))
        except (OSError, ValueError):
            continue
    return min(records)[1] if records else None


#: how long ranks on this machine may take to end once mpiexec has returned, before they are killed
GRACE_S = 3.0
#: how long to wait, after SIGKILL, for a straggler to be gone
KILL_WAIT_S = 5.0


def _is_rank(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"lamina_distributed._bootstrap" in f.read()
    except OSError:  # ended (or no /proc: then only os.kill below can tell)
        return False


def _end_stragglers(folder: str) -> None:
    """Hydra can return while a rank it killed (or that is unwinding after an abort) is still running: wait
    up to GRACE_S for the ranks this machine started to end, then SIGKILL what is left (no orphans)."""
    pids = []
    for path in Path(folder).glob("pid*"):
        try:
            pids.append(int(path.read_text()))
        except (OSError, ValueError):
            continue
    deadline, killed = time.monotonic() + GRACE_S, False
    while True:
        left = [pid for pid in pids if _is_rank(pid)]
        if not left:
            return
        if killed and time.monotonic() >= deadline:
            return  # SIGKILLed and still not gone (uninterruptible I/O): nothing more a launcher can do
        if not killed and time.monotonic() >= deadline:
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            # SIGKILL takes effect asynchronously: wait for the processes to end (on a loaded machine
            # a killed rank stayed visible for a moment after the launcher had returned)
            deadline, killed = time.monotonic() + KILL_WAIT_S, True
        time.sleep(0.01)


def launch(target: Sequence[str], nproc_per_node: int, *, module: bool = False,
           hostfile: str | None = None) -> int:
    """Run the job and return its status: 0 when every rank succeeds, else the first failing rank's
    status (read from the ranks' records; the launcher's when no rank left one: a rank killed by a signal
    S gives hydra's S, e.g. 9 for SIGKILL); 128 + S when this launcher got SIGINT/SIGTERM/SIGHUP S, which
    it forwards to mpiexec (SIGINT as SIGINT: ranks see KeyboardInterrupt, a second one makes hydra kill
    them; SIGTERM and SIGHUP as SIGTERM: hydra kills the ranks)."""
    if importlib.util.find_spec("mpi4py") is None:
        raise LaunchError(f"lamina run --nproc-per-node: expected mpi4py in {sys.executable}, found none; "
                          f"install it with {INSTALL_HINT}")
    command = mpiexec_command(target, nproc_per_node, module=module, hostfile=hostfile)
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")  # N ranks on one machine: one thread each, as torchrun sets
    received: list[int] = []
    proc: subprocess.Popen | None = None

    def forward(signum: int, frame: object) -> None:
        received.append(signum)
        if proc is not None:  # (send_signal skips a process known to have ended)
            proc.send_signal(signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)

    handled = [s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    in_main = threading.current_thread() is threading.main_thread()  # signal handlers live there only
    previous = {s: signal.signal(s, forward) for s in handled} if in_main else {}
    with tempfile.TemporaryDirectory(prefix="lamina-run-") as folder:
        env[STATUS_DIR_ENV] = folder
        try:
            # its own session: a terminal's Ctrl-C reaches the launcher alone, which forwards it once
            try:
                proc = subprocess.Popen(command, env=env, start_new_session=True)
            except OSError as exc:
                raise LaunchError(f"lamina run --nproc-per-node: could not start {command[0]} ({exc})") from exc
            if received:  # a signal that came before the job existed
                forward(received.pop(), None)
            returncode = proc.wait()
            _end_stragglers(folder)
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
        if received:
            return 128 + received[0]
        if returncode == 0:
            return 0
        first = _first_failure(folder)
    if first is not None:
        return first
    return 128 - returncode if returncode < 0 else returncode
