"""LazyConv1d/2d/3d and LazyConvTranspose1d/2d/3d: in_channels is inferred from the first input.

Until the first forward, ``weight`` and ``bias`` are ``UninitializedParameter``s and ``in_channels`` is 0;
the first call materializes them, initialises them as the non-lazy layer does, and turns the module into
its ``cls_to_become`` (LazyConv2d -> Conv2d). Loading a state_dict first sizes them from the checkpoint.
"""

from __future__ import annotations

from typing import Any

from lamina.nn.parameter import UninitializedParameter

from . import __lamina_plugin_api__  # noqa: F401
from .conv import Conv1d, Conv2d, Conv3d
from .conv_transpose import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .lazy import LazyModuleMixin


class _LazyConvMixin(LazyModuleMixin):
    def _make_uninitialized(self, out_channels: int, bias: bool, device: Any, dtype: Any) -> None:
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Any, *args: Any, **kwargs: Any) -> None:
        if not self.has_uninitialized_params():
            return
        self.in_channels = self._get_in_channels(input)
        if self.in_channels % self.groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if self.transposed:
            shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        else:
            shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self.weight.materialize(shape)
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        self.reset_parameters()

    def _get_in_channels(self, input: Any) -> int:
        """in_channels read from the first input: size(1) batched, size(0) unbatched."""
        n, name = self._get_num_spatial_dims(), type(self).__name__
        if input.ndim not in (n + 1, n + 2):
            raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to {name}, but got "
                               f"input of size: {list(input.shape)}")
        return int(input.shape[1] if input.ndim == n + 2 else input.shape[0])

    def _get_num_spatial_dims(self) -> int:
        return self._n

    def _load_from_state_dict(self, state_dict: Any, prefix: str, *args: Any) -> None:
        super()._load_from_state_dict(state_dict, prefix, *args)
        # the loaded weight fixes in_channels (PyTorch leaves it 0; lamina's repr and checks use it)
        if self.in_channels == 0 and not self.has_uninitialized_params():
            self.in_channels = int(self.weight.shape[0] if self.transposed else self.weight.shape[1] * self.groups)


class _LazyConv(_LazyConvMixin):
    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        # bias=False: no throw-away bias tensor; both become UninitializedParameters below
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode, device, dtype)
        self._make_uninitialized(out_channels, bias, device, dtype)


class _LazyConvTranspose(_LazyConvMixin):
    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode,
                         device, dtype)
        self._make_uninitialized(out_channels, bias, device, dtype)


class LazyConv1d(_LazyConv, Conv1d):
    """A Conv1d whose in_channels is inferred from the first input (input.size(1), or size(0) unbatched).

    Shape: (N, C_in, L_in) or (C_in, L_in) -> (N, C_out, L_out), as Conv1d
    """

    cls_to_become = Conv1d


class LazyConv2d(_LazyConv, Conv2d):
    """A Conv2d whose in_channels is inferred from the first input.

    Shape: (N, C_in, H_in, W_in) or (C_in, H_in, W_in) -> (N, C_out, H_out, W_out), as Conv2d
    """

    cls_to_become = Conv2d


class LazyConv3d(_LazyConv, Conv3d):
    """A Conv3d whose in_channels is inferred from the first input.

    Shape: (N, C_in, D_in, H_in, W_in) or unbatched -> (N, C_out, D_out, H_out, W_out), as Conv3d
    """

    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConvTranspose, ConvTranspose1d):
    """A ConvTranspose1d whose in_channels is inferred from the first input.

    Shape: (N, C_in, L_in) or (C_in, L_in) -> (N, C_out, L_out), as ConvTranspose1d
    """

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTranspose, ConvTranspose2d):
    """A ConvTranspose2d whose in_channels is inferred from the first input.

    Shape: (N, C_in, H_in, W_in) or (C_in, H_in, W_in) -> (N, C_out, H_out, W_out), as ConvTranspose2d
    """

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTranspose, ConvTranspose3d):
    """A ConvTranspose3d whose in_channels is inferred from the first input.

    Shape: (N, C_in, D_in, H_in, W_in) or unbatched -> (N, C_out, D_out, H_out, W_out), as ConvTranspose3d
    """

    cls_to_become = ConvTranspose3d
