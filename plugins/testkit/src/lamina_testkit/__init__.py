"""``lamina.testing`` (distribution lamina-testkit): gradient checks and the conformance kit (TESTKIT.md).

The core serves this package as ``lamina.testing`` through the entry point ``testing`` of group
``lamina.namespaces`` (``lamina.testing is lamina_testkit``). Importing it never imports pytest;
checks that need it import it when they run.
"""

from __future__ import annotations

from .comparison import assert_allclose, assert_close
from .creation import make_tensor
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .records import (
    TAGS,
    BackendInfo,
    ErrorInput,
    FunctionInfo,
    InitInfo,
    KernelInfo,
    LossInfo,
    ModuleInfo,
    OptimizerInfo,
    Sample,
)
from .runner import (
    ConformanceError,
    Report,
    check_plugin,
    parametrize_plugin,
    parametrize_with_checks,
    records_of,
    run_check,
    run_records,
)

__lamina_plugin_api__ = "1.0"

__all__ = ["check_plugin", "parametrize_plugin", "parametrize_with_checks", "run_check", "run_records",
           "records_of", "Report", "ConformanceError", "gradcheck", "gradgradcheck", "GradcheckError", "Sample",
           "ErrorInput", "ModuleInfo", "LossInfo", "FunctionInfo", "InitInfo", "OptimizerInfo", "BackendInfo",
           "KernelInfo", "TAGS", "assert_close", "assert_allclose", "make_tensor"]
