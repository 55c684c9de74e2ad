"""Every check the kit runs: the families are listed here and each family lists its checks in
``CHECKS``, so the catalogue is a declaration (no check registers itself by being imported)."""

from __future__ import annotations

from typing import Any

from . import (
    checks_backend,
    checks_function,
    checks_init,
    checks_kernel,
    checks_loss,
    checks_module,
    checks_module_inputs,
    checks_module_state,
    checks_optim,
)
from ._core import Check

FAMILIES = (checks_backend, checks_function, checks_init, checks_kernel, checks_module, checks_loss,
            checks_module_inputs, checks_module_state, checks_optim)

CHECKS: tuple[Check, ...] = tuple(c for family in FAMILIES for c in family.CHECKS)


def checks_for(record: Any) -> list[Check]:
    """The checks that apply to a record's kind (a LossInfo is also a ModuleInfo: it gets the layer
    checks too; loss-specific checks list LossInfo only)."""
    return [c for c in CHECKS if isinstance(record, c.kinds)]
