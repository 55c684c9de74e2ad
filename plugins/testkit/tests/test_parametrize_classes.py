"""``parametrize_with_checks`` handed Module classes (issue #19 item 8): items are made, never silently none."""

from __future__ import annotations

import lamina
import pytest
from lamina.testing import ModuleInfo, parametrize_with_checks
from lamina_testkit.runner import _as_records


class Scale(lamina.nn.Module):
    """A third party's layer with no record anywhere: a generic record is built for it."""

    def __init__(self, device=None, dtype=None) -> None:
        super().__init__()
        self.w = lamina.nn.Parameter(lamina.ones(3, device=device, dtype=dtype))

    def forward(self, x):
        return x * self.w


def test_a_class_with_installed_records_stands_for_them():
    recs = _as_records([lamina.nn.Linear])
    assert recs and all(r.cls is lamina.nn.Linear for r in recs)
    assert all(isinstance(r, ModuleInfo) for r in recs)


def test_a_class_without_records_gets_a_generic_one():
    (rec,) = _as_records([Scale])
    assert isinstance(rec, ModuleInfo) and rec.cls is Scale and rec.name == "Scale"
    (loss,) = _as_records([type("MyLoss", (lamina.nn.modules.loss._Loss,), {"forward": lambda s, a, b: a - b})])
    assert type(loss).__name__ == "LossInfo"


def test_items_are_made_for_classes():
    mark = parametrize_with_checks([lamina.nn.Linear, Scale])
    (params,) = [m.args[1] for m in [mark.mark]]
    ids = [p.id for p in params]
    assert any(i.startswith("<local>::Linear") for i in ids) and any(i.startswith("<local>::Scale") for i in ids)


def test_anything_else_is_a_type_error_and_nothing_is_an_error():
    with pytest.raises(TypeError, match="expected info records .* or Module classes, got 3"):
        parametrize_with_checks([3])
    with pytest.raises(TypeError, match="got <function"):
        parametrize_with_checks([lambda x: x])
    with pytest.raises(ValueError, match="produce no test item"):
        parametrize_with_checks([])


@parametrize_with_checks([Scale])
def test_generic_record_checks_run(case, check):
    lamina.testing.run_check(case, check)
