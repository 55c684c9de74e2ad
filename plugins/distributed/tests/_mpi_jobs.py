"""What the MPI tests share: where the programs are, finding mpiexec, reading the ranks' JSON reports."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

PROGRAMS = Path(__file__).parent / "programs"


def mpiexec() -> str:
    """The venv's mpiexec (MPICH's wheel), else the first on PATH; the test FAILS without one (CI installs
    MPI, so a skip would hide a broken install)."""
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.exists():
        return str(beside)
    found = shutil.which("mpiexec")
    if found is None:
        pytest.fail('mpiexec not found beside the interpreter or on PATH: pip install "lamina-distributed[mpi]" '
                    "(mpi4py and MPICH's wheel, which puts mpiexec in the environment's bin/)")
    return found


def reports(stdout: str) -> list[dict]:
    """The JSON objects the ranks printed (mpiexec may put two on one line)."""
    decoder, found, at = json.JSONDecoder(), [], stdout.find("{")
    while at >= 0:
        obj, end = decoder.raw_decode(stdout, at)
        found.append(obj)
        at = stdout.find("{", end)
    return found
