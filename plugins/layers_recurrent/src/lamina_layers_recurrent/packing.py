"""``lamina.nn.utils.rnn``: PackedSequence and the pad/pack utilities (published through an entry point).

A packed sequence stores a batch of variable-length sequences time step by time step: ``data``
(sum of lengths, *) holds step 0 of every sequence, then step 1 of those at least 2 long, and so
on, longest first; ``batch_sizes[t]`` is how many sequences are at step ``t``. Moving rows between
the padded and packed layouts is one row gather (``_RowGather``) or one row scatter
(``_RowScatter``) whose index already folds in sorting, ``batch_first`` and ``padding_side``.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import lamina
import numpy as np
from lamina import Tensor
from lamina.autograd import Function

__lamina_plugin_api__ = "1.0"

__all__ = ["PackedSequence", "invert_permutation", "pad_sequence", "unpad_sequence", "pack_padded_sequence",
           "pad_packed_sequence", "pack_sequence", "unpack_sequence"]


class _RowGather(Function):
    """y = x[index] along dim 0. x (R, *), index (M,) host ints -> y (M, *)"""

    @staticmethod
    def forward(ctx, x, index):
        ctx.meta = (x.shape, index)
        return x[ctx.xp.asarray(index)]

    @staticmethod
    def backward(ctx, dy):                     # dy: (M, *); rows of index are distinct
        shape, index = ctx.meta
        if isinstance(dy, Tensor):             # create_graph: the adjoint is a scatter
            return _RowScatter.apply(dy, index, shape[0], 0.0), None
        dx = ctx.xp.zeros(shape, dtype=dy.dtype)
        dx[ctx.xp.asarray(index)] = dy
        return dx, None


class _RowScatter(Function):
    """y = full((rows, *), fill); y[index] = x. x (M, *), index (M,) distinct host ints -> y (rows, *)"""

    @staticmethod
    def forward(ctx, x, index, rows, fill):
        ctx.meta = index
        y = ctx.xp.full((rows,) + tuple(x.shape[1:]), fill, dtype=x.dtype)
        y[ctx.xp.asarray(index)] = x
        return y

    @staticmethod
    def backward(ctx, dy):                     # dy: (rows, *)
        if isinstance(dy, Tensor):
            return _RowGather.apply(dy, ctx.meta), None, None, None
        return dy[ctx.xp.asarray(ctx.meta)], None, None, None


def _host_ints(x: Any, what: str) -> np.ndarray:
    if isinstance(x, Tensor):
        if x.device.type != "cpu":
            raise ValueError(f"{what}: expected a CPU tensor or a list of ints, got a tensor on {x.device}")
        x = x.array
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{what}: expected a 1-D sequence of ints, got shape {arr.shape}")
    return arr.astype(np.int64)


def _index_tensor(idx: np.ndarray | None) -> Tensor | None:
    return None if idx is None else lamina.tensor(np.ascontiguousarray(idx, dtype=np.int64))


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse permutation p^-1 with p^-1[p[i]] = i (None stays None)."""
    if permutation is None:
        return None
    p = _host_ints(permutation, "invert_permutation")
    out = np.empty_like(p)
    out[p] = np.arange(p.size, dtype=np.int64)
    return lamina.tensor(out, device=permutation.device) if isinstance(permutation, Tensor) else lamina.tensor(out)


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A packed batch of variable-length sequences (build it with pack_padded_sequence / pack_sequence).

    Shape: data (sum(lengths), *), batch_sizes (max length,) int64 on the CPU, sorted_indices and
    unsorted_indices (batch,) int64 or None (sequences were given sorted by decreasing length)
    """

    __slots__ = ()

    def __new__(cls, data: Tensor, batch_sizes: Tensor | None = None, sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            raise ValueError("PackedSequence: expected batch_sizes; build packed sequences with "
                             "pack_padded_sequence or pack_sequence")
        if not isinstance(batch_sizes, Tensor):
            batch_sizes = lamina.tensor(_host_ints(batch_sizes, "PackedSequence"))
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _with_data(self, data: Tensor) -> PackedSequence:
        idx = [None if i is None else i.to(data.device) for i in (self.sorted_indices, self.unsorted_indices)]
        return type(self)(data, self.batch_sizes, *idx)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """Moves/casts ``data`` (batch_sizes stay on the CPU, the indices follow the data's device)."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else self._with_data(data)

    def cpu(self) -> PackedSequence:
        return self.to("cpu")

    def cuda(self, device: Any = None) -> PackedSequence:
        return self.to("cuda" if device is None else device)

    def double(self) -> PackedSequence:
        return self.to(dtype=lamina.float64)

    def float(self) -> PackedSequence:
        return self.to(dtype=lamina.float32)

    def half(self) -> PackedSequence:
        return self.to(dtype=lamina.float16)

    @property
    def is_cuda(self) -> bool:
        return self.data.device.type == "cuda"

    def is_pinned(self) -> bool:
        return False


def _lengths_to_steps(lengths: np.ndarray) -> np.ndarray:
    """batch_sizes[t] = number of lengths > t, for lengths sorted in decreasing order."""
    T = int(lengths[0]) if lengths.size else 0
    return (lengths[None, :] > np.arange(T)[:, None]).sum(1).astype(np.int64)


def _packed_positions(sorted_lengths: np.ndarray, order: np.ndarray, T: int, batch_first: bool,
                      left: np.ndarray | None = None) -> np.ndarray:
    """Flat padded index of every packed row: row (t, j) holds step t of batch entry order[j].

    Padded layout (T, N) time-major or (N, T) with batch_first; ``left`` shifts each entry's steps
    (left padding).
    """
    N = order.size
    bs = _lengths_to_steps(sorted_lengths)
    t = np.repeat(np.arange(bs.size), bs)                        # step of each packed row
    j = np.arange(t.size) - np.repeat(np.cumsum(bs) - bs, bs)   # rank of each packed row within its step
    b = order[j]
    if left is not None:
        t = t + left[b]
    return (b * T + t) if batch_first else (t * N + b)


def pad_sequence(sequences: Sequence[Tensor] | Tensor, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors of shape (L_i, *) into one padded tensor.

    Shape: -> (max L, N, *), or (N, max L, *) with batch_first; padding on ``padding_side``
    """
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: expected padding_side to be one of left or right, but got {padding_side}.")
    seqs = list(sequences.unbind(0) if isinstance(sequences, Tensor) else sequences)
    if not seqs:
        raise ValueError("pad_sequence: expected a non-empty list of tensors, got an empty one")
    trailing = tuple(seqs[0].shape[1:])
    for k, s in enumerate(seqs):
        if s.ndim < 1 or tuple(s.shape[1:]) != trailing:
            raise ValueError(f"pad_sequence: expected every sequence of shape (L, {', '.join(map(str, trailing))}) "
                             f"like the first, got {tuple(s.shape)} for sequence {k}")
    lengths = np.array([s.shape[0] for s in seqs], dtype=np.int64)
    N, T = len(seqs), int(lengths.max())
    start = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    rows = np.arange(int(lengths.sum()), dtype=np.int64)
    b = np.repeat(np.arange(N), lengths)                          # sequence of each concatenated row
    t = rows - start[b]
    if padding_side == "left":
        t = t + (T - lengths)[b]
    index = (b * T + t) if batch_first else (t * N + b)
    flat = lamina.cat(seqs, 0) if N > 1 else seqs[0]
    out = _RowScatter.apply(flat, index, N * T, float(padding_value))
    return out.reshape(((N, T) if batch_first else (T, N)) + trailing)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False) -> list:
    """The inverse of pad_sequence (right padding): a list of (L_i, *) tensors."""
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[i, :int(n)] for i, n in enumerate(_host_ints(lengths, "unpad_sequence"))]


def pack_padded_sequence(input: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch of sequences of the given lengths.

    Shape: input (T, N, *) or (N, T, *) with batch_first, lengths (N,) -> PackedSequence with data (sum(lengths), *)
    """
    lengths = _host_ints(lengths, "pack_padded_sequence")
    if input.ndim < 2:
        raise ValueError(f"pack_padded_sequence: expected input (T, N, *) with at least 2 dims, got shape "
                         f"{tuple(input.shape)}")
    N = input.shape[0] if batch_first else input.shape[1]
    T = input.shape[1] if batch_first else input.shape[0]
    if lengths.size != N:
        raise RuntimeError(f"pack_padded_sequence: expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lengths.size} (batch_size={N})")
    if enforce_sorted:
        if np.any(lengths[1:] > lengths[:-1]):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                               "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                               "sidestep this requirement if you do not need ONNX exportability.")
        order = np.arange(N, dtype=np.int64)
        sorted_indices = None
    else:
        order = np.argsort(-lengths, kind="stable").astype(np.int64)
        sorted_indices = order
    if N and lengths.min() <= 0:
        raise RuntimeError("pack_padded_sequence: length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if N and lengths.max() > T:
        raise RuntimeError(f"pack_padded_sequence: expected lengths of at most the padded length {T}, got "
                           f"{int(lengths.max())}")
    sorted_lengths = lengths[order]
    index = _packed_positions(sorted_lengths, order, T, batch_first)
    trailing = tuple(input.shape[2:])
    data = _RowGather.apply(input.reshape((N * T,) + trailing), index)
    return PackedSequence(data, _lengths_to_steps(sorted_lengths), _index_tensor(sorted_indices))


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Unpack into a padded batch in the original order; returns (padded, lengths).

    Shape: -> (T, N, *) or (N, T, *) with batch_first, T = total_length or the longest length; lengths (N,) int64
    """
    data, batch_sizes = sequence.data, sequence.batch_sizes.array
    bs = np.asarray(batch_sizes, dtype=np.int64)
    T_max, N = bs.size, (int(bs[0]) if bs.size else 0)
    if total_length is not None:
        if total_length < T_max:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {T_max}")
        T = int(total_length)
    else:
        T = T_max
    sorted_lengths = (bs[None, :] > np.arange(N)[:, None]).sum(1).astype(np.int64)   # length of sorted entry j
    order = (np.arange(N, dtype=np.int64) if sequence.sorted_indices is None
             else _host_ints(sequence.sorted_indices.cpu(), "pad_packed_sequence"))
    index = _packed_positions(sorted_lengths, order, T, batch_first)
    trailing = tuple(data.shape[1:])
    out = _RowScatter.apply(data, index, N * T, float(padding_value))
    out = out.reshape(((N, T) if batch_first else (T, N)) + trailing)
    lengths = np.empty(N, dtype=np.int64)
    lengths[order] = sorted_lengths
    return out, lamina.tensor(lengths)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of (L_i, *) tensors (sorted by decreasing length unless enforce_sorted=False)."""
    lengths = [int(s.shape[0]) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The inverse of pack_sequence: a list of (L_i, *) tensors in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
