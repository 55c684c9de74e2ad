"""A griffe extension that makes lamina's ``Shape:`` docstring sections render as a titled block of
preformatted lines.

lamina's docstrings write shapes as ``Shape: input (*, in_features) -> output (*, out_features)`` on one
line, or ``Shape:`` followed by an indented block (a list, or lines aligned under each other). Left to
the Google-style parser, the one-line form is a paragraph in which ``*`` starts emphasis, and the
block form becomes an admonition whose title is the first shape line. This extension rewrites every
``Shape:`` section, before the docstring is parsed, into the admonition form with a ``text`` code
block, so the shapes keep their line breaks and characters (and turns Sphinx roles such as
``:meth:`add``` into plain code)::

    Shape:
        ```text
        input (*, in_features) -> output (*, out_features)
        ```
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

SHAPE = re.compile(r"^(?P<indent>\s*)(?:(?P<before>\S.*?[.:;])\s+)?Shape:\s*(?P<rest>.*)$")
SECTION = re.compile(r"^\s*[A-Z][A-Za-z ]*:\s*$")  # "Args:", "Returns:", ...
LITERAL = re.compile(r"``([^`]+)``")
ROLE = re.compile(r":(?:meth|func|class|attr|mod|obj|data):`~?([^`]+)`")  # Sphinx roles -> plain code


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _section_end(lines: list[str], i: int, indent: int, one_line: bool) -> int:
    """Index of the first line after a ``Shape:`` section that starts before line ``i``.

    The block form (``Shape:`` alone) runs while lines are blank or indented deeper than it; the
    one-line form runs to the end of its paragraph (a blank line, a section title, or a line that
    is less indented).
    """
    while i < len(lines):
        line = lines[i]
        if one_line and (not line.strip() or SECTION.match(line) or _indent(line) < indent):
            break
        if not one_line and line.strip() and _indent(line) <= indent:
            break
        i += 1
    return i


def rewrite_shape_sections(text: str) -> str:
    """Docstring text (already dedented) -> the same text with each ``Shape:`` section as a code block.

    Also the one-line form at the end of a sentence (``Elementwise abs. Shape: (*) -> (*)``): the
    sentence stays, the shapes move into the block.
    """
    lines = ROLE.sub(r"`\1`", text).splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = SHAPE.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        indent = len(match["indent"])
        rest = match["rest"].strip()
        if match["before"]:
            out.extend([" " * indent + match["before"], ""])
        end = _section_end(lines, i + 1, indent, one_line=bool(rest))
        block = lines[i + 1:end]
        while block and not block[-1].strip():
            block.pop()
        body = ([rest] if rest else []) + textwrap.dedent("\n".join(block)).splitlines()
        body = [LITERAL.sub(r"\1", line) for line in body]  # ``x`` is RST for code: the block is code
        pad = " " * (indent + 4)
        out.append(" " * indent + "Shape:")
        out.append(pad + "```text")
        out.extend((pad + line).rstrip() for line in body)
        out.append(pad + "```")
        i = end
        if i < len(lines) and lines[i].strip():
            out.append("")
    return "\n".join(out)


class ShapeSections(griffe.Extension):
    """Rewrite ``Shape:`` sections of every docstring as it is loaded (static or inspected)."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        docstring = obj.docstring
        if docstring is not None and ("Shape:" in docstring.value or ":`" in docstring.value):
            docstring.value = rewrite_shape_sections(docstring.value)
