"""Helpers for the core tests: PyTorch comparison, input layouts, and a test-only "tagged" backend.

The tagged backend serves device type ``cpu`` with an ``xp`` that wraps NumPy so that every array it
makes is a :class:`TaggedArray` (an ndarray subclass). An op that escapes ``ctx.xp`` and builds an
array with NumPy directly produces a plain ndarray, which the purity tests catch; plain arrays
handed to an ``xp`` function are recorded in :data:`ESCAPES` too.
"""

from __future__ import annotations

import traceback
import types

import lamina
import numpy as np
from lamina.backends import Backend

# --- tolerances (TESTKIT.md) ---------------------------------------------------------------------

TOL = {
    "elementwise": {np.float32: (1.3e-6, 1e-5), np.float64: (1e-7, 1e-7), np.float16: (1e-3, 1e-3)},
    "reduction": {np.float32: (1e-4, 1e-5), np.float64: (1e-7, 1e-7), np.float16: (1e-2, 1e-2)},
}
DTYPES = {"float32": np.float32, "float64": np.float64}


def dtype_name(d) -> str:
    return str(d).rsplit(".", 1)[-1]


def to_numpy(t) -> np.ndarray:
    if isinstance(t, lamina.Tensor):
        return np.asarray(t.detach().numpy())
    return t.detach().cpu().numpy()


def assert_close(got, ref, kind: str = "elementwise", what: str = "value", tol=None) -> None:
    """``got`` (lamina) against ``ref`` (torch): same dtype, shape and values within the kind's tolerance."""
    if isinstance(ref, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(ref), f"{what}: {got!r} vs {ref!r}"
        for k, (g, r) in enumerate(zip(got, ref)):
            assert_close(g, r, kind, f"{what}[{k}]", tol)
        return
    if not isinstance(ref, (lamina.Tensor,)) and not hasattr(ref, "detach"):
        assert got == ref, f"{what}: {got!r} != {ref!r}"
        return
    assert dtype_name(got.dtype) == dtype_name(ref.dtype), f"{what}: dtype {got.dtype} vs torch {ref.dtype}"
    assert tuple(got.shape) == tuple(ref.shape), f"{what}: shape {tuple(got.shape)} vs torch {tuple(ref.shape)}"
    g, r = to_numpy(got), to_numpy(ref)
    if g.dtype.kind in "fc":
        rtol, atol = tol or TOL[kind][g.dtype.type]
        np.testing.assert_allclose(g, r, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(g, r, err_msg=what)


# --- inputs ----------------------------------------------------------------------------------------

def sample(rng: np.random.Generator, shape: tuple, domain: str = "real") -> np.ndarray:
    """Float64 values of ``shape`` from ``domain`` (kept away from kinks and poles)."""
    return np.asarray(_draw(rng, shape, domain), dtype=np.float64)


def _draw(rng: np.random.Generator, shape: tuple, domain: str):
    if domain == "real":
        return rng.standard_normal(shape)
    if domain == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "unit":
        return rng.uniform(-0.9, 0.9, shape)
    if domain == "nonzero":
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)
    if domain == "frac":  # away from integers and half-integers (floor, round, ...)
        return rng.integers(-3, 3, shape) + rng.uniform(0.1, 0.4, shape) * rng.choice([1, 3], shape)
    raise ValueError(domain)


def noncontiguous(a: np.ndarray) -> np.ndarray:
    """The same values in a non-contiguous layout (transposed storage, or a strided slice)."""
    if a.ndim >= 2 and a.shape[-1] > 1 and a.shape[-2] > 1:
        return np.swapaxes(np.ascontiguousarray(np.swapaxes(a, -1, -2)), -1, -2)
    if a.ndim >= 1 and a.size > 1:
        buf = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
        buf[..., ::2] = a
        return buf[..., ::2]
    return a


def lamina_input(a: np.ndarray, dtype, layout: str = "contig", requires_grad: bool = False):
    a = a.astype(dtype)
    if layout == "noncontig":
        a = noncontiguous(a)
    t = lamina.from_numpy(a if layout == "noncontig" else a.copy())
    return t.requires_grad_(requires_grad) if requires_grad and a.dtype.kind == "f" else t


def torch_input(torch, a: np.ndarray, dtype, requires_grad: bool = False):
    t = torch.from_numpy(np.array(a, dtype=dtype, order="C"))
    return t.requires_grad_(requires_grad) if requires_grad and t.is_floating_point() else t


def first_tensor(out):
    """The differentiable result of an op (values of (values, indices) pairs)."""
    return out[0] if isinstance(out, (tuple, list)) else out


# --- the tagged test backend --------------------------------------------------------------------

class TaggedArray(np.ndarray):
    """A distinct ndarray type: ufuncs, views and methods on it keep the type."""


#: (function name, short stack) for every plain ndarray handed to the tagged xp
ESCAPES: list[tuple[str, str]] = []


def _is_plain(x) -> bool:
    return type(x) is np.ndarray


def _check_args(name: str, args, kwargs) -> None:
    flat = list(args) + list(kwargs.values())
    for a in list(flat):
        if isinstance(a, (list, tuple)):
            flat.extend(a)
    if any(_is_plain(a) for a in flat):
        stack = "".join(traceback.format_stack(limit=6)[:-2])
        ESCAPES.append((name, stack))


def _tag(r):
    if _is_plain(r):
        return r.view(TaggedArray)
    if isinstance(r, np.generic):
        return np.asarray(r).view(TaggedArray)  # like CuPy: 0-d arrays, not scalars
    if isinstance(r, tuple):
        return tuple(_tag(x) for x in r)
    if isinstance(r, list):
        return [_tag(x) for x in r]
    return r


def _wrap_fn(name: str, fn):
    def wrapped(*args, **kwargs):
        _check_args(name, args, kwargs)
        return _tag(fn(*args, **kwargs))

    wrapped.__name__ = name
    return wrapped


class _TaggedUfunc:
    def __init__(self, uf: np.ufunc) -> None:
        self._uf = uf
        self.__name__ = uf.__name__

    def __call__(self, *args, **kwargs):
        _check_args(self.__name__, args, kwargs)
        return _tag(self._uf(*args, **kwargs))

    def at(self, *args, **kwargs):
        _check_args(self.__name__ + ".at", args, kwargs)
        return self._uf.at(*args, **kwargs)

    def __getattr__(self, name):
        return _wrap_fn(f"{self.__name__}.{name}", getattr(self._uf, name))


class TaggedNamespace(types.SimpleNamespace):
    """``xp`` for the tagged backend: NumPy's functions, returning TaggedArray."""

    def __init__(self, module=np) -> None:
        super().__init__()
        object.__setattr__(self, "_module", module)

    def __getattr__(self, name: str):
        obj = getattr(object.__getattribute__(self, "_module"), name)
        if isinstance(obj, np.ufunc):
            w = _TaggedUfunc(obj)
        elif isinstance(obj, types.ModuleType):
            w = TaggedNamespace(obj)
        elif callable(obj) and not isinstance(obj, type):
            w = _wrap_fn(name, obj)
        else:
            w = obj  # dtypes, scalar types, constants
        object.__setattr__(self, name, w)
        return w


class _TaggedGenerator:
    def __init__(self, gen: np.random.Generator) -> None:
        self._gen = gen

    @property
    def bit_generator(self):
        return self._gen.bit_generator

    def __getattr__(self, name: str):
        return _wrap_fn(f"random.{name}", getattr(self._gen, name))


class TaggedBackend(Backend):
    """Device type ``cpu`` on NumPy, but every array is a TaggedArray (test-only)."""

    name = "tagged"
    device_type = "cpu"
    xp = TaggedNamespace()
    array_type = TaggedArray

    def from_host(self, array, index):
        return np.asarray(array).view(TaggedArray)

    def to_host(self, array):
        return np.asarray(array)

    def new_generator(self, seed):
        return _TaggedGenerator(np.random.Generator(np.random.PCG64(seed)))


def use_tagged_backend():
    """Switch device type cpu to the tagged backend; returns a function that switches back."""
    from lamina import plugins

    plugins.register("lamina.backends.cpu", "tagged", TaggedBackend, replace=True)
    lamina.set_backend("cpu", "tagged")
    del ESCAPES[:]

    def restore() -> None:
        lamina.set_backend("cpu", None)
        plugins.unregister("lamina.backends.cpu", "tagged")

    return restore
