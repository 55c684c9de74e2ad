"""``GraphBuilder``: what exporters add nodes and initializers to; it assembles the ONNX graph."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from lamina import Tensor
from onnx import helper

from ._call import Call, Const, Ref, Value
from .errors import OnnxExporterError

_SMALL = 64  # constants up to this many elements are shared between nodes that ask for equal ones


def host_array(obj: Any) -> np.ndarray:
    """A NumPy copy of a Tensor or backend array (any device)."""
    if isinstance(obj, Tensor):
        obj = obj.detach().cpu().array
    if hasattr(obj, "get") and not isinstance(obj, np.ndarray):  # a CuPy array
        obj = obj.get()
    return np.array(obj, copy=True)


def onnx_dtype(dtype: Any) -> int:
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


class GraphBuilder:
    """Collects nodes and initializers; exporters call ``add_node``/``add_initializer`` (README.md)."""

    def __init__(self, opset: int, param_names: dict[int, str]) -> None:
        self.opset = opset
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, np.ndarray] = {}
        self.values: dict[str, Value] = {}
        self.inputs: list[Value] = []  # the graph inputs (set before the exporters run)
        self.unavailable: dict[str, str] = {}  # outputs an exporter did not produce -> where from
        self._param_names = param_names
        self._taken: set[str] = set()
        self._by_object: dict[int, tuple[Any, str]] = {}
        self._small: dict[tuple, str] = {}
        self._prefix = "/"

    # --- names --------------------------------------------------------------------------------
    def fresh(self, hint: str) -> str:
        """A value or node name not used yet: ``hint``, else ``hint.1``, ``hint.2``, ..."""
        name, k = hint, 0
        while name in self._taken:
            k += 1
            name = f"{hint}.{k}"
        self._taken.add(name)
        return name

    def reserve(self, name: str) -> None:
        self._taken.add(name)

    def scope(self, call: Call) -> str:
        """Set (and return) the prefix of the node names an exporter adds: ``/encoder/layers.0/``."""
        self._prefix = "/" + call.path.replace(".", "/") + "/" if call.path else "/"
        return self._prefix

    # --- nodes and initializers ---------------------------------------------------------------
    def add_node(self, op_type: str, inputs: Sequence[str], outputs: Sequence[str] | int = 1, *,
                 domain: str = "", **attrs: Any) -> list[str]:
        """Add one node; ``outputs`` is a list of names or a count of fresh ones. Returns the output names."""
        if isinstance(outputs, int):
            outputs = [self.fresh(f"{self._prefix}{op_type}_output_{k}") for k in range(outputs)]
        node_name = self.fresh(f"{self._prefix}{op_type}")
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op_type, list(inputs), list(outputs), name=node_name,
                                           domain=domain or None, **attrs))
        return list(outputs)

    def add_initializer(self, name: str, array: Any) -> str:
        """Store a weight (NumPy array or Tensor) under a fresh name from ``name``; returns the name.

        The same Tensor object given again returns the name it got the first time.
        """
        key = id(array)
        known = self._by_object.get(key)
        if known is not None and known[0] is array:
            return known[1]
        real = self.fresh(name)
        self.initializers[real] = host_array(array)
        self._by_object[key] = (array, real)
        return real

    def param(self, tensor: Any) -> str:
        """The initializer of a parameter or buffer, named by its state_dict key (else ``"const"``)."""
        return self.add_initializer(self._param_names.get(id(tensor), f"{self._prefix}const"), tensor)

    def constant(self, values: Any, dtype: Any = "int64") -> str:
        """A small constant (shapes, axes, scalars) as an initializer; equal small ones are shared."""
        arr = np.asarray(values, dtype=dtype)
        if arr.size <= _SMALL:
            key = (arr.dtype.str, arr.shape, arr.tobytes())
            if key not in self._small:
                self._small[key] = self.fresh("/Constant_output")
                self.initializers[self._small[key]] = arr
            return self._small[key]
        name = self.fresh(f"{self._prefix}Constant_output")
        self.initializers[name] = arr
        return name

    def cast(self, name: str, from_dtype: Any, to_dtype: Any) -> str:
        """``name`` as ``to_dtype``: a Cast node when the dtypes differ."""
        if np.dtype(from_dtype) == np.dtype(to_dtype):
            return name
        return self.add_node("Cast", [name], to=onnx_dtype(to_dtype))[0]

    # --- values -------------------------------------------------------------------------------
    def value_of(self, ref: Ref) -> Value:
        """The Value of a traced name, or of a constant (added as an initializer on first use)."""
        if isinstance(ref, Const):
            name = self.add_initializer(ref.name or f"{self._prefix}const", ref.obj)
            arr = self.initializers[name]
            return Value(name, tuple(arr.shape), tuple(arr.shape), arr.dtype)
        if ref in self.unavailable:
            raise OnnxExporterError(f"lamina.onnx.export: the graph reads {self.unavailable[ref]}, which its "
                                    "exporter does not produce")
        return self.values[ref]
