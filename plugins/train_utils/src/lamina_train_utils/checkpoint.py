"""``lamina.utils.checkpoint``: activation checkpointing.

``checkpoint(function, *args)`` runs ``function`` without recording a graph, so none of its
intermediate results stay alive; the result goes through one :class:`lamina.autograd.Function`
node whose inputs are the region's tensor inputs and every grad-requiring tensor the region read
from outside (its parameters, tensors it closes over; seen with ``lamina.autograd.observe_ops``).
That node's backward runs ``function`` again with gradients on (under the RNG state of the first
run when ``preserve_rng_state``, so dropout draws the same mask) and differentiates the recomputed
result, handing each outside tensor its gradient through the ordinary engine.

Both of torch's variants are served by this one mechanism; ``use_reentrant`` selects torch's
argument rules (``use_reentrant=True``: no keyword arguments, no ``context_fn``/``debug``, a
warning and no graph when no input requires grad). Unlike torch's reentrant variant, either
variant works with ``lamina.autograd.grad``.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import lamina
from lamina import Tensor
from lamina.autograd import Function, observe_ops

__lamina_plugin_api__ = "1.0"

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "check_backward_validity", "detach_variable",
           "noop_context_fn", "set_checkpoint_early_stop", "set_checkpoint_debug_enabled", "DefaultDeviceType"]

_DETERMINISM_CHECKS = ("default", "none")


class CheckpointError(RuntimeError):
    """The recomputation of a checkpointed region did not reproduce its first run."""


def noop_context_fn() -> tuple[contextlib.AbstractContextManager, contextlib.AbstractContextManager]:
    """The default ``context_fn``: no context around the forward nor the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool) -> Iterator[None]:
    """Accepted: lamina always recomputes the whole region, which gives the same gradients; torch's early stop
    only saves the work after the last tensor backward needs."""
    yield


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled: bool | None) -> Iterator[None]:
    """Only ``None``/``False`` (the default): lamina has no operator trace to add to checkpoint errors."""
    if enabled:
        raise NotImplementedError("set_checkpoint_debug_enabled(True): lamina's checkpoint has no debug mode "
                                  "(operator traces of the recomputation)")
    yield


def check_backward_validity(inputs: Iterable[Any]) -> None:
    """Warn when no tensor among ``inputs`` requires grad (the reentrant variant then records no graph)."""
    if not any(t.requires_grad for t in inputs if isinstance(t, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", UserWarning,
                      stacklevel=2)


def detach_variable(inputs: tuple) -> tuple:
    """``inputs`` with each tensor replaced by a detached one that keeps its ``requires_grad``."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    out = []
    for t in inputs:
        if isinstance(t, Tensor):
            d = t.detach()
            d.requires_grad = t.requires_grad
            t = d
        out.append(t)
    return tuple(out)


class DefaultDeviceType:
    """The device type whose RNG state a checkpoint saves when no input is on an accelerator."""

    _default_device_type: str | None = None

    @staticmethod
    def set_device_type(device: str = "cuda") -> None:
        DefaultDeviceType._default_device_type = device

    @staticmethod
    def get_device_type() -> str:
        if not DefaultDeviceType._default_device_type:
            DefaultDeviceType._default_device_type = "cuda" if lamina.cuda.is_available() else "cpu"
        return DefaultDeviceType._default_device_type


class _Region:
    """What the node keeps: the function, its arguments and the RNG state of the first run."""

    __slots__ = ("function", "args", "kwargs", "tensor_pos", "n_in", "n_captured", "rng", "recompute_ctx",
                 "check", "meta", "inputs", "captured")


def _recompute_outputs(region: _Region, inputs: list) -> Any:
    args = list(region.args)
    kwargs = dict(region.kwargs)
    for (where, key), t in zip(region.tensor_pos, inputs):
        if where == "a":
            args[key] = t
        else:
            kwargs[key] = t
    return region.function(*args, **kwargs)


class CheckpointFunction(Function):
    """(region, *inputs, *captured, *outputs) -> outputs; backward recomputes the region."""

    @staticmethod
    def forward(ctx, region, *arrays):
        ctx.set_materialize_grads(False)
        ctx.region = region
        # the region's inputs, for torch's version check (its parameters are not checked: torch's aren't either)
        # and so that a second backward without retain_graph fails as torch's does
        ctx.save_for_backward(*arrays[:region.n_in])
        return tuple(arrays[region.n_in + region.n_captured:])

    @staticmethod
    def backward(ctx, *grads):
        _ = ctx.saved_tensors  # raises when an input changed in place since the forward, or on a second backward
        region = ctx.region
        captured = region.captured
        graph = any(isinstance(g, Tensor) for g in grads)
        originals = region.inputs
        if graph:  # double backward: the recomputed graph must reach the original inputs
            inputs = list(originals)
        else:
            inputs = []
            for t in originals:
                d = t.detach()
                inputs.append(d.requires_grad_(t.requires_grad) if t.is_floating_point() or t.is_complex() else d)
        if region.rng is not None:
            now = lamina.get_rng_state()
            lamina.set_rng_state(region.rng)
        try:
            with lamina.enable_grad(), region.recompute_ctx:
                out = _recompute_outputs(region, inputs)
        finally:
            if region.rng is not None:
                lamina.set_rng_state(now)
        outs = _tensors_of(out)
        if region.check:
            meta = [(tuple(o.shape), o.dtype) for o in outs]
            if meta != region.meta:
                raise CheckpointError("torch.utils.checkpoint: the recomputed region returned tensors of shapes and "
                                      f"dtypes {meta}, its first run {region.meta}; the checkpointed function "
                                      "must compute the same thing both times")
        roots, root_grads = [], []
        for o, g in zip(outs, grads):
            if g is None or not o.requires_grad:
                continue
            roots.append(o)
            root_grads.append(g if isinstance(g, Tensor) else lamina.as_tensor(g))
        wrt = [t for t in inputs if t.requires_grad] + [c for c in captured]
        got: list = [None] * len(wrt)
        if roots and wrt:
            # a captured tensor that is not a leaf leads back into the caller's graph, which must stay intact
            retain = graph or any(c.grad_fn is not None for c in captured)
            got = list(lamina.autograd.grad(roots, wrt, root_grads, retain_graph=retain, create_graph=graph,
                                            allow_unused=True))
        it = iter(got)
        in_grads = [next(it) if t.requires_grad else None for t in inputs]
        cap_grads = list(it)
        return (None, *in_grads, *cap_grads, *([None] * len(outs)))


def _tensors_of(out: Any) -> list:
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [o for o in out if isinstance(o, Tensor)]
    return []


def _rebuild(out: Any, new: Iterable) -> Any:
    it = iter(new)
    if isinstance(out, Tensor):
        return next(it)
    if isinstance(out, (tuple, list)):
        items = [next(it) if isinstance(o, Tensor) else o for o in out]
        return tuple(items) if isinstance(out, tuple) else items
    return out


def checkpoint(function: Callable[..., Any], *args: Any, use_reentrant: bool | None = None,
               context_fn: Callable[[], tuple[Any, Any]] = noop_context_fn, determinism_check: str = "default",
               debug: bool = False, early_stop: bool = True, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``, keeping only its inputs for backward, which recomputes it."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: pass the use_reentrant parameter explicitly (since PyTorch 2.9 "
                      "leaving it out is scheduled to become an error); use_reentrant=False is recommended, "
                      "use_reentrant=True keeps the current default.", UserWarning, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        check = False
    else:
        if debug:
            raise NotImplementedError("checkpoint(debug=True): lamina's checkpoint has no debug mode (operator "
                                      "traces of the recomputation)")
        if determinism_check not in _DETERMINISM_CHECKS:
            raise ValueError(f"determinism_check should be one of {list(_DETERMINISM_CHECKS)}, "
                             f"but got {determinism_check}")
        check = determinism_check == "default"
    tensor_pos = [("a", i) for i, a in enumerate(args) if isinstance(a, Tensor)]
    tensor_pos += [("k", k) for k, v in kwargs.items() if isinstance(v, Tensor)]
    inputs = [args[i] if w == "a" else kwargs[i] for w, i in tensor_pos]
    if use_reentrant and not any(t.requires_grad for t in inputs):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", UserWarning,
                      stacklevel=2)  # (check_backward_validity's warning, here pointing at the caller)
    forward_ctx, recompute_ctx = context_fn()
    rng = lamina.get_rng_state() if preserve else None
    input_ids = {id(t) for t in inputs}
    captured: dict[int, Tensor] = {}

    def note(op, op_args, op_kwargs, result):
        for a in (*op_args, *op_kwargs.values()):
            if isinstance(a, Tensor) and a.requires_grad and id(a) not in input_ids:
                captured.setdefault(id(a), a)
            elif isinstance(a, (tuple, list)):
                for b in a:
                    if isinstance(b, Tensor) and b.requires_grad and id(b) not in input_ids:
                        captured.setdefault(id(b), b)

    with lamina.no_grad(), forward_ctx, observe_ops(note):
        out = function(*args, **kwargs)
    outs = _tensors_of(out)
    if not lamina.is_grad_enabled() or not outs:
        return out
    caps = list(captured.values())
    if use_reentrant and not any(t.requires_grad for t in inputs):
        return out
    if not any(t.requires_grad for t in inputs) and not caps:
        return out
    outs = [o.clone() if id(o) in input_ids else o for o in outs]  # an input handed back: a new tensor
    region = _Region()
    region.function, region.args, region.kwargs = function, args, kwargs
    region.tensor_pos, region.n_in, region.n_captured = tensor_pos, len(inputs), len(caps)
    region.rng, region.recompute_ctx, region.check = rng, recompute_ctx, check
    region.meta = [(tuple(o.shape), o.dtype) for o in outs]
    region.inputs, region.captured = inputs, caps
    # the node's inputs: the region's tensor arguments, the outside tensors it read, its results
    new = CheckpointFunction.apply(region, *inputs, *caps, *outs)
    region.args = tuple(None if isinstance(a, Tensor) else a for a in args)
    region.kwargs = {k: (None if isinstance(v, Tensor) else v) for k, v in kwargs.items()}
    return _rebuild(out, new)


def _run_segment(start: int, end: int, functions: list) -> Callable[[Any], Any]:
    def forward(x):
        for j in range(start, end + 1):
            x = functions[j](x)
        return x

    return forward


def checkpoint_sequential(functions: Any, segments: int, input: Any, use_reentrant: bool | None = None,
                          **kwargs: Any) -> Any:
    """Run ``functions`` (a list, or an ``nn.Sequential``'s children) in ``segments`` chunks, each but the last
    checkpointed."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: pass the use_reentrant parameter explicitly "
                      "(since PyTorch 2.9 leaving it out is scheduled to become an error); use_reentrant=False is "
                      "recommended, use_reentrant=True keeps the current default.", UserWarning, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if isinstance(functions, lamina.nn.Sequential):
        functions = list(functions.children())
    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(_run_segment(start, end, functions), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return _run_segment(end + 1, len(functions) - 1, functions)(input)
