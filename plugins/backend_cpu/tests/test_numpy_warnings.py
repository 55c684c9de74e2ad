"""torch's ops never warn on overflow, NaN or division by zero; the CPU backend keeps NumPy quiet the same way
(in the calling thread and in its pool's workers), unless LAMINA_NUMPY_WARNINGS=1."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

CODE = textwrap.dedent("""
    import warnings
    warnings.simplefilter("error")
    import lamina
    lamina.set_num_threads(2)
    x = lamina.full((64, 64), 1e30)
    y = (x ** 2).sum() + (lamina.tensor([0.0]) / 0).sum() + lamina.log(lamina.tensor([-1.0])).sum()
    out = x.softmax(-1)  # runs on the pool when it splits work
    print(float(y), bool(out.isfinite().all()))
""")


def _run(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, **env))


def test_inf_and_nan_make_no_warning():
    r = _run({})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["nan", "True"]


def test_numpy_warnings_can_be_kept():
    r = _run({"LAMINA_NUMPY_WARNINGS": "1"})
    assert r.returncode != 0 and "RuntimeWarning" in r.stderr
