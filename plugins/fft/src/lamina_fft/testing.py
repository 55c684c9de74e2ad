"""Conformance records (lamina.testing) for lamina-fft. Entry point: ``records()``.

The kit compares real tensors, so each transform is described through real views: a complex
input is given as real pairs (*, 2) and turned complex (``FromRealPairs``), a complex output is
returned as real pairs (``AsRealPairs``), both differentiable. The kit's float64 gradcheck of such
a record checks the transform's complex backward against finite differences of every real and
imaginary part, which is exactly torch's convention (gradient = dL/dRe + i dL/dIm); its dtype
check catches a float32 input computed (or returned) in double precision.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import _refs
from ._framing import AsRealPairs, FromRealPairs

__lamina_plugin_api__ = "1.0"

# name -> (input kind, output kind, shape of the sample, extra kwargs variants)
_ONE_D = {"n": 7}
_TWO_D = {"s": (3, 7)}
TRANSFORMS = {
    "fft": ("complex", "complex", (2, 5), ({}, {"n": 8, "norm": "ortho"}, {"n": 3, "dim": 0, "norm": "forward"})),
    "ifft": ("complex", "complex", (2, 6), ({}, {"n": 9, "norm": "ortho"}, {"dim": 0, "norm": "forward"})),
    "fft2": ("complex", "complex", (2, 3, 4), ({}, {"s": (2, 6), "norm": "ortho"})),
    "ifft2": ("complex", "complex", (3, 4), ({}, {"s": (5, 3), "norm": "forward"})),
    "fftn": ("complex", "complex", (2, 3, 4), ({}, {"s": (3, 2), "dim": (0, 2)}, {"norm": "ortho"})),
    "ifftn": ("complex", "complex", (3, 4), ({}, {"s": (2, 5)}, {"dim": 1, "norm": "forward"})),
    "rfft": ("real", "complex", (2, 6), ({}, {"n": 7, "norm": "ortho"}, {"n": 4, "dim": 0, "norm": "forward"})),
    "irfft": ("complex", "real", (2, 5), ({}, {"n": 9, "norm": "ortho"}, {"n": 4, "norm": "forward"})),
    "rfft2": ("real", "complex", (2, 4, 5), ({}, {"s": (3, 6), "norm": "ortho"})),
    "irfft2": ("complex", "real", (3, 4), ({}, {"s": (2, 7), "norm": "forward"})),
    "rfftn": ("real", "complex", (3, 4, 5), ({}, {"dim": (0, 2), "s": (2, 4)}, {"norm": "forward"})),
    "irfftn": ("complex", "real", (3, 4), ({}, {"s": (4, 5), "norm": "ortho"})),
    "hfft": ("complex", "real", (2, 5), ({}, {"n": 7, "norm": "ortho"}, {"n": 4, "dim": 0, "norm": "forward"})),
    "ihfft": ("real", "complex", (2, 6), ({}, {"n": 5, "norm": "ortho"}, {"norm": "forward"})),
    "hfft2": ("complex", "real", (3, 4), ({}, {"s": (2, 5), "norm": "ortho"})),
    "ihfft2": ("real", "complex", (3, 5), ({}, {"s": (4, 4), "norm": "forward"})),
    "hfftn": ("complex", "real", (2, 3, 4), ({}, {"dim": (0, 2), "s": (3, 6)})),
    "ihfftn": ("real", "complex", (2, 3, 4), ({}, {"dim": (1, 2), "norm": "ortho"})),
}


def _np_transform(name: str) -> Callable:
    """NumPy's function of the same name (hfft2/hfftn/ihfft2/ihfftn, which NumPy lacks, from their definitions)."""
    if name in ("hfft2", "hfftn"):
        def hfftn(x, s=None, dim=None, norm=None):
            dim = (-2, -1) if name == "hfft2" and dim is None else dim
            inverse = {"backward": "forward", "forward": "backward", "ortho": "ortho"}[norm or "backward"]
            return np.fft.irfftn(np.conj(x), s=s, axes=dim, norm=inverse)
        return hfftn
    if name in ("ihfft2", "ihfftn"):
        def ihfftn(x, s=None, dim=None, norm=None):
            dim = (-2, -1) if name == "ihfft2" and dim is None else dim
            inverse = {"backward": "forward", "forward": "backward", "ortho": "ortho"}[norm or "backward"]
            return np.conj(np.fft.rfftn(x, s=s, axes=dim, norm=inverse))
        return ihfftn
    f = getattr(np.fft, name)

    one_d = name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")

    def call(x, **kw):
        if "dim" in kw:
            d = kw.pop("dim")
            kw["axis" if one_d else "axes"] = d if one_d or not isinstance(d, int) else (d,)
        elif "s" in kw and name.endswith("n"):
            kw["axes"] = tuple(range(x.ndim - len(kw["s"]), x.ndim))
        return f(x, **kw)
    return call


def _pairs_fn(name: str, kind_in: str, kind_out: str, kw: dict) -> tuple[Callable, Callable]:
    """(lamina function, float64 reference) of a transform seen through real pairs."""
    import lamina.fft as lf

    f, ref = getattr(lf, name), _np_transform(name)

    def fn(x, **extra):
        y = f(FromRealPairs.apply(x) if kind_in == "complex" else x, **{**kw, **extra})
        return AsRealPairs.apply(y) if kind_out == "complex" else y

    def reference(x):
        y = ref(x[..., 0] + 1j * x[..., 1] if kind_in == "complex" else x, **kw)
        return _refs.pairs(y) if kind_out == "complex" else y

    fn.__name__ = fn.__qualname__ = f"{name}_as_real_pairs"
    return fn, reference


def _arrays(*shapes: tuple[int, ...]):
    def make(xp, dtype, rng):
        from lamina.testing import Sample

        return [Sample(tuple(xp.asarray(rng.standard_normal(s), dtype=dtype) for s in shapes))]
    return make


def _transform_errors(kind_in: str, shape: tuple[int, ...], one_d: bool):
    def make(xp, dtype, rng):
        from lamina.testing import ErrorInput, Sample

        full = shape + ((2,) if kind_in == "complex" else ())
        x = xp.asarray(rng.standard_normal(full), dtype=dtype)
        errs = [ErrorInput(Sample((x,), {"norm": "sideways"}), RuntimeError, 'Invalid normalization mode: "sideways"'),
                ErrorInput(Sample((x,), {"dim": 5} if one_d else {"dim": (0, 5)}), IndexError,
                           r"Dimension out of range \(expected to be in range of \[-\d, \d\], but got 5\)")]
        errs.append(ErrorInput(Sample((x,), {"n": 0} if one_d else {"s": (2, 0)}), RuntimeError,
                               r"Invalid number of data points \(0\) specified"))
        return errs
    return make


def _transform_records() -> list:
    from lamina.testing import FunctionInfo

    recs = []
    for name, (kind_in, kind_out, shape, variants) in TRANSFORMS.items():
        one_d = name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")
        for i, kw in enumerate(variants):
            fn, reference = _pairs_fn(name, kind_in, kind_out, kw)
            full = shape + ((2,) if kind_in == "complex" else ())
            recs.append(FunctionInfo(
                fn=fn, name=f"fft.{name}" + (f"[{i}]" if i else ""), sample_inputs=_arrays(full),
                reference=reference, tags=frozenset({"double_backward"}),
                error_inputs=_transform_errors(kind_in, shape, one_d) if i == 0 else ()))
    return recs


# --- stft, istft, windows ------------------------------------------------------------------------
def _lamina_dtype(dtype: Any):
    import lamina

    return lamina.float64 if np.dtype(dtype) == np.float64 else lamina.float32


def _stft_samples(xp, dtype, rng):
    from lamina.testing import Sample

    x = xp.asarray(rng.standard_normal((2, 40)), dtype=dtype)
    w = xp.asarray(np.hanning(12) + 0.1, dtype=dtype)
    return [Sample((x, 16, 5, 12, w), {"return_complex": False}, name="batched"),
            Sample((x[0], 16, 4, 12, w), {"center": False, "return_complex": False, "normalized": True},
                   name="uncentred"),
            Sample((x[1], 10, 3, 10, w[:10]), {"pad_mode": "circular", "onesided": False, "return_complex": False},
                   name="two-sided")]


def _stft_errors(xp, dtype, rng):
    from lamina.testing import ErrorInput, Sample

    x = xp.asarray(rng.standard_normal(40), dtype=dtype)
    w = xp.asarray(np.ones(12), dtype=dtype)
    rc = {"return_complex": True}
    return [ErrorInput(Sample((x, 16), {"window": w[:8], **rc}), RuntimeError,
                       r"expected a 1D window tensor of size equal to win_length=16, but got window with size \[8\]"),
            ErrorInput(Sample((x, 0), {"window": w, **rc}), RuntimeError, r"expected 0 < n_fft < 40, but got n_fft=0"),
            ErrorInput(Sample((x, 8), {"window": w[:8]}), RuntimeError, "stft requires the return_complex parameter"),
            ErrorInput(Sample((x, 8), {"window": w[:8], "hop_length": 0, **rc}), RuntimeError,
                       "expected hop_length > 0, but got hop_length=0"),
            ErrorInput(Sample((x, 8), {"window": w[:8], "pad_mode": "mirror", **rc}), NotImplementedError,
                       "Unrecognised padding mode mirror")]


def _spectrogram(xp, dtype, rng, n_fft, hop, window, center=True):
    x = rng.standard_normal((2, 45))
    spec = _refs.stft_ref(x, n_fft, hop, window=window, center=center, return_complex=True)
    return xp.asarray(spec, dtype=np.complex64 if np.dtype(dtype) == np.float32 else np.complex128)


def _istft_samples(xp, dtype, rng):
    from lamina.testing import Sample

    w = np.hanning(16) + 0.1
    spec = _spectrogram(xp, dtype, rng, 16, 4, w)
    wa = xp.asarray(w, dtype=dtype)
    return [Sample((spec, 16, 4, 16, wa), name="batched"),
            Sample((spec[0], 16, 4, 16, wa), {"length": 40}, name="trimmed"),
            Sample((spec[1], 16, 4, 16, wa), {"normalized": True, "center": False}, name="uncentred")]


def _istft_pairs_samples(xp, dtype, rng):
    from lamina.testing import Sample

    w = np.hanning(12) + 0.2
    spec = _spectrogram(xp, dtype, rng, 12, 3, w)
    return [Sample((xp.asarray(_refs.pairs(np.asarray(spec)), dtype=dtype), xp.asarray(w, dtype=dtype)))]


def _istft_errors(xp, dtype, rng):
    from lamina.testing import ErrorInput, Sample

    w = xp.asarray(np.hanning(16) + 0.1, dtype=dtype)
    spec = _spectrogram(xp, dtype, rng, 16, 4, np.hanning(16) + 0.1)
    return [ErrorInput(Sample((spec, 15), {"window": w[:15]}), RuntimeError,
                       "to match n_fft / 2 [+] 1 when onesided=True, but got 9"),
            ErrorInput(Sample((spec, 16), {"window": w, "hop_length": 20}), RuntimeError,
                       "expected 0 < hop_length <= win_length"),
            ErrorInput(Sample((spec.real.copy(), 16), {"window": w}), RuntimeError,
                       "istft requires a complex-valued input tensor")]


def _istft_pairs(spec, window):
    from .spectral import istft

    return istft(FromRealPairs.apply(spec), 12, 3, 12, window)


def _istft_pairs_ref(spec, window):
    return _refs.istft_ref(spec[..., 0] + 1j * spec[..., 1], 12, 3, 12, window)


def _window_records() -> list:
    from lamina.testing import ErrorInput, FunctionInfo, Sample

    from . import windows

    recs = []
    for kind, params in (("hann", ()), ("hamming", (0.6, 0.3)), ("blackman", ()), ("bartlett", ()),
                         ("kaiser", (5.0,))):
        fn = getattr(windows, f"{kind}_window")

        def samples(xp, dtype, rng, params=params):
            d = _lamina_dtype(dtype)
            return [Sample((9,), {"dtype": d}), Sample((8, False) + params, {"dtype": d}),
                    Sample((1,), {"dtype": d}), Sample((0, True) + params, {"dtype": d})]

        def errors(xp, dtype, rng, name=f"{kind}_window"):
            import lamina

            return [ErrorInput(Sample((-1,)), RuntimeError,
                               f"{name} requires non-negative window_length, got window_length=-1"),
                    ErrorInput(Sample((4,), {"dtype": lamina.int64}), RuntimeError,
                               f"{name} expects floating point dtypes")]

        recs.append(FunctionInfo(fn=fn, name=f"{kind}_window", sample_inputs=samples, error_inputs=errors,
                                 reference=lambda n, periodic=True, *p, kind=kind, **kw: _refs.window_ref(
                                     kind, n, periodic, *p)))
    return recs


def records() -> list:
    """Every lamina-fft component: the 18 transforms (several argument variants each), stft, istft and
    the five windows."""
    from lamina.testing import FunctionInfo

    from .spectral import istft, stft

    return _transform_records() + [
        FunctionInfo(fn=stft, name="stft", sample_inputs=_stft_samples, reference=_refs.stft_ref,
                     error_inputs=_stft_errors, tags=frozenset({"double_backward"})),
        FunctionInfo(fn=istft, name="istft", sample_inputs=_istft_samples, reference=_refs.istft_ref,
                     error_inputs=_istft_errors, tags=frozenset({"double_backward"})),
        FunctionInfo(fn=_istft_pairs, name="istft[spectrogram grad]", sample_inputs=_istft_pairs_samples,
                     reference=_istft_pairs_ref, tags=frozenset({"double_backward"})),
    ] + _window_records()
