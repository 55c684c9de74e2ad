"""The check catalogue is a declaration: every check a family defines is listed in its CHECKS, the
families are listed in _catalog.FAMILIES, and importing a family registers nothing."""

from __future__ import annotations

import importlib
import pkgutil

import lamina.testing
from lamina.testing import _catalog, _core


def _family_modules():
    return [importlib.import_module(f"lamina_testkit.{m.name}") for m in pkgutil.iter_modules(lamina.testing.__path__)
            if m.name.startswith("checks_")]


def test_every_family_is_listed_and_every_defined_check_is_declared():
    families = _family_modules()
    assert set(families) == set(_catalog.FAMILIES)
    for family in families:
        defined = [v for v in vars(family).values() if isinstance(v, _core.Check)]
        assert defined and {id(c) for c in defined} == {id(c) for c in family.CHECKS}, family.__name__


def test_check_names_are_unique_and_documented():
    names = [c.name for c in _catalog.CHECKS]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert all(c.doc for c in _catalog.CHECKS), [c.name for c in _catalog.CHECKS if not c.doc]


def test_the_decorator_only_describes():
    @_core.check("made_up", (object,))
    def made_up(case):
        """A check that is listed nowhere."""

    assert isinstance(made_up, _core.Check) and made_up.doc == "A check that is listed nowhere."
    assert not any(c is made_up or c.name == "made_up" for c in _catalog.CHECKS)
