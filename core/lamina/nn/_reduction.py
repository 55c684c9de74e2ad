"""``torch.nn._reduction``: the reduction names losses take, and the legacy ``size_average``/``reduce`` flags
mapped to them (real code that writes its own losses calls these)."""

from __future__ import annotations

import warnings

_ENUM = {"none": 0, "mean": 1, "elementwise_mean": 1, "sum": 2}


def get_enum(reduction: str) -> int:
    """0 for 'none', 1 for 'mean', 2 for 'sum' (ATen's Reduction enum); 'elementwise_mean' is the old 'mean'."""
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
                      stacklevel=2)
    if reduction not in _ENUM:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return _ENUM[reduction]


def legacy_get_string(size_average: bool | None, reduce: bool | None, emit_warning: bool = True) -> str:
    """The reduction the legacy pair means: reduce=False -> 'none'; else size_average=False -> 'sum'; else
    'mean' (None counts as True). Warns that the flags are deprecated unless ``emit_warning=False``."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    name = "none" if not reduce else ("mean" if size_average else "sum")
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{name}' instead.",
                      stacklevel=2)
    return name


def legacy_get_enum(size_average: bool | None, reduce: bool | None, emit_warning: bool = True) -> int:
    return get_enum(legacy_get_string(size_average, reduce, emit_warning))
