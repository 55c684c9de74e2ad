"""Matrix products: matmul (with PyTorch's 1-D and batch-broadcast rules), mm, bmm, dot, einsum."""

from __future__ import annotations

import builtins
import math
from typing import Any

from .._base.errors import ShapeError
from .._tensor import Tensor
from ..autograd.autocast_state import autocast_op
from ..autograd.function import Function
from ._util import promote_pair
from .creation import tensor
from .distance import dist, renorm
from .inplace import make_inplace
from .layouts import call_layout_hook


def _einsum(xp, equation: str, *arrays, optimize: bool = False):
    """``xp.einsum``; bfloat16 arrays (NumPy has no einsum loop for them) in float32, rounded once."""
    if any(a.dtype.kind == "V" for a in arrays):
        bf = next(a.dtype for a in arrays if a.dtype.kind == "V")
        wide = [a.astype("float32") if a.dtype.kind == "V" else a for a in arrays]
        return xp.einsum(equation, *wide, optimize=optimize).astype(bf)
    return xp.einsum(equation, *arrays, optimize=optimize)


def _mat_product(a, b):
    """``a @ b``; bfloat16 operands are multiplied in float32 (BLAS) and the result rounded once, as torch CPU."""
    if a.dtype.kind == "V" and not isinstance(a, Tensor):
        return (a.astype("float32") @ b.astype("float32")).astype(a.dtype)
    return a @ b


class MatMul(Function):
    """Matrix product. a: (..., N, K), b: (..., K, M) -> (..., N, M); 1-D operands as in PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ShapeError(f"matmul: both arguments need at least 1 dimension, got {a.ndim}D and {b.ndim}D")
        ka = a.shape[-1]
        kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if ka != kb:
            sa = "x".join(map(str, a.shape))
            sb = "x".join(map(str, b.shape))
            raise ShapeError(f"matmul: expected a (..., N, K) @ b (..., K, M) with equal K, got a ({sa}) and b ({sb}) "
                             f"(K = {ka} vs {kb})")
        need_a, need_b = ctx.needs_input_grad
        ctx.a_shape, ctx.b_shape = a.shape, b.shape
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        return _mat_product(a, b)

    @staticmethod
    def backward(ctx, dy):
        a, b = ctx.saved_tensors                                        # only those a gradient needs
        need_a, need_b = ctx.needs_input_grad
        if dy.dtype.kind == "c":                                        # da = dy @ b^H, db = a^H @ dy
            a, b = (None if a is None else a.conj()), (None if b is None else b.conj())
        a_nd, b_nd = len(ctx.a_shape), len(ctx.b_shape)
        if a_nd == 1 and b_nd == 1:
            dy2 = dy.reshape((1, 1))
        elif a_nd == 1:
            dy2 = dy.reshape(dy.shape[:-1] + (1, dy.shape[-1]))
        elif b_nd == 1:
            dy2 = dy.reshape(dy.shape + (1,))
        else:
            dy2 = dy                                                    # (..., N, M)
        da = db = None
        if need_a:
            b2 = b.reshape(b.shape + (1,)) if b_nd == 1 else b          # (..., K, M)
            da = _mat_product(dy2, b2.swapaxes(-1, -2))                            # (..., N, K)
            if a_nd == 1:
                da = da.reshape(da.shape[:-2] + (da.shape[-1],))
                da = da.sum(tuple(range(da.ndim - 1))) if da.ndim > 1 else da
        if need_b:
            a2 = a.reshape((1,) + a.shape) if a_nd == 1 else a          # (..., N, K)
            db = _mat_product(a2.swapaxes(-1, -2), dy2)                            # (..., K, M)
            if b_nd == 1:
                db = db.reshape(db.shape[:-1])
                db = db.sum(tuple(range(db.ndim - 1))) if db.ndim > 1 else db
        return da, db


def _matmul(input: Tensor, other: Tensor) -> Tensor:
    a, b = promote_pair(input, other)
    return MatMul.apply(a, b)


@autocast_op("lower_precision_fp")
def matmul(input: Tensor, other: Tensor) -> Tensor:
    out = call_layout_hook(matmul, (input, other))  # a sparse (plugin layout) operand serves the call
    if out is not NotImplemented:
        return out
    return _matmul(input, other)


@autocast_op("lower_precision_fp")
def mm(input: Tensor, mat2: Tensor) -> Tensor:
    out = call_layout_hook(mm, (input, mat2))
    if out is not NotImplemented:
        return out
    if input.ndim != 2 or mat2.ndim != 2:
        raise ShapeError(f"mm: expected 2-D matrices, got {input.ndim}-D and {mat2.ndim}-D")
    return matmul(input, mat2)


@autocast_op("lower_precision_fp")
def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.ndim != 3 or mat2.ndim != 3:
        raise ShapeError(f"bmm: expected 3-D tensors, got {input.ndim}-D and {mat2.ndim}-D")
    if input.shape[0] != mat2.shape[0]:
        raise ShapeError(f"bmm: expected equal batch sizes, got {input.shape[0]} and {mat2.shape[0]}")
    return matmul(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    out = call_layout_hook(mv, (input, vec))  # a sparse matrix serves torch.mv(sparse, dense)
    if out is not NotImplemented:
        return out
    if input.ndim != 2 or vec.ndim != 1:
        raise ShapeError(f"mv: expected a 2-D matrix and a 1-D vector, got {input.ndim}-D and {vec.ndim}-D")
    return _matmul(input, vec)  # not an autocast op in torch (nor are dot, vdot, addmv)


def dot(input: Tensor, other: Tensor) -> Tensor:
    if input.ndim != 1 or other.ndim != 1:
        raise ShapeError(f"dot: expected 1-D tensors, got {input.ndim}-D and {other.ndim}-D")
    return _matmul(input, other)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


def _add_scaled(input: Tensor, prod: Tensor, beta: Any, alpha: Any, out: Tensor | None, name: str) -> Tensor:
    """beta * input + alpha * prod; beta = 0 ignores input's values (NaN/inf included), as torch."""
    from .creation import write_out

    if input._data.dtype.kind in "biu" and (isinstance(beta, float) or isinstance(alpha, float)):
        raise RuntimeError(f"{name}: For integral input tensors, argument beta/alpha must not be a floating point "
                           "number.")
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:  # input's values are ignored; it still gets a (zero) gradient, as in torch
        from .indexing import where

        off = Tensor._make(input.device.backend.xp.zeros((), bool), input.device)
        res = prod + where(off, input, Tensor._make(input.device.backend.xp.zeros((), prod._data.dtype),
                                                   input.device))
    else:
        res = prod + (input if beta == 1 else input * beta)
    if tuple(res.shape) != tuple(prod.shape):
        raise RuntimeError(f"{name}: expected input to broadcast to {list(prod.shape)}, got {list(input.shape)}")
    return write_out(out, res, name)


def _add_scaled_once(input: Tensor, prod: Any, mats: tuple, beta: Any, alpha: Any, out: Tensor | None,
                     name: str) -> Tensor:
    """``_add_scaled(input, prod(*mats))`` rounded once: float16/bfloat16 operands are computed in float32 and
    the sum cast back, as torch's fused CPU kernels do (a low-precision product then sum would round twice)."""
    low = mats[0]._data.dtype.itemsize == 2 and mats[0]._data.dtype.kind in "fV" and input.dtype == mats[0].dtype \
        and all(m.dtype == mats[0].dtype for m in mats)
    if not low:
        return _add_scaled(input, prod(*mats), beta, alpha, out, name)
    from .creation import write_out

    res = _add_scaled(input.float(), prod(*(m.float() for m in mats)), beta, alpha, None, name)
    return write_out(out, res.to(input.dtype), name)


@autocast_op("lower_precision_fp")
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1,
          out: Tensor | None = None) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2). mat1: (n, m), mat2: (m, p) -> (n, p)"""
    res = call_layout_hook(addmm, (input, mat1, mat2), {"beta": beta, "alpha": alpha, "out": out})
    if res is not NotImplemented:
        return res
    return _add_scaled_once(input, mm, (mat1, mat2), beta, alpha, out, "addmm")


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1,
          out: Tensor | None = None) -> Tensor:
    """beta * input + alpha * (mat @ vec). mat: (n, m), vec: (m,) -> (n,)"""
    res = call_layout_hook(addmv, (input, mat, vec), {"beta": beta, "alpha": alpha, "out": out})
    if res is not NotImplemented:
        return res
    return _add_scaled_once(input, mv, (mat, vec), beta, alpha, out, "addmv")


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1,
         out: Tensor | None = None) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2). -> (n, m)"""
    if vec1.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"addr: expected 1-D vectors, got {vec1.ndim}-D and {vec2.ndim}-D")
    return _add_scaled(input, outer(vec1, vec2), beta, alpha, out, "addr")


@autocast_op("lower_precision_fp")
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1,
            out: Tensor | None = None) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2). (b, n, m), (b, m, p) -> (b, n, p)"""
    return _add_scaled_once(input, bmm, (batch1, batch2), beta, alpha, out, "baddbmm")


@autocast_op("lower_precision_fp")
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1,
           out: Tensor | None = None) -> Tensor:
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]. (b, n, m), (b, m, p) -> (n, p)"""
    return _add_scaled(input, bmm(batch1, batch2).sum(0), beta, alpha, out, "addbmm")


def tensordot(a: Tensor, b: Tensor, dims: Any = 2, out: Tensor | None = None) -> Tensor:
    """Sum over ``dims`` (the last n of a with the first n of b, or two lists of dims)."""
    from .creation import write_out

    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(da) != len(db):
        raise RuntimeError(f"both dimension lists should have same length, got {len(da)} and {len(db)}")
    da, db = [d % builtins.max(a.ndim, 1) for d in da], [d % builtins.max(b.ndim, 1) for d in db]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[x]} in dim {x} and "
                               f"second has size {b.shape[y]} in dim {y}")
    fa = [d for d in range(a.ndim) if d not in da]
    fb = [d for d in range(b.ndim) if d not in db]
    k = math.prod(a.shape[d] for d in da)
    a2 = a.permute(fa + da).reshape(math.prod(a.shape[d] for d in fa), k)
    b2 = b.permute(db + fb).reshape(k, math.prod(b.shape[d] for d in fb))
    res = matmul(a2, b2).reshape(tuple(a.shape[d] for d in fa) + tuple(b.shape[d] for d in fb))
    return write_out(out, res, "tensordot")


def inner(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Sum of products over the last dims. (*a, k), (*b, k) -> (*a, *b); a 0-d operand multiplies."""
    from .creation import write_out

    if input.ndim == 0 or other.ndim == 0:
        return write_out(out, input * other, "inner")
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    return write_out(out, tensordot(input, other, ([-1], [-1])), "inner")


def vdot(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Dot product of 1-D tensors, conjugating the first (complex)."""
    from .creation import write_out

    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    a = input.conj() if input._data.dtype.kind == "c" else input
    return write_out(out, dot(a, other), "vdot")


class Einsum(Function):
    """Einstein summation; each operand's gradient is another einsum."""

    @staticmethod
    def forward(ctx, equation, *ops):
        ctx.save_for_backward(*ops)
        ctx.equation = equation
        return _einsum(ctx.xp, equation, *ops, optimize=len(ops) > 2)

    @staticmethod
    def backward(ctx, dy):
        ops = ctx.saved_tensors
        xp = ctx.xp
        if dy.dtype.kind == "c":  # the conjugate Wirtinger convention: other operands conjugated
            ops = tuple(o.conj() for o in ops)
        lhs, out = ctx.equation.split("->")
        terms = lhs.split(",")
        grads = [None]
        for i, term in enumerate(terms):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            others = [t for j, t in enumerate(terms) if j != i]
            arrs = [o for j, o in enumerate(ops) if j != i]
            # letters of term that appear nowhere else were summed out: broadcast back with ones
            present = set(out) | set("".join(others))
            missing = [c for c in term if c not in present]
            eq = ",".join([out] + others) + "->" + "".join(c for c in term if c not in missing)
            g = _einsum(xp, eq, dy, *arrs)
            if missing:
                g = _einsum(xp, ("".join(c for c in term if c not in missing)) + "," + "".join(missing) + "->" + term,
                              g, xp.ones(tuple(ops[i].shape[term.index(c)] for c in missing), dtype=g.dtype))
            grads.append(g)
        return tuple(grads)


@autocast_op("lower_precision_fp")  # torch's einsum is made of bmm
def einsum(equation: str, *operands) -> Tensor:
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = equation.replace(" ", "")
    if "..." in eq:
        raise NotImplementedError("einsum: ellipsis ('...') is not supported yet; name every dimension")
    if "->" not in eq:
        lhs = eq
        letters = sorted(c for c in set(lhs.replace(",", "")) if lhs.replace(",", "").count(c) == 1)
        eq = lhs + "->" + "".join(letters)
    return Einsum.apply(eq, *operands)


addmv_ = make_inplace("addmv", addmv)


class LinalgMethods:
    __slots__ = ()
    matmul = __matmul__ = matmul
    mm = mm
    bmm = bmm
    mv = mv
    dot = dot
    outer = outer
    ger = outer
    inner = inner
    vdot = vdot
    addmm = addmm
    addmv = addmv
    addr = addr
    baddbmm = baddbmm
    addbmm = addbmm
    addmm_ = make_inplace("addmm", addmm)
    addmv_ = addmv_
    addr_ = make_inplace("addr", addr)
    baddbmm_ = make_inplace("baddbmm", baddbmm)
    addbmm_ = make_inplace("addbmm", addbmm)
    dist = dist
    renorm = renorm
    renorm_ = make_inplace("renorm", renorm)

    def __rmatmul__(self: Tensor, other: Any) -> Tensor:
        return matmul(tensor(other, device=self.device), self)
