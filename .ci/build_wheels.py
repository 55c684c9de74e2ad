#!/usr/bin/env python3
"""Build an sdist and a wheel of every lamina distribution (the core and plugins/*) into one folder.

    python .ci/build_wheels.py dist                       # the family: the core and every plugins/*/
    python .ci/build_wheels.py dist/example examples/third_party_plugin
    python .ci/build_wheels.py dist --constraints FILE    # also write `name==version` for each wheel

Run it with a Python that has `build` and `setuptools>=77` (make's build venv): each project is built
with `python -m build --no-isolation`, so no per-project throw-away environment is made (that costs
seconds per distribution), and the wheel is built from the unpacked sdist, so a file the sdist lacks is
missing from the wheel too. Each project is built from a clean copy (its folder without build
by-products; for the core, core/ and the top-level files its sdist takes): without a version-control
file finder, setuptools adds the files listed in a leftover *.egg-info/SOURCES.txt to the sdist, so an
in-place build could ship a file that a fresh clone's would not, and the copy leaves the tree untouched.
Builds run in parallel. The output folder is emptied first (a wheel left from an earlier build of the
same version would be installed in place of the new one). A build that fails or prints a warning (a
README that cannot be found, a deprecated metadata form) fails the script.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WARNING = re.compile(r"warn|deprecat", re.IGNORECASE)
# build by-products and caches, never part of a distribution
BY_PRODUCTS = shutil.ignore_patterns("*.egg-info", "build", "dist", "__pycache__", ".mypy_cache", ".pytest_cache")
# what the core's sdist is made from (the repository root also holds the plugins, tests, venvs, ...)
CORE_FILES = ("pyproject.toml", "README.md", "LICENSE")


def family() -> list[Path]:
    """The core (the repository root) and every plugin folder with a pyproject.toml."""
    return [ROOT] + sorted(p.parent for p in ROOT.glob("plugins/*/pyproject.toml"))


def stage(project: Path, into: Path) -> Path:
    """A clean copy of project's sources under into."""
    copy = into / project.name
    if project == ROOT:
        copy.mkdir()
        for name in CORE_FILES:
            shutil.copy2(ROOT / name, copy / name)
        shutil.copytree(ROOT / "core", copy / "core", ignore=BY_PRODUCTS)
    else:
        shutil.copytree(project, copy, ignore=BY_PRODUCTS)
    return copy


def build(project: Path, outdir: Path) -> tuple[Path, str | None]:
    """Build one project; return it and its log when the build failed or warned, else None."""
    with tempfile.TemporaryDirectory(prefix="lamina-build-") as tmp:
        copy = stage(project, Path(tmp))
        cmd = [sys.executable, "-m", "build", "--quiet", "--no-isolation", "--outdir", str(outdir), str(copy)]
        run = subprocess.run(cmd, capture_output=True, text=True)
    log = run.stdout + run.stderr
    if run.returncode != 0 or WARNING.search(log):
        return project, log
    return project, None


def wheel_pins(outdir: Path) -> list[str]:
    """`name==version` for every wheel in outdir (file names are `name-version-tags.whl`)."""
    pins = []
    for wheel in sorted(outdir.glob("*.whl")):
        name, version = wheel.name.split("-")[:2]
        pins.append(f"{name.replace('_', '-')}=={version}")
    return pins


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("projects", nargs="*", type=Path, help="project folders (default: the whole family)")
    parser.add_argument("--constraints", type=Path, help="write a pip constraints file pinning the built wheels")
    args = parser.parse_args(argv)
    projects = [p.resolve() for p in args.projects] or family()
    missing = [str(p) for p in projects if not (p / "pyproject.toml").is_file()]
    if missing:
        parser.error(f"expected project folders with a pyproject.toml, got {missing}")
    outdir = args.outdir.resolve()
    shutil.rmtree(outdir, ignore_errors=True)
    outdir.mkdir(parents=True)
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 2)) as pool:
        results = list(pool.map(lambda p: build(p, outdir), projects))
    failed = [(project, log) for project, log in results if log is not None]
    for project, log in failed:
        print(f"build_wheels: {project.relative_to(ROOT)} failed or warned:\n{log}", file=sys.stderr)
    if failed:
        return 1
    wheels = sorted(outdir.glob("*.whl"))
    if len(wheels) != len(projects) or len(list(outdir.glob("*.tar.gz"))) != len(projects):
        print(f"build_wheels: expected a wheel and an sdist for each of {len(projects)} projects, got "
              f"{sorted(p.name for p in outdir.iterdir())}", file=sys.stderr)
        return 1
    if args.constraints:
        args.constraints.parent.mkdir(parents=True, exist_ok=True)
        args.constraints.write_text("\n".join(wheel_pins(outdir)) + "\n")
    print(f"build_wheels: {len(wheels)} wheels and sdists in {os.path.relpath(outdir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
