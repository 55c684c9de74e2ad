"""``lamina.jit``: torch.jit's API as a faithful pass-through.

lamina has no TorchScript compiler, so nothing is ever compiled: ``script(obj)`` returns ``obj``
itself (a function, a module, a class), and ``trace(func, example_inputs)`` runs ``func`` once on
the example inputs (with :func:`is_tracing` true inside that run), checks what torch's tracer
checks (inputs and outputs are tensors or nested tuples/lists/dicts of tensors) and returns
``func`` itself. A program that works under ``torch.jit`` therefore computes exactly what it
computes without the JIT, which is what torch itself does under ``PYTORCH_JIT=0``.

The decorators (``ignore``, ``unused``, ``export``, ``interface``, ``script_method``,
``script_if_tracing``) return what they decorate; ``Attribute(value, type)`` and ``annotate(type,
value)`` return the value; :func:`is_scripting` is always False. What needs a compiled program
(``save``, ``load``, ``freeze``, ``optimize_for_inference``, ``ScriptModule`` objects) raises
``NotImplementedError`` naming the torch function and what to use instead (``lamina.save`` of a
``state_dict``), see :mod:`lamina_jit._unsupported`.
"""

from __future__ import annotations

import builtins
import contextlib
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any, Final, TypeVar

import lamina

from ._types import Error, Future, TracerWarning, TracingCheckError, isinstance
from ._unsupported import (
    CompilationUnit,
    RecursiveScriptClass,
    RecursiveScriptModule,
    ScriptFunction,
    ScriptModule,
    ScriptWarning,
    TopLevelTracedModule,
    TracedModule,
    export_opnames,
    freeze,
    jit_module_from_flatbuffer,
    last_executed_optimized_graph,
    load,
    optimize_for_inference,
    run_frozen_optimizations,
    save,
    save_jit_module_to_flatbuffer,
)

__lamina_plugin_api__ = "1.0"

__all__ = ["Attribute", "CompilationUnit", "Error", "Final", "Future", "RecursiveScriptClass", "RecursiveScriptModule",
           "ScriptFunction", "ScriptModule", "ScriptWarning", "TopLevelTracedModule", "TracedModule", "TracerWarning",
           "TracingCheckError", "annotate", "enable_onednn_fusion", "export", "export_opnames", "fork", "freeze",
           "fuser", "ignore", "interface", "is_scripting", "is_tracing", "isinstance", "jit_module_from_flatbuffer",
           "last_executed_optimized_graph", "load", "onednn_fusion_enabled", "optimize_for_inference",
           "optimized_execution", "run_frozen_optimizations", "save", "save_jit_module_to_flatbuffer", "script",
           "script_if_tracing", "script_method", "set_fusion_strategy", "strict_fusion", "trace", "trace_module",
           "unused", "wait"]

_T = TypeVar("_T")
_state = threading.local()  # .tracing: how many trace() runs are under way in this thread


# --- scripting: the identity ---------------------------------------------------------------------
def script(obj: Any, optimize: None = None, _frames_up: int = 0, _rcb: Callable[[str], Any] | None = None,
           example_inputs: list[tuple] | dict[Callable, list[tuple]] | None = None) -> Any:
    """Return ``obj`` itself (a function, a module or a class; also usable as a decorator)."""
    _deprecated("script")
    if optimize is not None:
        warnings.warn("`optimize` is deprecated and has no effect. Use `with lamina.jit.optimized_execution()` "
                      "instead", FutureWarning, stacklevel=2)
    return obj


def script_method(fn: _T) -> _T:
    """Return ``fn`` itself (the decorator of methods of the old ``ScriptModule`` subclasses)."""
    return fn


def script_if_tracing(fn: _T) -> _T:
    """Return ``fn`` itself: scripting it under tracing would change nothing here."""
    return fn


def is_scripting() -> bool:
    """False: no lamina code ever runs as TorchScript."""
    return False


def is_tracing() -> bool:
    """True only while :func:`trace` or :func:`trace_module` runs the traced function."""
    return getattr(_state, "tracing", 0) > 0


# --- decorators and annotations: pass-throughs ----------------------------------------------------
def ignore(drop: Any = False, **kwargs: Any) -> Any:
    """``@ignore`` and ``@ignore(drop=True)``: return the function itself."""
    if callable(drop):  # used bare: @ignore
        return drop
    if not builtins.isinstance(drop, bool):
        raise RuntimeError(f"Argument to @lamina.jit.ignore must be a bool or a function but got {drop!r}")
    return lambda fn: fn


def unused(fn: _T) -> _T:
    """Return ``fn`` itself."""
    return fn


def export(fn: _T) -> _T:
    """Return ``fn`` itself."""
    return fn


def interface(obj: _T) -> _T:
    """Return the class itself."""
    if not builtins.isinstance(obj, type):
        raise RuntimeError("interface must be applied to a class")
    return obj


def Attribute(value: Any, type: Any) -> Any:  # noqa: N802 - torch's name
    """Return ``value``: the type annotation only matters to a compiler."""
    return value


def annotate(the_type: Any, the_value: Any) -> Any:
    """Return ``the_value``."""
    return the_value


def fork(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
    """Run ``func(*args, **kwargs)`` now and return a completed :class:`Future` holding its result."""
    fut = Future()
    fut.set_result(func(*args, **kwargs))
    return fut


def wait(future: Future) -> Any:
    """The value of a :func:`fork` result."""
    return future.wait()


# --- fusion settings: accepted, nothing is fused by a JIT -------------------------------------------
_fusion = {"onednn": False, "strategy": [("STATIC", 2), ("DYNAMIC", 10)]}


def enable_onednn_fusion(enabled: bool) -> None:
    _fusion["onednn"] = bool(enabled)


def onednn_fusion_enabled() -> bool:
    return _fusion["onednn"]


def set_fusion_strategy(strategy: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Record ``strategy`` (a list of ("STATIC" | "DYNAMIC", depth)) and return the previous one."""
    for kind, _depth in strategy:
        if kind not in ("STATIC", "DYNAMIC"):
            raise RuntimeError(f"set_fusion_strategy: expected 'STATIC' or 'DYNAMIC', got {kind!r}")
    previous, _fusion["strategy"] = _fusion["strategy"], list(strategy)
    return previous


class strict_fusion:  # noqa: N801 - torch's name
    """A no-op context manager outside TorchScript (as torch's, which warns there)."""

    def __init__(self) -> None:
        warnings.warn("Only works in script mode", stacklevel=2)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


@contextlib.contextmanager
def optimized_execution(should_optimize: bool) -> Iterator[None]:
    """Accepted; there is no TorchScript executor to configure."""
    yield


@contextlib.contextmanager
def fuser(name: str) -> Iterator[None]:
    """Accepted for torch's fuser names ("fuser0", "fuser1", "fuser2", "fuser3", "none")."""
    if name not in ("fuser0", "fuser1", "fuser2", "fuser3", "none"):
        raise Exception(f"unrecognized fuser option (name: {name})")  # torch raises a plain Exception
    yield


def _deprecated(name: str) -> None:
    warnings.warn(f"`lamina.jit.{name}` is deprecated, as `torch.jit.{name}` is: switch to `lamina.compile`",
                  DeprecationWarning, stacklevel=3)


# --- tracing: run once, check, return the function itself ------------------------------------------
@contextlib.contextmanager
def _tracing() -> Iterator[None]:
    _state.tracing = getattr(_state, "tracing", 0) + 1
    try:
        yield
    finally:
        _state.tracing -= 1


def _type_name(v: Any) -> str:
    if lamina.is_tensor(v):
        return "Tensor"
    if type(v) is tuple:
        return "Tuple[" + ", ".join(map(_type_name, v)) + "]"
    if type(v) is list:
        return f"List[{_type_name(v[0]) if v else 'Tensor'}]"
    if type(v) is dict:
        k, x = next(iter(v.items())) if v else ("", None)
        return f"Dict[{_type_name(k) if v else 'str'}, {_type_name(x) if v else 'Tensor'}]"
    return "NoneType" if v is None else type(v).__name__


def _only_tensors(v: Any) -> bool:
    if lamina.is_tensor(v):
        return True
    if type(v) in (tuple, list) or (builtins.isinstance(v, tuple) and hasattr(v, "_fields")):
        return all(map(_only_tensors, v))
    if type(v) is dict:
        return all(map(_only_tensors, v.values()))
    return False


def _as_args(example_inputs: Any) -> tuple:
    if lamina.is_tensor(example_inputs) or type(example_inputs) is dict:
        return (example_inputs,)
    return example_inputs if type(example_inputs) is tuple else tuple(example_inputs)


def _run_traced(fn: Callable[..., Any], args: Any, strict: bool, as_kwargs: bool) -> None:
    if as_kwargs:
        bad = {k: v for k, v in args.items() if not _only_tensors(v)}
        if bad:
            raise RuntimeError(f"Type '{_type_name(bad)}' cannot be traced: trace takes only Tensors and (possibly "
                               "nested) Lists, Dicts and Tuples of Tensors")
        with _tracing():
            out = fn(**args)
    else:
        args = _as_args(args)
        if not _only_tensors(args):
            raise RuntimeError(f"Type '{_type_name(args)}' cannot be traced: trace takes only Tensors and (possibly "
                               "nested) Lists, Dicts and Tuples of Tensors")
        with _tracing():
            out = fn(*args)
    if out is None:
        raise RuntimeError("The traced function didn't return any values! A trace records only what a function "
                           "returns, so a function run for its side effects traces to nothing")
    if not _only_tensors(out):
        raise RuntimeError("Only tensors, lists, tuples of tensors, or dictionary of tensors can be output from "
                           f"traced functions (got {_type_name(out)})")
    if strict:
        kinds = _containers(out)
        if "dict" in kinds or "list" in kinds:
            kind = "dict" if "dict" in kinds else "list"
            message = (f"Encountering a {kind} at the output of the tracer: a traced {kind} is right only if its "
                       "structure never depends on the inputs; return a tuple (or a NamedTuple) instead, or pass "
                       "strict=False to trace() if the structure is constant")
            if kind == "dict":
                raise RuntimeError(message)
            warnings.warn(message, TracerWarning, stacklevel=4)


def _containers(v: Any) -> set[str]:
    """The kinds of mutable containers (``"list"``, ``"dict"``) anywhere in an output."""
    if type(v) is dict:
        return {"dict"}.union(*map(_containers, v.values()))
    if type(v) is list:
        return {"list"}.union(*map(_containers, v))
    if builtins.isinstance(v, tuple):
        return set().union(*map(_containers, v))
    return set()


def trace(func: Any, example_inputs: Any = None, optimize: None = None, check_trace: bool = True,
          check_inputs: list | None = None, check_tolerance: float = 1e-5, strict: bool = True,
          _force_outplace: bool = False, _module_class: Any = None, _compilation_unit: Any = None,
          example_kwarg_inputs: dict[str, Any] | None = None, _store_inputs: bool = True) -> Any:
    """Run ``func`` on ``example_inputs`` (and on each of ``check_inputs``) once, under :func:`is_tracing`,
    and return ``func`` itself: a module, its bound ``forward`` (the module is returned) or a function.

    Raises RuntimeError where torch's tracer does: inputs or outputs that are not tensors (or nested tuples,
    lists, dicts of them), a function that returns nothing, a dict output under ``strict=True``.
    """
    _deprecated("trace")
    if builtins.isinstance(func, lamina.nn.Module) or (
            builtins.isinstance(getattr(func, "__self__", None), lamina.nn.Module)
            and getattr(func, "__name__", None) == "forward"):
        mod = func if builtins.isinstance(func, lamina.nn.Module) else func.__self__
        if example_inputs is None:
            if type(example_kwarg_inputs) is not dict:
                raise RuntimeError("example_kwarg_inputs should be a dict")
            example_inputs = example_kwarg_inputs
        return trace_module(mod, {"forward": example_inputs}, None, check_trace,
                            None if check_inputs is None else [{"forward": c} for c in check_inputs],
                            check_tolerance, strict, example_inputs_is_kwarg=type(example_kwarg_inputs) is dict)
    if builtins.isinstance(getattr(func, "__self__", None), lamina.nn.Module):
        raise AttributeError("trace doesn't support compiling individual module's functions.\n"
                             "Please use trace_module")
    as_kwargs = type(example_kwarg_inputs) is dict
    _run_traced(func, example_kwarg_inputs if as_kwargs else example_inputs, strict, as_kwargs)
    if check_trace and check_inputs is not None:
        for inputs in check_inputs:
            _run_traced(func, inputs, strict, type(inputs) is dict and as_kwargs)
    return func


def trace_module(mod: Any, inputs: dict[str, Any], optimize: None = None, check_trace: bool = True,
                 check_inputs: list[dict[str, Any]] | None = None, check_tolerance: float = 1e-5,
                 strict: bool = True, _force_outplace: bool = False, _module_class: Any = None,
                 _compilation_unit: Any = None, example_inputs_is_kwarg: bool = False,
                 _store_inputs: bool = True) -> Any:
    """Run each ``inputs[method_name]`` through that method of ``mod`` (``"forward"``: through ``mod(...)``, so
    its hooks run) once, under :func:`is_tracing`, and return ``mod`` itself."""
    if not builtins.isinstance(mod, lamina.nn.Module):
        raise AttributeError("expected lamina.nn.Module as the first argument")
    if type(inputs) is not dict:
        raise AttributeError("expected a dictionary of (method_name, input) pairs")
    for group in [inputs] + (list(check_inputs) if check_trace and check_inputs else []):
        for method_name, example in group.items():
            fn = mod if method_name == "forward" else getattr(mod, method_name)
            _run_traced(fn, example, strict, example_inputs_is_kwarg and type(example) is dict)
    return mod

