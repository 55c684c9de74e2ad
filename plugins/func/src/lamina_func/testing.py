"""Conformance records for lamina-func: each transform applied to a fixed function, with a NumPy
float64 reference of the transformed function and gradchecks through the transform (so ``grad``'s
record checks a second derivative)."""

from __future__ import annotations

import numpy as np

__lamina_plugin_api__ = "1.0"


def _samples(*shapes, grad_args=None):
    from lamina.testing import Sample

    def samples(xp, dtype, rng):
        arrays = tuple(xp.asarray(rng.uniform(-1.5, 1.5, size=s), dtype=dtype) for s in shapes)
        return [Sample(arrays, name="x".join(map(str, shapes[0])) or "scalar", grad_args=grad_args)]

    return samples


def _err(args, exc, match):
    from lamina.testing import ErrorInput, Sample

    return ErrorInput(Sample(args), exc, match)


def _vmap_mv(A, x):
    import lamina

    from .vmap import vmap
    return vmap(lamina.mv)(A, x)


def _vmap_outer(x, y):
    import lamina

    from .vmap import vmap
    return vmap(lambda a: vmap(lambda b: a * lamina.tanh(b))(y), in_dims=0, out_dims=1)(x)


def _grad_sin_sq(x):
    from .transforms import grad
    return grad(lambda v: (v.sin() ** 2).sum() if v.ndim == 2 else v * 2)(x)


def _jacrev_tanh(x):
    from .transforms import jacrev
    return jacrev(lambda v: v.tanh() * v.sum())(x)


def _hessian_cubic(x):
    from .transforms import hessian
    return hessian(lambda v: (v ** 3).sum() + v[0] * v[1] * v[2] * v[3])(x)


def _vjp_exp(x, ct):
    from .transforms import vjp
    _, fn = vjp(lambda v: v.exp() * 2, x)
    return fn(ct)[0]


def _jacobian_tanh_ref(x):
    s = x.sum()
    return np.diag((1 - np.tanh(x) ** 2) * s) + np.tanh(x)[:, None]


def _hessian_ref(x):
    n = x.shape[0]
    h = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                h[i, j] = np.prod(np.delete(x, [i, j]))
    return h + np.diag(6 * x)


def records() -> list:
    from lamina.testing import FunctionInfo

    from .vmap import vmap

    dbl = frozenset({"double_backward"})
    return [
        FunctionInfo(fn=_vmap_mv, name="func.vmap[mv]", covers=(vmap,),
                     reference=lambda A, x: np.einsum("bij,bj->bi", A, x),
                     sample_inputs=_samples((4, 3, 5), (4, 5)), tags=dbl,
                     error_inputs=[_err((np.ones((2, 3, 3)), np.ones((3, 3))), ValueError,
                                        r"same size in the mapped dimension")]),
        FunctionInfo(fn=_vmap_outer, name="func.vmap[nested,out_dims=1]",
                     reference=lambda x, y: (x[:, None] * np.tanh(y)[None, :]).T,
                     sample_inputs=_samples((3,), (4,)), tags=dbl),
        FunctionInfo(fn=_grad_sin_sq, name="func.grad", reference=lambda x: np.sin(2 * x),
                     sample_inputs=_samples((2, 3)), tags=dbl,
                     error_inputs=[_err((np.ones(3),), RuntimeError, r"to return a scalar Tensor")]),
        FunctionInfo(fn=_jacrev_tanh, name="func.jacrev", reference=_jacobian_tanh_ref,
                     sample_inputs=_samples((4,)), tags=dbl),
        FunctionInfo(fn=_hessian_cubic, name="func.hessian", reference=_hessian_ref, sample_inputs=_samples((4,)),
                     tags=dbl),
        FunctionInfo(fn=_vjp_exp, name="func.vjp", reference=lambda x, ct: 2 * np.exp(x) * ct,
                     sample_inputs=_samples((3, 2), (3, 2)), tags=dbl),
    ]
