"""The tracer: one forward pass, recorded as module calls (units) and op calls.

A module whose class has an exporter is recorded as one call when its forward returns, and
nothing inside it is recorded; every other ``Function.apply`` (seen through the core's
``lamina.autograd.observe_ops``) is one op call, and so is each non-differentiable op the core
reports to the same hook (comparisons, logical ops, argmax, any/all). Module boundaries come
from the process-wide module forward hooks. Tensors are known by identity and version: an output
is named when it is made; a tensor changed in place by a recorded op is found again through its
``grad_fn``; an alias without history (``detach``) through its array. Anything else is a
constant (a parameter, a buffer, or a tensor made in forward).
"""

from __future__ import annotations

from typing import Any

import lamina
from lamina import Tensor
from lamina.autograd import observe_ops
from lamina.nn.module import register_module_forward_hook, register_module_forward_pre_hook

from ._call import Call, Const, Ref, tensors_in
from ._registry import Exporter, class_key, module_exporter
from .errors import OnnxExporterError, UnsupportedOperatorError, where

# ops whose output the core makes a view of the input (sharing its version counter) after apply returns
_VIEW_OPS = {"lamina.ops.shape.Reshape", "lamina.ops.shape.Permute", "lamina.ops.shape.Expand",
             "lamina.ops.indexing.GetItem"}


def _arrays_in(obj: Any) -> Any:
    """Backend arrays handed to a Function directly or inside tuples/lists (an index key)."""
    if isinstance(obj, (tuple, list)):
        for item in obj:
            yield from _arrays_in(item)
    elif not isinstance(obj, Tensor) and hasattr(obj, "shape") and hasattr(obj, "dtype"):
        yield obj


class Trace:
    """The calls of one forward pass, the model's output refs and every traced value's shape."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.outputs: list[Ref] = []
        self.shapes: dict[str, tuple[tuple[int, ...], Any]] = {}


class Tracer:
    def __init__(self, model: Any, table: dict[str, Exporter], param_names: dict[int, str],
                 strict: bool) -> None:
        self.table = table
        self.param_names = param_names
        self.paths = {id(m): name for name, m in model.named_modules()}
        self.strict = strict  # first trace: a missing exporter raises at once, with its module path
        self.trace = Trace()
        self.stack: list[str] = []
        self.unit_depth = 0
        self.pending: list[Call] = []
        self._known: dict[int, tuple[Tensor, tuple[int, ...], str]] = {}
        self._by_node: dict[int, tuple[Any, list[tuple[Tensor, tuple[int, ...], str]]]] = {}
        self._by_array: dict[int, tuple[Any, Tensor, tuple[int, ...], str]] = {}
        self._taken: set[str] = set()

    # --- values -------------------------------------------------------------------------------
    def register(self, t: Tensor, name: str, base: Tensor | None = None) -> None:
        """Name ``t``. The output of a view op may share its input's (``base``) version counter once
        the op returns, so either version counts as unchanged."""
        versions = (t._version,) if base is None else (t._version, base._version)
        self._known[id(t)] = (t, versions, name)
        node = t.grad_fn
        if node is not None:
            self._by_node.setdefault(id(node), (node, []))[1].append((t, versions, name))
        self._by_array[id(t.array)] = (t.array, t, versions, name)
        self.trace.shapes[name] = (tuple(t.shape), t.array.dtype)

    def resolve(self, obj: Any) -> Ref:
        if not isinstance(obj, Tensor):  # a backend array handed to a Function
            found = self._by_array.get(id(obj))
            if found is not None and found[0] is obj and found[1]._version in found[2]:
                return found[3]
            return Const(obj, None)
        known = self._known.get(id(obj))
        if known is not None and known[0] is obj and obj._version in known[1]:
            return known[2]
        node = obj.grad_fn
        if node is not None:  # a snapshot or a rebased tensor of an in-place op: its history names it
            entry = self._by_node.get(id(node))
            if entry is not None and entry[0] is node and len(entry[1]) == 1:
                made, versions, name = entry[1][0]
                if made._version in versions:
                    return name
        found = self._by_array.get(id(obj.array))
        if found is not None and found[0] is obj.array and found[1]._version in found[2]:
            return found[3]
        if known is not None and known[0] is obj:
            raise OnnxExporterError(
                f"lamina.onnx.export: a tensor was changed in place by an operation the tracer cannot see "
                f"(in module {self.path or '<root>'!r}); use the out-of-place form (e.g. y = x.relu() instead "
                "of x.relu_())")
        return Const(obj, self.param_names.get(id(obj)))

    def _fill_inputs(self, call: Call, args: Any, arrays: bool = False) -> None:
        for t in tensors_in(args):
            call.refs[id(t)] = self.resolve(t)
            call.arg_order.append(id(t))
        if arrays:  # an op may also be handed backend arrays (an index key, embedding indices)
            for a in _arrays_in(args):
                call.refs[id(a)] = self.resolve(a)

    def _fill_outputs(self, call: Call, result: Any, base: Tensor | None = None) -> None:
        scope = "/" + call.path.replace(".", "/") + "/" if call.path else "/"
        for k, t in enumerate(tensors_in(result)):
            name, n = f"{scope}{call.op}_output_{k}", 0
            while name in self._taken:
                n += 1
                name = f"{scope}{call.op}_output_{k}.{n}"
            self._taken.add(name)
            self.register(t, name, base)
            call.out_names.append(name)

    @property
    def path(self) -> str:
        return self.stack[-1] if self.stack else ""

    # --- hooks --------------------------------------------------------------------------------
    def on_op(self, cls: Any, args: tuple, kwargs: dict, out: Any) -> None:
        """One observed op: a Function class, or the function of a non-differentiable op (lamina.gt)."""
        if self.unit_depth:
            return
        key = class_key(cls)
        if key not in self.table:
            if self.strict:
                raise UnsupportedOperatorError(
                    f"lamina.onnx.export: no ONNX exporter for {where(cls.__name__, self.path)}; "
                    f"register one for {key!r} (see lamina_onnx.register_exporter)")
        call = Call("op", key, cls.__name__, self.path, None, cls, args, dict(kwargs))
        self._fill_inputs(call, (args, kwargs), arrays=True)
        self._fill_outputs(call, out, args[0] if key in _VIEW_OPS and isinstance(args[0], Tensor) else None)
        self.trace.calls.append(call)

    def on_enter(self, module: Any, args: tuple) -> None:
        parent = self.path
        path = self.paths.get(id(module))
        if path is None:  # a module made during forward, outside the model's tree
            path = f"{parent}.{type(module).__name__}" if parent else type(module).__name__
        self.stack.append(path)
        if self.unit_depth:
            self.unit_depth += 1
            return
        found = module_exporter(self.table, module)
        if found is not None:
            call = Call("module", found[0], type(module).__name__, path, module, None, args, {})
            self._fill_inputs(call, args)
            self.pending.append(call)
            self.unit_depth = 1

    def on_exit(self, module: Any, args: tuple, kwargs: dict, result: Any) -> None:
        self.stack.pop()
        if not self.unit_depth:
            return
        self.unit_depth -= 1
        if self.unit_depth:
            return
        call = self.pending.pop()
        if result is None:  # the forward raised (its error propagates), or returned nothing
            return
        call.kwargs = dict(kwargs)
        self._fill_inputs(call, kwargs)
        self._fill_outputs(call, result)
        self.trace.calls.append(call)

    # --- the pass -----------------------------------------------------------------------------
    def run(self, model: Any, args: tuple, kwargs: dict, inputs: list[tuple[Tensor, str]]) -> Trace:
        for t, name in inputs:
            self._taken.add(name)
            self.register(t, name)
        pre = register_module_forward_pre_hook(self.on_enter)
        post = register_module_forward_hook(self.on_exit, with_kwargs=True, always_call=True)
        try:
            with lamina.enable_grad(), observe_ops(self.on_op):
                result = model(*args, **kwargs)
        finally:
            pre.remove()
            post.remove()
        self.trace.outputs = [self.resolve(t) for t in tensors_in(result)]
        if not self.trace.outputs:
            raise OnnxExporterError(f"lamina.onnx.export: the model returned no tensor (got {type(result).__name__})")
        return self.trace
