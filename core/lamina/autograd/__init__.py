"""Automatic differentiation: ``Function``, ``backward``, ``grad`` and the grad-mode switches."""

from __future__ import annotations

from .engine import backward
from .function import Function, observe_ops
from .grad_api import grad
from .grad_mode import (
    detect_anomaly,
    enable_grad,
    inference_mode,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)


def __getattr__(name: str):
    if name == "Variable":  # torch.autograd.Variable: a tensor since torch 0.4
        from .variable import Variable

        return Variable
    if name == "functional":  # torch.autograd.functional, served by lamina-func
        import importlib

        return importlib.import_module(f"{__name__}.functional")
    raise AttributeError(f"module 'lamina.autograd' has no attribute {name!r}")


__all__ = ["Function", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "observe_ops",
           "is_anomaly_check_nan_enabled", "is_inference_mode_enabled"]
