"""``lamina.compile``, ``lamina.cond`` and ``lamina.while_loop``: torch's compilation and control-flow entry
points as faithful eager pass-throughs.

lamina runs every program eagerly, so ``compile`` changes no result: a module comes back wrapped as
torch wraps it (``OptimizedModule`` with the original under ``_orig_mod``, so state_dict keys carry
torch's ``_orig_mod.`` prefix), a function comes back wrapped, and arguments are validated as torch
does. A named ``backend`` other than torch's built-in ones is looked up in the entry-point group
``lamina.compilers``: a plugin's ``compile(model, **options)`` may return a faster callable.
``cond`` and ``while_loop`` run their branches and loop in Python, which is what torch does eagerly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from .nn import Module

_BACKENDS = ("inductor", "eager", "aot_eager", "cudagraphs")
_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


def _backend(backend: Any) -> Callable[..., Any] | None:
    """A plugin's compiler for ``backend``, or None for the built-in names (run eagerly)."""
    if backend is None or backend in _BACKENDS:
        return None
    if callable(backend):
        raise NotImplementedError("lamina.compile: a callable backend receives torch.fx graphs, which lamina does "
                                  "not build; pass a backend name (or register one in 'lamina.compilers')")
    from .plugins import resolve

    return resolve("lamina.compilers", str(backend))


def compile(model: Any = None, *, fullgraph: bool = False, dynamic: bool | None = None, backend: Any = "inductor",
            mode: str | None = None, options: dict | None = None, name: str | None = None, disable: bool = False,
            **kwargs: Any) -> Any:
    """``model`` (a Module or a function) prepared to run; as a decorator with or without arguments."""
    if mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(m for m in _MODES if m)}")
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if model is None:
        return lambda m: compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                 options=options, name=name, disable=disable, **kwargs)
    if not callable(model):
        raise RuntimeError(f"compile: expected a Module or a function, got {type(model).__name__}")
    compiler = None if disable else _backend(backend)
    target = compiler(model, **(options or {})) if compiler is not None else model
    if isinstance(model, Module):
        return OptimizedModule(model, target)

    @functools.wraps(model)
    def compiled(*args: Any, **kw: Any) -> Any:
        return target(*args, **kw)

    return compiled


class OptimizedModule(Module):
    """What ``compile`` returns for a module: it runs the original, held as ``_orig_mod``."""

    def __init__(self, mod: Module, run: Callable[..., Any]) -> None:
        super().__init__()
        self._orig_mod = mod
        object.__setattr__(self, "_run", run)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._run(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["_orig_mod"], name)


def cond(pred: Any, true_fn: Callable[..., Any], false_fn: Callable[..., Any], operands: Sequence = ()) -> Any:
    """``true_fn(*operands)`` if ``pred`` (a bool or a one-element tensor) else ``false_fn(*operands)``."""
    if not isinstance(operands, (tuple, list)):
        raise RuntimeError(f"cond: expected operands to be a tuple or list, got {type(operands).__name__}")
    if hasattr(pred, "numel") and pred.numel() != 1:
        raise RuntimeError(f"cond: expected pred to be a bool or a tensor with a single item, got a tensor of shape "
                           f"{list(pred.shape)}")
    return (true_fn if bool(pred) else false_fn)(*operands)


def while_loop(cond_fn: Callable[..., Any], body_fn: Callable[..., Any], carried_inputs: Sequence) -> Any:
    """Run ``carried = body_fn(*carried)`` while ``cond_fn(*carried)``; return the final carried values."""
    if not isinstance(carried_inputs, (tuple, list)):
        raise RuntimeError(f"while_loop: expected carried_inputs to be a tuple or list, got "
                           f"{type(carried_inputs).__name__}")
    carried = tuple(carried_inputs)
    while bool(cond_fn(*carried)):
        out = body_fn(*carried)
        carried = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        if len(carried) != len(carried_inputs):
            raise RuntimeError(f"while_loop: body_fn returned {len(carried)} values, expected "
                               f"{len(carried_inputs)} (one per carried input)")
    return carried
