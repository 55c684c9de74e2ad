"""What every op of lamina-special shares: argument checks, torch's type promotion, the scipy call,
``out=`` and in-place handling, and the Function bases whose backward is written with lamina ops.

The values come from ``scipy.special`` on the host, so every op is CPU-only and says so for a tensor
on another device. scipy is called on float64 copies and the result is rounded back to the input's
dtype (float32 in, float32 out); float16 follows the same path.

Backward formulas are plain functions of Tensors (``dy``, the saved input ``x``, the output ``y``),
built from lamina ops and this plugin's own functions: on the first backward they run on detached
tensors under ``no_grad``; under ``create_graph=True`` the engine hands the saved Tensors with their
history, so the same formula gives double backward.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import lamina
import numpy as np
from lamina import Tensor
from lamina.autograd import Function

from . import __lamina_plugin_api__  # noqa: F401

Number = (int, float, bool)


# --- arguments and dtypes -------------------------------------------------------------------------
def check_tensor(name: str, x: Any, arg: str = "input", position: int = 1) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, not {type(x).__name__}")
    return x


def check_cpu(name: str, *xs: Any) -> None:
    for x in xs:
        if isinstance(x, Tensor) and x.device.type != "cpu":
            raise RuntimeError(f"{name}: lamina-special computes with scipy.special on the CPU only, got a tensor on "
                               f"{x.device}; move it with .cpu() first")


def dtype_label(dt: Any) -> str:
    names = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
             "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool", "complex64": "ComplexFloat",
             "complex128": "ComplexDouble"}
    s = str(dt).replace("lamina.", "")
    return names.get(s, s)


def _reject_complex(name: str, x: Tensor) -> None:
    if x.is_complex():
        raise NotImplementedError(f'"{name}" not implemented for \'{dtype_label(x.dtype)}\'')


def float_dtype(name: str, x: Tensor) -> Any:
    """The result dtype of a unary op: a floating input keeps its dtype, others give the default dtype."""
    _reject_complex(name, x)
    return x.dtype if x.is_floating_point() else lamina.get_default_dtype()


def promote_float(name: str, *operands: Any) -> Any:
    """torch's result type of ``operands`` (tensors and Python numbers), made floating.

    A floating dtype that only a Python float brings gives the default dtype; among tensors,
    dimensioned ones take precedence over 0-d ones of the same category.
    """
    floats: list[tuple[int, Any]] = []
    for o in operands:
        if isinstance(o, Tensor):
            _reject_complex(name, o)
            if o.is_floating_point():
                floats.append((1 if o.dim() else 0, o.dtype))
    if not floats:
        return lamina.get_default_dtype()
    top = max(p for p, _ in floats)
    return max((d for p, d in floats if p == top), key=lambda d: d.itemsize)


def to_float(x: Any, dtype: Any) -> Tensor:
    """A tensor operand cast to ``dtype`` (differentiably), a Python number as a 0-d tensor."""
    if isinstance(x, Tensor):
        return x if x.dtype == dtype else x.to(dtype)
    return lamina.tensor(float(x), dtype=dtype)


#: torch's CPU kernels without a float16 version (they raise NotImplementedError for Half)
NO_HALF = frozenset("""
    airy_ai bessel_j0 bessel_j1 bessel_y0 bessel_y1 erfcx log_ndtr ndtri modified_bessel_i0 modified_bessel_i1
    modified_bessel_k0 modified_bessel_k1 scaled_modified_bessel_k0 scaled_modified_bessel_k1 spherical_bessel_j0
    zeta chebyshev_polynomial_t chebyshev_polynomial_u chebyshev_polynomial_v chebyshev_polynomial_w
    shifted_chebyshev_polynomial_t shifted_chebyshev_polynomial_u shifted_chebyshev_polynomial_v
    shifted_chebyshev_polynomial_w hermite_polynomial_h hermite_polynomial_he laguerre_polynomial_l
    legendre_polynomial_p""".split())


def check_half(name: str, dtype: Any) -> None:
    base = name.removeprefix("special_")
    if base in NO_HALF and str(dtype).endswith("float16"):
        raise NotImplementedError(f'"{base}_cpu" not implemented for \'Half\'')


def unary_input(name: str, x: Any) -> Tensor:
    """Check a unary op's input and cast it to its result dtype."""
    check_tensor(name, x)
    check_cpu(name, x)
    dtype = float_dtype(name, x)
    check_half(name, dtype)
    return to_float(x, dtype)


# --- the scipy call -------------------------------------------------------------------------------
def host_call(fn: Callable[..., Any], dtype: Any, *arrays: Any) -> np.ndarray:
    """``fn`` on float64 copies of ``arrays``, rounded to ``dtype`` (floating-point warnings off: torch
    gives inf/NaN silently). A function marked :func:`dtype_aware` also gets ``dtype=``."""
    with np.errstate(all="ignore"):
        x64 = (np.asarray(a, dtype=np.float64) for a in arrays)
        y = fn(*x64, dtype=np.dtype(dtype)) if getattr(fn, "dtype_aware", False) else fn(*x64)
        return np.asarray(y).astype(dtype, copy=False)


def dtype_aware(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a host function that needs the result dtype (to reproduce torch's overflow in that dtype)."""
    fn.dtype_aware = True  # type: ignore[attr-defined]
    return fn


def exp_overflows(x: np.ndarray, dtype: Any) -> np.ndarray:
    """Where exp(|x|) overflows in ``dtype`` for a finite x: torch's exp-scaled kernels (i0, i1) give inf
    there (and NaN at +-inf, as scipy does)."""
    return np.isfinite(x) & (np.abs(x) > float(np.log(np.finfo(dtype).max).astype(dtype)))


def wrap(a: Any) -> Tensor:
    return lamina.from_numpy(np.asarray(a))


def run_grad(formula: Callable[..., Tensor], dy: Any, *saved: Any) -> Any:
    """Evaluate a backward formula: on Tensors in graph mode, else on wrapped arrays without a graph."""
    with np.errstate(all="ignore"):  # torch's derivatives give inf/NaN at the edges silently
        if isinstance(dy, Tensor):
            return formula(dy, *saved)
        with lamina.no_grad():
            g = formula(wrap(dy), *(s if s is None or isinstance(s, (int, float)) else wrap(s) for s in saved))
        return g.array


def in_float64(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """Run a derivative formula in float64 and round to the input's dtype: for the formulas that cancel
    badly in float32 (sinc near 0, log_ndtr far left), where torch's float32 values are noise."""

    def run(dy: Tensor, *ts: Any) -> Tensor:
        up = [t.to(lamina.float64) if isinstance(t, Tensor) and t.is_floating_point() else t for t in ts]
        g = fn(dy.to(lamina.float64), *up)
        return g if g.dtype == dy.dtype else g.to(dy.dtype)

    return run


# --- Function bases -------------------------------------------------------------------------------
class UnaryFn(Function):
    """y = f(x) elementwise with ``f`` from scipy; ``grad(dy, x, y) -> dx`` in lamina ops. x: (*) -> y: (*)"""

    host: Callable[[np.ndarray], np.ndarray]
    grad: Callable[..., Tensor]

    @staticmethod
    def forward(ctx, x):
        y = host_call(type(ctx).host, x.dtype, x)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, dy):
        x, y = ctx.saved_tensors
        return run_grad(type(ctx).grad, dy, x, y)


def unary_op(name: str, host: Callable[[np.ndarray], np.ndarray], grad: Callable[..., Tensor] | None) -> type:
    """A ``UnaryFn`` subclass named ``name`` (grad_fn shows ``<name>Backward``)."""
    cls = type(name, (UnaryFn,), {"host": staticmethod(host), "grad": staticmethod(grad) if grad else None,
                                  "__module__": __name__, "__doc__": f"{name}: elementwise, x: (*) -> y: (*)"})
    return cls


def apply_unary(name: str, op: type | None, host: Callable, x: Any, out: Tensor | None) -> Tensor:
    """The body of a unary public function: check, promote, compute (with a graph when ``op`` has a
    gradient), and write ``out``."""
    x = unary_input(name, x)
    if op is None:  # torch defines no derivative: the result never requires grad
        a = x.detach().numpy()
        y = wrap(host_call(host, a.dtype, a))
    else:
        check_out_grad(name, out, x)
        y = op.apply(x)
    return finish_out(name, y, out)


# --- out= and in-place ---------------------------------------------------------------------------
def _grad_recorded(*xs: Any) -> bool:
    return lamina.is_grad_enabled() and any(isinstance(x, Tensor) and x.requires_grad for x in xs)


def check_out_grad(name: str, out: Tensor | None, *inputs: Any) -> None:
    if out is not None and _grad_recorded(out, *inputs):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad.")


def _check_cast(result: Tensor, target: Tensor) -> None:
    if result.is_floating_point() and not (target.is_floating_point() or target.is_complex()):
        raise RuntimeError(f"result type {dtype_label(result.dtype)} can't be cast to the desired output type "
                           f"{dtype_label(target.dtype)}")


def finish_out(name: str, result: Tensor, out: Tensor | None) -> Tensor:
    """Return ``result``, or write it into ``out`` as torch does (cast to out's dtype, resized with
    torch's deprecation warning when out has elements of another shape) and return ``out``."""
    if out is None:
        return result
    check_tensor(name, out, "out", 2)
    check_cpu(name, out)
    _check_cast(result, out)
    with lamina.no_grad():
        if tuple(out.shape) != tuple(result.shape):
            if out.numel():
                warnings.warn(
                    f"An output with one or more elements was resized since it had shape {list(out.shape)}, which "
                    f"does not match the required output shape {list(result.shape)}. This behavior is deprecated, "
                    "and in a future PyTorch release outputs will not be resized unless they have zero elements. "
                    "You can explicitly reuse an out tensor t by resizing it, inplace, to zero elements with "
                    "t.resize_(0).", UserWarning, stacklevel=3)
            out.data = lamina.empty(tuple(result.shape), dtype=out.dtype)
        out.copy_(result)
    return out


def inplace(name: str, x: Tensor, compute: Callable[[Tensor], Tensor], *others: Any) -> Tensor:
    """``x.<name>()`` in place: ``compute(x)`` gives the out-of-place result, which is written into x.

    With autograd recording (x or one of ``others`` requires grad), ``compute`` sees a clone of x (so
    what backward saves is never overwritten) and x takes the result's history through ``copy_``; a
    leaf that requires grad raises, as in torch.
    """
    check_tensor(name, x)
    check_cpu(name, x)
    _reject_complex(name, x)
    if not x.is_floating_point():
        raise RuntimeError(f"result type {dtype_label(lamina.get_default_dtype())} can't be cast to the desired "
                           f"output type {dtype_label(x.dtype)}")
    if _grad_recorded(x, *others):
        if x.requires_grad and x.is_leaf:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        y = compute(x.clone())
    else:
        y = compute(x)
    if tuple(y.shape) != tuple(x.shape):
        raise RuntimeError(f"output with shape {list(x.shape)} doesn't match the broadcast shape {list(y.shape)}")
    if y.dtype != x.dtype:
        _check_cast(y, x)
        y = y.to(x.dtype)
    if lamina.is_grad_enabled() and y.requires_grad:
        return x.copy_(y)
    with lamina.no_grad():
        return x.copy_(y)


def machine_eps(x: Tensor) -> float:
    """The machine epsilon of a floating tensor's dtype."""
    return float(np.finfo(x.detach().numpy().dtype).eps)


def broadcast_shapes(name: str, *shapes: Sequence[int]) -> tuple[int, ...]:
    n = max((len(s) for s in shapes), default=0)
    out = [1] * n
    for s in shapes:
        for i, d in enumerate((1,) * (n - len(s)) + tuple(s)):
            if d != 1:
                if out[i] != 1 and out[i] != d:
                    raise RuntimeError(f"{name}: The size of tensor a ({out[i]}) must match the size of tensor b "
                                       f"({d}) at non-singleton dimension {i}")
                out[i] = d
    return tuple(out)


class BinaryFn(Function):
    """y = f(a, b) elementwise with broadcasting; ``grads`` holds one formula ``(dy, a, b, y) -> da`` per
    argument, or a message for a derivative torch does not implement (raised by backward only when
    that gradient is wanted). a, b: broadcastable -> y: broadcast shape"""

    host: Callable[[np.ndarray, np.ndarray], np.ndarray]
    grads: tuple[Any, Any]

    @staticmethod
    def forward(ctx, a, b):
        y = host_call(type(ctx).host, a.dtype, a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, dy):
        a, b, y = ctx.saved_tensors
        out = []
        for k, formula in enumerate(type(ctx).grads):
            if not ctx.needs_input_grad[k]:
                out.append(None)
            elif isinstance(formula, str):
                raise NotImplementedError(formula)
            else:
                out.append(run_grad(formula, dy, a, b, y))
        return tuple(out)


def binary_op(name: str, host: Callable, grad_a: Any, grad_b: Any) -> type:
    return type(name, (BinaryFn,), {"host": staticmethod(host), "grads": (grad_a, grad_b), "__module__": __name__,
                                    "__doc__": f"{name}: elementwise, a, b: broadcastable -> y"})


def binary_inputs(name: str, a: Any, b: Any, scalars: bool = True,
                  names: tuple[str, str] = ("input", "other")) -> tuple[Tensor, Tensor]:
    """Check a binary op's operands (one may be a Python number where ``scalars``), promote them to
    torch's floating result type and broadcast-check their shapes."""
    for k, v in enumerate((a, b)):
        if isinstance(v, Tensor):
            continue
        if not scalars or not isinstance(v, Number) or not isinstance(a if k else b, Tensor):
            raise TypeError(f"{name}(): argument '{names[k]}' (position {k + 1}) must be Tensor, not "
                            f"{type(v).__name__}")
    check_cpu(name, a, b)
    dtype = promote_float(name, a, b)
    check_half(name, dtype)
    a, b = to_float(a, dtype), to_float(b, dtype)
    broadcast_shapes(name, tuple(a.shape), tuple(b.shape))
    return a, b


def apply_binary(name: str, op: type, a: Any, b: Any, out: Tensor | None, scalars: bool = True) -> Tensor:
    a, b = binary_inputs(name, a, b, scalars)
    check_out_grad(name, out, a, b)
    return finish_out(name, op.apply(a, b), out)
