"""``lamina.onnx.export``: torch.onnx.export's TorchScript-style API (``dynamo=False``), on lamina's tracer."""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping, Sequence
from typing import IO, Any

import lamina
import numpy as np
import onnx
from lamina import Tensor
from onnx import helper

from . import _fold, _registry
from ._call import Const, Value, tensors_in
from ._graph import GraphBuilder, host_array, onnx_dtype
from ._trace import Trace, Tracer
from .errors import OnnxExporterError, where

DEFAULT_OPSET = 20  # torch 2.13's default for the TorchScript exporter (torch.onnx._constants)
SUPPORTED_OPSETS = (17, 18, 19, 20)
_IR_VERSION = {17: 8, 18: 8, 19: 9, 20: 9}
_PRIMES = (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)  # the second trace's growth per dynamic axis
# torch.onnx.export's other options: accepted at these values, NotImplementedError otherwise
_TORCH_DEFAULTS: dict[str, Any] = {
    "external_data": True, "dynamic_shapes": None, "custom_translation_table": None, "report": False,
    "optimize": True, "verify": False, "profile": False, "dump_exported_program": False, "artifacts_dir": ".",
    "export_params": True, "keep_initializers_as_inputs": False, "operator_export_type": None,
    "custom_opsets": None, "export_modules_as_functions": False, "autograd_inlining": True,
}


def export(model: Any, args: Any = (), f: str | os.PathLike | IO[bytes] | None = None, *,
           kwargs: dict[str, Any] | None = None, verbose: bool | None = None,
           input_names: Sequence[str] | None = None, output_names: Sequence[str] | None = None,
           opset_version: int | None = None, dynamo: bool = False,
           dynamic_axes: Mapping[str, Mapping[int, str] | Sequence[int]] | None = None,
           training: Any = None, do_constant_folding: bool = True, **options: Any) -> None:
    """Trace ``model(*args, **kwargs)`` and write it to ``f`` (a path or a binary file) as ONNX.

    Two forward passes are traced (see the package README); exported as in eval mode, every module's
    training flag and the global RNG state are as they were afterwards. ``dynamic_axes``
    as torch: ``{"input": {0: "batch"}}`` or ``{"input": [0]}``. Returns None, as torch's
    ``dynamo=False`` exporter; ``dynamo=True`` is refused. See the package README for what is traced.
    """
    _check_options(model, f, dynamo, training, options)
    opset = DEFAULT_OPSET if opset_version is None else opset_version
    if opset not in SUPPORTED_OPSETS:
        raise ValueError(f"lamina.onnx.export: opset_version must be one of {list(SUPPORTED_OPSETS)}, got {opset!r}")
    args, kwargs = _split_args(args, kwargs)
    flat = list(tensors_in((args, kwargs)))
    names = _input_names(model, args, kwargs, flat, input_names)
    axes = _dynamic_axes(dynamic_axes, names, flat)
    param_names: dict[int, str] = {}
    for n, t in [*model.named_parameters(remove_duplicate=False), *model.named_buffers(remove_duplicate=False)]:
        param_names.setdefault(id(t), n)  # a shared parameter keeps its first name
    table = _registry.load()
    flags = [(m, m.training) for m in model.modules()]
    rng = lamina.get_rng_state()
    model.eval()
    try:
        first = _run(model, args, kwargs, flat, names, table, param_names, axes, strict=True)
        lamina.set_rng_state(rng)
        second = _run(model, args, kwargs, flat, names, table, param_names, axes, strict=False)
    finally:
        lamina.set_rng_state(rng)
        for m, mode in flags:
            m.training = mode
    baked = _compare(first, second)
    proto = _build(first, second, names, axes, output_names, opset, param_names, table, do_constant_folding, baked)
    if verbose:
        print(onnx.printer.to_text(proto))
    data = proto.SerializeToString()
    if hasattr(f, "write"):
        f.write(data)  # type: ignore[union-attr]
    else:
        with open(os.fspath(f), "wb") as out:  # type: ignore[arg-type]
            out.write(data)


# --- arguments ----------------------------------------------------------------------------------
def _check_options(model: Any, f: Any, dynamo: bool, training: Any, options: dict[str, Any]) -> None:
    if not isinstance(model, lamina.nn.Module):
        raise TypeError(f"lamina.onnx.export: expected model to be a lamina.nn.Module, got {type(model).__name__}")
    if dynamo:
        raise NotImplementedError("lamina.onnx.export: dynamo=True (torch.export and an ONNXProgram) is not "
                                  "implemented; lamina traces one forward pass: pass dynamo=False")
    if f is None or not (hasattr(f, "write") or isinstance(f, (str, os.PathLike))):
        raise TypeError(f"lamina.onnx.export: expected f to be a path or a binary file object, got {f!r}")
    if training is not None and getattr(training, "name", training) not in ("EVAL", "eval"):
        raise NotImplementedError(f"lamina.onnx.export: training={training!r} is not implemented; models are "
                                  "exported in eval mode (torch's TrainingMode.EVAL)")
    for name, value in options.items():
        if name not in _TORCH_DEFAULTS:
            raise TypeError(f"lamina.onnx.export: unexpected keyword argument {name!r}")
        default = _TORCH_DEFAULTS[name]
        if value is not None and value != default and getattr(value, "name", None) != "ONNX":
            raise NotImplementedError(f"lamina.onnx.export: {name}={value!r} (torch.onnx.export option) is not "
                                      f"implemented; leave it at {default!r}")


def _split_args(args: Any, kwargs: dict[str, Any] | None) -> tuple[tuple, dict[str, Any]]:
    if isinstance(args, Tensor):
        args = (args,)
    if not isinstance(args, (tuple, list)):
        raise TypeError(f"lamina.onnx.export: expected args to be a tuple of inputs or a Tensor, got "
                        f"{type(args).__name__}")
    args = tuple(args)
    if kwargs is None and args and isinstance(args[-1], dict):  # torch: a trailing dict holds keyword inputs
        args, kwargs = args[:-1], args[-1]
    return args, dict(kwargs or {})


def _input_names(model: Any, args: tuple, kwargs: dict, flat: list, given: Sequence[str] | None) -> list[str]:
    defaults = [f"input_{i}" for i in range(len(flat))]
    if all(isinstance(a, Tensor) for a in args) and len(args) + len(kwargs) == len(flat):
        try:
            params = list(inspect.signature(model.forward).parameters.values())
        except (TypeError, ValueError):
            params = []
        if len(params) >= len(args) and all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                                            for p in params[:len(args)]):
            defaults = [p.name for p in params[:len(args)]] + list(kwargs)
    names = list(given or []) + defaults[len(given or []):]
    if given is not None and len(given) > len(flat):
        raise ValueError(f"lamina.onnx.export: got {len(given)} input_names for {len(flat)} input tensors")
    if len(set(names)) != len(names):
        raise ValueError(f"lamina.onnx.export: input names must be unique, got {names}")
    return names


def _dynamic_axes(dynamic_axes: Any, names: list[str], flat: list) -> dict[str, dict[int, str]]:
    """``{value name: {dim: symbol}}``; an input's dims are checked against its rank."""
    out: dict[str, dict[int, str]] = {}
    for name, dims in (dynamic_axes or {}).items():
        if isinstance(dims, Mapping):
            spec = {int(d): str(s) for d, s in dims.items()}
        elif isinstance(dims, Sequence) and not isinstance(dims, str):
            spec = {int(d): f"{name}_dynamic_axes_{i + 1}" for i, d in enumerate(dims)}
        else:
            raise TypeError(f"lamina.onnx.export: dynamic_axes[{name!r}] must be a dict {{dim: name}} or a list "
                            f"of dims, got {dims!r}")
        if name in names:
            rank = flat[names.index(name)].ndim
            bad = [d for d in spec if not -rank <= d < rank]
            if bad:
                raise ValueError(f"lamina.onnx.export: dynamic_axes[{name!r}] has dims {bad}, but input {name!r} "
                                 f"has {rank} dims")
            spec = {d % rank: s for d, s in spec.items()}
        out[name] = spec
    return out


# --- the two traces -----------------------------------------------------------------------------
def _fresh_inputs(flat: list, names: list[str], axes: dict, perturb: bool) -> list[Tensor]:
    """Copies of the inputs (floats as non-leaf tensors with history, so in-place ops are recorded).

    For the second trace each dynamic axis grows by a prime of its own, 3 for the first symbol, 5
    for the second, ... (so that dims following different axes, or multiples of them, are told apart
    by their two sizes; dims named by torch's list form, ``{"x": [0]}``, count as one symbol per
    size), and the values are shuffled (so a value that depends on the inputs but escaped the trace
    shows up as a constant that differs).
    """
    rng = np.random.default_rng(0)

    def key(name: str, d: int, symbol: str, size: int) -> Any:
        return ("size", size) if symbol == f"{name}_dynamic_axes_{list(axes[name]).index(d) + 1}" else symbol

    keys = sorted({key(n, d, s, t.shape[d]) for t, n in zip(flat, names) for d, s in axes.get(n, {}).items()},
                  key=repr)
    step = dict(zip(keys, _PRIMES))
    if len(keys) > len(_PRIMES):
        raise ValueError(f"lamina.onnx.export: at most {len(_PRIMES)} distinct dynamic axes, got {len(keys)}")
    fresh = []
    for t, name in zip(flat, names):
        arr = host_array(t)
        if perturb:
            for d, symbol in sorted(axes.get(name, {}).items()):
                n = arr.shape[d]
                arr = np.take(arr, np.arange(n + step[key(name, d, symbol, n)]) % max(n, 1), axis=d)
            arr = rng.permutation(arr.reshape(-1)).reshape(arr.shape)
        x = lamina.tensor(arr, device=t.device)
        if arr.dtype.kind in "fc":
            x = x.requires_grad_(True).clone()
        fresh.append(x)
    return fresh


def _replace(obj: Any, it: Any) -> Any:
    if isinstance(obj, Tensor):
        return next(it)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a namedtuple (PackedSequence) takes its fields
        return type(obj)(*(_replace(o, it) for o in obj))
    if isinstance(obj, (tuple, list)):
        return type(obj)(_replace(o, it) for o in obj)
    if isinstance(obj, dict):
        return {k: _replace(v, it) for k, v in obj.items()}
    return obj


def _run(model, args, kwargs, flat, names, table, param_names, axes, strict: bool) -> Trace:
    fresh = _fresh_inputs(flat, names, axes, perturb=not strict)
    it = iter(fresh)
    args2, kwargs2 = _replace(args, it), _replace(kwargs, it)
    try:
        return Tracer(model, table, param_names, strict).run(model, args2, kwargs2, list(zip(fresh, names)))
    except OnnxExporterError:
        raise
    except Exception as exc:
        if strict:
            raise
        raise OnnxExporterError("lamina.onnx.export: the model failed on the second trace (the inputs with each "
                                "dynamic axis longer and the values shuffled), which checks that the graph "
                                f"does not depend on them: {type(exc).__name__}: {exc}") from exc


def _differ(a: Any, b: Any) -> bool:
    if isinstance(a, Const) != isinstance(b, Const):
        return True
    if not isinstance(a, Const):
        return a != b
    if a.obj is b.obj:
        return False
    x, y = host_array(a.obj), host_array(b.obj)
    return x.shape != y.shape or not np.array_equal(x, y, equal_nan=x.dtype.kind in "fc")


def _compare(first: Trace, second: Trace) -> dict[int, str]:
    """Both traces must run the same calls on the same constants (else the graph would be wrong).

    A call that reads a constant differing between the traces is returned (its index -> the error),
    not raised at once: its exporter runs first, so that a refusal of its own (dropout_p > 0 draws
    a random mask) names the cause.
    """
    baked: dict[int, str] = {}
    for k, (a, b) in enumerate(zip(first.calls, second.calls)):
        if a.key != b.key or a.path != b.path or a.out_names != b.out_names:
            raise OnnxExporterError(
                f"lamina.onnx.export: the model ran {where(a.op, a.path)} in one trace and {where(b.op, b.path)} "
                "in the other (inputs with dynamic axes longer, values shuffled): its control flow "
                "depends on the inputs, which one graph cannot express")
        if any(_differ(ra, rb) for ra, rb in zip(a.refs.values(), b.refs.values())):
            baked[k] = (
                f"lamina.onnx.export: {where(a.op, a.path)} reads a tensor that depends on the inputs but was "
                "made outside lamina's traced ops (e.g. lamina.zeros(x.shape[0]), lamina.tensor(x.tolist()), "
                "x.numpy()), or a random draw in forward sized by a dynamic axis (dropout with p > 0 in forward: "
                "F.dropout(training=True), F.scaled_dot_product_attention(dropout_p > 0), lamina.rand); "
                "the graph would bake it in as a constant")
        a.alt_args, a.alt_kwargs = b.args, b.kwargs
    if len(first.calls) != len(second.calls):
        raise OnnxExporterError(f"lamina.onnx.export: the model ran {len(first.calls)} ops in one trace and "
                                f"{len(second.calls)} in the other: its control flow depends on the inputs")
    if any(_differ(a, b) for a, b in zip(first.outputs, second.outputs)):
        raise OnnxExporterError("lamina.onnx.export: the model's outputs are not computed by lamina ops from the "
                                "inputs in the same way in both traces (a constant output depends on the inputs)")
    return baked


# --- the graph ----------------------------------------------------------------------------------
def _dims(value: Value, symbols: Mapping[int, str], name: str) -> list[int | str]:
    return [symbols.get(d, f"{name}_dim_{d}") if (d in value.dynamic or d in symbols) else size
            for d, size in enumerate(value.shape)]


def _build(first: Trace, second: Trace, names: list[str], axes: dict, output_names: Sequence[str] | None,
           opset: int, param_names: dict[int, str], table: dict, folding: bool,
           baked: dict[int, str]) -> onnx.ModelProto:
    g = GraphBuilder(opset, param_names)
    for name, (shape, dtype) in first.shapes.items():
        g.reserve(name)
        g.values[name] = Value(name, shape, second.shapes.get(name, (shape,))[0], np.dtype(dtype))
    g.inputs = [g.values[n] for n in names]
    for k, call in enumerate(first.calls):
        call.graph = g
        call.outputs = [g.values[n] for n in call.out_names]
        exporter = table.get(call.key)
        if exporter is None:
            raise OnnxExporterError(f"lamina.onnx.export: no ONNX exporter for {where(call.op, call.path)}")
        g.scope(call)
        before = len(g.nodes)
        exporter(g, call)
        if k in baked:
            raise OnnxExporterError(baked[k])
        made = {o for node in g.nodes[before:] for o in node.output}
        for k, name in enumerate(call.out_names):
            if name not in made:  # allowed while nothing reads it (the indices of adaptive max pooling)
                g.unavailable[name] = f"output {k} of {where(call.op, call.path)}"
    outs = _outputs(g, first, output_names)
    nodes = g.nodes
    if folding:
        nodes = _fold.fold(nodes, g.initializers, opset)
    nodes = _fold.prune(nodes, g.initializers, outs)
    graph_inputs = [helper.make_tensor_value_info(n, onnx_dtype(g.values[n].dtype),
                                                  _dims(g.values[n], axes.get(n, {}), n)) for n in names]
    graph_outputs = [helper.make_tensor_value_info(o, onnx_dtype(v.dtype), _dims(v, axes.get(o, {}), o))
                     for o, v in zip(outs, (g.values[o] for o in outs))]
    graph = helper.make_graph(nodes, "main_graph", graph_inputs, graph_outputs,
                              initializer=_fold.to_tensors(g.initializers))
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="lamina",
                              producer_version=getattr(lamina, "__version__", "0"), ir_version=_IR_VERSION[opset])
    onnx.checker.check_model(proto)
    return proto


def _outputs(g: GraphBuilder, trace: Trace, output_names: Sequence[str] | None) -> list[str]:
    """Name the model's outputs: ``output`` (one) or ``output_0``, ... unless ``output_names`` says."""
    n = len(trace.outputs)
    given = list(output_names or [])
    if len(given) > n:
        raise ValueError(f"lamina.onnx.export: got {len(given)} output_names for {n} output tensors")
    names = given + (["output"] if n == 1 else [f"output_{i}" for i in range(n)])[len(given):]
    produced = {o for node in g.nodes for o in node.output}
    renamed: dict[str, str] = {}
    for ref, name in zip(trace.outputs, names):
        value = g.value_of(ref)
        if value.name in produced and value.name not in renamed and name not in g.values:
            _rename(g, value.name, name)
            renamed[value.name] = name
        else:  # a graph input, a constant, or a value already named as another output
            g.add_node("Identity", [renamed.get(value.name, value.name)], [name])
        g.values[name] = Value(name, value.shape, value.alt_shape, value.dtype)
    return names


def _rename(g: GraphBuilder, old: str, new: str) -> None:
    for node in g.nodes:
        for field in (node.input, node.output):
            for i, name in enumerate(field):
                if name == old:
                    field[i] = new


__all__ = ["export", "DEFAULT_OPSET", "SUPPORTED_OPSETS"]
