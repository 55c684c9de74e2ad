"""The CUDA sources of the kernel pack and their compilation (CuPy ``RawModule``, NVRTC).

Sources are plain ``.cu`` files next to this module, each compiled after the shared device helpers
of ``common.cuh`` (prepended as text: no include path, and CuPy's kernel cache keys on the whole
source). The CPU-only test compiles the same strings with the same options using ``nvcc --ptx``
for sm_80 and sm_90. Nothing here imports CuPy at import time: a kernel is
compiled on first use, once per (source, device), and only on a real CUDA backend.
"""

from __future__ import annotations

import sys
from importlib import resources
from typing import Any

import numpy

#: source name -> extra NVRTC options (the optimizer keeps multiply and add separate, like NumPy)
SOURCES = {"activation": (), "softmax": (), "optim": ("--fmad=false",), "conv": (), "pool": (), "xent": (),
           "rnn": (), "norm": ()}
SUFFIX = {numpy.dtype(numpy.float32): "f32", numpy.dtype(numpy.float64): "f64"}
BLOCK = 256
_functions: dict[tuple[str, str, int], Any] = {}


def _read(filename: str) -> str:
    return resources.files(__package__).joinpath(filename).read_text(encoding="utf-8")


def source(name: str) -> str:
    """The compiled text of ``<name>.cu``: ``common.cuh``, then the file with its own line numbers."""
    return f'{_read("common.cuh")}#line 1 "{name}.cu"\n{_read(f"{name}.cu")}'


def options(name: str) -> tuple:
    """The NVRTC options for ``<name>.cu`` (nvcc takes the same)."""
    return ("--std=c++14",) + SOURCES[name]


def is_device_array(a: Any) -> bool:
    """True for a CuPy array (checked by type, without importing CuPy)."""
    return type(a).__module__.startswith("cupy")


def fits(a: Any) -> bool:
    """The kernels take contiguous, non-empty float32/float64 CuPy arrays."""
    return is_device_array(a) and a.dtype in SUFFIX and a.flags.c_contiguous and a.size > 0


def function(name: str, kernel: str, dtype: Any) -> Any:
    """The compiled kernel ``<kernel>_<f32|f64>`` of source ``name`` on the current device."""
    cupy = sys.modules["cupy"]
    dev = cupy.cuda.runtime.getDevice()
    key = (name, kernel + "_" + SUFFIX[numpy.dtype(dtype)], dev)
    fn = _functions.get(key)
    if fn is None:
        mod = cupy.RawModule(code=source(name), options=options(name))
        fn = _functions[key] = mod.get_function(key[1])
    return fn


def launch_pointwise(fn: Any, n: int, args: tuple) -> None:
    """Launch a grid-stride kernel over ``n`` elements."""
    grid = max(1, min((n + BLOCK - 1) // BLOCK, 65535))
    fn((grid,), (BLOCK,), args)


def row_threads(length: int) -> int:
    """Threads per row for the block reductions: a power of two in [32, 1024]."""
    t = 32
    while t < length and t < 1024:
        t *= 2
    return t


def launch_rows(fn: Any, rows: int, length: int, dtype: Any, args: tuple) -> None:
    """Launch a block reduction kernel: one block of ``row_threads(length)`` threads per row, with
    one ``dtype`` value of dynamic shared memory per thread."""
    threads = row_threads(length)
    fn((rows,), (threads,), args, shared_mem=threads * numpy.dtype(dtype).itemsize)


def grad_fits(ctx: Any, dy: Any, y: Any) -> bool:
    """A one-launch backward from the saved output ``y`` applies: no double backward, and ``dy`` is
    a contiguous CuPy array like ``y``."""
    return not ctx._graph_mode and fits(dy) and dy.dtype == y.dtype and dy.shape == y.shape


def geometry_2d(x_shape: tuple, kernel: tuple, stride: tuple, pads: tuple, dilation: tuple, out: tuple) -> tuple:
    """The 14 integers (N, C, H, W, KH, KW, OH, OW, SH, SW, PH, PW, DH, DW) of a 1-D or 2-D window op.

    ``pads`` holds the leading (top/left) padding per spatial dim; a 1-D op runs as H = 1.
    """
    if len(kernel) == 1:
        x_shape = x_shape[:2] + (1,) + tuple(x_shape[2:])
        kernel, stride, dilation, out = ((1,) + tuple(v) for v in (kernel, stride, dilation, out))
        pads = (0,) + tuple(pads)
    N, C, H, W = x_shape
    return (N, C, H, W, kernel[0], kernel[1], out[0], out[1], stride[0], stride[1], pads[0], pads[1],
            dilation[0], dilation[1])


def int_args(values: tuple) -> tuple:
    return tuple(numpy.int64(v) for v in values)
