"""Shape ops: views (reshape, permute, expand, squeeze, ...) and copies (cat, stack, flip, roll, repeat).

View results share the input's storage and version counter, as in PyTorch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._tensor import Tensor
from ..autograd.function import Function
from ._util import infer_shape, normalize_dim, shape_arg
from .inplace import make_inplace


def _as_view(y: Tensor, x: Tensor) -> Tensor:
    y._vc = x._vc
    y._base = x if x._base is None else x._base
    return y


class Reshape(Function):
    """x: (*in) -> (*out) with the same number of elements."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, dy):
        return dy.reshape(ctx.in_shape), None


class Permute(Function):
    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, dy):
        inv = [0] * len(ctx.axes)
        for i, a in enumerate(ctx.axes):
            inv[a] = i
        return ctx.xp.transpose(dy, tuple(inv)), None


class Expand(Function):
    """Broadcast x to ``shape`` (a read-only view); the engine sums the gradient back."""

    @staticmethod
    def forward(ctx, x, shape):
        return ctx.xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, dy):
        return dy, None


class Contiguous(Function):
    @staticmethod
    def forward(ctx, x):
        return ctx.xp.ascontiguousarray(x)

    @staticmethod
    def backward(ctx, dy):
        return dy


def reshape(input: Tensor, *shape) -> Tensor:
    shape = infer_shape(shape_arg(shape), input._data.size, "reshape", input._data.shape)
    if shape == input._data.shape:
        return _as_view(Reshape.apply(input, shape), input)
    y = Reshape.apply(input, shape)
    if input._data.flags.c_contiguous or input.device.backend.xp.may_share_memory(y._data, input._data):
        _as_view(y, input)
    return y


def view(input: Tensor, *shape) -> Tensor:
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)):
        return input.to(shape[0])  # view(dtype) is not reinterpretation here; documented difference
    shape = infer_shape(shape_arg(shape), input._data.size, "view", input._data.shape)
    if not input._data.flags.c_contiguous and shape != input._data.shape and not _strides_allow(input._data, shape):
        raise RuntimeError(
            f"view: view size {list(shape)} is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
    return _as_view(Reshape.apply(input, shape), input)


def _strides_allow(a, shape) -> bool:
    """PyTorch's view rule: the new shape must be expressible with strides over the same memory
    (NumPy's no-copy reshape decides exactly that)."""
    v = a.view()
    try:
        v.shape = shape
    except AttributeError:
        return False
    return True


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return view(input, tuple(other.shape))


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, tuple(other.shape))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if input.ndim == 0:
        return reshape(input, (1,))
    s = normalize_dim(start_dim, input.ndim, "flatten")
    e = normalize_dim(end_dim, input.ndim, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shp = input._data.shape
    n = 1
    for v in shp[s:e + 1]:
        n *= v
    return reshape(input, shp[:s] + (n,) + shp[e + 1:])


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    d = normalize_dim(dim, input.ndim, "unflatten")
    shp = input._data.shape
    sizes = infer_shape(tuple(sizes), shp[d], "unflatten", shp)
    return reshape(input, shp[:d] + sizes + shp[d + 1:])


def permute(input: Tensor, *dims) -> Tensor:
    dims = shape_arg(dims)
    if len(dims) != input.ndim:
        raise RuntimeError(f"permute: number of dims don't match in permute: expected {input.ndim}, got {len(dims)}")
    axes = tuple(normalize_dim(d, input.ndim, "permute") for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"permute: repeated dim in {list(dims)}")
    return _as_view(Permute.apply(input, axes), input)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    n = input.ndim
    if n == 0:
        return _as_view(Reshape.apply(input, ()), input)
    axes = list(range(n))
    a, b = normalize_dim(dim0, n, "transpose"), normalize_dim(dim1, n, "transpose")
    axes[a], axes[b] = axes[b], axes[a]
    return _as_view(Permute.apply(input, tuple(axes)), input)


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else input.view(input.shape)


def movedim(input: Tensor, source, destination) -> Tensor:
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    n = input.ndim
    src = [normalize_dim(s, n, "movedim") for s in src]
    dst = [normalize_dim(d, n, "movedim") for d in dst]
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


moveaxis = movedim


def expand(input: Tensor, *sizes) -> Tensor:
    sizes = shape_arg(sizes)
    shp = input._data.shape
    if len(sizes) < len(shp):
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
                           f"number of dimensions in the tensor ({len(shp)})")
    lead = len(sizes) - len(shp)
    out = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: -1 not allowed in leading, non-existing dimension {i}")
            out.append(s)
            continue
        cur = shp[i - lead]
        if s == -1:
            out.append(cur)
        elif cur == 1 or cur == s:
            out.append(s)
        else:
            raise RuntimeError(f"expand: the expanded size of the tensor ({s}) must match the existing size ({cur}) "
                               f"at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  "
                               f"Tensor sizes: {list(shp)}")
    return _as_view(Expand.apply(input, tuple(out)), input)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, tuple(other.shape))


def broadcast_to(input: Tensor, shape) -> Tensor:
    return expand(input, tuple(shape))


def broadcast_tensors(*tensors: Tensor) -> tuple:
    import numpy as np

    shape = np.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def squeeze(input: Tensor, dim=None) -> Tensor:
    shp = input._data.shape
    if dim is None:
        new = tuple(s for s in shp if s != 1)
    else:
        dims = {normalize_dim(d, input.ndim, "squeeze") for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}
        new = tuple(s for i, s in enumerate(shp) if not (i in dims and s == 1))
    return _as_view(Reshape.apply(input, new), input)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    n = input.ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"unsqueeze: Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    d = dim % n
    shp = input._data.shape
    return _as_view(Reshape.apply(input, shp[:d] + (1,) + shp[d:]), input)


def contiguous(input: Tensor, memory_format: Any = None) -> Tensor:
    if input._data.flags.c_contiguous:
        return input
    return Contiguous.apply(input)


def atleast_1d(*tensors: Any) -> Any:
    if len(tensors) != 1 or isinstance(tensors[0], (tuple, list)):
        return tuple(atleast_1d(t) for t in (tensors[0] if len(tensors) == 1 else tensors))
    return tensors[0].reshape(1) if tensors[0].ndim == 0 else tensors[0]


def atleast_2d(*tensors: Any) -> Any:
    if len(tensors) != 1 or isinstance(tensors[0], (tuple, list)):
        return tuple(atleast_2d(t) for t in (tensors[0] if len(tensors) == 1 else tensors))
    return tensors[0].reshape(1, -1) if tensors[0].ndim < 2 else tensors[0]


def atleast_3d(*tensors: Any) -> Any:
    """(n,) -> (1, n, 1); (n, m) -> (n, m, 1); 0-d -> (1, 1, 1); several tensors: a tuple."""
    if len(tensors) != 1 or isinstance(tensors[0], (tuple, list)):
        return tuple(atleast_3d(t) for t in (tensors[0] if len(tensors) == 1 else tensors))
    x = tensors[0]
    if x.ndim == 0:
        return x.reshape(1, 1, 1)
    if x.ndim == 1:
        return unsqueeze(unsqueeze(x, 0), -1)
    return unsqueeze(x, -1) if x.ndim == 2 else x


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims (a view for real tensors)."""
    if input.ndim < 2:
        raise RuntimeError("tensor.adjoint() is only supported on matrices or batches of matrices. Got 1-D tensor.")
    y = transpose(input, -2, -1)
    return y.conj() if input._data.dtype.kind == "c" else y


def ravel(input: Tensor) -> Tensor:
    """The elements as 1-D (a view when the layout allows, else a copy)."""
    return reshape(input, -1)


def broadcast_shapes(*shapes: Any) -> Any:
    """The shape that tensors of ``shapes`` broadcast to (torch's error where they can't)."""
    from .._tensor import Size

    out: list[int] = []
    for shp in shapes:
        shp = (shp,) if isinstance(shp, int) else tuple(shp)
        for i, s in enumerate(reversed(shp)):
            if s < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shp)}")
            if i >= len(out):
                out.insert(0, s)
            elif out[-1 - i] == 1:
                out[-1 - i] = s
            elif s != 1 and s != out[-1 - i]:
                raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape.  Mismatch is "
                                   f"between arg 0 and arg {shapes.index(shp) if shp in shapes else 1}.")
    return Size(out)


def _swap_inplace(self: Tensor, dim0: int, dim1: int) -> Tensor:
    """The tensor itself becomes its transpose (same storage; not recorded by autograd)."""
    if self._requires_grad and self._node is None:
        raise RuntimeError("swapaxes_: a leaf Variable that requires grad is being used in an in-place operation.")
    self._data = transpose(self.detach(), dim0, dim1)._data
    return self


class ShapeMethods:
    """Views and reshapes as ``Tensor`` methods and properties."""

    __slots__ = ()
    view = view
    view_as = view_as
    reshape = reshape
    reshape_as = reshape_as
    flatten = flatten
    unflatten = unflatten
    squeeze = squeeze
    unsqueeze = unsqueeze
    permute = permute
    transpose = swapaxes = swapdims = transpose
    t = t
    movedim = moveaxis = movedim
    expand = expand
    expand_as = expand_as
    broadcast_to = broadcast_to
    contiguous = contiguous
    ravel = ravel
    adjoint = adjoint
    swapaxes_ = swapdims_ = _swap_inplace
    t_ = make_inplace("t", t)
    transpose_ = make_inplace("transpose", transpose)
    squeeze_ = make_inplace("squeeze", squeeze)
    unsqueeze_ = make_inplace("unsqueeze", unsqueeze)

    @property
    def T(self: Tensor) -> Tensor:  # noqa: N802
        return permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self: Tensor) -> Tensor:  # noqa: N802
        return transpose(self, -2, -1)

    @property
    def H(self: Tensor) -> Tensor:  # noqa: N802
        """The conjugate transpose of a matrix (2-D only, as torch)."""
        if self.ndim != 2:
            raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.ndim}-D tensor.")
        return adjoint(self)

    @property
    def mH(self: Tensor) -> Tensor:  # noqa: N802
        """The conjugate transpose of the last two dims."""
        if self.ndim < 2:
            raise RuntimeError("tensor.mH is only supported on matrices or batches of matrices. "
                               f"Got {self.ndim}-D tensor.")
        return adjoint(self)
