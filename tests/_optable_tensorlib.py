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
