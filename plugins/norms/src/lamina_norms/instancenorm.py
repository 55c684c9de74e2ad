"""InstanceNorm1d/2d/3d: per-sample, per-channel normalisation over the spatial dims.

Defaults as PyTorch: ``affine=False``, ``track_running_stats=False``. With running statistics
tracked, training normalises with the instance statistics and updates the running ones with their
batch average; eval then uses the running statistics. Unbatched input (no N dim) is accepted.
"""

from __future__ import annotations

import warnings
from typing import Any

from lamina import Tensor

from .batchnorm import _NormBase
from .functional import instance_norm

__lamina_plugin_api__ = "1.0"


class _InstanceNorm(_NormBase):
    _name = "InstanceNorm"
    _spatial = 1

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def _check_input_dim(self, input: Tensor) -> None:
        batched = self._spatial + 2
        if input.ndim not in (batched - 1, batched):
            raise ValueError(f"{self._name}: expected {batched - 1}D or {batched}D input (got {input.ndim}D input)")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        feature_dim = input.ndim - self._spatial - 1
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"{self._name}: expected input's size at dim={feature_dim} to match num_features "
                                 f"({self.num_features}), got {input.shape[feature_dim]}")
            warnings.warn(f"{self._name}: input's size at dim={feature_dim} does not match num_features. You can "
                          "silence this warning by not passing in num_features, which is not used because "
                          "affine=False", UserWarning, stacklevel=2)
        unbatched = input.ndim == self._spatial + 1
        x = input.unsqueeze(0) if unbatched else input
        momentum = 0.0 if self.momentum is None else self.momentum  # as PyTorch: None freezes the running stats
        y = instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          self.training or not self.track_running_stats, momentum, self.eps)
        return y.squeeze(0) if unbatched else y

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        # checkpoints from before running stats were optional may carry them: report and drop (as PyTorch)
        if local_metadata.get("version", None) is None and not self.track_running_stats:
            found = [prefix + n for n in ("running_mean", "running_var") if prefix + n in state_dict]
            if found:
                name = self._get_name()
                error_msgs.append(f"Unexpected running stats buffer(s) {found} for {name} with "
                                  f"track_running_stats=False. If the running stats are needed, set "
                                  f"track_running_stats=True in {name}.")
                for key in found:
                    state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation over (N, C, L) or unbatched (C, L) input.

    Shape: input (N, C, L) or (C, L) -> same shape
    """

    _name, _spatial = "InstanceNorm1d", 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation over (N, C, H, W) or unbatched (C, H, W) input.

    Shape: input (N, C, H, W) or (C, H, W) -> same shape
    """

    _name, _spatial = "InstanceNorm2d", 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation over (N, C, D, H, W) or unbatched (C, D, H, W) input.

    Shape: input (N, C, D, H, W) or (C, D, H, W) -> same shape
    """

    _name, _spatial = "InstanceNorm3d", 3


__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]
