"""``torch.backends.{cudnn,cuda,mps,mkldnn,mkl,openmp,cpu,opt_einsum}``: the flags real programs set, kept as
faithful pass-throughs.

lamina's kernels use none of these libraries (cuDNN, MPS, oneDNN, MKL, OpenMP): each ``is_available()``
says so (False; ``cudnn``'s answers follow the CUDA backend only in that it is never used), and the flags
are plain settings that read back what was written -- setting ``cudnn.benchmark`` or
``cuda.matmul.allow_tf32`` changes no result, as lamina's float32 matmuls always run in full float32 (the
``allow_tf32=False`` behaviour; ``lamina.set_float32_matmul_precision`` is recorded the same way). What does
govern lamina is ``lamina.use_deterministic_algorithms`` and ``lamina.set_num_threads``.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any


class _Flags(ModuleType):
    """A flag module: attributes as given; ``flags(**kw)`` sets some for a ``with`` block."""

    def __init__(self, name: str, doc: str, available: bool = False, **flags: Any) -> None:
        super().__init__(name, doc)
        self.__dict__.update(flags)
        self._available = available

    def is_available(self) -> bool:
        return self._available

    def is_built(self) -> bool:
        return self._available

    @contextlib.contextmanager
    def flags(self, **kw: Any) -> Iterator[None]:
        old = {k: getattr(self, k) for k in kw}
        self.__dict__.update({k: v for k, v in kw.items() if v is not None})
        try:
            yield
        finally:
            self.__dict__.update(old)


class _Matmul:
    """``torch.backends.cuda.matmul``: ``allow_tf32``, ``allow_fp16_reduced_precision_reduction``, ..."""

    def __init__(self) -> None:
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True
        self.fp32_precision = "ieee"


def _sdp_flags(mod: _Flags) -> None:
    for kind in ("flash", "mem_efficient", "math", "cudnn"):
        mod.__dict__[f"_{kind}_sdp"] = True
        mod.__dict__[f"enable_{kind}_sdp"] = lambda on, k=kind: mod.__dict__.__setitem__(f"_{k}_sdp", bool(on))
        mod.__dict__[f"{kind}_sdp_enabled"] = lambda k=kind: mod.__dict__[f"_{k}_sdp"]

    @contextlib.contextmanager
    def sdp_kernel(enable_flash: bool = True, enable_math: bool = True, enable_mem_efficient: bool = True,
                   enable_cudnn: bool = True) -> Iterator[None]:
        old = {k: mod.__dict__[f"_{k}_sdp"] for k in ("flash", "mem_efficient", "math", "cudnn")}
        for k, v in (("flash", enable_flash), ("math", enable_math), ("mem_efficient", enable_mem_efficient),
                     ("cudnn", enable_cudnn)):
            mod.__dict__[f"_{k}_sdp"] = bool(v)
        try:
            yield
        finally:
            for k, v in old.items():
                mod.__dict__[f"_{k}_sdp"] = v

    mod.__dict__["sdp_kernel"] = sdp_kernel


def _cuda_built() -> bool:
    from ._device import backend_available

    return backend_available("cuda")[0]


def modules(package: str) -> dict[str, ModuleType]:
    """The flag modules, by short name, registered in ``sys.modules`` under ``package``."""
    cudnn = _Flags(f"{package}.cudnn", "cuDNN flags (lamina does not use cuDNN).", enabled=True, benchmark=False,
                   deterministic=False, allow_tf32=True, benchmark_limit=10)
    cudnn.__dict__["version"] = lambda: None
    cuda = _Flags(f"{package}.cuda", "CUDA flags (lamina's CUDA backend runs matmuls in full float32).")
    cuda.__dict__["matmul"] = _Matmul()
    cuda.__dict__["is_built"] = _cuda_built
    cuda.__dict__["preferred_linalg_library"] = lambda backend=None: "default"
    cuda.__dict__["preferred_blas_library"] = lambda backend=None: "cublas"
    _sdp_flags(cuda)
    cpu = _Flags(f"{package}.cpu", "CPU capability query.")
    cpu.__dict__["get_cpu_capability"] = lambda: "DEFAULT"
    found = {"cudnn": cudnn, "cuda": cuda, "cpu": cpu,
             "mps": _Flags(f"{package}.mps", "Apple MPS (not a lamina backend)."),
             "mkldnn": _Flags(f"{package}.mkldnn", "oneDNN flags (lamina does not use oneDNN).", enabled=True,
                              deterministic=False),
             "mkl": _Flags(f"{package}.mkl", "MKL (lamina's BLAS is NumPy's)."),
             "openmp": _Flags(f"{package}.openmp", "OpenMP (lamina's threads are its own pool and BLAS's)."),
             "opt_einsum": _Flags(f"{package}.opt_einsum", "opt_einsum flags.", enabled=True, strategy="auto")}
    for mod in found.values():
        sys.modules.setdefault(mod.__name__, mod)
    return found
