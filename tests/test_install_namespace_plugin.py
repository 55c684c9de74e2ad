"""A namespace plugin added to a minimal install: with only the core and lamina-backend-cpu in a fresh
venv, ``lamina.linalg.inv`` names lamina-linalg and its pip command; after ``pip install lamina-linalg``
it works, with no change to the core. Runs on the wheels that `make test` builds into dist/."""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DIST = Path(os.environ.get("LAMINA_TEST_DIST", ROOT / "dist"))
WHEEL_RUN = os.environ.get("LAMINA_TEST_INSTALL") == "wheels"

PROBE = """
import lamina
try:
    lamina.linalg.inv
except ModuleNotFoundError as exc:
    print("MISSING", exc)
else:
    print("VALUE", lamina.linalg.inv(lamina.eye(2) * 4).tolist())
"""


def _pip(python: Path, *args: str) -> None:
    run = subprocess.run([str(python), "-m", "pip", "install", "-q", *args], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.skipif(not WHEEL_RUN, reason="needs the wheels of `make test` in dist/")
def test_linalg_installed_later_is_served_without_a_core_change(tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # third-party requirements from the registry, lamina's own distributions only from dist/
    _pip(python, "numpy>=1.26", "pluggy>=1.3", "importlib-metadata>=6", "scipy>=1.11")
    _pip(python, "--no-index", "--no-deps", "--find-links", str(DIST), "lamina", "lamina-backend-cpu")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMINA_")}
    before = subprocess.run([str(python), "-c", PROBE], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert before.returncode == 0, before.stderr
    assert before.stdout.startswith("MISSING"), before.stdout
    assert "lamina-linalg" in before.stdout and "pip install lamina-linalg" in before.stdout, before.stdout
    _pip(python, "--no-index", "--no-deps", "--find-links", str(DIST), "lamina-linalg")
    after = subprocess.run([str(python), "-c", PROBE], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "VALUE [[0.25, 0.0], [0.0, 0.25]]", after.stdout
