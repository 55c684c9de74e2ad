"""BatchNorm1d/2d/3d and SyncBatchNorm (statistics over all ranks; a BatchNorm on one).

Parameters ``weight``/``bias`` and buffers ``running_mean``/``running_var`` (unbiased batch
variance)/``num_batches_tracked`` (int64, 0-d) are named as in PyTorch, so state_dicts exchange.
``_NormBase`` is shared with the instance norms.
"""

from __future__ import annotations

from typing import Any

import lamina
from lamina import Tensor

from ._compat import Module, Parameter
from .functional import batch_norm

__lamina_plugin_api__ = "1.0"


class _NormBase(Module):
    """Affine parameters and running statistics over ``num_features`` channels."""

    _version = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(lamina.empty(self.num_features, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(lamina.empty(self.num_features, device=device, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", lamina.zeros(self.num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", lamina.ones(self.num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", lamina.tensor(0, dtype=lamina.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with lamina.no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            with lamina.no_grad():
                self.weight.fill_(1.0)
                if self.bias is not None:
                    self.bias.zero_()

    def _check_input_dim(self, input: Tensor) -> None:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        # checkpoints older than version 2 have no num_batches_tracked: take the current value (as PyTorch)
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                state_dict[key] = (self.num_batches_tracked if self.num_batches_tracked is not None
                                   else lamina.tensor(0, dtype=lamina.long))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


class _BatchNorm(_NormBase):
    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with lamina.no_grad():
                self.num_batches_tracked.add_(1)
            factor = 1.0 / float(self.num_batches_tracked.item()) if self.momentum is None else self.momentum
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        return batch_norm(input, self.running_mean if keep else None, self.running_var if keep else None,
                          self.weight, self.bias, use_batch, factor, self.eps)


def _dims(name: str, input: Tensor, allowed: tuple[int, ...]) -> None:
    if input.ndim not in allowed:
        want = " or ".join(f"{d}D" for d in allowed)
        raise ValueError(f"{name}: expected {want} input (got {input.ndim}D input)")


def _channels(name: str, input: Tensor, expected: int) -> None:
    if input.ndim >= 2 and input.shape[1] != expected:
        raise ValueError(f"{name}: expected input with {expected} channels, got {input.shape[1]}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L) input.

    Shape: input (N, C) or (N, C, L) -> same shape
    """

    def _check_input_dim(self, input: Tensor) -> None:
        _dims("BatchNorm1d", input, (2, 3))
        _channels("BatchNorm1d", input, self.num_features)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W) input.

    Shape: input (N, C, H, W) -> same shape
    """

    def _check_input_dim(self, input: Tensor) -> None:
        _dims("BatchNorm2d", input, (4,))
        _channels("BatchNorm2d", input, self.num_features)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation over (N, C, D, H, W) input.

    Shape: input (N, C, D, H, W) -> same shape
    """

    def _check_input_dim(self, input: Tensor) -> None:
        _dims("BatchNorm3d", input, (5,))
        _channels("BatchNorm3d", input, self.num_features)


_NO_DISTRIBUTED = False


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation over (N, C, *) input with the batch statistics of every process.

    In training mode, when ``lamina.distributed`` is installed and ``process_group`` (the default
    group when None) is initialised with more than one rank, the mean and variance are those of
    all ranks' batches together, the running statistics get the global unbiased variance, and the
    input gradient is that of one process over the concatenated batch (``syncbatchnorm``). Otherwise
    (one process, eval mode, no process group) it is exactly a BatchNorm. No double backward across
    processes.

    Shape: input (N, C, *) -> same shape
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, process_group: Any = None, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = process_group

    def forward(self, input: Tensor) -> Tensor:
        sync = self._sync(input) if self.training else None
        if sync is None:
            return super().forward(input)
        self._check_input_dim(input)
        from .syncbatchnorm import sync_batch_norm

        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats and self.num_batches_tracked is not None:
            with lamina.no_grad():
                self.num_batches_tracked.add_(1)
            factor = 1.0 / float(self.num_batches_tracked.item()) if self.momentum is None else self.momentum
        y, mean, var, count = sync_batch_norm(input, self.weight, self.bias, self.eps, sync)
        if self.track_running_stats:
            with lamina.no_grad():
                for running, batch in ((self.running_mean, mean), (self.running_var, var * (count / (count - 1)))):
                    if running is not None:
                        running.mul_(1.0 - factor)
                        running.add_(batch.to(running.dtype) * factor)
        return y

    def _sync(self, input: Tensor) -> Any:
        """The collectives of this step, or None to run as a one-process BatchNorm."""
        global _NO_DISTRIBUTED
        if _NO_DISTRIBUTED:
            return None
        try:
            import lamina.distributed as dist
        except ImportError:  # lamina-distributed is not installed: one process (asked once)
            _NO_DISTRIBUTED = True
            return None
        if not dist.is_available() or not dist.is_initialized():
            return None
        if dist.get_world_size(self.process_group) <= 1:
            return None
        from .syncbatchnorm import ProcessGroupSync

        return ProcessGroupSync(dist, self.process_group, input.device)

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim < 2:
            raise ValueError(f"SyncBatchNorm: expected at least 2D input (got {input.ndim}D input)")
        _channels("SyncBatchNorm", input, self.num_features)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """Replace every BatchNorm*d in ``module`` by a SyncBatchNorm sharing its tensors."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                      process_group, bias=module.bias is not None)
            for name in ("weight", "bias"):
                setattr(out, name, getattr(module, name))
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                out.register_buffer(name, getattr(module, name))
            out.training = module.training
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out


__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"]
