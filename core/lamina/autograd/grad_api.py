"""``lamina.autograd.grad``: gradients of outputs with respect to chosen inputs, without touching ``.grad``
(one pass of the engine, or one per row with ``is_grads_batched``)."""

from __future__ import annotations

import warnings
from typing import Any

from .._tensor import Tensor
from .engine import _root_grads, run


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs`` (without touching ``.grad``). ``only_inputs`` is
    accepted and ignored as torch does (a FutureWarning when False); ``is_grads_batched`` takes each
    ``grad_outputs`` entry as a batch (B, *output.shape) and returns each gradient stacked as (B, *input.shape)."""
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to True). To accumulate "
                      "gradient for other parts of the graph, please use torch.autograd.backward.", FutureWarning,
                      stacklevel=2)
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if is_grads_batched:
        return _batched_grad(outputs, inputs, list(grad_outputs), retain_graph, create_graph, allow_unused,
                             materialize_grads)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t._requires_grad:
            raise RuntimeError(f"grad: One of the differentiated Tensors (input {i}) does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    roots = _root_grads(outputs, grad_outputs, create_graph)
    got = run(roots, retain_graph, create_graph, capture=inputs, accumulate=False)
    result = []
    for i, (t, g) in enumerate(zip(inputs, got)):
        if g is None:
            if materialize_grads:
                z = t._device.backend.xp.zeros_like(t._data)
                result.append(Tensor._make(z, t._device))
                continue
            if not allow_unused:
                raise RuntimeError(f"grad: One of the differentiated Tensors (input {i}) appears to not have "
                                   "been used in the graph. Set allow_unused=True if this is the desired behavior.")
            result.append(None)
        elif isinstance(g, Tensor):
            result.append(g)
        else:
            result.append(Tensor._make(g if getattr(g, "base", None) is None else g.copy(), t._device))
    return tuple(result)


def _batched_grad(outputs: list, inputs: list, grad_outputs: list, retain_graph: bool | None, create_graph: bool,
                  allow_unused: bool | None, materialize_grads: bool) -> tuple:
    """``grad`` once per row b of the batched ``grad_outputs`` (each (B, *output.shape)), stacked along a new
    dim 0; an input unused in the graph stays None (allow_unused) instead of a stack."""
    if any(g is None for g in grad_outputs):
        raise RuntimeError("grad: is_grads_batched=True needs every grad_outputs entry to be a batched Tensor")
    sizes = {int(g.shape[0]) if g.dim() else -1 for g in grad_outputs}
    if len(sizes) != 1 or -1 in sizes:
        raise RuntimeError("grad: with is_grads_batched=True every grad_outputs entry needs the same batch size "
                           "in dim 0")
    rows = [grad(outputs, inputs, [g[b] for g in grad_outputs], retain_graph=True if b < n - 1 else retain_graph,
                 create_graph=create_graph, allow_unused=allow_unused, materialize_grads=materialize_grads)
            for n in sizes for b in range(n)]
    stack = type(inputs[0])._graph_ops()["stack"]  # differentiable, declared by Tensor (a layer above)
    return tuple(None if col[0] is None else stack(list(col)) for col in zip(*rows))
