"""TransformerEncoderLayer and TransformerEncoder (PyTorch's sub-module names, masks and defaults).

Sub-modules come from the public API (``lamina.nn.Linear``, ``Dropout``, ``LayerNorm``), so state_dict
keys equal PyTorch's. PyTorch's inference fast paths (nested tensors, fused encoder kernels) are
implementation details with the same results; here every call takes the composed path, and
``enable_nested_tensor`` is accepted and ignored.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

import lamina
import lamina.nn.functional as F
from lamina import Tensor
from lamina.nn import Module, ModuleList

from ._masks import additive_mask, causal_mask
from .multihead import MultiheadAttention

__lamina_plugin_api__ = "1.0"


def get_activation(activation: str | Callable, owner: str) -> Callable:
    if not isinstance(activation, str):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"{owner}: activation should be relu/gelu, not {activation!r}")


def get_seq_len(src: Tensor, batch_first: bool) -> int:
    if src.ndim == 2:
        return src.shape[0]
    return src.shape[1 if batch_first else 0]


def detect_is_causal_mask(mask: Tensor | None, is_causal: bool | None = None, size: int | None = None) -> bool:
    """``is_causal`` when given; otherwise whether ``mask`` equals the (size, size) causal mask."""
    make_causal = is_causal is True
    if is_causal is None and mask is not None:
        sz = size if size is not None else mask.shape[-2]
        if tuple(mask.shape) != (sz, sz):
            return False
        if mask.dtype == lamina.bool:
            i = lamina.arange(sz, device=mask.device)
            ref = i.reshape(1, sz) > i.reshape(sz, 1)
        else:
            ref = causal_mask(sz, device=mask.device, dtype=mask.dtype)
        make_causal = bool((mask == ref).all())
    return make_causal


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block, each with a residual connection and LayerNorm.

    ``norm_first`` puts each LayerNorm before its block (pre-norm) instead of after the residual.

    Shape:
        src (S, N, E), (N, S, E) with batch_first, or unbatched (S, E); src_mask (S, S) or
        (N * nhead, S, S); src_key_padding_mask (N, S) or (S,) -> output like src
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = F.relu, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        fk = {"device": device, "dtype": dtype}
        nn = lamina.nn
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            **fk)
        self.linear1 = nn.Linear(d_model, dim_feedforward, bias=bias, **fk)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model, bias=bias, **fk)
        self.norm_first = norm_first
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        activation = get_activation(activation, "TransformerEncoderLayer")
        if activation is F.relu or isinstance(activation, nn.ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is F.gelu or isinstance(activation, nn.GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0
        self.activation = activation

    def forward(self, src: Tensor, src_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool = False) -> Tensor:
        name = "TransformerEncoderLayer"
        src_key_padding_mask = additive_mask(src_key_padding_mask, "src_key_padding_mask", src_mask, "src_mask",
                                             src, name)
        src_mask = additive_mask(src_mask, "src_mask", None, "", src, name)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x: Tensor, attn_mask: Tensor | None, key_padding_mask: Tensor | None,
                  is_causal: bool = False) -> Tensor:
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoder(Module):
    """A stack of ``num_layers`` deep copies of ``encoder_layer``, then an optional ``norm``.

    Shape:
        src (S, N, E), (N, S, E) with batch_first, or (S, E); mask (S, S) or (N * nhead, S, S);
        src_key_padding_mask (N, S) -> output like src
    """

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        # torch's "sparsity fast path" packs the unpadded tokens into a nested tensor; lamina computes the padded
        # batch and gives the fast path's observable result (zeros at the padded positions, see forward)
        why_not = _why_no_nested_path(encoder_layer)
        if enable_nested_tensor and why_not:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False because {why_not}",
                          stacklevel=2)
        self.use_nested_tensor = enable_nested_tensor and not why_not
        self.mask_check = mask_check

    def forward(self, src: Tensor, mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        name = "TransformerEncoder"
        src_key_padding_mask = additive_mask(src_key_padding_mask, "src_key_padding_mask", mask, "mask", src, name)
        mask = additive_mask(mask, "mask", None, "", src, name)
        batch_first = self.layers[0].self_attn.batch_first if len(self.layers) else False
        is_causal = detect_is_causal_mask(mask, is_causal, get_seq_len(src, batch_first))
        pad = self._nested_padding(src, mask, src_key_padding_mask)
        output = src
        for mod in self.layers:
            output = mod(output, src_mask=mask, is_causal=is_causal, src_key_padding_mask=src_key_padding_mask)
        if self.norm is not None:
            output = self.norm(output)
        if pad is not None:  # the nested path's output: padded positions are 0
            output = output.masked_fill(pad.unsqueeze(-1), 0.0)
        return output

    def _nested_padding(self, src: Tensor, mask: Tensor | None, key_padding: Tensor | None) -> Tensor | None:
        """The (N, S) bool padding when torch would take its nested-tensor path (eval, batched, a left-aligned
        key padding mask and no attention mask, no autocast, no grad needed), else None."""
        if not self.use_nested_tensor or key_padding is None or mask is not None or src.dim() != 3:
            return None
        first = self.layers[0]
        if first.training or lamina.is_autocast_enabled():
            return None
        fast = getattr(getattr(lamina.backends, "mha", None), "get_fastpath_enabled", None)
        if fast is not None and not fast():
            return None
        if lamina.is_grad_enabled() and (src.requires_grad or any(p.requires_grad for p in first.parameters())):
            return None
        pad = key_padding != 0 if key_padding.dtype != lamina.bool else key_padding
        # left aligned: each row's kept tokens come first (mask_check); else torch keeps the padded path
        if self.mask_check and bool((pad[:, :-1] & ~pad[:, 1:]).any()):
            return None
        return pad


def _why_no_nested_path(layer: Any) -> str:
    """Why torch would not use its nested-tensor encoder path for copies of ``layer`` ("" when it would)."""
    name = "encoder_layer"
    attn = getattr(layer, "self_attn", None)
    if not isinstance(layer, TransformerEncoderLayer):
        return f"{name} was not TransformerEncoderLayer"
    if layer.norm_first:
        return f"{name}.norm_first was True"
    if not attn.batch_first:
        return f"{name}.self_attn.batch_first was not True(use batch_first for better inference performance)"
    if not attn._qkv_same_embed_dim:
        return f"{name}.self_attn._qkv_same_embed_dim was not True"
    if attn.in_proj_bias is None:
        return f"{name}.self_attn was passed bias=False"
    if not layer.activation_relu_or_gelu:
        return f"{name}.activation_relu_or_gelu was not True"
    if layer.norm1.eps != layer.norm2.eps:
        return f"{name}.norm1.eps was not equal to {name}.norm2.eps"
    if attn.num_heads % 2 == 1:
        return f"{name}.self_attn.num_heads is odd"
    return ""
