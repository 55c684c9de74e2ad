"""What an exporter receives: ``Call`` (one recorded module or op call) and ``Value`` (one tensor)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
from lamina import Tensor

from .errors import UnsupportedOperatorError, where

if TYPE_CHECKING:
    from ._graph import GraphBuilder


@dataclass(frozen=True)
class Value:
    """One tensor of the graph: its ONNX name, its shape in each trace and its dtype.

    Shape: ``shape`` as traced with the given inputs, ``alt_shape`` with each dynamic axis longer;
    ``dynamic`` holds the dims where they differ (sizes that follow a dynamic axis).
    """

    name: str
    shape: tuple[int, ...]
    alt_shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def dynamic(self) -> frozenset[int]:
        return frozenset(i for i, (a, b) in enumerate(zip(self.shape, self.alt_shape)) if a != b)


@dataclass(frozen=True)
class Const:
    """A tensor (or backend array) the trace did not produce: a parameter, a buffer, a constant."""

    obj: Any
    name: str | None  # the state_dict key of a parameter or buffer


Ref = str | Const  # a traced value's name, or a constant


def tensors_in(obj: Any) -> Iterator[Any]:
    """Every Tensor in ``obj``, depth-first through tuples, lists and dict values."""
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            yield from tensors_in(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from tensors_in(item)


@dataclass
class Call:
    """One recorded call: a module exported as a unit (``kind == "module"``) or an op (``"op"``).

    ``args``/``kwargs`` are as passed in the first trace (``alt_args``/``alt_kwargs``: the second);
    ``inputs``/``outputs`` hold one Value per Tensor in them, depth-first. See README.md.
    """

    kind: str
    key: str
    op: str
    path: str
    module: Any
    function: Any  # the Function class, or a non-differentiable op's function (lamina.gt); None: a module
    args: tuple
    kwargs: dict
    alt_args: tuple = ()
    alt_kwargs: dict = field(default_factory=dict)
    outputs: list[Value] = field(default_factory=list)
    out_names: list[str] = field(default_factory=list)
    refs: dict[int, Ref] = field(default_factory=dict)  # id(argument) -> its value
    arg_order: list[int] = field(default_factory=list)  # ids of the tensor arguments, depth-first
    graph: GraphBuilder | None = None

    @property
    def inputs(self) -> list[Value]:
        return [self.value(i) for i in self.arg_order]

    def value(self, obj: Any) -> Value:
        """The Value of one argument (a Tensor or a backend array of the call), or of its id."""
        ref = self.refs.get(obj if isinstance(obj, int) else id(obj))
        if ref is None:
            self.fail(f"argument {type(obj).__name__} is not a tensor the tracer saw")
        assert self.graph is not None
        return self.graph.value_of(ref)

    def static(self, index: int | str) -> Any:
        """A non-tensor argument that the graph bakes in: it must be the same in both traces."""
        first = self.args[index] if isinstance(index, int) else self.kwargs.get(index)
        second = self.alt_args[index] if isinstance(index, int) else self.alt_kwargs.get(index)
        same_nan = isinstance(first, float) and first != first and second != second  # a NaN baked in
        if type(first) is not type(second) or (first != second and not same_nan):
            self.fail(f"argument {index!r} is {first!r} in one trace and {second!r} in the other: it depends on "
                      "the inputs' values or dynamic sizes (computed outside lamina's ops, e.g. with .item() or "
                      "x.shape), and the graph would bake it in")
        return first

    @property
    def output_names(self) -> list[str]:
        return [v.name for v in self.outputs]

    def fail(self, reason: str) -> NoReturn:
        raise UnsupportedOperatorError(f"lamina.onnx.export: cannot export {where(self.op, self.path)}: {reason}")
