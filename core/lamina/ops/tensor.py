"""``Tensor``: the tensor state, autograd entry points and every op family's methods, in one class.

The op families (``elementwise``, ``reduction``, ...) each export their functions and a methods
mixin that derives the methods from those functions; this class statement assembles them, so type
checkers and IDEs see every method. It is the top of the ops layer.
"""

from __future__ import annotations

from typing import Any

from .._base import dtype as _dtype
from .._tensor import TensorBase, _init_from
from ..autograd.methods import AutogradMethods
from . import _graph, creation
from .attributes import AttributeMethods
from .combine import CombineMethods
from .comparison import ComparisonMethods
from .complex import ComplexMethods
from .conversion import ConversionMethods
from .creation import CreationMethods
from .cumulative import CumulativeMethods
from .elementwise_methods import ElementwiseMethods
from .elementwise_more_methods import ElementwiseMoreMethods
from .fill import FillMethods
from .index_ops import IndexOpsMethods
from .indexing import IndexingMethods
from .inplace_forms import InplaceFormMethods
from .linalg import LinalgMethods
from .matrix import MatrixMethods
from .reduction import ReductionMethods
from .sampling import SamplingMethods
from .shape import ShapeMethods
from .softmax import SoftmaxMethods
from .sorting import SortingMethods
from .statistics import StatisticsMethods
from .storage import StorageMethods
from .strided import StridedMethods


class Tensor(TensorBase, AutogradMethods, ElementwiseMethods, ComparisonMethods, ReductionMethods, SoftmaxMethods,
             LinalgMethods, ShapeMethods, CombineMethods, IndexingMethods, SortingMethods, ConversionMethods,
             CreationMethods, FillMethods, AttributeMethods, ComplexMethods, InplaceFormMethods,
             CumulativeMethods, IndexOpsMethods, MatrixMethods, SamplingMethods, StatisticsMethods,
             StridedMethods, StorageMethods, ElementwiseMoreMethods, concrete=True):
    """An n-dimensional array with autograd: ``lamina.Tensor([[1., 2.]])``, ``lamina.Tensor(2, 3)``.

    ``tensor.array`` is the raw backend array; ``tensor.data`` a Tensor sharing it without history.
    """

    __slots__ = ()
    #: the differentiable ``xp`` functions that double backward hands to backward formulas
    _graph_ops = staticmethod(_graph.table)

    def __new__(cls, *args: Any, **kwargs: Any) -> Tensor:
        return object.__new__(cls)

    def __init__(self, *args: Any, device: Any = None, dtype: Any = None) -> None:
        if len(args) == 1 and not isinstance(args[0], int):
            src = creation.tensor(args[0], dtype=dtype or _dtype.get_default_dtype(), device=device)
        else:
            src = creation.empty(*args, dtype=dtype, device=device)
        _init_from(self, src._data, src._device)

    __hash__ = ComparisonMethods.__hash__
