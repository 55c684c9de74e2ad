"""lamina: a PyTorch-style neural-network framework on NumPy and CuPy, extended by plugins.

``import lamina`` imports the core only: no plugin is imported and no entry point is read until
a plugin-provided name (a layer, a backend, ...) is first used.
"""

from __future__ import annotations

import builtins
import sys
from typing import Any

from ._base import dtype as _dtype
from ._base.dtype import (
    bfloat16,
    can_cast,
    cdouble,
    cfloat,
    chalf,
    complex32,
    complex64,
    complex128,
    double,
    dtype,
    finfo,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    set_default_dtype,
    short,
    uint8,
    uint16,
    uint32,
    uint64,
)
from ._base.dtype import (
    bool_ as bool,  # noqa: A004
)
from ._base.dtype import float as float  # noqa: A004
from ._base.dtype import int as int  # noqa: A004
from ._base.errors import (
    BackendUnavailableError,
    CheckpointError,
    CheckpointFormatError,
    CheckpointHeaderError,
    CheckpointTruncatedError,
    DeviceMismatchError,
    DTypeError,
    LaminaError,
    NamespaceNotFoundError,
    OutOfMemoryError,
    PluginConflictError,
    PluginError,
    PluginLoadError,
    PluginNotFoundError,
    ShapeError,
)
from ._base.layout import jagged, layout, sparse_bsc, sparse_bsr, sparse_coo, sparse_csc, sparse_csr, strided
from ._tensor import Size
from ._tensor.format import set_printoptions
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .autograd.autocast_state import (
    autocast_decrement_nesting,
    autocast_increment_nesting,
    clear_autocast_cache,
    get_autocast_cpu_dtype,
    get_autocast_dtype,
    get_autocast_gpu_dtype,
    is_autocast_cache_enabled,
    is_autocast_cpu_enabled,
    is_autocast_enabled,
    set_autocast_cache_enabled,
    set_autocast_cpu_dtype,
    set_autocast_cpu_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
    set_autocast_gpu_dtype,
)
from .autograd.grad_mode import is_anomaly_check_nan_enabled, is_anomaly_enabled, is_inference_mode_enabled
from .backends import device, get_default_device, set_backend, set_default_device
from .backends.random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from .backends.threads import get_num_interop_threads, get_num_threads, set_num_interop_threads, set_num_threads
from .ops._util import result_type
from .ops.aliases import (
    absolute,
    arctan2,
    divide,
    greater,
    greater_equal,
    less,
    less_equal,
    multiply,
    not_equal,
    rsub,
    subtract,
)
from .ops.attributes import (
    detach,
    detach_,
    fill,
    fill_,
    get_device,
    is_distributed,
    is_inference,
    is_nonzero,
    is_same_size,
    is_signed,
    resize_as_,
    zero_,
)
from .ops.combine import (
    cartesian_prod,
    cat,
    chunk,
    column_stack,
    combinations,
    concat,
    concatenate,
    dsplit,
    dstack,
    flip,
    fliplr,
    flipud,
    hsplit,
    hstack,
    meshgrid,
    narrow,
    repeat_interleave,
    roll,
    rot90,
    row_stack,
    select,
    split,
    split_with_sizes,
    stack,
    tensor_split,
    tile,
    unbind,
    unsafe_chunk,
    unsafe_split,
    unsafe_split_with_sizes,
    vsplit,
    vstack,
)
from .ops.comparison import (
    allclose,
    bitwise_and,
    bitwise_or,
    bitwise_xor,
    eq,
    equal,
    ge,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    isneginf,
    isposinf,
    le,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    ne,
    signbit,
)
from .ops.complex import (
    angle,
    complex,  # noqa: A004
    conj,
    conj_physical,
    imag,
    is_complex,
    is_conj,
    is_neg,
    isreal,
    polar,
    real,
    resolve_conj,
    resolve_neg,
    sgn,
    view_as_complex,
    view_as_real,
)
from .ops.conversion import clone
from .ops.creation import (  # noqa: A004
    arange,
    as_tensor,
    asarray,
    empty,
    empty_like,
    eye,
    from_file,
    from_numpy,
    frombuffer,
    full,
    full_like,
    linspace,
    logspace,
    ones,
    ones_like,
    range,
    scalar_tensor,
    tensor,
    zeros,
    zeros_like,
)
from .ops.cumulative import (
    cummax,
    cummin,
    cumprod,
    cumsum,
    cumulative_trapezoid,
    diff,
    gradient,
    logcumsumexp,
    trapezoid,
    trapz,
)
from .ops.distance import cdist, dist, renorm
from .ops.elementwise import (
    abs,  # noqa: A004
    acos,
    add,
    addcdiv,
    addcmul,
    arccos,
    arcsin,
    arctan,
    asin,
    atan,
    atan2,
    ceil,
    clamp,
    clamp_max,
    clamp_min,
    clip,
    cos,
    cosh,
    div,
    exp,
    expm1,
    fix,
    floor,
    floor_divide,
    fmod,
    frac,
    lerp,
    log,
    log1p,
    log2,
    log10,
    maximum,
    minimum,
    mul,
    neg,
    negative,
    pow,  # noqa: A004
    reciprocal,
    relu,
    remainder,
    round,  # noqa: A004
    rsqrt,
    sigmoid,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    sub,
    tan,
    tanh,
    true_divide,
    trunc,
)
from .ops.elementwise_binary import (
    copysign,
    float_power,
    fmax,
    fmin,
    heaviside,
    hypot,
    ldexp,
    logaddexp,
    logaddexp2,
    nextafter,
)
from .ops.elementwise_float import (
    acosh,
    arccosh,
    arcsinh,
    arctanh,
    asinh,
    atanh,
    deg2rad,
    frexp,
    nan_to_num,
    positive,
    rad2deg,
)
from .ops.elementwise_more_methods import (
    acosh_,
    arccosh_,
    arcsinh_,
    arctanh_,
    asinh_,
    atanh_,
    deg2rad_,
    gcd_,
    lcm_,
    ldexp_,
    nan_to_num_,
    rad2deg_,
)
from .ops.index_ops import (
    index_add,
    index_copy,
    index_fill,
    index_put,
    index_put_,
    index_reduce,
    masked_scatter,
    nonzero_static,
    put,
    scatter_reduce,
    take_along_dim,
    unravel_index,
)
from .ops.indexing import (
    argwhere,
    gather,
    index_select,
    masked_fill,
    masked_select,
    nonzero,
    scatter,
    scatter_add,
    take,
    where,
)
from .ops.inplace_forms import (
    abs_,
    acos_,
    arccos_,
    arcsin_,
    arctan_,
    asin_,
    atan_,
    ceil_,
    clamp_,
    clamp_max_,
    clamp_min_,
    clip_,
    conj_physical_,
    cos_,
    cosh_,
    exp_,
    expm1_,
    fix_,
    floor_,
    frac_,
    log1p_,
    log2_,
    log10_,
    log_,
    neg_,
    negative_,
    reciprocal_,
    relu_,
    round_,
    rsqrt_,
    sigmoid_,
    sin_,
    sinh_,
    sqrt_,
    square_,
    tan_,
    tanh_,
    trunc_,
)
from .ops.integer import bitwise_left_shift, bitwise_not, bitwise_right_shift, gcd, hash_tensor, isin, lcm
from .ops.linalg import (
    addbmm,
    addmm,
    addmv,
    addmv_,
    addr,
    baddbmm,
    bmm,
    dot,
    einsum,
    ger,
    inner,
    matmul,
    mm,
    mv,
    outer,
    tensordot,
    vdot,
)
from .ops.matrix import (
    block_diag,
    diag,
    diag_embed,
    diagflat,
    diagonal_scatter,
    kron,
    select_scatter,
    slice_scatter,
    trace,
    tril,
    tril_indices,
    triu,
    triu_indices,
    vander,
)
from .ops.reduction import (
    all,  # noqa: A004
    amax,
    amin,
    any,  # noqa: A004
    argmax,
    argmin,
    count_nonzero,
    logsumexp,
    max,  # noqa: A004
    mean,
    min,  # noqa: A004
    norm,
    prod,
    std,
    std_mean,
    sum,  # noqa: A004
    var,
    var_mean,
)
from .ops.sampling import (
    bernoulli,
    binomial,
    multinomial,
    normal,
    poisson,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
)
from .ops.segment import segment_reduce
from .ops.shape import (
    adjoint,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_shapes,
    broadcast_tensors,
    broadcast_to,
    flatten,
    moveaxis,
    movedim,
    permute,
    ravel,
    reshape,
    squeeze,
    swapaxes,
    swapdims,
    t,
    transpose,
    unflatten,
    unsqueeze,
)
from .ops.softmax import log_softmax, softmax
from .ops.sorting import argsort, bucketize, kthvalue, msort, searchsorted, sort, topk, unique, unique_consecutive
from .ops.statistics import (
    aminmax,
    bincount,
    corrcoef,
    cov,
    histc,
    histogram,
    histogramdd,
    median,
    mode,
    nanmean,
    nanmedian,
    nanquantile,
    nansum,
    quantile,
)
from .ops.storage import TypedStorage, UntypedStorage
from .ops.strided import as_strided, as_strided_, as_strided_scatter, diagonal, empty_permuted, empty_strided
from .ops.tensor import Tensor
from .plugins import _functions as _plugin_functions
from .plugins._modules import install_finder as _install_finder
from .plugins._modules import provided_module as _provided_module
from .runtime import (
    are_deterministic_algorithms_enabled,
    from_dlpack,
    get_deterministic_debug_mode,
    get_device_module,
    get_float32_matmul_precision,
    init_num_threads,
    is_deterministic_algorithms_warn_only_enabled,
    is_storage,
    is_warn_always_enabled,
    set_anomaly_enabled,
    set_default_tensor_type,
    set_deterministic_debug_mode,
    set_float32_matmul_precision,
    set_flush_denormal,
    set_warn_always,
    to_dlpack,
    use_deterministic_algorithms,
)

__version__ = "0.1.0"

_LAZY_SUBMODULES = {"nn", "optim", "utils", "plugins", "kernels", "cuda", "hooks", "autograd",
                    "backends", "return_types", "cli", "serialization", "errors", "ops", "cpu", "amp", "compat",
                    "accelerator"}
_install_finder()  # serves plugin namespaces: lamina.testing, lamina.utils.data, ...
_plugin_functions.serve(sys.modules[__name__], Tensor)  # plugins' Tensor methods (x.erfinv()), loaded at first use


def is_tensor(obj: Any) -> builtins.bool:
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> builtins.bool:
    return input.is_floating_point()


def numel(input: Tensor) -> int:
    return input.numel()


def __getattr__(name: str) -> Any:
    served = _plugin_functions._functions.get(name)  # a plugin function already resolved (lamina.erf)
    if served is not None:
        return served
    if name in _LAZY_SUBMODULES:
        import importlib

        mod = importlib.import_module(f".{name}", __name__)
        globals()[name] = mod
        return mod
    if name.endswith("Tensor") and name != "Tensor":
        from .ops.legacy import LEGACY_TYPES

        if name in LEGACY_TYPES:  # lamina.FloatTensor(2, 3), isinstance(x, lamina.LongTensor)
            return LEGACY_TYPES[name]
    if name == "autocast":
        from .amp import autocast

        return autocast
    if name in ("hookimpl", "hookspec"):
        from . import hooks

        return getattr(hooks, name)
    if name in ("save", "load"):
        from . import serialization

        return getattr(serialization, name)
    if name in ("compile", "cond", "while_loop"):
        from . import _compile

        return getattr(_compile, name)
    if name == "_assert":
        from .runtime import _assert

        return _assert
    if name == "typename":
        from .nn.module import typename

        return typename
    if name == "summary":
        from .utils.summary import summary

        return summary
    module = _provided_module(__name__, name)  # a plugin's namespace (lamina.testing), imported now
    if module is not None:
        return module
    return _plugin_functions.function(name)  # a plugin's function (lamina.erfinv), or AttributeError


def __dir__() -> list[str]:
    from .plugins import _registry

    return sorted(set(globals()) | _LAZY_SUBMODULES | set(_registry.names(_plugin_functions.FUNCTIONS)))
