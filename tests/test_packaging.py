"""Packaging: every first-party distribution's metadata (one family version, the core as a compatible
range, SPDX licence, README, classifiers, URLs), the core's extras, and what the wheels hold (py.typed,
licence file, README, every source file, the CUDA kernel sources, the entry points).

Under `make test` (LAMINA_TEST_INSTALL=wheels) the wheels checked are all of dist/, just built, and the
suite runs against them installed; elsewhere one wheel (lamina-backend-cuda's, the one with package data)
is built from a copy of its folder into a temporary directory.
"""

from __future__ import annotations

import configparser
import email
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import lamina
import pytest

tomllib = pytest.importorskip("tomllib")
Requirement = pytest.importorskip("packaging.requirements").Requirement

ROOT = Path(__file__).resolve().parents[1]
WHEEL_RUN = os.environ.get("LAMINA_TEST_INSTALL") == "wheels"
# the core's extras, as the README states them
CPU_SET = {"lamina-backend-cpu", "lamina-layers-basic", "lamina-norms", "lamina-init", "lamina-losses",
           "lamina-optim", "lamina-layers-recurrent", "lamina-layers-attention", "lamina-datasets",
           "lamina-distributed"}
SOURCE_SUFFIXES = (".py", ".pyi", ".cu", ".cuh", ".typed")


def _load(folder: Path) -> dict:
    return tomllib.loads((folder / "pyproject.toml").read_text())


FOLDERS = [ROOT] + sorted(p.parent for p in ROOT.glob("plugins/*/pyproject.toml"))
CORE = _load(ROOT)["project"]
VERSION = CORE["version"]
MAJOR, MINOR = (int(part) for part in VERSION.split(".")[:2])


def _id(folder: Path) -> str:
    return "core" if folder == ROOT else folder.name


def _package_dir(folder: Path) -> Path:
    """The import package a distribution folder ships (core/lamina, or the one package under src/)."""
    if folder == ROOT:
        return ROOT / "core" / "lamina"
    packages = [p for p in (folder / "src").iterdir() if (p / "__init__.py").is_file()]
    assert len(packages) == 1, f"{folder}: expected one package under src/, got {packages}"
    return packages[0]


def _requirements(project: dict) -> list[str]:
    extras = project.get("optional-dependencies", {}).values()
    return list(project.get("dependencies", [])) + [r for group in extras for r in group]


@pytest.mark.parametrize("folder", FOLDERS, ids=_id)
def test_every_pyproject_carries_the_family_metadata(folder):
    project = _load(folder)["project"]
    name = project["name"]
    assert project["version"] == VERSION, f"{name}: version {project['version']}, the family's is {VERSION}"
    assert project.get("license") == "MIT", f"{name}: expected license = \"MIT\" (SPDX), got {project.get('license')!r}"
    assert project.get("license-files") == ["LICENSE"], f"{name}: expected license-files = [\"LICENSE\"]"
    licence = (folder / "LICENSE").read_bytes()
    assert licence == (ROOT / "LICENSE").read_bytes(), f"{name}: LICENSE differs from the root's"
    assert project.get("readme") == "README.md" and (folder / "README.md").is_file(), f"{name}: expected a README.md"
    assert project.get("classifiers") == CORE["classifiers"], f"{name}: classifiers differ from the core's"
    assert not [c for c in project["classifiers"] if c.startswith("License ::")], f"{name}: licence classifier"
    assert project.get("urls") == CORE["urls"], f"{name}: [project.urls] differ from the core's"
    assert project.get("requires-python") == CORE["requires-python"], name
    assert _load(folder)["build-system"]["requires"] == ["setuptools>=77"], f"{name}: SPDX licences need setuptools 77"
    assert (_package_dir(folder) / "py.typed").is_file(), f"{name}: {_package_dir(folder)} has no py.typed"


@pytest.mark.parametrize("folder", FOLDERS, ids=_id)
def test_family_requirements_are_the_compatible_range(folder):
    project = _load(folder)["project"]
    for text in _requirements(project):
        requirement = Requirement(text)
        if requirement.name == "lamina" or requirement.name.startswith("lamina-"):
            expected = {f">={MAJOR}.{MINOR}", f"<{MAJOR + 1}"}
            got = {str(spec) for spec in requirement.specifier}
            want = f"{requirement.name}>={MAJOR}.{MINOR},<{MAJOR + 1}"
            assert got == expected, f"{project['name']}: expected {want}, got {text!r}"


def test_the_core_version_is_the_family_version():
    assert lamina.__version__ == VERSION


def test_the_extras_name_the_right_distributions():
    extras = {name: {Requirement(r).name: Requirement(r) for r in group}
              for name, group in CORE["optional-dependencies"].items()}
    plugins = {_load(folder)["project"]["name"] for folder in FOLDERS[1:]}
    assert set(extras["all"]) == plugins, f"lamina[all] vs plugins/: {set(extras['all']) ^ plugins}"
    assert not any(r.extras for r in extras["all"].values()), "lamina[all] pulls no hardware-specific extra"
    assert set(extras["cpu"]) == CPU_SET
    assert set(extras["cuda12"]) == {"lamina-backend-cuda"}
    assert extras["cuda12"]["lamina-backend-cuda"].extras == {"cuda12"}
    cuda = _load(ROOT / "plugins" / "backend_cuda")["project"]["optional-dependencies"]["cuda12"]
    assert [Requirement(r).name for r in cuda] == ["cupy-cuda12x"]


# ---- the wheels -------------------------------------------------------------------------------------


def _build_one(folder: Path, out: Path) -> Path:
    """Build folder's wheel from a copy (the build writes egg-info and build/ beside the sources)."""
    pytest.importorskip("setuptools", minversion="77")
    copy = out / "src" / folder.name
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__"))
    code = "import sys, setuptools.build_meta as b; print(b.build_wheel(sys.argv[1]))"
    run = subprocess.run([sys.executable, "-c", code, str(out)], cwd=copy, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    return out / run.stdout.strip().splitlines()[-1]


# the distributions whose wheels are checked: all under make test, else the one with package data
WHEEL_FOLDERS = FOLDERS if WHEEL_RUN else [ROOT / "plugins" / "backend_cuda"]


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> dict[Path, Path]:
    """{distribution folder: its wheel}."""
    if not WHEEL_RUN:
        return {folder: _build_one(folder, tmp_path_factory.mktemp("wheel")) for folder in WHEEL_FOLDERS}
    by_name = {_load(folder)["project"]["name"].replace("-", "_"): folder for folder in FOLDERS}
    found = {path.name.split("-")[0]: path for path in sorted((ROOT / "dist").glob("*.whl"))}
    assert set(found) == set(by_name), f"dist/ vs the tree: {set(found) ^ set(by_name)}"
    return {by_name[name]: path for name, path in found.items()}


def _metadata(archive: zipfile.ZipFile) -> tuple[str, email.message.Message]:
    info = next(n.split("/")[0] for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
    return info, email.message_from_string(archive.read(f"{info}/METADATA").decode("utf-8"))


@pytest.mark.parametrize("folder", WHEEL_FOLDERS, ids=_id)
def test_the_wheel_holds_its_sources_licence_readme_and_py_typed(wheels, folder):
    wheel = wheels[folder]
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info, meta = _metadata(archive)
        package = _package_dir(folder)
        sources = {f"{package.name}/{p.relative_to(package).as_posix()}" for p in package.rglob("*")
                   if p.suffix in SOURCE_SUFFIXES and "__pycache__" not in p.parts}
        assert f"{package.name}/py.typed" in sources, f"{folder}: no py.typed in the tree"
        assert not sources - names, f"{wheel.name} lacks {sorted(sources - names)}"
        assert meta["Version"] == VERSION and meta["License-Expression"] == "MIT", f"{wheel.name}: {meta.items()}"
        assert meta.get_all("License-File") == ["LICENSE"] and f"{info}/licenses/LICENSE" in names, wheel.name
        assert meta["Description-Content-Type"] == "text/markdown", wheel.name
        readme = (folder / "README.md").read_text().strip()
        assert readme in meta.get_payload(), f"{wheel.name}: the description is not the README"
        assert set(meta.get_all("Project-URL")) == {f"{k}, {v}" for k, v in CORE["urls"].items()}, wheel.name


def test_the_cuda_wheel_ships_its_kernel_sources(wheels):
    folder = ROOT / "plugins" / "backend_cuda"
    kernels = sorted((folder / "src").rglob("*.cu*"))
    assert any(p.suffix == ".cu" for p in kernels)
    with zipfile.ZipFile(wheels[folder]) as archive:
        names = set(archive.namelist())
    missing = [p.name for p in kernels if p.relative_to(folder / "src").as_posix() not in names]
    assert not missing, f"the lamina-backend-cuda wheel lacks kernel sources {missing}"


@pytest.mark.parametrize("folder", WHEEL_FOLDERS, ids=_id)
def test_the_wheel_declares_the_entry_points_of_its_pyproject(wheels, folder):
    wheel = wheels[folder]
    project = _load(folder)["project"]
    expected = {group: dict(entries) for group, entries in project.get("entry-points", {}).items()}
    if "scripts" in project:
        expected["console_scripts"] = dict(project["scripts"])
    with zipfile.ZipFile(wheel) as archive:
        info, _ = _metadata(archive)
        parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
        parser.optionxform = str  # entry names are case-sensitive (Conv2d)
        if f"{info}/entry_points.txt" in archive.namelist():
            parser.read_string(archive.read(f"{info}/entry_points.txt").decode())
    got = {group: dict(parser[group]) for group in parser.sections()}
    assert got == expected, f"{wheel.name}: entry points differ from {folder / 'pyproject.toml'}"


# ---- the install the suite runs against -------------------------------------------------------------


@pytest.mark.skipif(not WHEEL_RUN, reason="only when the suite runs on the installed wheels (make test)")
def test_the_suite_imports_the_installed_wheels_not_the_tree():
    for folder in FOLDERS:
        name = _load(folder)["project"]["name"]
        dist = importlib.metadata.distribution(name)
        assert dist.version == VERSION, f"{name}: installed {dist.version}, the tree's is {VERSION}"
        direct = dist.read_text("direct_url.json")
        assert direct is None or not json.loads(direct).get("dir_info", {}).get("editable"), f"{name} is editable"
        module = __import__(_package_dir(folder).name)
        location = Path(module.__file__).resolve()
        site = Path(sysconfig.get_paths()["purelib"]).resolve()
        assert site in location.parents, f"{name} imported from {location}, not from {site}"
