"""Flatten parameters into one vector and back (PyTorch's ``parameters_to_vector`` and inverse)."""

from __future__ import annotations

from collections.abc import Iterable

from ...ops.tensor import Tensor


def _check_device(param: Tensor, device: object) -> object:
    if device is None:
        return param.device
    if param.device is not device:
        raise TypeError(f"Found two parameters on different devices ({device} and {param.device}), "
                        "this is currently not supported.")
    return device


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """One 1-D tensor holding every parameter, flattened, in order (differentiable)."""
    from ...ops.combine import cat

    device = None
    flat = []
    for p in parameters:
        device = _check_device(p, device)
        flat.append(p.reshape(-1))
    return cat(flat)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Set each parameter's data to its slice of ``vec`` (a view of ``vec``, as in PyTorch)."""
    if not isinstance(vec, Tensor):
        from ..module import typename

        raise TypeError(f"expected lamina.Tensor, but got: {typename(vec)}")
    device = None
    pointer = 0
    for p in parameters:
        device = _check_device(p, device)
        n = p.numel()
        p.data = vec[pointer:pointer + n].view_as(p).data
        pointer += n
