"""``nn.DataParallel`` on one device: the wrapped module runs as it is, with torch's ``module.`` state_dict prefix.

torch's DataParallel splits each batch over several GPUs of one process; lamina runs one process per device
(``DistributedDataParallel``), so more than one device in ``device_ids`` raises. Without an accelerator
``device_ids`` is ``[]`` and the module runs on the CPU, as torch does.
"""

from __future__ import annotations

from typing import Any

import lamina
from lamina import nn

__lamina_plugin_api__ = "1.0"


def _accelerators() -> list[int]:
    cuda = getattr(lamina, "cuda", None)
    return list(range(cuda.device_count())) if cuda is not None and cuda.is_available() else []


def _to(obj: Any, device: Any) -> Any:
    if isinstance(obj, lamina.Tensor):
        return obj.to(device)
    if isinstance(obj, (tuple, list)):
        return type(obj)(_to(o, device) for o in obj)
    if isinstance(obj, dict):
        return {k: _to(v, device) for k, v in obj.items()}
    return obj


class DataParallel(nn.Module):
    """``DataParallel(module, device_ids=None, output_device=None, dim=0)``: runs ``module`` on one device.

    Shape: as the wrapped module's.
    """

    def __init__(self, module: nn.Module, device_ids: list[Any] | None = None, output_device: Any = None,
                 dim: int = 0) -> None:
        super().__init__()
        if not isinstance(module, nn.Module):
            raise TypeError(f"DataParallel: expected an nn.Module to wrap, got {type(module).__name__}")
        available = _accelerators()
        ids = available if device_ids is None else [getattr(d, "index", d) for d in device_ids]
        if not available:
            ids = []
        if len(ids) > 1:
            raise NotImplementedError(
                f"DataParallel: lamina runs one device per process; got device_ids={ids}. Use "
                "lamina.nn.parallel.DistributedDataParallel with one process per device (lamina run --nproc-per-node)")
        self.module = module
        self.device_ids = ids
        self.dim = dim
        self.output_device = (ids[0] if ids else None) if output_device is None else output_device
        self.src_device_obj = lamina.device(f"cuda:{ids[0]}") if ids else lamina.device("cpu")
        if ids:
            module.to(self.src_device_obj)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        out = self.module(*_to(inputs, self.src_device_obj), **_to(kwargs, self.src_device_obj))
        return _to(out, lamina.device(f"cuda:{self.output_device}"))


def data_parallel(module: nn.Module, inputs: Any, device_ids: list[Any] | None = None, output_device: Any = None,
                  dim: int = 0, module_kwargs: dict | None = None) -> Any:
    """The functional form: ``DataParallel(module, device_ids, output_device, dim)(*inputs, **module_kwargs)``."""
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    return DataParallel(module, device_ids, output_device, dim)(*inputs, **(module_kwargs or {}))
