"""``lamina.testing``: gradient checks and the conformance kit (TESTKIT.md).

Importing this package never imports pytest; checks that need it import it when they run.
"""

from __future__ import annotations

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
    parametrize_with_checks,
    records_of,
    run_check,
    run_records,
)

__all__ = ["check_plugin", "parametrize_with_checks", "run_check", "run_records", "records_of", "Report",
           "ConformanceError", "gradcheck", "gradgradcheck", "GradcheckError", "Sample", "ErrorInput", "ModuleInfo",
           "LossInfo", "FunctionInfo", "InitInfo", "OptimizerInfo", "BackendInfo", "KernelInfo", "TAGS"]
