"""Embedding lookups: ``Embedding``, ``EmbeddingBag``, ``F.embedding``, ``F.embedding_bag``, ``F.one_hot``.

A lookup is a row gather; its backward scatter-adds the output gradient into the weight rows in one
vectorised call (``xp.add.at``; ``cupyx.scatter_add`` on CuPy), so repeated indices accumulate.
``sparse=True`` gives the weight a sparse COO gradient (torch's layout: one entry per looked-up row,
uncoalesced; see ``_sparse_grad``); EmbeddingBag's max mode refuses it, as torch.
"""

from __future__ import annotations

from typing import Any

import lamina
from lamina import Tensor
from lamina.autograd import Function
from lamina.nn import Module, Parameter

from . import __lamina_plugin_api__  # noqa: F401
from ._graph_grads import bag_grads, rows_grad
from ._sparse_grad import FREQ_ERROR, sparse_rows_grad

_MODES = ("sum", "mean", "max")


def _ufunc_at(xp, name: str, target, index, values) -> None:
    """``xp.<name>.at(target, index, values)``; cupyx.scatter_<name> on CuPy."""
    at = getattr(getattr(xp, name, None), "at", None)
    if at is not None:
        at(target, index, values)
        return
    import cupyx  # pragma: no cover - GPU only

    getattr(cupyx, {"add": "scatter_add", "maximum": "scatter_max", "minimum": "scatter_min"}[name])(
        target, index, values)


_SORTED_MIN = 1 << 14   # elements of g from which sorting + reduceat beats ufunc.add.at (NumPy's is per row)


def _scatter_add_rows(xp, dw, flat, g) -> None:
    """dw[flat[i]] += g[i] for every i, repeated rows accumulating. dw (V, D), flat (N,) int, g (N, D)

    On NumPy a stable sort of the indices groups the rows, ``add.reduceat`` sums each group in one
    call and one scatter writes the sums: ~4x faster than ``add.at`` for (2048, 128) rows into 65.
    """
    if xp.__name__ != "numpy" or g.size < _SORTED_MIN:
        _ufunc_at(xp, "add", dw, flat, g)
        return
    order = xp.argsort(flat, kind="stable")
    rows = flat[order]
    starts = xp.flatnonzero(xp.concatenate(([True], rows[1:] != rows[:-1])))
    dw[rows[starts]] = xp.add.reduceat(g[order], starts, axis=0)


class EmbeddingFn(Function):
    """y = weight[idx]. weight: (V, D), idx: (*) int -> y: (*, D); dweight scatter-adds dy rows."""

    @staticmethod
    def forward(ctx, weight, idx, padding_idx, scale_grad_by_freq, *, sparse=False):
        ctx.idx, ctx.shape = idx, weight.shape
        ctx.opts = (padding_idx, scale_grad_by_freq)
        ctx.sparse = sparse
        return ctx.xp.take(weight, idx, axis=0)

    @staticmethod
    def backward(ctx, dy):
        xp = ctx.xp
        padding_idx, by_freq = ctx.opts
        flat = ctx.idx.reshape(-1)
        g = dy.reshape(flat.shape[0], ctx.shape[1])
        if ctx.sparse:  # a COO gradient: one entry per looked-up row (torch's layout)
            if by_freq:
                raise RuntimeError(FREQ_ERROR)
            return sparse_rows_grad(ctx.device, g, flat, ctx.shape, padding_idx), None, None, None
        if isinstance(dy, Tensor):  # create_graph: the same scatter-add as a differentiable index_add
            return rows_grad(ctx.device.backend.xp, g, flat, ctx.shape[0], by_freq, padding_idx), None, None, None
        if by_freq:
            counts = xp.bincount(flat, minlength=ctx.shape[0])
            g = g / counts[flat].astype(g.dtype)[:, None]
        dw = xp.zeros(ctx.shape, dtype=dy.dtype)  # (V, D)
        _scatter_add_rows(xp, dw, flat, g)
        if padding_idx is not None:
            dw[padding_idx] = 0
        return dw, None, None, None


def _check_indices(name: str, input: Tensor, num: int) -> Any:
    if not isinstance(input, Tensor) or input.dtype not in (lamina.int64, lamina.int32):
        got = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise lamina.DTypeError(f"{name}: expected indices of dtype int64 or int32, got {got}")
    arr = input.array
    if arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= num:
            raise IndexError(f"{name}: index {lo if lo < 0 else hi} is out of range; expected indices in "
                             f"[0, {num - 1}] (num_embeddings={num})")
    return arr


def _padding(name: str, padding_idx: int | None, num: int) -> int | None:
    if padding_idx is None:
        return None
    if not -num <= padding_idx < num:
        raise ValueError(f"{name}: padding_idx must be within num_embeddings ({num}), i.e. in [{-num}, {num - 1}], "
                         f"got {padding_idx}")
    return padding_idx % num


def _renorm_(weight: Tensor, input: Tensor, max_norm: float, norm_type: float) -> None:
    """Scale, in place, the referenced rows whose ``norm_type``-norm exceeds ``max_norm`` down to it."""
    with lamina.no_grad():
        flat = input.reshape(-1)
        rows = weight[flat]
        norms = lamina.norm(rows, norm_type, dim=1, keepdim=True)
        scale = lamina.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight[flat] = rows * scale


def _embedding(name: str, input: Tensor, weight: Tensor, padding_idx: int | None, max_norm: float | None,
               norm_type: float, scale_grad_by_freq: bool, sparse: bool = False) -> Tensor:
    if weight.ndim != 2:
        raise lamina.ShapeError(f"{name}: expected weight (num_embeddings, embedding_dim) (2-D), "
                                f"got shape {list(weight.shape)}")
    num = weight.shape[0]
    padding_idx = _padding(name, padding_idx, num)
    idx = _check_indices(name, input, num)
    if max_norm is not None:
        _renorm_(weight, input, max_norm, norm_type)
    return EmbeddingFn.apply(weight, idx, padding_idx, bool(scale_grad_by_freq), sparse=bool(sparse))


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` picked by ``input``. Shape: input (*) int, weight (V, D) -> (*, D)"""
    return _embedding("embedding", input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding (the core's ``one_hot``). Shape: (*) int -> (*, num_classes)"""
    from lamina.ops.indexing import one_hot as _one_hot

    return _one_hot(tensor, num_classes)


# --- embedding_bag ------------------------------------------------------------------------------


class EmbeddingBagFn(Function):
    """Reduce (sum / mean / max) the rows of each bag.

    weight: (V, D), psw: (K,) or None; idx, bag, pos: (K,) the kept positions' rows, bags and
    positions; -> y: (B, D).
    """

    @staticmethod
    def forward(ctx, weight, psw, idx, bag, n_bags, mode, by_freq, *, sparse=False):
        xp = ctx.xp
        ctx.sparse = sparse
        rows = xp.take(weight, idx, axis=0)  # (K, D)
        D = weight.shape[1]
        ctx.save_for_backward(weight, psw)
        ctx.meta = (idx, bag, n_bags, mode, by_freq)
        counts = xp.bincount(bag, minlength=n_bags)[:n_bags]
        ctx.counts = counts
        if mode == "max":
            y = xp.full((n_bags, D), -xp.inf, dtype=weight.dtype)
            _ufunc_at(xp, "maximum", y, bag, rows)
            y = xp.where(counts[:, None] > 0, y, 0)
            # first position reaching the max, per (bag, column): where the gradient goes
            k = xp.arange(idx.shape[0])[:, None]
            first = xp.full((n_bags, D), idx.shape[0], dtype=k.dtype)
            _ufunc_at(xp, "minimum", first, bag, xp.where(rows == y[bag], k, idx.shape[0]))
            ctx.first = first
            return y
        if psw is not None:
            rows = rows * psw[:, None]
        y = xp.zeros((n_bags, D), dtype=weight.dtype)
        _ufunc_at(xp, "add", y, bag, rows)
        if mode == "mean":
            y = y / xp.maximum(counts, 1).astype(y.dtype)[:, None]
        return y

    @staticmethod
    def backward(ctx, dy):  # dy: (B, D)
        xp = ctx.xp
        weight, psw = ctx.saved_tensors
        idx, bag, n_bags, mode, by_freq = ctx.meta
        if isinstance(dy, Tensor):  # create_graph: differentiable gathers and scatters
            return bag_grads(ctx.device.backend.xp, dy, weight, psw, idx, bag, mode, by_freq, ctx.counts,
                             getattr(ctx, "first", None), *ctx.needs_input_grad[:2]) + (None,) * 5
        dw = dpsw = None
        if mode == "max":
            if ctx.needs_input_grad[0]:
                dw = xp.zeros(weight.shape, dtype=dy.dtype)
                hit = ctx.first < idx.shape[0]  # (B, D): non-empty bags
                cols = xp.broadcast_to(xp.arange(weight.shape[1]), hit.shape)
                _ufunc_at(xp, "add", dw, (idx[ctx.first[hit]], cols[hit]), dy[hit])
            return dw, None, None, None, None, None, None
        g = dy[bag]  # (K, D)
        if mode == "mean":
            g = g / xp.maximum(ctx.counts, 1).astype(g.dtype)[bag][:, None]
        if psw is not None and ctx.needs_input_grad[1]:
            dpsw = (g * xp.take(weight, idx, axis=0)).sum(axis=1)
        if ctx.needs_input_grad[0]:
            if psw is not None:
                g = g * psw[:, None]
            if ctx.sparse:  # a COO gradient: one entry per kept position (torch's layout)
                if by_freq:
                    raise RuntimeError(FREQ_ERROR)
                return sparse_rows_grad(ctx.device, g, idx, weight.shape, None), dpsw, None, None, None, None, None
            if by_freq:
                freq = xp.bincount(idx, minlength=weight.shape[0])
                g = g / freq[idx].astype(g.dtype)[:, None]
            dw = xp.zeros(weight.shape, dtype=dy.dtype)
            _ufunc_at(xp, "add", dw, idx, g)
        return dw, dpsw, None, None, None, None, None


def _bags(name: str, input: Tensor, offsets: Tensor | None, include_last_offset: bool, xp) -> tuple:
    """(flat indices array, bag of each position, number of bags)."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{name}: if input is 2D, then offsets has to be None, as input is treated is a "
                             f"mini-batch of fixed length sequences; got offsets of shape {list(offsets.shape)}")
        B, L = input.shape
        return input.array.reshape(-1), xp.repeat(xp.arange(B), L), B
    if input.ndim != 1:
        raise lamina.ShapeError(f"{name}: expected input (B, L) or (N,) with offsets (2-D or 1-D), "
                                f"got {input.ndim}-D input of shape {list(input.shape)}")
    if offsets is None or offsets.ndim != 1:
        got = None if offsets is None else f"{offsets.ndim}-D offsets"
        raise ValueError(f"{name}: offsets has to be a 1D Tensor for 1-D input, but got {got}")
    if offsets.dtype not in (lamina.int64, lamina.int32):
        raise lamina.DTypeError(f"{name}: expected offsets of dtype int64 or int32, got {offsets.dtype}")
    off = offsets.array
    n = input.shape[0]
    if off.size:
        if int(off[0]) != 0:
            raise ValueError(f"{name}: offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to "
                             f"start from position 0; got {int(off[0])}")
        if int(off[-1]) > n:
            raise ValueError(f"{name}: offsets[-1] can not be greater than input's length {n}, got {int(off[-1])}")
        if off.size > 1 and bool((off[1:] < off[:-1]).any()):
            raise ValueError(f"{name}: expected non-decreasing offsets, got {offsets.tolist()}")
    n_bags = max(off.size - 1, 0) if include_last_offset else off.size
    bag = xp.searchsorted(off, xp.arange(n), side="right") - 1
    return input.array, bag, n_bags


def _embedding_bag(name: str, input: Tensor, weight: Tensor, offsets: Tensor | None, max_norm: float | None,
                   norm_type: float, scale_grad_by_freq: bool, mode: str, per_sample_weights: Tensor | None,
                   include_last_offset: bool, padding_idx: int | None, sparse: bool = False) -> Tensor:
    if mode not in _MODES:
        raise ValueError(f"{name}: mode must be one of {list(_MODES)}, got {mode!r}")
    if sparse and mode == "max":
        raise ValueError("max mode does not support sparse weights")
    if weight.ndim != 2:
        raise lamina.ShapeError(f"{name}: expected weight (num_embeddings, embedding_dim) (2-D), "
                                f"got shape {list(weight.shape)}")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(f"{name}: per_sample_weights is only supported for mode='sum' "
                                      f"(got mode={mode!r})")
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise lamina.ShapeError(f"{name}: expected per_sample_weights of the input's shape {list(input.shape)}, "
                                    f"got {list(per_sample_weights.shape)}")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError(f"{name}: max mode does not support scaling the gradient by the frequency")
    num = weight.shape[0]
    padding_idx = _padding(name, padding_idx, num)
    _check_indices(name, input, num)
    xp = weight.device.backend.xp
    idx, bag, n_bags = _bags(name, input, offsets, include_last_offset, xp)
    keep = bag < n_bags
    if padding_idx is not None:
        keep = keep & (idx != padding_idx)
    psw = None
    if per_sample_weights is not None:
        psw = per_sample_weights.reshape(-1)
    if not bool(keep.all()):  # drop padding positions and positions past the last bag
        positions = xp.nonzero(keep)[0]
        idx, bag = idx[positions], bag[positions]
        if psw is not None:
            psw = psw[positions]
    if max_norm is not None:
        _renorm_(weight, input, max_norm, norm_type)
    return EmbeddingBagFn.apply(weight, psw, idx, bag, n_bags, mode, bool(scale_grad_by_freq), sparse=bool(sparse))


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sum, mean or max of the embedding rows of each bag.

    Shape: input (B, L) (fixed-size bags) or (N,) with offsets (B,) (or (B + 1,) with
    ``include_last_offset``); weight (V, D) -> (B, D). Empty bags give zeros.
    """
    return _embedding_bag("embedding_bag", input, weight, offsets, max_norm, norm_type, scale_grad_by_freq, mode,
                          per_sample_weights, include_last_offset, padding_idx, sparse)


# --- modules ------------------------------------------------------------------------------------


def _init_weight(module: Module, name: str, num_embeddings: int, embedding_dim: int, _weight: Tensor | None,
                 _freeze: bool, device: Any, dtype: Any) -> None:
    if _weight is None:
        module.weight = Parameter(lamina.empty(num_embeddings, embedding_dim, device=device, dtype=dtype),
                                  requires_grad=not _freeze)
        module.reset_parameters()
    else:
        if tuple(_weight.shape) != (num_embeddings, embedding_dim):
            raise lamina.ShapeError(f"{name}: expected _weight of shape [{num_embeddings}, {embedding_dim}] "
                                    f"(num_embeddings, embedding_dim), got {list(_weight.shape)}")
        module.weight = Parameter(_weight, requires_grad=not _freeze)


def _check_pretrained(name: str, embeddings: Tensor) -> tuple[int, int]:
    if embeddings.ndim != 2:
        raise lamina.ShapeError(f"{name}.from_pretrained: expected embeddings (num_embeddings, embedding_dim) (2-D), "
                                f"got shape {list(embeddings.shape)}")
    return embeddings.shape[0], embeddings.shape[1]


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim`` (``weight``, init N(0, 1)).

    ``padding_idx``: that row is initialised to zero and never receives a gradient. ``max_norm``:
    looked-up rows with a larger ``norm_type``-norm are rescaled in place to ``max_norm``.
    ``sparse=True``: the weight's gradient is a sparse COO tensor (one entry per looked-up row).

    Shape: input (*) int64/int32 -> output (*, embedding_dim).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: Tensor | None = None, _freeze: bool = False, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = _padding("Embedding", padding_idx, num_embeddings)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        _init_weight(self, "Embedding", num_embeddings, embedding_dim, _weight, _freeze, device, dtype)

    def reset_parameters(self) -> None:
        with lamina.no_grad():
            self.weight.normal_()
            if self.padding_idx is not None:
                self.weight[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:
        return _embedding("Embedding", input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                          self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding whose weight is ``embeddings`` (shared storage); frozen unless ``freeze=False``."""
        rows, cols = _check_pretrained("Embedding", embeddings)
        return cls(rows, cols, _weight=embeddings, _freeze=freeze, padding_idx=padding_idx, max_norm=max_norm,
                   norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


class EmbeddingBag(Module):
    """Sums, averages or takes the max of the embeddings of each bag without building the (B, L, D) tensor.

    Shape: input (B, L), or (N,) with offsets (B,) ((B + 1,) with ``include_last_offset``); optional
    per_sample_weights of the input's shape (mode 'sum') -> output (B, embedding_dim).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                 _weight: Tensor | None = None, include_last_offset: bool = False, padding_idx: int | None = None,
                 device=None, dtype=None) -> None:
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f"EmbeddingBag: mode must be one of {list(_MODES)}, got {mode!r}")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset
        self.padding_idx = _padding("EmbeddingBag", padding_idx, num_embeddings)
        _init_weight(self, "EmbeddingBag", num_embeddings, embedding_dim, _weight, False, device, dtype)

    def reset_parameters(self) -> None:
        with lamina.no_grad():
            self.weight.normal_()
            if self.padding_idx is not None:
                self.weight[self.padding_idx] = 0

    def forward(self, input: Tensor, offsets: Tensor | None = None,
                per_sample_weights: Tensor | None = None) -> Tensor:
        return _embedding_bag("EmbeddingBag", input, self.weight, offsets, self.max_norm, self.norm_type,
                              self.scale_grad_by_freq, self.mode, per_sample_weights, self.include_last_offset,
                              self.padding_idx, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> EmbeddingBag:
        """An EmbeddingBag whose weight is ``embeddings`` (shared storage); frozen unless ``freeze=False``."""
        rows, cols = _check_pretrained("EmbeddingBag", embeddings)
        bag = cls(rows, cols, _weight=embeddings, max_norm=max_norm, norm_type=norm_type,
                  scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse,
                  include_last_offset=include_last_offset, padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag
