#!/usr/bin/env python3
"""Set the lamina family's version (`make version V=X.Y.Z`).

The version is written literally in every first-party pyproject.toml (the core's and each plugin's), so
that each sdist builds on its own; this script rewrites all of them together, with every `lamina*`
requirement among them as the compatible range `>=X.Y,<X+1`, and the core's `__version__`.
tests/test_packaging.py fails when any of them disagree.

    python .ci/set_version.py 0.2.0
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERSION = re.compile(r"^\d+\.\d+\.\d+$")
# a quoted lamina-family requirement: name, optional extras, then the version range
FAMILY_REQUIREMENT = re.compile(r'"(lamina(?:-[a-z0-9-]+)?(?:\[[a-z0-9,-]+\])?)>=[^"]*"')


def compatible_range(version: str) -> str:
    """`>=X.Y,<X+1` for version X.Y.Z."""
    major, minor, _ = version.split(".")
    return f">={major}.{minor},<{int(major) + 1}"


def set_version(version: str) -> list[Path]:
    """Rewrite every first-party pyproject and the core's __version__; return the files changed."""
    changed = []
    for path in [ROOT / "pyproject.toml", *sorted(ROOT.glob("plugins/*/pyproject.toml"))]:
        text = path.read_text()
        new = re.sub(r'^version = "[^"]*"', f'version = "{version}"', text, count=1, flags=re.M)
        new = FAMILY_REQUIREMENT.sub(lambda m: f'"{m.group(1)}{compatible_range(version)}"', new)
        if new != text:
            path.write_text(new)
            changed.append(path)
    init = ROOT / "core" / "lamina" / "__init__.py"
    text = init.read_text()
    new = re.sub(r'^__version__ = "[^"]*"', f'__version__ = "{version}"', text, count=1, flags=re.M)
    if new != text:
        init.write_text(new)
        changed.append(init)
    return changed


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not VERSION.match(argv[0]):
        print(f"set_version: expected one version X.Y.Z, got {argv}", file=sys.stderr)
        return 2
    for path in set_version(argv[0]):
        print(f"set_version: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
