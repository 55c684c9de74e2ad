"""``lamina.nn.utils.weight_norm``: the legacy, hook-based weight normalisation (``w = g * v / ||v||``).

The parameter ``<name>`` is replaced by ``<name>_g`` (the magnitude) and ``<name>_v`` (the direction);
a forward pre-hook recomputes ``<name>`` from them before every call. Deprecated, as in torch, in favour of
``lamina.nn.utils.parametrizations.weight_norm`` (which loads these state dicts).

Shape: with ``dim=d``, ``g`` keeps dimension ``d`` of the weight and is 1 elsewhere; with ``dim=None``
(or -1) the norm is over the whole tensor and ``g`` is 0-d.
"""

from __future__ import annotations

import warnings
from typing import Any, TypeVar

import lamina
from lamina.nn import Module, Parameter
from lamina.nn.parameter import UninitializedParameter

__lamina_plugin_api__ = "1.0"

T_module = TypeVar("T_module", bound=Module)

_DEPRECATED = ("`torch.nn.utils.weight_norm` is deprecated in favor of "
               "`torch.nn.utils.parametrizations.weight_norm`.")


class WeightNorm:
    """The forward pre-hook of one reparametrised weight: ``module.<name> = g * v / norm_except_dim(v, 2, dim)``."""

    name: str
    dim: int

    def __init__(self, name: str, dim: int | None) -> None:
        self.name = name
        self.dim = -1 if dim is None else dim  # -1: the norm of the whole tensor (torch's convention)

    def compute_weight(self, module: Module) -> Any:
        """The weight from ``<name>_g`` and ``<name>_v`` (differentiable in both)."""
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / lamina.norm_except_dim(v, 2, self.dim))

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> WeightNorm:
        """Replace ``module.<name>`` by ``<name>_g`` and ``<name>_v`` and register the hook (FutureWarning)."""
        warnings.warn(_DEPRECATED, FutureWarning, stacklevel=2)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        if isinstance(weight, UninitializedParameter):
            raise ValueError("The module passed to `WeightNorm` can't have uninitialized parameters. "
                             "Make sure to run the dummy forward before applying weight normalization")
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(lamina.norm_except_dim(weight, 2, fn.dim).data))
        module.register_parameter(name + "_v", Parameter(weight.data))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        """Put back ``<name>`` as a Parameter holding the current weight; drop ``<name>_g`` and ``<name>_v``."""
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.data))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: T_module, name: str = "weight", dim: int | None = 0) -> T_module:
    """Reparametrise ``module.<name>`` as ``g * v / ||v||`` (the norm over every dimension but ``dim``, over
    all with ``dim=None``); returns ``module``. Emits torch's FutureWarning."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: T_module, name: str = "weight") -> T_module:
    """Undo :func:`weight_norm` on ``module.<name>`` (ValueError when it has none); returns ``module``."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")


__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]
