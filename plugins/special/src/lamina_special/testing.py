"""Conformance records for lamina-special: one FunctionInfo per torch.special function (and per
top-level form with another signature), with inputs inside each function's domain, a NumPy/scipy float64
reference, the differentiable arguments (none where torch defines no derivative) and error inputs."""

from __future__ import annotations

import math

import numpy as np

__lamina_plugin_api__ = "1.0"


def _uniform(lo, hi, shapes=((3, 4),), lead=(), kwargs=None, grad_args=None):
    """Samples: uniform float arrays in [lo, hi) of each shape (after the ``lead`` non-tensor args)."""
    from lamina.testing import Sample

    def samples(xp, dtype, rng):
        out = []
        for shape in shapes:
            arrays = tuple(xp.asarray(rng.uniform(a, b, size=shape), dtype=dtype) for a, b in
                           (lo if isinstance(lo, tuple) else [(lo, hi)]))
            ga = None if grad_args is None else tuple(len(lead) + k for k in grad_args)
            out.append(Sample(tuple(lead) + arrays, dict(kwargs or {}), name=f"shape{shape}", grad_args=ga))
        return out

    return samples


def _pair_samples(a, b, grad_args=None):
    """Binary samples: a (3, 1) and b (4,) broadcast to (3, 4)."""
    from lamina.testing import Sample

    def samples(xp, dtype, rng):
        x = xp.asarray(rng.uniform(*a, size=(3, 1)), dtype=dtype)
        y = xp.asarray(rng.uniform(*b, size=(4,)), dtype=dtype)
        return [Sample((x, y), name="broadcast", grad_args=grad_args),
                Sample((xp.asarray(rng.uniform(*a, size=(2, 3)), dtype=dtype),
                        xp.asarray(rng.uniform(*b, size=(2, 3)), dtype=dtype)), name="same", grad_args=grad_args)]

    return samples


def _sc(name):
    def ref(*args, **kwargs):
        import scipy.special as sc

        return getattr(sc, name)(*args, **kwargs)

    return ref


def _ref_polygamma(n, x):
    import scipy.special as sc

    return sc.polygamma(n, x)


def _ref_mvlgamma(x, p):
    import scipy.special as sc

    return sum(sc.gammaln(x - 0.5 * j) for j in range(p)) + p * (p - 1) / 4.0 * math.log(math.pi)


def _ref_logit(x, eps=None):
    z = x if eps is None else np.clip(x, eps, 1 - eps)
    return np.log(z / (1 - z))


def _ref_poly(kind):
    """Independent closed forms / scipy evaluations of the orthogonal polynomials at integer degrees."""

    def ref(x, n):
        import scipy.special as sc

        n = np.broadcast_to(np.trunc(n), np.broadcast_shapes(np.shape(x), np.shape(n))).astype(int)
        x = np.broadcast_to(x, n.shape)
        t = np.arccos(np.clip(x, -1, 1))
        table = {
            "t": lambda: sc.eval_chebyt(n, x), "u": lambda: sc.eval_chebyu(n, x),
            "v": lambda: np.cos((n + 0.5) * t) / np.cos(t / 2), "w": lambda: np.sin((n + 0.5) * t) / np.sin(t / 2),
            "h": lambda: sc.eval_hermite(n, x), "he": lambda: sc.eval_hermitenorm(n, x),
            "l": lambda: sc.eval_laguerre(n, x), "p": lambda: sc.eval_legendre(n, x),
        }
        return table[kind]()

    return ref


def _ref_shifted(kind):
    base = _ref_poly(kind)
    return lambda x, n: base(2 * x - 1, n)


def _poly_samples(lo, hi):
    from lamina.testing import Sample

    def samples(xp, dtype, rng):
        x = xp.asarray(rng.uniform(lo, hi, size=(3, 4)), dtype=dtype)
        n = xp.asarray(np.array([0.0, 1.0, 3.0, 7.0]), dtype=dtype)
        return [Sample((x, n), name="tensor n", grad_args=()), Sample((x, 5), name="int n", grad_args=())]

    return samples


def _err(args, error_type, match, kwargs=None):
    from lamina.testing import ErrorInput, Sample

    return ErrorInput(Sample(args, dict(kwargs or {})), error_type, match)


def records() -> list:
    from lamina.testing import FunctionInfo

    import lamina_special as S

    from . import bessel, elementary, error_function, gamma

    unary = [  # name, domain, scipy reference, torch has a derivative
        ("erf", -3, 3, "erf", True), ("erfc", -3, 3, "erfc", True), ("erfcx", -3, 5, "erfcx", True),
        ("erfinv", -0.95, 0.95, "erfinv", True), ("ndtr", -4, 4, "ndtr", True), ("ndtri", 0.02, 0.98, "ndtri", True),
        ("log_ndtr", -8, 4, "log_ndtr", True), ("gammaln", 0.2, 8, "gammaln", True),
        ("digamma", 0.2, 8, "digamma", True), ("psi", 0.2, 8, "psi", True), ("i0", -4, 4, "i0", True),
        ("i0e", -4, 4, "i0e", True), ("i1", -4, 4, "i1", True), ("i1e", -4, 4, "i1e", True),
        ("entr", 0.05, 3, "entr", True), ("sinc", -3, 3, None, True), ("exp2", -3, 3, "exp2", True),
        ("expit", -5, 5, "expit", True), ("expm1", -3, 3, "expm1", True), ("log1p", -0.8, 3, "log1p", True),
        ("bessel_j0", 0.1, 15, "j0", False), ("bessel_j1", 0.1, 15, "j1", False),
        ("bessel_y0", 0.1, 15, "y0", False), ("bessel_y1", 0.1, 15, "y1", False),
        ("modified_bessel_i0", -4, 4, "i0", False), ("modified_bessel_i1", -4, 4, "i1", False),
        ("modified_bessel_k0", 0.1, 8, "k0", False), ("modified_bessel_k1", 0.1, 8, "k1", False),
        ("scaled_modified_bessel_k0", 0.1, 8, "k0e", False), ("scaled_modified_bessel_k1", 0.1, 8, "k1e", False),
        ("spherical_bessel_j0", 0.1, 10, None, False), ("airy_ai", -4, 4, None, False),
    ]
    special_refs = {"sinc": np.sinc, "spherical_bessel_j0": lambda x: np.sin(x) / x,
                    "airy_ai": lambda x: _sc("airy")(x)[0]}
    not_a_tensor = [_err((0.5,), TypeError, r"must be Tensor, not float")]
    recs = []
    for name, lo, hi, ref, grad in unary:
        recs.append(FunctionInfo(
            fn=getattr(S, name), name=f"special.{name}", reference=special_refs.get(name) or _sc(ref),
            sample_inputs=_uniform(lo, hi, shapes=((3, 4), (), (0, 2)), grad_args=None if grad else ()),
            tags=frozenset({"double_backward"}) if grad else frozenset(),
            error_inputs=not_a_tensor,
            atol=1e-6 if name in ("bessel_y0", "bessel_y1", "bessel_j0", "bessel_j1") else None))
    recs += [
        FunctionInfo(fn=S.polygamma, name=f"special.polygamma[n={n}]", reference=_ref_polygamma,
                     sample_inputs=_uniform(0.3, 6, lead=(n,)), tags=frozenset({"double_backward"}),
                     error_inputs=[_err((-1, np.array([1.0])), RuntimeError, r"does not support negative n"),
                                   _err((1.5, np.array([1.0])), TypeError, r"argument 'n' .* must be int, not float")])
        for n in (0, 1, 3)
    ]
    recs.append(FunctionInfo(fn=S.multigammaln, name="special.multigammaln", reference=_ref_mvlgamma,
                             sample_inputs=_uniform(2.0, 8, kwargs={"p": 3}), tags=frozenset({"double_backward"}),
                             error_inputs=[_err((np.array([3.0]), 0), RuntimeError, r"p has to be greater than or "
                                                r"equal to 1"),
                                           _err((np.array([3.0]), 2.0), TypeError, r"'p' .* must be int, not float")]))
    recs.append(FunctionInfo(fn=S.logit, name="special.logit", reference=_ref_logit,
                             sample_inputs=_uniform(0.05, 0.95), tags=frozenset({"double_backward"})))
    recs.append(FunctionInfo(fn=S.logit, name="special.logit[eps]", reference=_ref_logit,
                             sample_inputs=_uniform(0.15, 0.85, kwargs={"eps": 0.1}),
                             tags=frozenset({"double_backward"})))
    binary = [  # name, a domain, b domain, differentiable args, scipy reference
        ("xlogy", (-2, 2), (0.2, 3), None, "xlogy"), ("xlog1py", (-2, 2), (-0.8, 3), None, "xlog1py"),
        ("zeta", (1.5, 5), (0.5, 3), (1,), "zeta"), ("gammainc", (0.5, 4), (0.2, 5), (1,), "gammainc"),
        ("gammaincc", (0.5, 4), (0.2, 5), (1,), "gammaincc"),
    ]
    for name, a, b, ga, ref in binary:
        errs = [_err((np.array([1, 2]), np.array([1, 2])), NotImplementedError, r"not implemented for 'Long'")] \
            if name.startswith("gammainc") else [_err((2.0, 3.0), TypeError, r"must be Tensor")]
        recs.append(FunctionInfo(fn=getattr(S, name), name=f"special.{name}", reference=_sc(ref),
                                 sample_inputs=_pair_samples(a, b, ga), tags=frozenset({"double_backward"}),
                                 error_inputs=errs, rtol=1e-6 if name.startswith("gammainc") else None))
    for kind in ("t", "u", "v", "w"):
        recs.append(FunctionInfo(fn=getattr(S, f"chebyshev_polynomial_{kind}"), name=f"special.chebyshev_{kind}",
                                 reference=_ref_poly(kind), sample_inputs=_poly_samples(-0.95, 0.95)))
        recs.append(FunctionInfo(fn=getattr(S, f"shifted_chebyshev_polynomial_{kind}"),
                                 name=f"special.shifted_chebyshev_{kind}", reference=_ref_shifted(kind),
                                 sample_inputs=_poly_samples(0.03, 0.97)))
    for fname, kind in (("hermite_polynomial_h", "h"), ("hermite_polynomial_he", "he"),
                        ("laguerre_polynomial_l", "l"), ("legendre_polynomial_p", "p")):
        recs.append(FunctionInfo(fn=getattr(S, fname), name=f"special.{fname}", reference=_ref_poly(kind),
                                 sample_inputs=_poly_samples(-1.5, 1.5), rtol=1e-6,
                                 error_inputs=[_err((2.0, 3), TypeError, r"invalid combination of arguments")]))
    # top-level forms with a signature of their own
    recs.append(FunctionInfo(fn=gamma.polygamma_method, name="Tensor.polygamma", reference=lambda x, n:
                             _ref_polygamma(n, x), sample_inputs=_uniform(0.3, 6, kwargs={"n": 2}),
                             tags=frozenset({"double_backward"})))
    recs.append(FunctionInfo(fn=elementary.softmax, name="special.softmax", reference=lambda x, dim:
                             np.exp(x - x.max(dim, keepdims=True)) / np.exp(x - x.max(dim, keepdims=True)).sum(
                                 dim, keepdims=True), sample_inputs=_uniform(-3, 3, kwargs={"dim": 1}),
                             tags=frozenset({"double_backward"})))
    recs.append(FunctionInfo(fn=elementary.logsumexp, name="special.logsumexp", reference=lambda x, dim:
                             np.log(np.exp(x).sum(dim)), sample_inputs=_uniform(-3, 3, kwargs={"dim": 1}),
                             tags=frozenset({"double_backward"})))
    recs.append(FunctionInfo(fn=gamma.mvlgamma, name="mvlgamma", reference=_ref_mvlgamma,
                             sample_inputs=_uniform(2.0, 8, kwargs={"p": 2}), tags=frozenset({"double_backward"})))
    # in-place forms: the kit's tensors are leaves, so no gradient here (tests/test_special_api.py has them)
    for fn, lo, hi, ref, kwargs in [
        (error_function.erf_, -3, 3, _sc("erf"), {}), (error_function.erfc_, -3, 3, _sc("erfc"), {}),
        (bessel.i0_, -3, 3, _sc("i0"), {}),
        (elementary.sinc_, -3, 3, np.sinc, {}), (elementary.exp2_, -3, 3, _sc("exp2"), {}),
        (elementary.logit_, 0.05, 0.95, _ref_logit, {"eps": 0.1}),
    ]:
        recs.append(FunctionInfo(fn=fn, name=fn.__name__, reference=ref, tags=frozenset({"inplace"}),
                                 sample_inputs=_uniform(lo, hi, kwargs=kwargs, grad_args=())))
    recs.append(FunctionInfo(fn=elementary.xlogy_, name="xlogy_", reference=_sc("xlogy"), tags=frozenset({"inplace"}),
                             sample_inputs=_uniform(((-2, 2), (0.2, 3)), None, grad_args=())))
    return recs
