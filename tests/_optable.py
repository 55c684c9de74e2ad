"""The op tables shared by the parity, gradcheck and xp-purity tests.

Each entry calls the op through a module argument ``m`` (``lamina`` or ``torch``), so one lambda
serves both libraries: ``lambda m, x: m.exp(x)``. Inputs are float samples of the given shapes
from the given domain (see ``_oracle.sample``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

INF = math.inf


@dataclass
class Op:
    name: str
    fn: Callable
    shapes: list  # list of input-shape tuples, one tuple per call
    domain: tuple | str = "real"
    kind: str = "elementwise"  # tolerance class
    grad: bool = True  # differentiable (compare gradients, gradcheck)
    layouts: tuple = ("contig", "noncontig")
    gradgrad: bool = False
    tags: tuple = field(default_factory=tuple)

    def domains(self) -> tuple:
        n = len(self.shapes[0])
        return (self.domain,) * n if isinstance(self.domain, str) else self.domain


UNARY_SHAPES = [((3, 4),), ((),), ((2, 0, 3),), ((2, 3, 4),)]


def _u(name, fn, domain="real", grad=True, gradgrad=True, **kw):
    return Op(name, fn, UNARY_SHAPES, domain, grad=grad, gradgrad=gradgrad and grad, **kw)


UNARY = [
    _u("exp", lambda m, x: m.exp(x)),
    _u("expm1", lambda m, x: m.expm1(x)),
    _u("log", lambda m, x: m.log(x), "pos"),
    _u("log2", lambda m, x: m.log2(x), "pos"),
    _u("log10", lambda m, x: m.log10(x), "pos"),
    _u("log1p", lambda m, x: m.log1p(x), "pos"),
    _u("sqrt", lambda m, x: m.sqrt(x), "pos"),
    _u("rsqrt", lambda m, x: m.rsqrt(x), "pos"),
    _u("reciprocal", lambda m, x: m.reciprocal(x), "nonzero"),
    _u("abs", lambda m, x: m.abs(x), "nonzero"),
    _u("neg", lambda m, x: -x),
    _u("square", lambda m, x: m.square(x)),
    _u("sin", lambda m, x: m.sin(x)),
    _u("cos", lambda m, x: m.cos(x)),
    _u("tan", lambda m, x: m.tan(x), "unit"),
    _u("asin", lambda m, x: m.asin(x), "unit"),
    _u("acos", lambda m, x: m.acos(x), "unit"),
    _u("atan", lambda m, x: m.atan(x)),
    _u("sinh", lambda m, x: m.sinh(x)),
    _u("cosh", lambda m, x: m.cosh(x)),
    _u("tanh", lambda m, x: m.tanh(x)),
    _u("sigmoid", lambda m, x: m.sigmoid(x)),
    _u("relu", lambda m, x: m.relu(x), "nonzero"),
    _u("sign", lambda m, x: m.sign(x), "nonzero"),
    _u("floor", lambda m, x: m.floor(x), "frac"),
    _u("ceil", lambda m, x: m.ceil(x), "frac"),
    _u("round", lambda m, x: m.round(x), "frac"),
    _u("round_decimals", lambda m, x: m.round(x, decimals=1), "frac", grad=False),
    _u("trunc", lambda m, x: m.trunc(x), "frac"),
    _u("frac", lambda m, x: m.frac(x), "frac"),
    _u("clamp", lambda m, x: m.clamp(x, -0.5, 0.7)),
    _u("clamp_min", lambda m, x: x.clamp(min=0.1)),
    _u("clamp_max", lambda m, x: x.clamp(max=0.1)),
    _u("pow2", lambda m, x: x ** 2),
    _u("pow3", lambda m, x: m.pow(x, 3)),
    _u("pow_half", lambda m, x: x ** 0.5, "pos"),
    _u("pow_neg", lambda m, x: x ** -1.5, "pos"),
    _u("rpow", lambda m, x: 2 ** x),
    _u("radd", lambda m, x: 2 + x),
    _u("rsub", lambda m, x: 2 - x),
    _u("rmul", lambda m, x: 2.5 * x),
    _u("rdiv", lambda m, x: 2 / x, "nonzero"),
    _u("div_scalar", lambda m, x: x / 4),
    _u("sub_scalar", lambda m, x: x - 1.5),
    _u("mod_scalar", lambda m, x: x % 0.7, "pos", gradgrad=False),
    _u("fmod_scalar", lambda m, x: m.fmod(x, 0.7), "pos", gradgrad=False),
    _u("floordiv_scalar", lambda m, x: x // 0.7, "pos", grad=False),
    _u("rfloordiv", lambda m, x: 7.5 // x, "pos", grad=False),
    _u("lerp_scalar", lambda m, x: m.lerp(x, m.ones_like(x), 0.3)),
    _u("detach_mul", lambda m, x: x * x.detach(), gradgrad=False, tags=("no_gradcheck",)),
]

BINARY_SHAPES = [((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((2, 3), ()), ((0, 3), (1, 3)),
                 ((3, 1), (1, 0)), ((3, 4), (3, 4))]


def _b(name, fn, domain="real", grad=True, gradgrad=True, **kw):
    return Op(name, fn, BINARY_SHAPES, domain, grad=grad, gradgrad=gradgrad and grad, **kw)


BINARY = [
    _b("add", lambda m, a, b: a + b),
    _b("add_alpha", lambda m, a, b: m.add(a, b, alpha=2.5)),
    _b("sub", lambda m, a, b: a - b),
    _b("sub_alpha", lambda m, a, b: a.sub(b, alpha=-0.5)),
    _b("mul", lambda m, a, b: a * b),
    _b("div", lambda m, a, b: a / b, ("real", "nonzero")),
    _b("pow", lambda m, a, b: a ** b, ("pos", "real")),
    _b("maximum", lambda m, a, b: m.maximum(a, b)),
    _b("minimum", lambda m, a, b: m.minimum(a, b)),
    _b("atan2", lambda m, a, b: m.atan2(a, b), ("real", "nonzero")),
    _b("remainder", lambda m, a, b: m.remainder(a, b), ("real", "pos"), gradgrad=False),
    _b("lerp", lambda m, a, b: m.lerp(a, b, 0.25)),
    _b("where", lambda m, a, b: m.where(a > 0, a, b)),
    _b("max_binary", lambda m, a, b: m.max(a, b)),
    _b("eq", lambda m, a, b: a == b, grad=False),
    _b("lt", lambda m, a, b: a < b, grad=False),
    _b("ge", lambda m, a, b: m.ge(a, b), grad=False),
    _b("ne", lambda m, a, b: a != b, grad=False),
    _b("logical_and", lambda m, a, b: m.logical_and(a > 0, b > 0), grad=False),
]

R3 = [((3, 4, 5),)]


def _r(name, fn, domain="real", shapes=R3, **kw):
    return Op(name, fn, shapes, domain, kind="reduction", **kw)


REDUCTIONS = [
    _r("sum", lambda m, x: x.sum()),
    _r("sum_dim", lambda m, x: x.sum(1)),
    _r("sum_dims_keep", lambda m, x: m.sum(x, (0, 2), keepdim=True)),
    _r("sum_neg_dim", lambda m, x: x.sum(dim=-1)),
    _r("sum_0d", lambda m, x: x.sum(), shapes=[((),)]),
    _r("sum_empty", lambda m, x: x.sum(0), shapes=[((0, 3),)], grad=True),
    _r("mean", lambda m, x: x.mean()),
    _r("mean_dims", lambda m, x: x.mean((1, 2))),
    _r("mean_keep", lambda m, x: m.mean(x, -1, keepdim=True)),
    _r("prod", lambda m, x: x.prod(), "nonzero", shapes=[((2, 3),)]),
    _r("prod_dim", lambda m, x: x.prod(1), "nonzero"),
    _r("prod_keep", lambda m, x: m.prod(x, 0, keepdim=True), "nonzero"),
    _r("max", lambda m, x: x.max()),
    _r("min", lambda m, x: m.min(x)),
    _r("max_dim", lambda m, x: x.max(1)),
    _r("max_dim_keep", lambda m, x: m.max(x, -1, keepdim=True)),
    _r("min_dim", lambda m, x: x.min(dim=0)),
    _r("amax", lambda m, x: m.amax(x, (0, 2))),
    _r("amin", lambda m, x: x.amin(1, keepdim=True)),
    _r("argmax", lambda m, x: x.argmax(), grad=False),
    _r("argmax_dim", lambda m, x: m.argmax(x, 1), grad=False),
    _r("argmin_keep", lambda m, x: x.argmin(dim=2, keepdim=True), grad=False),
    _r("var", lambda m, x: x.var()),
    _r("var_dim", lambda m, x: x.var(1)),
    _r("var_biased", lambda m, x: m.var(x, 1, unbiased=False)),
    _r("var_correction", lambda m, x: x.var((0, 2), keepdim=True, correction=0)),
    _r("std", lambda m, x: x.std()),
    _r("std_dim", lambda m, x: m.std(x, dim=-1, keepdim=True)),
    _r("norm", lambda m, x: x.norm()),
    _r("norm_p1", lambda m, x: m.norm(x, p=1, dim=1), "nonzero"),
    _r("norm_p3", lambda m, x: x.norm(p=3, dim=0)),
    _r("norm_inf", lambda m, x: x.norm(p=INF)),
    _r("norm_keep", lambda m, x: x.norm(dim=(1, 2), keepdim=True)),
    _r("logsumexp", lambda m, x: m.logsumexp(x, 1)),
    _r("logsumexp_dims", lambda m, x: x.logsumexp((0, 2), keepdim=True)),
    _r("all", lambda m, x: (x > -1).all(), grad=False),
    _r("all_dim", lambda m, x: m.all(x > 0, 1), grad=False),
    _r("any", lambda m, x: (x > 2).any(), grad=False),
    _r("any_dim_keep", lambda m, x: (x > 0).any(dim=2, keepdim=True), grad=False),
    _r("cumsum", lambda m, x: x.cumsum(1)),
    _r("cumprod", lambda m, x: m.cumprod(x, -1), "nonzero"),
    _r("softmax", lambda m, x: m.softmax(x, 1)),
    _r("softmax_last", lambda m, x: x.softmax(-1)),
    _r("log_softmax", lambda m, x: m.log_softmax(x, dim=0)),
    _r("log_softmax_last", lambda m, x: x.log_softmax(-1)),
    _r("softmax_2d", lambda m, x: m.softmax(x, dim=1), shapes=[((3, 4),)]),
]

MATMUL_SHAPES = [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
                 ((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((3, 4), (2, 4, 5)), ((4,), (2, 4, 3)),
                 ((2, 3, 4), (4,)), ((0, 4), (4, 2)), ((3, 0), (0, 2))]


def _l(name, fn, shapes, gradgrad=True, **kw):
    return Op(name, fn, shapes, kind="reduction", gradgrad=gradgrad, **kw)


LINALG = [
    _l("matmul", lambda m, a, b: a @ b, MATMUL_SHAPES),
    _l("matmul_fn", lambda m, a, b: m.matmul(a, b), [((3, 4), (4, 5))]),
    _l("mm", lambda m, a, b: m.mm(a, b), [((3, 4), (4, 5))]),
    _l("bmm", lambda m, a, b: m.bmm(a, b), [((2, 3, 4), (2, 4, 5))]),
    _l("mv", lambda m, a, b: m.mv(a, b), [((3, 4), (4,))]),
    _l("dot", lambda m, a, b: m.dot(a, b), [((4,), (4,))]),
    _l("outer", lambda m, a, b: m.outer(a, b), [((3,), (4,))]),
    _l("addmm", lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=2.0), [((3, 5), (3, 4), (4, 5))]),
    # einsum's backward uses xp.einsum, which has no differentiable counterpart yet: no double backward
    _l("einsum", lambda m, a, b: m.einsum("ij,jk->ik", a, b), [((3, 4), (4, 5))], gradgrad=False),
    _l("einsum_batch", lambda m, a, b: m.einsum("bij,bjk->b", a, b), [((2, 3, 4), (2, 4, 3))], gradgrad=False),
]

S3 = [((2, 3, 4),)]
CONTIG = ("contig",)


def _s(name, fn, shapes=S3, layouts=("contig", "noncontig"), **kw):
    return Op(name, fn, shapes, layouts=layouts, **kw)


SHAPE = [
    _s("view", lambda m, x: x.view(6, 4), layouts=CONTIG),
    _s("view_infer", lambda m, x: x.view(-1), layouts=CONTIG),
    _s("view_tuple", lambda m, x: x.view((4, -1, 2)), layouts=CONTIG),
    _s("reshape", lambda m, x: x.reshape(4, 6)),
    _s("reshape_fn", lambda m, x: m.reshape(x, (-1, 3))),
    _s("flatten", lambda m, x: x.flatten()),
    _s("flatten_1", lambda m, x: m.flatten(x, 1)),
    _s("flatten_0d", lambda m, x: x.flatten(), shapes=[((),)]),
    _s("unflatten", lambda m, x: x.unflatten(2, (2, 2))),
    _s("squeeze", lambda m, x: x.squeeze(), shapes=[((2, 1, 3, 1),)]),
    _s("squeeze_dim", lambda m, x: x.squeeze(1), shapes=[((2, 1, 3),)]),
    _s("squeeze_noop", lambda m, x: m.squeeze(x, 0)),
    _s("unsqueeze", lambda m, x: x.unsqueeze(0)),
    _s("unsqueeze_neg", lambda m, x: m.unsqueeze(x, -1)),
    _s("permute", lambda m, x: x.permute(2, 0, 1)),
    _s("permute_fn", lambda m, x: m.permute(x, (1, 2, 0))),
    _s("transpose", lambda m, x: x.transpose(0, 2)),
    _s("T", lambda m, x: x.T, shapes=[((3, 4),)]),
    _s("t", lambda m, x: x.t(), shapes=[((3, 4),)]),
    _s("mT", lambda m, x: x.mT),
    _s("expand", lambda m, x: x.expand(2, 3, 4), shapes=[((3, 1),)]),
    _s("expand_neg", lambda m, x: x.expand(5, -1, 4), shapes=[((3, 1),)]),
    _s("expand_as", lambda m, x, y: x.expand_as(y), shapes=[((3, 1), (2, 3, 4))]),
    _s("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 3, 4)), shapes=[((4,),)]),
    _s("repeat", lambda m, x: x.repeat(2, 1, 1, 2)),
    _s("repeat_same", lambda m, x: x.repeat(1, 2), shapes=[((3, 4),)]),
    _s("tile", lambda m, x: m.tile(x, (2,)), shapes=[((3, 4),)]),
    _s("repeat_interleave", lambda m, x: x.repeat_interleave(2, dim=1)),
    _s("contiguous", lambda m, x: x.contiguous()),
    _s("cat", lambda m, x, y: m.cat([x, y], dim=1), shapes=[((2, 3, 4), (2, 2, 4))]),
    _s("cat_0", lambda m, x, y: m.cat((x, y)), shapes=[((2, 3), (1, 3))]),
    _s("cat_neg", lambda m, x, y: m.cat([x, y, x], -1), shapes=[((2, 3), (2, 1))]),
    _s("stack", lambda m, x, y: m.stack([x, y]), shapes=[((2, 3), (2, 3))]),
    _s("stack_last", lambda m, x, y: m.stack([x, y, x], dim=-1), shapes=[((2, 3), (2, 3))]),
    _s("split", lambda m, x: x.split(2, dim=2)),
    _s("split_uneven", lambda m, x: m.split(x, 2, dim=1)),
    _s("split_sizes", lambda m, x: x.split([1, 3], dim=-1)),
    _s("chunk", lambda m, x: x.chunk(2, dim=-1)),
    _s("chunk_uneven", lambda m, x: m.chunk(x, 2, dim=1)),
    _s("unbind", lambda m, x: x.unbind(1)),
    _s("flip", lambda m, x: x.flip(0, 2)),
    _s("flip_fn", lambda m, x: m.flip(x, [1])),
    _s("roll", lambda m, x: x.roll(1, 2)),
    _s("roll_multi", lambda m, x: m.roll(x, (1, -2), (0, 1))),
    _s("roll_flat", lambda m, x: x.roll(3)),
    _s("narrow", lambda m, x: x.narrow(2, 1, 2)),
    _s("select", lambda m, x: x.select(1, -1)),
    _s("movedim", lambda m, x: m.movedim(x, 0, -1)),
    _s("swapaxes", lambda m, x: x.swapaxes(0, 1)),
]

I2 = [((4, 5),)]


def _i(name, fn, shapes=I2, **kw):
    return Op(name, fn, shapes, **kw)


INDEXING = [
    _i("int", lambda m, x: x[1]),
    _i("neg_int", lambda m, x: x[-1]),
    _i("int_int", lambda m, x: x[2, -2]),
    _i("slice", lambda m, x: x[1:3]),
    _i("slice_cols", lambda m, x: x[:, 1:4]),
    _i("slice_step", lambda m, x: x[::2, 1::2]),
    _i("slice_neg", lambda m, x: x[-3:-1, :-2]),
    _i("ellipsis", lambda m, x: x[..., 1]),
    _i("ellipsis_3d", lambda m, x: x[1, ..., ::2], shapes=[((2, 3, 4),)]),
    _i("none", lambda m, x: x[None, :, None]),
    _i("none_ellipsis", lambda m, x: x[..., None]),
    _i("int_tensor", lambda m, x: x[m.tensor([0, 2])]),
    _i("repeated_index", lambda m, x: x[m.tensor([0, 2, 0, 0])]),
    _i("list_index", lambda m, x: x[[3, 1, 3]]),
    _i("col_list", lambda m, x: x[:, [1, 1, 4]]),
    _i("neg_tensor", lambda m, x: x[m.tensor([-1, 0])]),
    _i("two_tensors", lambda m, x: x[m.tensor([0, 1, 1]), m.tensor([2, 3, 3])]),
    _i("tensor_2d_index", lambda m, x: x[m.tensor([[0, 1], [3, 3]])]),
    _i("bool_mask", lambda m, x: x[x > 0]),
    _i("row_mask", lambda m, x: x[m.tensor([True, False, True, True])]),
    _i("slice_and_tensor", lambda m, x: x[1:, m.tensor([0, 0, 2])]),
    _i("gather", lambda m, x: x.gather(1, m.tensor([[0, 0], [1, 4], [2, 2], [3, 0]]))),
    _i("gather_0", lambda m, x: m.gather(x, 0, m.tensor([[0, 1, 2, 3, 0]]))),
    _i("scatter", lambda m, x, s: x.scatter(1, m.tensor([[0, 1], [2, 3], [4, 0], [1, 2]]), s),
       shapes=[((4, 5), (4, 2))]),
    _i("scatter_add", lambda m, x, s: m.scatter_add(x, 0, m.tensor([[0, 1, 0, 1, 0], [0, 0, 0, 0, 0]]), s),
       shapes=[((4, 5), (2, 5))]),
    _i("scatter_value", lambda m, x: x.scatter(1, m.tensor([[0], [2], [4], [1]]), 0.5)),
    _i("index_select", lambda m, x: x.index_select(1, m.tensor([4, 0, 0]))),
    _i("index_select_0", lambda m, x: m.index_select(x, 0, m.tensor([1, 1]))),
    _i("masked_fill", lambda m, x: x.masked_fill(x > 0, 0.5)),
    _i("masked_fill_bcast", lambda m, x: m.masked_fill(x, m.tensor([True, False, False, True, False]), -1.0)),
    _i("where_scalar", lambda m, x: m.where(x > 0, x, 0.0)),
    _i("topk", lambda m, x: x.topk(2)),
    _i("topk_smallest", lambda m, x: m.topk(x, 3, dim=0, largest=False)),
    _i("sort", lambda m, x: x.sort(dim=1)),
    _i("sort_desc", lambda m, x: m.sort(x, dim=0, descending=True)),
    _i("argsort", lambda m, x: x.argsort(dim=1), grad=False),
    _i("kthvalue", lambda m, x: x.kthvalue(2, dim=1)),
    _i("masked_select", lambda m, x: m.masked_select(x, x < 0)),
    _i("take", lambda m, x: m.take(x, m.tensor([0, 7, 19]))),
]

ALL = UNARY + BINARY + REDUCTIONS + LINALG + SHAPE + INDEXING


def cases(ops: list, dtypes=("float32", "float64"), layouts=True, first_shape_only=False):
    """(op, shapes, dtype, layout) tuples with readable ids for pytest.mark.parametrize."""
    import pytest

    out = []
    for op in ops:
        for shapes in op.shapes[:1] if first_shape_only else op.shapes:
            lays = op.layouts if layouts else ("contig",)
            for layout in lays:
                if layout == "noncontig" and not any(len(s) >= 1 and 0 not in s for s in shapes):
                    continue
                for dt in dtypes:
                    sid = "&".join("x".join(map(str, s)) or "0d" for s in shapes)
                    out.append(pytest.param(op, shapes, dt, layout, id=f"{op.name}-{sid}-{dt}-{layout}"))
    return out
