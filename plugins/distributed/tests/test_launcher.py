"""``lamina run`` without ``--nproc-per-node``: the program runs in this process as python would run it;
the options, the command-line entry points and the launcher's errors.

Most cases call ``lamina_distributed.run.main`` in the test's own process (fast); a few start the real
command lines (``python -m lamina run``, ``python -m lamina.distributed.run``) and compare with python.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from _mpi_jobs import PROGRAMS, reports
from lamina_distributed import run
from lamina_distributed._bootstrap import rank_environment
from lamina_distributed._launch_mpi import mpiexec_command

REPORT = PROGRAMS / "launch_report.py"
TIMEOUT = 60


def run_here(capsys, *argv: str) -> tuple[int, dict | None, str]:
    """``run.main(argv)`` in this process: (status, the program's report or None, stderr). Without the torch
    alias: this process has the real torch (the alias is tested by tests/test_torch_layout_and_run.py)."""
    status = run.main(["--no-torch-alias", *argv])
    out, err = capsys.readouterr()
    found = reports(out)
    return status, (found[0] if found else None), err


def test_argv_name_file_and_path_as_python(capsys, monkeypatch):
    monkeypatch.chdir(PROGRAMS)
    argv, path = sys.argv[:], sys.path[:]
    status, report, err = run_here(capsys, "launch_report.py", "ok", "--nproc-per-node", "2", "-m", "--")
    assert status == 0, err
    assert report["argv"] == ["launch_report.py", "ok", "--nproc-per-node", "2", "-m", "--"]  # options after it are its
    assert report["name"] == "__main__"
    assert report["file"] == str(REPORT.resolve())  # python makes __main__.__file__ absolute
    assert report["path0"] == str(PROGRAMS.resolve())
    assert report["env"]["RANK"] is None and report["env"]["WORLD_SIZE"] is None  # no job: nothing is set
    assert (sys.argv, sys.path) == (argv, path)  # put back


def test_double_dash_ends_the_launcher_options(capsys):
    status, report, err = run_here(capsys, "--", str(REPORT), "ok", "--", "-x")
    assert status == 0, err
    assert report["argv"] == [str(REPORT), "ok", "--", "-x"]


def test_symlinked_script_gets_its_real_folder(capsys, tmp_path):
    link = tmp_path / "linked.py"
    link.symlink_to(REPORT)
    status, report, err = run_here(capsys, str(link))
    assert status == 0, err
    assert report["path0"] == str(PROGRAMS.resolve()) and report["argv"] == [str(link)]


def test_module_runs_as_python_dash_m(capsys, monkeypatch):
    monkeypatch.chdir(PROGRAMS)
    status, report, err = run_here(capsys, "-m", "launch_report", "ok", "a")
    assert status == 0, err
    assert report["argv"] == [str(REPORT.resolve()), "ok", "a"] and report["name"] == "__main__"
    assert report["path0"] == str(PROGRAMS.resolve())  # python -m puts the working directory first


def test_folder_with_dunder_main(capsys, tmp_path):
    (tmp_path / "__main__.py").write_text("import json, sys\nprint(json.dumps({'argv': sys.argv, 'path0': sys.path[0], "
                                         "'name': __name__}))\n")
    status, report, err = run_here(capsys, str(tmp_path), "x")
    assert status == 0, err
    assert report == {"argv": [str(tmp_path), "x"], "path0": str(tmp_path), "name": "__main__"}


@pytest.mark.parametrize(("how", "status", "message"), [
    ("exit=3", 3, ""),
    ("exit=0", 0, ""),
    ("exit=none", 0, ""),
    ("exit=text", 1, "launch_report exits with a message\n"),
])
def test_exit_status_as_python(capsys, how, status, message):
    got, report, err = run_here(capsys, str(REPORT), how)
    assert report is not None and (got, err) == (status, message)


def test_uncaught_exception_prints_the_programs_traceback(capsys):
    status, _, err = run_here(capsys, str(REPORT), "raise")
    assert status == 1
    assert err.startswith("Traceback (most recent call last):\n"
                          f'  File "{REPORT}", line ')  # from the program's first frame, as python prints it
    assert "runpy" not in err and "_launch_local" not in err
    assert ", in fail_here\n    raise ValueError" in err
    assert err.rstrip().endswith("ValueError: launch_report fails on purpose")


def test_excepthook_is_used(capsys, monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, exc, tb: seen.append((kind, tb.tb_frame.f_code.co_filename)))
    status, _, _ = run_here(capsys, str(REPORT), "raise")
    assert status == 1 and seen == [(ValueError, str(REPORT))]


def test_keyboard_interrupt_gives_130(capsys):
    status, _, err = run_here(capsys, str(REPORT), "interrupt")
    assert status == 130 and err.rstrip().endswith("KeyboardInterrupt")


def test_missing_script_and_module(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, _, err = run_here(capsys, "no_such_program.py")
    assert status == 2
    assert err == (f"python -m lamina.distributed.run: can't open file '{tmp_path / 'no_such_program.py'}': "
                   f"[Errno 2] No such file or directory\n")
    status, _, err = run_here(capsys, "-m", "no_such_module_here")
    assert (status, err) == (1, "python -m lamina.distributed.run: No module named no_such_module_here\n")


def test_no_program(capsys):
    status, report, err = run_here(capsys, "--nproc-per-node", "2")
    assert (status, report) == (2, None)
    assert err == ("python -m lamina.distributed.run: error: expected a program to run (script.py [args ...]), "
                   "got none\n")


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_nproc_per_node_must_be_positive(capsys, value):
    with pytest.raises(SystemExit) as info:
        run.main(["--nproc-per-node", value, str(REPORT)])
    assert info.value.code == 2
    assert f"argument --nproc-per-node/--nproc_per_node: expected a positive integer N, got {value!r}" in \
        capsys.readouterr().err


def test_missing_mpiexec_names_the_pip_command(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    status, report, err = run_here(capsys, "--nproc-per-node", "2", str(REPORT))
    assert (status, report) == (1, None)
    assert "lamina.distributed.run: error: lamina run --nproc-per-node: expected an mpiexec next to" in err
    assert 'pip install "lamina-distributed[mpi]"' in err and 'pip install "lamina[mpi]"' in err


def test_unreadable_hostfile(capsys, tmp_path):
    status, _, err = run_here(capsys, "--hostfile", str(tmp_path / "none"), str(REPORT))
    assert status == 1 and f"--hostfile: expected a readable file of host names, got '{tmp_path / 'none'}'" in err
    (tmp_path / "empty").write_text("# no hosts\n\n")
    status, _, err = run_here(capsys, "--hostfile", str(tmp_path / "empty"), str(REPORT))
    assert status == 1 and "expected at least one host name" in err


def test_mpiexec_command_lines(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("# two machines\nnode-a:4\nnode-b:4  # the second\n")
    hydra = str(tmp_path / "mpiexec")
    boot = [sys.executable, "-m", "lamina_distributed._bootstrap"]
    assert mpiexec_command(["p.py", "a"], 3, mpiexec=hydra) == [hydra, "-n", "3", *boot, "p.py", "a"]
    assert mpiexec_command(["pkg.mod"], 2, module=True, hostfile=str(hosts), mpiexec=hydra) == \
        [hydra, "-f", str(hosts), "-ppn", "2", "-n", "4", *boot, "-m", "pkg.mod"]
    (tmp_path / "ompi_info").write_text("")  # Open MPI's mpiexec sits next to ompi_info
    assert mpiexec_command(["p.py"], 2, hostfile=str(hosts), mpiexec=hydra)[1:6] == \
        ["--hostfile", str(hosts), "-N", "2", "-n"]


def test_rank_environment_from_hydra_and_open_mpi():
    want = {"RANK": "5", "WORLD_SIZE": "8", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "4", "GROUP_RANK": "1",
            "NODE_RANK": "1", "GROUP_WORLD_SIZE": "2"}
    assert rank_environment({"PMI_RANK": "5", "PMI_SIZE": "8", "MPI_LOCALRANKID": "1", "MPI_LOCALNRANKS": "4"}) == want
    assert rank_environment({"OMPI_COMM_WORLD_RANK": "5", "OMPI_COMM_WORLD_SIZE": "8",
                             "OMPI_COMM_WORLD_LOCAL_RANK": "1", "OMPI_COMM_WORLD_LOCAL_SIZE": "4"}) == want


def cli(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd)


def test_lamina_run_matches_python_on_the_command_line():
    """`lamina run prog` and `python prog`: the same stdout, stderr (traceback) and status."""
    for how in ("exit=3", "raise"):
        python = cli(str(REPORT), how, "x")
        lamina = cli("-m", "lamina", "run", str(REPORT), how, "x")
        assert (lamina.returncode, lamina.stderr) == (python.returncode, python.stderr)
        assert reports(lamina.stdout) == reports(python.stdout)
    assert python.returncode == 1 and "ValueError: launch_report fails on purpose" in python.stderr


def test_run_is_a_lamina_subcommand():
    proc = cli("-m", "lamina", "--help")
    assert proc.returncode == 0 and "run" in proc.stdout
    proc = cli("-m", "lamina", "run", "--help")
    assert proc.returncode == 0, proc.stderr
    assert "--nproc-per-node N" in proc.stdout and "--hostfile FILE" in proc.stdout
    proc = cli("-m", "lamina", "run", "--no-such-option", str(REPORT))
    assert proc.returncode == 2 and "unrecognized arguments: --no-such-option" in proc.stderr


def test_python_dash_m_lamina_distributed_dot_run_real_name():
    proc = cli("-m", "lamina_distributed.run", str(REPORT), "exit=3", cwd=PROGRAMS)
    assert proc.returncode == 3, proc.stderr
    assert reports(proc.stdout)[0]["argv"] == [str(REPORT), "exit=3"]


def test_python_dash_m_lamina_distributed_dot_run():
    proc = cli("-m", "lamina.distributed.run", str(REPORT), "exit=3", cwd=PROGRAMS)
    assert proc.returncode == 3, proc.stderr
    assert reports(proc.stdout)[0]["argv"] == [str(REPORT), "exit=3"]


def test_ranks_that_outlive_mpiexec_are_ended(tmp_path, monkeypatch):
    """The launcher's last step: a rank still running once mpiexec has returned is killed after a grace
    period; a process whose pid file is there but which is not a rank is left alone."""
    from lamina_distributed import _launch_mpi

    blocked = "import sys; sys.stdin.read()"  # runs until its stdin closes
    rank = subprocess.Popen([sys.executable, "-c", blocked, "lamina_distributed._bootstrap"], stdin=subprocess.PIPE)
    other = subprocess.Popen([sys.executable, "-c", blocked], stdin=subprocess.PIPE)
    try:
        (tmp_path / "pid0").write_text(f"{rank.pid}\n")
        (tmp_path / "pid1").write_text(f"{other.pid}\n")
        monkeypatch.setattr(_launch_mpi, "GRACE_S", 0.2)
        _launch_mpi._end_stragglers(str(tmp_path))
        assert not _launch_mpi._is_rank(rank.pid)  # gone (a zombie) by the time it returns, not merely signalled
        assert rank.wait(timeout=TIMEOUT) == -signal.SIGKILL
        assert other.poll() is None
    finally:
        for p in (rank, other):
            p.stdin.close()
            p.wait(timeout=TIMEOUT)
