"""Run one program under real torch and under ``lamina run`` from the same initial weights; compare the two.

Usage in a test::

    from programs.harness import run_pair, assert_same
    torch_run, lamina_run = run_pair("mnist_cnn.py", ["--steps", "5"], tmp_path)
    assert_same(torch_run, lamina_run, rtol=1e-4)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ORACLE = HERE / "oracle"
TIMEOUT = 600


@dataclass
class Run:
    """What one run left: its log records, final parameters, stdout and exit status."""

    log: list[dict] = field(default_factory=list)
    final: dict[str, np.ndarray] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""
    returncode: int = 0


def _read(folder: Path, proc: subprocess.CompletedProcess) -> Run:
    from safetensors.numpy import load_file

    log_path, final_path = folder / "log.jsonl", folder / "final.safetensors"
    log = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()] if log_path.exists() \
        else []
    final = load_file(str(final_path)) if final_path.exists() else {}
    return Run(log, final, proc.stdout, proc.stderr, proc.returncode)


def run_pair(program: str, args: list[str], tmp_path: Path, *, env: dict | None = None) -> tuple[Run, Run]:
    """Run ``program`` with ``args`` on real torch (saving its initial weights), then by ``lamina run`` (loading
    them). Each run's stderr is attached to a failure of the other checks."""
    init = tmp_path / "init.safetensors"
    runs = []
    for side in ("torch", "lamina"):
        folder = tmp_path / side
        folder.mkdir(exist_ok=True)
        cmd = [str(HERE / program), *args, "--log", str(folder / "log.jsonl"),
               "--final", str(folder / "final.safetensors")]
        # one thread each: the test runs beside others (xdist), and both results are independent of it
        base = dict(os.environ, OMP_NUM_THREADS="1", LAMINA_NUM_THREADS="1", **(env or {}))
        if side == "torch":
            cmd = [sys.executable, *cmd, "--save-init", str(init)]
            base["PYTHONPATH"] = os.pathsep.join([str(ORACLE), base.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        else:
            cmd = [sys.executable, "-m", "lamina", "run", *cmd, "--init", str(init)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, cwd=folder, env=base)
        assert proc.returncode == 0, f"{side} run of {program} failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
        runs.append(_read(folder, proc))
    return runs[0], runs[1]


def assert_same(a: Run, b: Run, *, rtol: float = 1e-4, atol: float = 1e-5, keys: tuple[str, ...] | None = None,
                param_rtol: float | None = None, param_atol: float | None = None) -> None:
    """Same number of log records, equal numbers in them (within tolerance; other values exactly), the same
    final parameter names and shapes, and equal values."""
    assert len(a.log) == len(b.log) and a.log, f"log lengths differ or are empty: {len(a.log)} vs {len(b.log)}"
    for i, (ra, rb) in enumerate(zip(a.log, b.log)):
        assert set(ra) == set(rb), f"record {i}: keys {sorted(ra)} vs {sorted(rb)}"
        for k in keys or tuple(ra):
            va, vb = ra[k], rb[k]
            if isinstance(va, (int, float)) and not isinstance(va, bool):
                np.testing.assert_allclose(vb, va, rtol=rtol, atol=atol, err_msg=f"record {i} ({ra}) key {k!r}")
            elif isinstance(va, list) and all(isinstance(x, (int, float, list)) for x in va):
                np.testing.assert_allclose(np.asarray(vb, dtype=float), np.asarray(va, dtype=float), rtol=rtol,
                                           atol=atol, err_msg=f"record {i} key {k!r}")
            else:
                assert va == vb, f"record {i} key {k!r}: {va!r} vs {vb!r}"
    assert sorted(a.final) == sorted(b.final), f"parameters differ: {sorted(set(a.final) ^ set(b.final))}"
    for k in a.final:
        assert a.final[k].shape == b.final[k].shape, f"{k}: shape {a.final[k].shape} vs {b.final[k].shape}"
        np.testing.assert_allclose(b.final[k], a.final[k], rtol=param_rtol or rtol, atol=param_atol or atol * 10,
                                   err_msg=f"final parameter {k}")
