"""Matrix products: matmul (with PyTorch's 1-D and batch-broadcast rules), mm, bmm, dot, einsum."""

from __future__ import annotations

from typing import Any

from .._base.errors import ShapeError
from .._tensor import Tensor
from ..autograd.function import Function
from ._util import promote_pair
from .creation import tensor


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
        return a @ b

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
            da = dy2 @ b2.swapaxes(-1, -2)                              # (..., N, K)
            if a_nd == 1:
                da = da.reshape(da.shape[:-2] + (da.shape[-1],))
                da = da.sum(tuple(range(da.ndim - 1))) if da.ndim > 1 else da
        if need_b:
            a2 = a.reshape((1,) + a.shape) if a_nd == 1 else a          # (..., N, K)
            db = a2.swapaxes(-1, -2) @ dy2                              # (..., K, M)
            if b_nd == 1:
                db = db.reshape(db.shape[:-1])
                db = db.sum(tuple(range(db.ndim - 1))) if db.ndim > 1 else db
        return da, db


def matmul(input: Tensor, other: Tensor) -> Tensor:
    a, b = promote_pair(input, other)
    return MatMul.apply(a, b)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.ndim != 2 or mat2.ndim != 2:
        raise ShapeError(f"mm: expected 2-D matrices, got {input.ndim}-D and {mat2.ndim}-D")
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.ndim != 3 or mat2.ndim != 3:
        raise ShapeError(f"bmm: expected 3-D tensors, got {input.ndim}-D and {mat2.ndim}-D")
    if input.shape[0] != mat2.shape[0]:
        raise ShapeError(f"bmm: expected equal batch sizes, got {input.shape[0]} and {mat2.shape[0]}")
    return matmul(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    if input.ndim != 2 or vec.ndim != 1:
        raise ShapeError(f"mv: expected a 2-D matrix and a 1-D vector, got {input.ndim}-D and {vec.ndim}-D")
    return matmul(input, vec)


def dot(input: Tensor, other: Tensor) -> Tensor:
    if input.ndim != 1 or other.ndim != 1:
        raise ShapeError(f"dot: expected 1-D tensors, got {input.ndim}-D and {other.ndim}-D")
    return matmul(input, other)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    out = mm(mat1, mat2)
    if alpha != 1:
        out = out * alpha
    return out + (input if beta == 1 else input * beta)


class Einsum(Function):
    """Einstein summation; each operand's gradient is another einsum."""

    @staticmethod
    def forward(ctx, equation, *ops):
        ctx.save_for_backward(*ops)
        ctx.equation = equation
        return ctx.xp.einsum(equation, *ops, optimize=len(ops) > 2)

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
            g = xp.einsum(eq, dy, *arrs)
            if missing:
                g = xp.einsum(("".join(c for c in term if c not in missing)) + "," + "".join(missing) + "->" + term,
                              g, xp.ones(tuple(ops[i].shape[term.index(c)] for c in missing), dtype=g.dtype))
            grads.append(g)
        return tuple(grads)


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


class LinalgMethods:
    __slots__ = ()
    matmul = __matmul__ = matmul
    mm = mm
    bmm = bmm
    mv = mv
    dot = dot
    outer = outer

    def __rmatmul__(self: Tensor, other: Any) -> Tensor:
        return matmul(tensor(other, device=self.device), self)
