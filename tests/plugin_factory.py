"""Build throw-away plugin distributions for tests.

``Sandbox.dist(...)`` writes, under pytest's tmp_path, a package plus a ``<name>-<version>.dist-info``
folder (METADATA, entry_points.txt, RECORD, optionally direct_url.json) into a fresh folder, puts
that folder on sys.path, and refreshes the plugin index, so importlib_metadata finds it exactly as
it would find an installed plugin. Distributions installed for real are hidden from the index
(``_scan.restrict_to_paths``) so that the tests see only what they built. Teardown removes the
test's modules from sys.modules, forgets the index and restores in-process registrations.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from lamina import hooks, plugins
from lamina.plugins import _registry, _scan, _settings


def classes_module(*names: str, api: str | None = "1.0", body: str = "") -> str:
    """Source of a module defining empty classes ``names`` and declaring the plugin API ``api``."""
    lines = [f"__lamina_plugin_api__ = {api!r}"] if api is not None else []
    lines += [f"class {n}:\n    pass\n" for n in names]
    return "\n".join(lines) + "\n" + textwrap.dedent(body)


def backend_module(cls: str, *, ok: bool = True, reason: str = "ready", raises: bool = False) -> str:
    probe = "raise RuntimeError('probe exploded')" if raises else f"return {ok!r}, {reason!r}"
    return textwrap.dedent(f"""\
        __lamina_plugin_api__ = "1.0"

        class {cls}:
            name = {cls.lower()!r}
            priority = 0

            @classmethod
            def probe(cls):
                {probe}
        """)


class Sandbox:
    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.base = tmp_path
        self.monkeypatch = monkeypatch
        self.roots: list[str] = []
        self.top_modules: set[str] = set()
        for var in _settings.ALL_ENV:
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setattr(_scan, "restrict_to_paths", ())
        # in-process registrations and preferences made outside the test are set aside, not lost
        monkeypatch.setattr(_registry, "_registered", {})
        monkeypatch.setattr(_registry, "_api_prefer", {})
        monkeypatch.setattr(hooks, "_in_process", [])
        plugins.refresh()

    def dist(self, name: str, version: str = "1.0", *, entry_points: dict[str, dict[str, str]],
             modules: dict[str, str] | None = None, editable: bool = False, on_path: bool = True) -> Path:
        """Write a distribution into a new folder and (by default) put it on sys.path."""
        root = self.base / f"site{len(self.roots)}"
        root.mkdir()
        written = []
        for module, source in (modules or {}).items():
            parts = module.split(".")
            self.top_modules.add(parts[0])
            folder = root.joinpath(*parts[:-1])
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(1, len(parts)):  # every parent is a package
                init = root.joinpath(*parts[:i], "__init__.py")
                if not init.exists():
                    init.write_text("")
                    written.append(init)
            target = folder / f"{parts[-1]}.py"
            target.write_text(source)
            written.append(target)
        info = root / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        eps = "".join(f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in items.items()) + "\n"
                      for group, items in entry_points.items())
        (info / "entry_points.txt").write_text(eps)
        if editable:
            url = {"url": f"file://{root}/src", "dir_info": {"editable": True}}
            (info / "direct_url.json").write_text(json.dumps(url))
        files = written + sorted(info.iterdir())
        (info / "RECORD").write_text("".join(f"{p.relative_to(root)},,\n" for p in files)
                                     + f"{info.name}/RECORD,,\n")
        if on_path:
            self.put_on_path(root)
        return root

    def put_on_path(self, root: Path) -> None:
        """Prepend ``root`` to sys.path (again, for a second copy) and refresh the index."""
        self.monkeypatch.syspath_prepend(str(root))
        if str(root) not in self.roots:
            self.roots.append(str(root))
        self.monkeypatch.setattr(_scan, "restrict_to_paths", tuple(self.roots))
        plugins.refresh()

    def env(self, **values: str) -> None:
        """Set environment controls and refresh (they are read at first use)."""
        for var, value in values.items():
            self.monkeypatch.setenv(var, value)
        plugins.refresh()

    def imported(self, module: str) -> bool:
        return module in sys.modules

    def close(self) -> None:
        for name in list(sys.modules):
            if name.partition(".")[0] in self.top_modules:
                del sys.modules[name]
        plugins.refresh()  # monkeypatch then restores what was set aside
