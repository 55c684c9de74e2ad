"""Checked by mypy (tests/test_typing.py): mistakes a type checker must catch on lamina code."""

from __future__ import annotations

import lamina

x = lamina.randn(4, 3)
x.no_such_method()  # expect: attr-defined
x.relu(1)  # expect: call-arg
y: int = x.sum()  # expect: assignment
x.size = 3  # expect: method-assign
