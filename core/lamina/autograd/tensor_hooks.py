"""Hooks on tensors: ``register_hook`` (a leaf's runs before accumulation, a non-leaf's as a pre-hook of
its producing node) and ``retain_grad``. The engine runs them; ``methods.AutogradMethods`` registers them."""

from __future__ import annotations

import weakref
from typing import Any

from .._tensor import Tensor
from .grad_mode import state as _state


def register_tensor_hook(t: Tensor, hook: Any):
    from .function import _Handle

    if t._node is None:
        if t._hooks is None:
            t._hooks = []
        t._hooks.append(hook)
        return _Handle(t._hooks, hook)
    n = t._node
    if n._pre_hooks is None:
        n._pre_hooks = {}
    lst = n._pre_hooks.setdefault(t._output_nr, [])
    if lst and getattr(lst[-1], "_retains_grad", False):
        lst.insert(len(lst) - 1, hook)  # as in PyTorch, .grad of retain_grad() sees every hook's change
    else:
        lst.append(hook)
    return _Handle(lst, hook)


def add_retain_hook(t: Tensor) -> None:
    ref = weakref.ref(t)

    def _retain(g: Tensor) -> None:
        owner = ref()
        if owner is not None:
            gd = g.detach() if not _state.enabled else g
            if owner._grad is None:
                owner._grad = Tensor._make(gd._data.copy(), owner._device) if not _state.enabled else gd
            else:
                owner._grad = owner._grad + gd

    _retain._retains_grad = True
    register_tensor_hook(t, _retain)
