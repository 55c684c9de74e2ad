"""The table the parity tests run over: each torch.special function with a sampling domain, whether
torch gives it a gradient, and the edge values to compare; plus helpers to build the same input for
lamina and torch."""

from __future__ import annotations

import lamina
import numpy as np

INF, NAN = np.inf, np.nan
EDGES = np.array([-INF, -100.0, -10.5, -3.0, -2.0, -1.0, -0.5, -1e-30, -0.0, 0.0, 1e-30, 0.5, 1.0, 2.0, 3.0, 5.5,
                  30.0, 100.0, INF, NAN])
UNIT_EDGES = np.array([-1.5, -1.0, -0.99, -0.3, 0.0, 1e-7, 0.01, 0.5, 0.99, 1.0 - 1e-7, 1.0, 1.5, INF, NAN])

#: name -> (domain low, high, torch has a gradient)
UNARY = {
    "erf": (-3, 3, True), "erfc": (-3, 3, True), "erfcx": (-3, 5, True), "erfinv": (-0.99, 0.99, True),
    "ndtr": (-5, 5, True), "ndtri": (0.01, 0.99, True), "log_ndtr": (-10, 5, True), "gammaln": (0.1, 10, True),
    "digamma": (0.1, 10, True), "psi": (0.1, 10, True), "i0": (-5, 5, True), "i0e": (-5, 5, True),
    "i1": (-5, 5, True), "i1e": (-5, 5, True), "entr": (0.01, 3, True), "sinc": (-3, 3, True),
    "exp2": (-3, 3, True), "expit": (-5, 5, True), "expm1": (-3, 3, True), "log1p": (-0.9, 3, True),
    "logit": (0.01, 0.99, True), "bessel_j0": (0.1, 20, False), "bessel_j1": (0.1, 20, False),
    "bessel_y0": (0.1, 20, False), "bessel_y1": (0.1, 20, False), "modified_bessel_i0": (-5, 5, False),
    "modified_bessel_i1": (-5, 5, False), "modified_bessel_k0": (0.1, 10, False),
    "modified_bessel_k1": (0.1, 10, False), "scaled_modified_bessel_k0": (0.1, 10, False),
    "scaled_modified_bessel_k1": (0.1, 10, False), "spherical_bessel_j0": (-10, 10, False),
    "airy_ai": (-5, 5, False),
}
#: functions whose edges are the unit-interval ones
UNIT = {"erfinv", "ndtri", "logit"}
#: torch's own approximations are coarser than scipy's here: absolute tolerance in float64
LOOSE64 = {"bessel_j0": 1e-6, "bessel_j1": 1e-6, "bessel_y0": 1e-6, "bessel_y1": 1e-6, "airy_ai": 1e-6}
#: core ops (their edge behaviour and warnings are the core's business): sampled domain only
CORE_ALIASES = {"expit", "expm1", "log1p"}

#: name -> (a domain, b domain, gradient wrt a, gradient wrt b); None: torch raises NotImplementedError
BINARY = {
    "xlogy": ((-2, 2), (0.1, 3), True, True), "xlog1py": ((-2, 2), (-0.9, 3), True, True),
    "zeta": ((1.5, 5), (0.5, 3), None, True), "gammainc": ((0.5, 4), (0.1, 5), None, True),
    "gammaincc": ((0.5, 4), (0.1, 5), None, True),
}
BINARY_EDGES = np.array([-INF, -3.0, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.0, 3.0, 30.0, INF, NAN])

POLYNOMIALS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
               "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
               "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
               "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p"]

TOL = {"float64": dict(rtol=1e-7, atol=1e-7), "float32": dict(rtol=1.3e-6, atol=1e-5)}


def lam(a, dtype=None, requires_grad=False):
    a = np.asarray(a) if dtype is None else np.asarray(a, dtype=dtype)
    return lamina.tensor(a, requires_grad=requires_grad)


def tor(a, dtype=None, requires_grad=False):
    import torch

    a = np.asarray(a) if dtype is None else np.asarray(a, dtype=dtype)
    return torch.tensor(a, requires_grad=requires_grad)


def dtype_name(t) -> str:
    return str(t.dtype).split(".")[-1]


def assert_same(got, want, tol, what=""):
    """lamina result vs torch result: same shape and dtype, values within tol (NaN where NaN, equal infs)."""
    assert tuple(got.shape) == tuple(want.shape), (what, tuple(got.shape), tuple(want.shape))
    assert dtype_name(got) == dtype_name(want), (what, got.dtype, want.dtype)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), err_msg=what, equal_nan=True, **tol)


def sample(rng, lo, hi, shape, dtype):
    return rng.uniform(lo, hi, size=shape).astype(dtype)
