"""Static typing: mypy sees Tensor's methods and operators (assembled in a class statement) and the
lazily resolved plugin names, and catches mistakes. The checked files are in tests/typing/."""

from __future__ import annotations

import re
from pathlib import Path

from mypy import api

HERE = Path(__file__).parent / "typing"


def _mypy(path: Path, cache: Path) -> tuple[str, int]:
    out, err, status = api.run([str(path), "--cache-dir", str(cache), "--no-error-summary", "--show-error-codes",
                                "--hide-error-context", "--no-color-output"])
    assert not err, err
    return out, status


def _expectations(path: Path) -> dict[int, str]:
    return {i: m.group(1) for i, line in enumerate(path.read_text().splitlines(), 1)
            if (m := re.search(r"expect: ([\w-]+)", line))}


def test_everyday_code_type_checks(tmp_path):
    path = HERE / "tensor_usage.py"
    out, status = _mypy(path, tmp_path)
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert status == 0 and not errors, out
    revealed = {int(m.group(1)): m.group(2) for m in re.finditer(r":(\d+): note: Revealed type is \"([^\"]+)\"", out)}
    expected = _expectations(path)
    assert expected and set(revealed) == set(expected), out
    for line, want in expected.items():
        assert revealed[line].rpartition(".")[2] == want, f"line {line}: revealed {revealed[line]}, expected {want}"


def test_mistakes_are_caught(tmp_path):
    path = HERE / "tensor_misuse.py"
    out, status = _mypy(path, tmp_path)
    assert status == 1, out
    found: dict[int, set[str]] = {}
    for m in re.finditer(r":(\d+): error: .*\[([\w-]+)\]", out):
        found.setdefault(int(m.group(1)), set()).add(m.group(2))
    expected = _expectations(path)
    assert expected
    for line, code in expected.items():
        assert code in found.get(line, set()), f"line {line}: expected a [{code}] error, mypy said {found.get(line)}"
    assert set(found) == set(expected), out
