"""LazyBatchNorm1d/2d/3d and LazyInstanceNorm1d/2d/3d: ``num_features`` is inferred from the first input.

Until the first forward, ``weight``/``bias`` are ``UninitializedParameter``s and ``running_mean``/``running_var``
``UninitializedBuffer``s (``num_batches_tracked`` is a real 0), ``num_features`` is 0. The first call takes
``num_features = input.shape[1]`` (as PyTorch, also for an unbatched instance-norm input), materializes and
resets them, and turns the module into its ``cls_to_become``. Loading a state_dict first sizes them.
"""

from __future__ import annotations

from typing import Any

import lamina
from lamina.nn.parameter import UninitializedBuffer, UninitializedParameter
from lamina_layers_basic.lazy import LazyModuleMixin

from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d

__lamina_plugin_api__ = "1.0"


class _LazyNormBase(LazyModuleMixin):
    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        # affine and running stats off here: no throw-away tensors; the uninitialized ones are set below
        super().__init__(0, eps, momentum, False, False, device, dtype, bias=False)
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = lamina.tensor(0, dtype=lamina.long, device=device)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Any, *args: Any, **kwargs: Any) -> None:
        if not self.has_uninitialized_params():
            return
        if input.ndim < 2:
            # IndexError, as PyTorch's input.shape[1] raises
            raise IndexError(f"{type(self).__name__}: expected an input with at least 2 dims to infer num_features "
                             f"from dim 1, got {input.ndim}D input")
        self.num_features = int(input.shape[1])
        for t in (self.weight, self.bias, self.running_mean, self.running_var):
            if t is not None:
                t.materialize((self.num_features,))
        self.reset_parameters()

    def _load_from_state_dict(self, state_dict: Any, prefix: str, *args: Any) -> None:
        super()._load_from_state_dict(state_dict, prefix, *args)
        # the loaded tensors fix num_features (PyTorch leaves it 0; lamina's layers check inputs against it)
        for t in (self.weight, self.running_mean):
            if t is not None and not self.has_uninitialized_params() and self.num_features == 0:
                self.num_features = int(t.numel())


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d):
    """A BatchNorm1d whose num_features is inferred from the first input.

    Shape: (N, C) or (N, C, L) -> same shape
    """

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d):
    """A BatchNorm2d whose num_features is inferred from the first input.

    Shape: (N, C, H, W) -> same shape
    """

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormBase, BatchNorm3d):
    """A BatchNorm3d whose num_features is inferred from the first input.

    Shape: (N, C, D, H, W) -> same shape
    """

    cls_to_become = BatchNorm3d


class LazyInstanceNorm1d(_LazyNormBase, InstanceNorm1d):
    """An InstanceNorm1d whose num_features is inferred from the first input (defaults as PyTorch's lazy form:
    affine=True, track_running_stats=True).

    Shape: (N, C, L) or (C, L) -> same shape
    """

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyNormBase, InstanceNorm2d):
    """An InstanceNorm2d whose num_features is inferred from the first input.

    Shape: (N, C, H, W) or (C, H, W) -> same shape
    """

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyNormBase, InstanceNorm3d):
    """An InstanceNorm3d whose num_features is inferred from the first input.

    Shape: (N, C, D, H, W) or (C, D, H, W) -> same shape
    """

    cls_to_become = InstanceNorm3d


__all__ = ["LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d",
           "LazyInstanceNorm3d"]
