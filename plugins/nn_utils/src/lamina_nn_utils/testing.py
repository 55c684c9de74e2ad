"""Conformance records for lamina-nn-utils: the tensor maps behind the parametrizations (weight norm,
spectral norm with given u/v, the three orthogonal maps) and behind the legacy weight_norm and
spectral_norm hooks, the fused conv/linear + batch-norm weights and L1 pruning, each with a NumPy
float64 reference (and gradchecks through the map where differentiable)."""

from __future__ import annotations

import numpy as np

__lamina_plugin_api__ = "1.0"


def _samples(*shapes, grad_args=None, positive=()):
    from lamina.testing import Sample

    def samples(xp, dtype, rng):
        arrays = tuple(xp.asarray(rng.uniform(0.5, 1.5, size=s) if i in positive else rng.uniform(-1.5, 1.5, size=s),
                                  dtype=dtype) for i, s in enumerate(shapes))
        return [Sample(arrays, name="x".join(map(str, shapes[0])), grad_args=grad_args)]

    return samples


# --- the functions under test ---------------------------------------------------------------------
def _weight_norm(g, v):
    from .parametrizations import _WeightNorm
    return _WeightNorm(0)(g, v)


def _spectral_norm_eval(w, u, v):
    import lamina

    from .parametrizations import _SpectralNorm
    sn = _SpectralNorm(w.detach())
    with lamina.no_grad():
        sn._u.copy_(u)
        sn._v.copy_(v)
    return sn.eval()(w)


def _legacy_weight_norm(dim):
    def fn(g, v):
        from types import SimpleNamespace

        from .weight_norm import WeightNorm
        return WeightNorm("weight", dim).compute_weight(SimpleNamespace(weight_g=g, weight_v=v))
    fn.__name__ = f"legacy_weight_norm_dim{dim}"
    return fn


def _legacy_spectral_norm_eval(dim):
    def fn(w, u, v):
        from types import SimpleNamespace

        from .spectral_norm import SpectralNorm
        module = SimpleNamespace(weight_orig=w, weight_u=u, weight_v=v)
        return SpectralNorm("weight", dim=dim).compute_weight(module, do_power_iteration=False)
    fn.__name__ = f"legacy_spectral_norm_eval_dim{dim}"
    return fn


def _orth(kind):
    def fn(x):
        from .parametrizations import _OrthMaps, _Orthogonal
        return _Orthogonal(x, getattr(_OrthMaps, kind), use_trivialization=False)(x)
    fn.__name__ = f"orthogonal_{kind}"
    return fn


def _fuse_conv(w, b, rm, rv, g, be):
    from .fusion import fuse_conv_bn_weights
    fw, fb = fuse_conv_bn_weights(w, b, rm, rv, 1e-5, g, be)
    return fw.detach(), fb.detach()


def _fuse_linear(w, b, rm, rv, g, be):
    from .fusion import fuse_linear_bn_weights
    fw, fb = fuse_linear_bn_weights(w, b, rm, rv, 1e-5, g, be)
    return fw.detach(), fb.detach()


def _l1_prune(t):
    from .prune import L1Unstructured
    return L1Unstructured(amount=0.4).prune(t)


# --- NumPy references -----------------------------------------------------------------------------
def _weight_norm_ref(g, v):
    return v * (g / np.sqrt((v * v).reshape(v.shape[0], -1).sum(1)).reshape(g.shape))


def _weight_norm_all_ref(g, v):
    return v * (g / np.sqrt((v * v).sum()))


def _spectral_ref(w, u, v):
    return w / (u @ (w.reshape(w.shape[0], -1) @ v))


def _spectral_dim1_ref(w, u, v):
    return w / (u @ (np.moveaxis(w, 1, 0).reshape(w.shape[1], -1) @ v))


def _expm(a):
    from scipy.linalg import expm  # noqa: PLC0415
    return expm(a)


def _orth_ref(kind):
    def ref(x):
        n, k = x.shape
        if kind == "householder":
            q = np.eye(n)
            a = np.tril(x, -1)
            for j in range(k):
                h = a[:, j].copy()
                h[j] = 1.0
                tau = 2.0 / (1.0 + (a[:, j] ** 2).sum())
                q = q @ (np.eye(n) - tau * np.outer(h, h))
            return q[:, :k] * np.diagonal(x).astype(np.int64)[None, :]
        a = np.tril(x)
        a = a - a.T
        if kind == "matrix_exp":
            return _expm(a)
        eye = np.eye(n)
        return np.linalg.solve(eye - 0.5 * a, eye + 0.5 * a)
    return ref


def _fuse_conv_ref(w, b, rm, rv, g, be):
    s = g / np.sqrt(rv + 1e-5)
    return w * s.reshape(-1, *([1] * (w.ndim - 1))), (b - rm) * s + be


def _l1_ref(t):
    flat = t.reshape(-1).copy()
    k = round(0.4 * flat.size)
    flat[np.argsort(np.abs(flat), kind="stable")[:k]] = 0
    return flat.reshape(t.shape)


def records() -> list:
    from lamina.testing import FunctionInfo

    from . import fusion, parametrizations, prune, spectral_norm, weight_norm

    dbl = frozenset({"double_backward"})
    recs = [
        FunctionInfo(fn=_weight_norm, name="nn.utils.parametrizations.weight_norm",
                     covers=(parametrizations.weight_norm,),
                     reference=_weight_norm_ref, sample_inputs=_samples((4, 1), (4, 3), positive=(0,)),
                     tags=dbl),
        FunctionInfo(fn=_spectral_norm_eval, name="nn.utils.parametrizations.spectral_norm[eval]",
                     covers=(parametrizations.spectral_norm,), reference=_spectral_ref,
                     sample_inputs=_samples((4, 3), (4,), (3,), grad_args=(0,), positive=(0, 1, 2)), tags=dbl),
        FunctionInfo(fn=_legacy_weight_norm(0), name="nn.utils.weight_norm.WeightNorm.compute_weight",
                     covers=(weight_norm.weight_norm, weight_norm.remove_weight_norm), reference=_weight_norm_ref,
                     sample_inputs=_samples((4, 1, 1), (4, 3, 2), positive=(0,)), tags=dbl),
        FunctionInfo(fn=_legacy_weight_norm(None), name="nn.utils.weight_norm.WeightNorm.compute_weight[dim=None]",
                     reference=_weight_norm_all_ref, sample_inputs=_samples((), (4, 3), positive=(0,)), tags=dbl),
        FunctionInfo(fn=_legacy_spectral_norm_eval(0), name="nn.utils.spectral_norm.SpectralNorm.compute_weight[eval]",
                     covers=(spectral_norm.spectral_norm, spectral_norm.remove_spectral_norm), reference=_spectral_ref,
                     sample_inputs=_samples((4, 3), (4,), (3,), grad_args=(0,), positive=(0, 1, 2)), tags=dbl),
        FunctionInfo(fn=_legacy_spectral_norm_eval(1),
                     name="nn.utils.spectral_norm.SpectralNorm.compute_weight[eval, dim=1]",
                     reference=_spectral_dim1_ref,
                     sample_inputs=_samples((2, 3, 2), (3,), (4,), grad_args=(0,), positive=(0, 1, 2)), tags=dbl),
        FunctionInfo(fn=_orth("householder"), name="nn.utils.parametrizations.orthogonal[householder]",
                     covers=(parametrizations.orthogonal,), reference=_orth_ref("householder"),
                     sample_inputs=_samples((5, 3), positive=(0,)), tags=dbl),
        FunctionInfo(fn=_orth("cayley"), name="nn.utils.parametrizations.orthogonal[cayley]",
                     reference=_orth_ref("cayley"), sample_inputs=_samples((4, 4)), tags=dbl),
        FunctionInfo(fn=_fuse_conv, name="nn.utils.fusion.fuse_conv_bn_weights", covers=(fusion.fuse_conv_bn_eval,),
                     reference=_fuse_conv_ref,
                     sample_inputs=_samples((3, 2, 2, 2), (3,), (3,), (3,), (3,), (3,), grad_args=(), positive=(3,))),
        FunctionInfo(fn=_fuse_linear, name="nn.utils.fusion.fuse_linear_bn_weights",
                     covers=(fusion.fuse_linear_bn_eval,), reference=_fuse_conv_ref,
                     sample_inputs=_samples((3, 4), (3,), (3,), (3,), (3,), (3,), grad_args=(), positive=(3,))),
        FunctionInfo(fn=_l1_prune, name="nn.utils.prune.L1Unstructured.prune", covers=(prune.l1_unstructured,),
                     reference=_l1_ref, sample_inputs=_samples((4, 5)), tags=dbl),
    ]
    try:
        import scipy.linalg  # noqa: F401, PLC0415
    except ImportError:  # the matrix_exp reference needs scipy's expm
        return recs
    recs.insert(3, FunctionInfo(fn=_orth("matrix_exp"), name="nn.utils.parametrizations.orthogonal[matrix_exp]",
                                reference=_orth_ref("matrix_exp"), sample_inputs=_samples((4, 4)), tags=dbl))
    return recs
