"""Op tables of the shape/indexing/reduction/linear-algebra families added for torch 2.13 coverage.

Entries follow ``_optable.Op``: one lambda serves lamina and torch (``m`` is the module).
"""

from __future__ import annotations

from _optable import Op

M34 = [((3, 4),), ((4, 3),), ((2, 3, 4),), ((0, 3),)]
SQ = [((4, 4),), ((2, 3, 3),)]
VEC = [((5,),), ((0,),)]


def _o(name, fn, shapes, kind="elementwise", grad=True, gradgrad=False, **kw):
    return Op(name, fn, shapes, kind=kind, grad=grad, gradgrad=gradgrad, **kw)


MATRIX = [
    _o("tril", lambda m, x: m.tril(x), M34, gradgrad=True),
    _o("tril_k", lambda m, x: m.tril(x, -1), M34, gradgrad=True),
    _o("triu", lambda m, x: m.triu(x, 1), M34, gradgrad=True),
    _o("triu_method", lambda m, x: x.triu(-2), M34),
    _o("diag_vec", lambda m, x: m.diag(x, 1), VEC),
    _o("diag_mat", lambda m, x: m.diag(x, -1), [((3, 4),), ((4, 3),)]),
    _o("diagonal", lambda m, x: m.diagonal(x, 1, -1, 0), M34),
    _o("diagonal_method", lambda m, x: x.diagonal(), M34),
    _o("diag_embed", lambda m, x: m.diag_embed(x, 1, 0, 2), [((3, 4),), ((2, 3),)]),
    _o("diag_embed_default", lambda m, x: m.diag_embed(x), [((3,),), ((2, 3),)]),
    _o("diagflat", lambda m, x: m.diagflat(x, -1), [((2, 3),), ((3,),)]),
    _o("trace", lambda m, x: m.trace(x), [((3, 4),), ((4, 4),)], "reduction"),
    _o("kron", lambda m, a, b: m.kron(a, b), [((2, 3), (3, 2)), ((2,), (2, 3)), ((2, 1, 2), (3,))]),
    _o("block_diag", lambda m, a, b, c: m.block_diag(a, b, c), [((2, 2), (3,), ())]),
    _o("vander", lambda m, x: m.vander(x, 4), [((3,),)], grad=False),  # torch 2.13 cannot backprop vander
    _o("vander_inc", lambda m, x: m.vander(x, increasing=True), [((4,),)], grad=False),
    _o("select_scatter", lambda m, x, s: m.select_scatter(x, s, 1, 2), [((3, 4), (3,))]),
    _o("slice_scatter", lambda m, x, s: m.slice_scatter(x, s, 1, 0, 4, 2), [((3, 4), (3, 2))]),
    _o("diagonal_scatter", lambda m, x, s: m.diagonal_scatter(x, s, 1), [((3, 4), (3,))]),
    _o("as_strided", lambda m, x: m.as_strided(x, (2, 2), (1, 2), 1), [((3, 4),)], layouts=("contig",)),
    _o("as_strided_overlap", lambda m, x: x.as_strided((3, 3), (1, 1)), [((3, 4),)], layouts=("contig",)),
    _o("as_strided_scatter", lambda m, x, s: m.as_strided_scatter(x, s, (2, 2), (1, 2), 1), [((3, 4), (2, 2))],
       grad=False,  # torch 2.13 fails its own gradcheck here; lamina is gradchecked below
       layouts=("contig",)),
    _o("unfold", lambda m, x: x.unfold(1, 2, 1), M34[:3], layouts=("contig",)),
    _o("unfold_step", lambda m, x: x.unfold(0, 2, 2), [((5, 3),), ((4,),)], layouts=("contig",)),
]

ALL = MATRIX


def _ix(m, *v):
    return m.tensor(list(v), dtype=m.int64)


def _mask(m, shape):
    import numpy as np

    return m.from_numpy(np.random.default_rng(1).random(shape) > 0.5)


INDEXED = [
    _o("index_add", lambda m, x, s: m.index_add(x, 1, _ix(m, 0, 2, 0), s, alpha=2), [((3, 4), (3, 3))]),
    _o("index_add_method", lambda m, x, s: x.index_add(0, _ix(m, 1), s), [((3, 4), (1, 4))]),
    _o("index_copy", lambda m, x, s: x.index_copy(1, _ix(m, 3, 0), s), [((3, 4), (3, 2))]),
    _o("index_fill", lambda m, x: m.index_fill(x, 0, _ix(m, 2, 0), -1.5), [((3, 4),)]),
    _o("index_put", lambda m, x, v: m.index_put(x, (_ix(m, 0, 2), _ix(m, 1, 3)), v), [((3, 4), (2,))]),
    _o("index_put_acc", lambda m, x, v: x.index_put((_ix(m, 0, 0),), v, accumulate=True), [((3, 4), (4,))]),
    _o("put", lambda m, x, s: x.put(_ix(m, 0, 5, -1), s), [((3, 4), (3,))]),
    _o("put_acc", lambda m, x, s: x.put(_ix(m, 1, 1), s, accumulate=True), [((3, 4), (2,))]),
    _o("masked_scatter", lambda m, x, s: x.masked_scatter(_mask(m, (3, 4)), s), [((3, 4), (12,))]),
    _o("take_along_dim", lambda m, x: m.take_along_dim(x, _ix(m, 0, 3, 1).reshape(1, 3), 1), [((3, 4),)]),
    _o("take_along_dim_flat", lambda m, x: m.take_along_dim(x, _ix(m, 0, 7, 11)), [((3, 4),)]),
    _o("scatter_reduce_sum", lambda m, x, s: x.scatter_reduce(0, _ix(m, 0, 1, 0, 2).reshape(2, 2), s, "sum",
                                                              include_self=False), [((3, 4), (2, 2))]),
    _o("scatter_reduce_mean", lambda m, x, s: x.scatter_reduce(1, _ix(m, 0, 0, 3, 3).reshape(2, 2), s, "mean"),
       [((3, 4), (2, 2))]),
    _o("scatter_reduce_amax", lambda m, x, s: x.scatter_reduce(1, _ix(m, 0, 0, 3, 1).reshape(2, 2), s, "amax"),
       [((3, 4), (2, 2))]),
    _o("scatter_reduce_amin", lambda m, x, s: x.scatter_reduce(0, _ix(m, 2, 2, 0, 1).reshape(2, 2), s, "amin",
                                                               include_self=False), [((3, 4), (2, 2))]),
    _o("scatter_reduce_prod", lambda m, x, s: x.scatter_reduce(0, _ix(m, 1, 1, 0, 0).reshape(2, 2), s, "prod"),
       [((3, 4), (2, 2))], domain="pos"),
    _o("index_reduce_prod", lambda m, x, s: x.index_reduce(0, _ix(m, 0, 2, 0), s, "prod"), [((3, 4), (3, 4))],
       domain="pos", tags=("beta_warning",)),
    _o("index_reduce_amax", lambda m, x, s: x.index_reduce(1, _ix(m, 1, 1), s, "amax", include_self=False),
       [((3, 4), (3, 2))], tags=("beta_warning",)),
]

SHAPE_NEW = [
    _o("column_stack", lambda m, a, b: m.column_stack([a, b]), [((3,), (3, 2))]),
    _o("row_stack", lambda m, a, b: m.row_stack([a, b]), [((3,), (2, 3))]),
    _o("dstack", lambda m, a, b: m.dstack([a, b]), [((3,), (3,)), ((2, 3), (2, 3))]),
    _o("hsplit", lambda m, x: m.hsplit(x, 2), [((3, 4),)]),
    _o("vsplit", lambda m, x: m.vsplit(x, [1, 2]), [((3, 4),)]),
    _o("dsplit", lambda m, x: x.dsplit(2), [((2, 3, 4),)]),
    _o("tensor_split", lambda m, x: m.tensor_split(x, 3, 1), [((3, 4),), ((3, 7),)]),
    _o("tensor_split_idx", lambda m, x: x.tensor_split([1, -1, 9], 1), [((3, 4),)]),
    _o("split_with_sizes", lambda m, x: m.split_with_sizes(x, [1, 3], 1), [((3, 4),)]),
    _o("unsafe_split", lambda m, x: m.unsafe_split(x, 3, 1), [((3, 4),)]),
    _o("unsafe_chunk", lambda m, x: x.unsafe_chunk(2, 0), [((3, 4),)]),
    _o("unsafe_split_sizes", lambda m, x: m.unsafe_split_with_sizes(x, [2, 2], 1), [((3, 4),)]),
    _o("rot90", lambda m, x: m.rot90(x), [((3, 4),), ((2, 3, 4),)]),
    _o("rot90_k", lambda m, x: m.rot90(x, -1, [1, 2]), [((2, 3, 4),)]),
    _o("rot90_2", lambda m, x: x.rot90(2, [0, 1]), [((3, 4),)]),
    _o("atleast_3d", lambda m, x: m.atleast_3d(x), [((),), ((3,),), ((3, 4),)]),
    _o("ravel", lambda m, x: m.ravel(x), [((3, 4),)]),
    _o("meshgrid_ij", lambda m, a, b: m.meshgrid(a, b, indexing="ij"), [((3,), (4,))]),
    _o("meshgrid_xy", lambda m, a, b, c: m.meshgrid([a, b, c], indexing="xy"), [((3,), (4,), (2,))]),
    _o("cartesian_prod", lambda m, a, b: m.cartesian_prod(a, b), [((3,), (2,))]),
    _o("combinations", lambda m, x: m.combinations(x, 3), [((4,),)]),
    _o("combinations_rep", lambda m, x: m.combinations(x, with_replacement=True), [((3,),)]),
]


STATS = [
    _o("median_all", lambda m, x: m.median(x), [((3, 5),), ((4,),)], "reduction"),
    _o("median_dim", lambda m, x: m.median(x, 1), [((3, 5),), ((2, 4, 3),)], "reduction"),
    _o("median_keep", lambda m, x: x.median(0, keepdim=True), [((4, 3),)], "reduction"),
    _o("nanmedian", lambda m, x: m.nanmedian(x, -1), [((3, 5),)], "reduction"),
    _o("quantile", lambda m, x: m.quantile(x, 0.3), [((3, 5),), ((7,),)], "reduction"),
    _o("quantile_dim", lambda m, x: m.quantile(x, m.tensor([0.1, 0.5, 1.0], dtype=x.dtype), dim=1, keepdim=True),
       [((3, 5),)], "reduction"),
    _o("quantile_lower", lambda m, x: x.quantile(0.4, 0, interpolation="lower"), [((4, 3),)], "reduction"),
    _o("quantile_higher", lambda m, x: x.quantile(0.4, 0, interpolation="higher"), [((4, 3),)], "reduction"),
    _o("quantile_mid", lambda m, x: x.quantile(0.4, 1, interpolation="midpoint"), [((4, 3),)], "reduction"),
    _o("quantile_nearest", lambda m, x: x.quantile(m.tensor([0.375, 0.625], dtype=x.dtype), 1,
                                                   interpolation="nearest"), [((4, 5),)], "reduction"),
    _o("nanquantile", lambda m, x: m.nanquantile(x, 0.7, 1), [((3, 5),)], "reduction"),
    _o("mode", lambda m, x: m.mode((x * 2).round(), 1), [((3, 6),)], grad=False),
    _o("aminmax", lambda m, x: m.aminmax(x, dim=1), [((3, 5),)], "reduction"),
    _o("aminmax_all", lambda m, x: x.aminmax(), [((3, 5),)], "reduction"),
    _o("nansum", lambda m, x: m.nansum(x, 1), [((3, 5),)], "reduction"),
    _o("nanmean", lambda m, x: x.nanmean(), [((3, 5),)], "reduction"),
    _o("cov", lambda m, x: m.cov(x), [((3, 5),), ((6,),)], "reduction"),
    _o("cov_corr0", lambda m, x: m.cov(x, correction=0), [((3, 5),)], "reduction"),
    _o("cov_weights", lambda m, x: m.cov(x, fweights=m.tensor([1, 2, 1, 3, 1]),
                                         aweights=m.tensor([0.5, 1.0, 2.0, 1.0, 0.3], dtype=x.dtype)),
       [((2, 5),)], "reduction"),
    _o("corrcoef", lambda m, x: m.corrcoef(x), [((3, 5),)], "reduction"),
    _o("histc", lambda m, x: m.histc(x, 5, -1, 1), [((20,),)], grad=False),
    _o("histc_auto", lambda m, x: x.histc(4), [((3, 7),)], grad=False),
    _o("histogram", lambda m, x: m.histogram(x, 6, range=(-2.0, 2.0)), [((30,),)], grad=False),
    _o("histogram_edges", lambda m, x: m.histogram(x, m.tensor([-1.0, 0.0, 0.5, 2.0], dtype=x.dtype),
                                                  density=True), [((30,),)], grad=False),
    _o("histogramdd", lambda m, x: tuple(m.histogramdd(x, [3, 4])), [((20, 2),)], grad=False),
]

CUMULATIVE = [
    _o("cummax", lambda m, x: m.cummax(x, -1), [((3, 5),), ((6,),)]),
    _o("cummin", lambda m, x: x.cummin(0), [((4, 3),)]),
    _o("logcumsumexp", lambda m, x: m.logcumsumexp(x, -1), [((3, 5),), ((),)], gradgrad=True),
    _o("cumsum_method", lambda m, x: x.cumsum(-1), [((3, 5),)]),
    _o("diff", lambda m, x: m.diff(x), [((3, 5),), ((6,),)]),
    _o("diff_n2", lambda m, x, p: m.diff(x, 2, 0, prepend=p), [((3, 4), (1, 4))]),
    _o("gradient", lambda m, x: m.gradient(x), [((4, 5),)]),
    _o("gradient_sp", lambda m, x: m.gradient(x, spacing=2.0, dim=1, edge_order=2), [((4, 5),)]),
    _o("gradient_list", lambda m, x: m.gradient(x, spacing=[0.5, 3.0]), [((4, 5),)]),
    _o("gradient_coords", lambda m, x: m.gradient(x, spacing=(m.tensor([0.0, 1.0, 1.5, 3.0, 3.2],
                                                                        dtype=x.dtype),), dim=1), [((4, 5),)]),
    _o("trapezoid", lambda m, y: m.trapezoid(y), [((3, 5),)], "reduction"),
    _o("trapezoid_x", lambda m, y, x: m.trapezoid(y, x, dim=0), [((4, 3), (4,))], "reduction"),
    _o("trapz_dx", lambda m, y: m.trapz(y, dx=0.5), [((3, 5),)], "reduction"),
    _o("cumulative_trapezoid", lambda m, y: m.cumulative_trapezoid(y, dx=2.0), [((3, 5),)], "reduction"),
    _o("cumulative_trapezoid_x", lambda m, y, x: m.cumulative_trapezoid(y, x), [((3, 5), (3, 5))], "reduction"),
]

LINALG_NEW = [
    _o("addmm_m", lambda m, c, a, b: c.addmm(a, b, beta=0.5, alpha=2), [((3, 4), (3, 2), (2, 4))], "reduction"),
    _o("addmv", lambda m, c, a, v: m.addmv(c, a, v, alpha=-1), [((3,), (3, 2), (2,))], "reduction"),
    _o("addr", lambda m, c, a, b: m.addr(c, a, b, beta=2), [((3, 4), (3,), (4,))], "reduction"),
    _o("baddbmm", lambda m, c, a, b: m.baddbmm(c, a, b, beta=0.0), [((2, 3, 4), (2, 3, 2), (2, 2, 4))], "reduction"),
    _o("addbmm", lambda m, c, a, b: m.addbmm(c, a, b), [((3, 4), (2, 3, 2), (2, 2, 4))], "reduction"),
    _o("ger", lambda m, a, b: a.ger(b), [((3,), (4,))]),
    _o("tensordot", lambda m, a, b: m.tensordot(a, b), [((2, 3, 4), (3, 4, 5))], "reduction"),
    _o("tensordot_dims", lambda m, a, b: m.tensordot(a, b, ([0, 2], [2, 0])), [((2, 3, 4), (4, 5, 2))],
       "reduction"),
    _o("inner", lambda m, a, b: m.inner(a, b), [((2, 3), (4, 3)), ((), (2, 3))], "reduction"),
    _o("vdot", lambda m, a, b: m.vdot(a, b), [((5,), (5,))], "reduction"),
    _o("cdist", lambda m, a, b: m.cdist(a, b), [((3, 4), (5, 4)), ((2, 3, 2), (1, 4, 2))], "reduction"),
    _o("cdist_mm", lambda m, a, b: m.cdist(a, b, compute_mode="use_mm_for_euclid_dist"), [((3, 4), (5, 4))],
       "reduction"),
    _o("cdist_big", lambda m, a, b: m.cdist(a, b), [((30, 3), (4, 3))], "reduction", layouts=("contig",)),
    _o("cdist_p1", lambda m, a, b: m.cdist(a, b, 1.0), [((3, 4), (5, 4))], "reduction"),
    _o("cdist_p3", lambda m, a, b: m.cdist(a, b, 3.0), [((3, 4), (5, 4))], "reduction"),
    _o("cdist_inf", lambda m, a, b: m.cdist(a, b, float("inf")), [((3, 4), (5, 4))], "reduction"),
    _o("cdist_p0", lambda m, a, b: m.cdist(a, b, 0.0), [((3, 4), (5, 4))], "reduction"),
    _o("dist", lambda m, a, b: m.dist(a, b), [((3, 4), (4,))], "reduction"),
    _o("dist_p3", lambda m, a, b: a.dist(b, 3), [((3, 4), (3, 4))], "reduction"),
    _o("renorm", lambda m, x: m.renorm(x, 2, 0, 1.0), [((3, 4),), ((2, 3, 4),)], "reduction"),
    _o("renorm_p1", lambda m, x: x.renorm(1, 1, 0.5), [((3, 4),)], "reduction"),
]

SORTING_NEW = [
    _o("msort", lambda m, x: m.msort(x), [((4, 3),)]),
]

ALL = MATRIX + INDEXED + SHAPE_NEW + STATS + CUMULATIVE + LINALG_NEW + SORTING_NEW
