"""torch.fft's transforms: fft/ifft, rfft/irfft, hfft/ihfft in 1, 2 and n dims (NumPy's pocketfft).

Shapes (n-D forms; the 1-D and 2-D forms are these over one dim / the last two dims):
  fftn, ifftn:   x (*) -> complex (*), each transformed dim resized to s
  rfftn:         real x (*, n) -> complex (*, n // 2 + 1)
  irfftn, hfftn: x (*, m) -> real (*, n), n = s[-1] or 2 * (m - 1)
  ihfftn:        real x (*, n) -> complex (*, n // 2 + 1)
Float32 (and integer) inputs give complex64 / float32, float64 gives complex128 / float64, as in torch.
hfftn(x) is irfftn(conj(x)) scaled as a forward transform; ihfftn(x) is conj(rfftn(x)) scaled as an
inverse one.
"""

from __future__ import annotations

from collections.abc import Sequence

from lamina import Tensor
from lamina.amp import autocast_op

from ._args import check_norm, dims_and_sizes, fill_sizes, one_dim, promote, write_out
from ._ops import C2C, C2R, DUAL, R2C, Conj, Resize, ToComplex

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn",
           "irfftn", "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn"]

Dims = int | Sequence[int] | None


def _resized(x: Tensor, dims: tuple[int, ...], sizes: Sequence[int]) -> Tensor:
    if all(x.shape[d] == n for d, n in zip(dims, sizes)):
        return x
    return Resize.apply(x, dims, tuple(sizes))


def _c2c(name: str, x: Tensor, dims: tuple[int, ...], sizes: list, norm: str | None, forward: bool) -> Tensor:
    x = promote(x, name)
    norm = check_norm(norm)
    x = _resized(x, dims, fill_sizes(x, dims, sizes))
    return C2C.apply(x, dims, forward, norm)


def _r2c(name: str, x: Tensor, dims: tuple[int, ...], sizes: list, norm: str | None, hermitian: bool) -> Tensor:
    """rfftn, or ihfftn when ``hermitian`` (conjugated, scaled as an inverse transform)."""
    x = promote(x, name, real_only=True)
    norm = check_norm(norm)
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    x = _resized(x, dims, fill_sizes(x, dims, sizes))
    if hermitian:
        return Conj.apply(R2C.apply(x, dims, DUAL[norm], False))
    return R2C.apply(x, dims, norm, False)


def _c2r(name: str, x: Tensor, dims: tuple[int, ...], sizes: list, norm: str | None, hermitian: bool) -> Tensor:
    """irfftn, or hfftn when ``hermitian`` (of the conjugate, scaled as a forward transform)."""
    x = promote(x, name)
    norm = check_norm(norm)
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    last = dims[-1]
    sizes = list(sizes)
    if sizes[-1] is None:
        sizes[-1] = 2 * (x.shape[last] - 1)
    out_sizes = fill_sizes(x, dims, sizes)
    if not x.is_complex():
        x = ToComplex.apply(x)
    x = _resized(x, dims, out_sizes[:-1] + (out_sizes[-1] // 2 + 1,))
    if hermitian:
        return C2R.apply(Conj.apply(x), dims, out_sizes, DUAL[norm], False)
    return C2R.apply(x, dims, out_sizes, norm, False)


# --- 1-D ----------------------------------------------------------------------------------------
@autocast_op("fp32")
def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
        out: Tensor | None = None) -> Tensor:
    """One-dimensional discrete Fourier transform. Shape: (*, L) -> complex (*, n)"""
    d, n = one_dim(input, n, dim, "fft_fft")
    return write_out(_c2c("fft", input, (d,), [n], norm, True), out, "fft")


@autocast_op("fp32")
def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
         out: Tensor | None = None) -> Tensor:
    """One-dimensional inverse discrete Fourier transform. Shape: (*, L) -> complex (*, n)"""
    d, n = one_dim(input, n, dim, "fft_ifft")
    return write_out(_c2c("ifft", input, (d,), [n], norm, False), out, "ifft")


@autocast_op("fp32")
def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
         out: Tensor | None = None) -> Tensor:
    """One-sided DFT of a real signal. Shape: real (*, L) -> complex (*, n // 2 + 1)"""
    d, n = one_dim(input, n, dim, "fft_rfft")
    return write_out(_r2c("rfft", input, (d,), [n], norm, False), out, "rfft")


@autocast_op("fp32")
def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
          out: Tensor | None = None) -> Tensor:
    """Inverse of rfft. Shape: (*, m) -> real (*, n), n = 2 * (m - 1) by default"""
    d, n = one_dim(input, n, dim, "fft_irfft")
    return write_out(_c2r("irfft", input, (d,), [n], norm, False), out, "irfft")


@autocast_op("fp32")
def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
         out: Tensor | None = None) -> Tensor:
    """DFT of a Hermitian-symmetric signal given by its first half. Shape: (*, m) -> real (*, n)"""
    d, n = one_dim(input, n, dim, "fft_hfft")
    return write_out(_c2r("hfft", input, (d,), [n], norm, True), out, "hfft")


@autocast_op("fp32")
def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
          out: Tensor | None = None) -> Tensor:
    """Inverse of hfft. Shape: real (*, L) -> complex (*, n // 2 + 1)"""
    d, n = one_dim(input, n, dim, "fft_ihfft")
    return write_out(_r2c("ihfft", input, (d,), [n], norm, True), out, "ihfft")


# --- n-D and 2-D --------------------------------------------------------------------------------
@autocast_op("fp32")
def fftn(input: Tensor, s: Sequence[int] | None = None, dim: Dims = None, norm: str | None = None, *,
         out: Tensor | None = None) -> Tensor:
    """N-dimensional DFT over ``dim`` (default: all dims, or the last len(s)). Shape: (*) -> complex (*)"""
    dims, sizes = dims_and_sizes(input, s, dim, "fft_fftn")
    return write_out(_c2c("fftn", input, dims, sizes, norm, True), out, "fftn")


@autocast_op("fp32")
def ifftn(input: Tensor, s: Sequence[int] | None = None, dim: Dims = None, norm: str | None = None, *,
          out: Tensor | None = None) -> Tensor:
    """N-dimensional inverse DFT. Shape: (*) -> complex (*)"""
    dims, sizes = dims_and_sizes(input, s, dim, "fft_ifftn")
    return write_out(_c2c("ifftn", input, dims, sizes, norm, False), out, "ifftn")


@autocast_op("fp32")
def rfftn(input: Tensor, s: Sequence[int] | None = None, dim: Dims = None, norm: str | None = None, *,
          out: Tensor | None = None) -> Tensor:
    """N-dimensional DFT of a real signal, one-sided in the last dim. Shape: real (*, n) -> complex (*, n // 2 + 1)"""
    dims, sizes = dims_and_sizes(input, s, dim, "fft_rfftn")
    return write_out(_r2c("rfftn", input, dims, sizes, norm, False), out, "rfftn")


@autocast_op("fp32")
def irfftn(input: Tensor, s: Sequence[int] | None = None, dim: Dims = None, norm: str | None = None, *,
           out: Tensor | None = None) -> Tensor:
    """Inverse of rfftn. Shape: (*, m) -> real (*, n), n = s[-1] or 2 * (m - 1)"""
    dims, sizes = dims_and_sizes(input, s, dim, "fft_irfftn")
    return write_out(_c2r("irfftn", input, dims, sizes, norm, False), out, "irfftn")


def hfftn(input: Tensor, s: Sequence[int] | None = None, dim: Dims = None, norm: str | None = None, *,
          out: Tensor | None = None) -> Tensor:
    """N-dimensional DFT of a Hermitian-symmetric signal (half in the last dim). Shape: (*, m) -> real (*, n)"""
    dims, sizes = dims_and_sizes(input, s, dim, "fft_hfftn")
    return write_out(_c2r("hfftn", input, dims, sizes, norm, True), out, "hfftn")


def ihfftn(input: Tensor, s: Sequence[int] | None = None, dim: Dims = None, norm: str | None = None, *,
           out: Tensor | None = None) -> Tensor:
    """Inverse of hfftn. Shape: real (*, n) -> complex (*, n // 2 + 1)"""
    dims, sizes = dims_and_sizes(input, s, dim, "fft_ihfftn")
    return write_out(_r2c("ihfftn", input, dims, sizes, norm, True), out, "ihfftn")


@autocast_op("fp32")
def fft2(input: Tensor, s: Sequence[int] | None = None, dim: Dims = (-2, -1), norm: str | None = None, *,
         out: Tensor | None = None) -> Tensor:
    """fftn over the last two dims (by default). Shape: (*, H, W) -> complex (*, H, W)"""
    return fftn(input, s, dim, norm, out=out)


@autocast_op("fp32")
def ifft2(input: Tensor, s: Sequence[int] | None = None, dim: Dims = (-2, -1), norm: str | None = None, *,
          out: Tensor | None = None) -> Tensor:
    """ifftn over the last two dims (by default). Shape: (*, H, W) -> complex (*, H, W)"""
    return ifftn(input, s, dim, norm, out=out)


@autocast_op("fp32")
def rfft2(input: Tensor, s: Sequence[int] | None = None, dim: Dims = (-2, -1), norm: str | None = None, *,
          out: Tensor | None = None) -> Tensor:
    """rfftn over the last two dims (by default). Shape: real (*, H, W) -> complex (*, H, W // 2 + 1)"""
    return rfftn(input, s, dim, norm, out=out)


@autocast_op("fp32")
def irfft2(input: Tensor, s: Sequence[int] | None = None, dim: Dims = (-2, -1), norm: str | None = None, *,
           out: Tensor | None = None) -> Tensor:
    """irfftn over the last two dims (by default). Shape: (*, H, m) -> real (*, H, 2 * (m - 1))"""
    return irfftn(input, s, dim, norm, out=out)


def hfft2(input: Tensor, s: Sequence[int] | None = None, dim: Dims = (-2, -1), norm: str | None = None, *,
          out: Tensor | None = None) -> Tensor:
    """hfftn over the last two dims (by default). Shape: (*, H, m) -> real (*, H, 2 * (m - 1))"""
    return hfftn(input, s, dim, norm, out=out)


def ihfft2(input: Tensor, s: Sequence[int] | None = None, dim: Dims = (-2, -1), norm: str | None = None, *,
           out: Tensor | None = None) -> Tensor:
    """ihfftn over the last two dims (by default). Shape: real (*, H, W) -> complex (*, H, W // 2 + 1)"""
    return ihfftn(input, s, dim, norm, out=out)
