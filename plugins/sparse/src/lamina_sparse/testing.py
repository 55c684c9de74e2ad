"""Conformance records for lamina-sparse: one FunctionInfo per function the plugin serves (top-level
``lamina.*`` entries and ``lamina.sparse.*``). The kit hands arrays, so each record's ``fn`` builds the
sparse operand from (indices, values) arrays, calls the function and returns a dense result (``covers``
names the served function); the references are NumPy float64 (a scatter-add for the sparse matrix).
Gradients are checked through the values and the dense operands.

Shapes: S (4, 3) from indices (2, 6) with duplicates; dense operands (3, 2); input (4, 2).
"""

from __future__ import annotations

import numpy as np

__lamina_plugin_api__ = "1.0"

N, K, P = 4, 3, 2
IDX = np.array([[0, 1, 1, 3, 0, 3], [2, 0, 2, 1, 2, 0]])       # (0, 2) twice: uncoalesced
CROW, COL = np.array([0, 2, 3, 3, 5]), np.array([0, 2, 1, 0, 2])  # CSR (4, 3), nnz 5
CCOL, ROW = np.array([0, 2, 3, 5]), np.array([1, 3, 0, 0, 2])     # CSC (4, 3), nnz 5
BC, BP = np.array([0, 1, 2]), np.array([0, 1])                   # blocked (4, 6) with (2, 3) blocks


def _dense(idx, v, size=(N, K)):
    out = np.zeros(size, dtype=np.float64)
    np.add.at(out, tuple(np.asarray(idx)), np.asarray(v, dtype=np.float64))
    return out


def _compressed_dense(cidx, pidx, v, row, size):
    comp = np.repeat(np.arange(len(cidx) - 1), np.diff(cidx))
    v = np.asarray(v, dtype=np.float64)
    out = np.zeros(size)
    if v.ndim == 1:
        rows, cols = (comp, pidx) if row else (pidx, comp)
        np.add.at(out, (rows, cols), v)
        return out
    r, c = v.shape[1:]
    for k, (a, b) in enumerate(zip(comp, pidx)):
        i, j = (a, b) if row else (b, a)
        out[i * r:(i + 1) * r, j * c:(j + 1) * c] += v[k]
    return out


def _samples(*shapes, idx=IDX, extra=()):
    """Samples: the index arrays, then float arrays of ``shapes`` (uniform in [-1, 1))."""
    from lamina.testing import Sample

    def samples(xp, dtype, rng):
        arrays = tuple(xp.asarray(rng.uniform(-1, 1, size=s), dtype=dtype) for s in shapes)
        index = tuple(xp.asarray(i, dtype=np.int64) for i in (idx if isinstance(idx, tuple) else (idx,)))
        return [Sample(index + arrays + tuple(extra), name="uncoalesced" if idx is IDX else "pattern")]

    return samples


def _err(args, error_type, match):
    from lamina.testing import ErrorInput, Sample

    return ErrorInput(Sample(tuple(args)), error_type, match)


def _coo(idx, v, size=(N, K)):
    import lamina

    return lamina.sparse_coo_tensor(idx, v, size)


# --- the functions under test, on dense arrays -------------------------------------------------------
def coo_dense(idx, v):
    import lamina

    return lamina.sparse_coo_tensor(idx, v, (N, K)).to_dense()


def compressed_dense(layout_name, cidx, pidx, v, size=None):
    import lamina

    ctor = getattr(lamina, f"{layout_name}_tensor")
    return ctor(cidx, pidx, v, size).to_dense()


def generic_compressed_dense(cidx, pidx, v):
    import lamina

    return lamina.sparse_compressed_tensor(cidx, pidx, v, (N, K), layout=lamina.sparse_csc).to_dense()


def product(name):
    def fn(idx, v, d):
        import lamina

        out = getattr(lamina, name)(_coo(idx, v), d)
        return out.to_dense() if out.is_sparse else out

    fn.__name__ = f"{name}_of_coo"
    return fn


def sparse_ns(name):
    def fn(idx, v, *rest, **kwargs):
        import lamina

        out = getattr(lamina.sparse, name)(*(rest[:1]), _coo(idx, v), *rest[1:], **kwargs) if name == "addmm" \
            else getattr(lamina.sparse, name)(_coo(idx, v), *rest, **kwargs)
        return out.to_dense() if getattr(out, "is_sparse", False) else out

    fn.__name__ = f"sparse_{name}_of_coo"
    return fn


def sspaddmm_of_coo(name):
    def fn(idx_in, idx, v_in, v, d):
        import lamina

        return getattr(lamina, name)(_coo(idx_in, v_in, (N, P)), _coo(idx, v), d, beta=0.5, alpha=2.0).to_dense()

    fn.__name__ = f"{name}_of_coo"
    return fn


def resize_as_sparse_of_coo(idx, v):
    import lamina

    s = _coo(idx, v)
    lamina.resize_as_sparse_(s, lamina.sparse_coo_tensor(np.zeros((2, 0), dtype=np.int64), np.zeros(0), (6, 5)))
    return s.to_dense()


# --- NumPy references -----------------------------------------------------------------------------------
def _ref_softmax(idx, v, dim, log=False):
    s = _dense(idx, v)
    mask = np.zeros(s.shape, dtype=bool)
    mask[tuple(idx)] = True
    z = np.where(mask, s, -np.inf)
    top = np.where(mask.any(dim, keepdims=True), z.max(dim, keepdims=True), 0.0)   # an empty line stays zero
    e = np.where(mask, np.exp(z - top), 0.0)
    soft = e / np.maximum(e.sum(dim, keepdims=True), 1e-300)
    return np.where(mask, np.log(np.where(mask, soft, 1.0)), 0.0) if log else soft


def records() -> list:
    from lamina.testing import FunctionInfo

    from . import compressed_convert as cc
    from . import creation, resize
    from . import products as pr

    dbl = frozenset({"double_backward"})  # all twice differentiable (gradgradcheck) through the values
    mm_ref = lambda idx, v, d: _dense(idx, v) @ d  # noqa: E731
    recs = [
        FunctionInfo(tags=dbl, fn=coo_dense, name="sparse_coo_tensor", covers=(creation.sparse_coo_tensor,),
                     reference=_dense, sample_inputs=_samples((6,)),
                     error_inputs=[_err((IDX, np.ones(5)), RuntimeError, "indices and values must have same nnz")]),
        FunctionInfo(tags=dbl, fn=lambda c, p, v: compressed_dense("sparse_csr", c, p, v, (N, K)),
                     name="sparse_csr_tensor",
                     covers=(cc.sparse_csr_tensor,), sample_inputs=_samples((5,), idx=(CROW, COL)),
                     reference=lambda c, p, v: _compressed_dense(c, p, v, True, (N, K)),
                     error_inputs=[_err((CROW, COL, np.ones(4)), RuntimeError,
                                        "col_indices and values must have the same number of elements")]),
        FunctionInfo(tags=dbl, fn=lambda c, p, v: compressed_dense("sparse_csc", c, p, v, (N, K)),
                     name="sparse_csc_tensor",
                     covers=(cc.sparse_csc_tensor,), sample_inputs=_samples((5,), idx=(CCOL, ROW)),
                     reference=lambda c, p, v: _compressed_dense(c, p, v, False, (N, K)),
                     error_inputs=[_err((CCOL, ROW, np.ones(4)), RuntimeError,
                                        "row_indices and values must have the same number of elements")]),
        FunctionInfo(tags=dbl, fn=lambda c, p, v: compressed_dense("sparse_bsr", c, p, v), name="sparse_bsr_tensor",
                     covers=(cc.sparse_bsr_tensor,), sample_inputs=_samples((2, 2, 3), idx=(BC, BP)),
                     reference=lambda c, p, v: _compressed_dense(c, p, v, True, (4, 6))),
        FunctionInfo(tags=dbl, fn=lambda c, p, v: compressed_dense("sparse_bsc", c, p, v), name="sparse_bsc_tensor",
                     covers=(cc.sparse_bsc_tensor,), sample_inputs=_samples((2, 2, 3), idx=(BC, BP)),
                     reference=lambda c, p, v: _compressed_dense(c, p, v, False, (2 * 2, 2 * 3))),
        FunctionInfo(tags=dbl, fn=generic_compressed_dense, name="sparse_compressed_tensor",
                     covers=(cc.sparse_compressed_tensor,), sample_inputs=_samples((5,), idx=(CCOL, ROW)),
                     reference=lambda c, p, v: _compressed_dense(c, p, v, False, (N, K)),
                     error_inputs=[_err((CCOL, ROW, np.ones(4)), RuntimeError,
                                        "row_indices and values must have the same number of elements")]),
        FunctionInfo(tags=dbl, fn=resize_as_sparse_of_coo, name="resize_as_sparse_", covers=(resize.resize_as_sparse_,),
                     sample_inputs=_samples((6,)), reference=lambda idx, v: np.pad(_dense(idx, v), ((0, 2), (0, 2)))),
    ]
    products = [("spmm", pr.spmm), ("dsmm", pr.dsmm), ("hspmm", pr.hspmm), ("hsmm", pr.hsmm), ("smm", pr.smm),
                ("mm", None), ("matmul", None)]
    for name, served in products:
        recs.append(FunctionInfo(tags=dbl, fn=product(name), name=f"{name}[sparse, dense]", reference=mm_ref,
                                 covers=(served,) if served is not None else (),
                                 sample_inputs=_samples((6,), (K, P)),
                                 error_inputs=[_err((IDX, np.ones(6), np.ones((K + 1, P))), RuntimeError,
                                                    f"Expected dim 0 size {K}, got {K + 1}")]))
    for name, served in (("sspaddmm", pr.sspaddmm), ("saddmm", pr.saddmm)):
        idx_in = np.array([[0, 2, 3], [1, 0, 1]])
        recs.append(FunctionInfo(tags=dbl, fn=sspaddmm_of_coo(name), name=name, covers=(served,),
                                 sample_inputs=_samples((3,), (6,), (K, P), idx=(idx_in, IDX)),
                                 reference=lambda i0, idx, v0, v, d: 0.5 * _dense(i0, v0, (N, P)) + 2.0 * (
                                     _dense(idx, v) @ d)))
    recs += [
        FunctionInfo(tags=dbl, fn=sparse_ns("mm"), name="sparse.mm", reference=mm_ref,
                     sample_inputs=_samples((6,), (K, P))),
        FunctionInfo(tags=dbl, fn=sparse_ns("addmm"), name="sparse.addmm", sample_inputs=_samples((6,), (N, P), (K, P)),
                     reference=lambda idx, v, m, d: m + _dense(idx, v) @ d),
        FunctionInfo(tags=dbl, fn=sparse_ns("sum"), name="sparse.sum", reference=lambda idx, v: _dense(idx, v).sum(),
                     sample_inputs=_samples((6,))),
        FunctionInfo(tags=dbl, fn=lambda idx, v: sparse_ns("sum")(idx, v, 0), name="sparse.sum[dim=0]",
                     reference=lambda idx, v: _dense(idx, v).sum(0), sample_inputs=_samples((6,))),
        FunctionInfo(tags=dbl, fn=lambda idx, v: sparse_ns("softmax")(idx, v, 1), name="sparse.softmax",
                     reference=lambda idx, v: _ref_softmax(idx, v, 1), sample_inputs=_samples((6,))),
        FunctionInfo(tags=dbl, fn=lambda idx, v: sparse_ns("log_softmax")(idx, v, 0), name="sparse.log_softmax",
                     reference=lambda idx, v: _ref_softmax(idx, v, 0, log=True), sample_inputs=_samples((6,))),
    ]
    return recs
