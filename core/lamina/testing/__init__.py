"""``lamina.testing``: gradient checks now; the conformance kit (TESTKIT.md) grows here.

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

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError", "Sample", "ErrorInput", "ModuleInfo", "LossInfo",
           "FunctionInfo", "InitInfo", "OptimizerInfo", "BackendInfo", "KernelInfo", "TAGS"]
