"""Learning-rate scheduler base classes; the schedulers themselves are plugins.

``LRScheduler`` holds PyTorch's semantics: construction records ``initial_lr`` in every parameter
group (or requires it when resuming with ``last_epoch >= 0``) and takes one step, so the optimizer
starts at ``get_lr()`` for epoch 0. Subclasses implement ``get_lr()`` (and optionally
``_get_closed_form_lr()``, used by the deprecated ``step(epoch)``). Concrete schedulers (``StepLR``,
``CosineAnnealingLR``, ...) come from entry-point group ``lamina.lr_scheduler`` and are served lazily
as attributes of this module.

Decision: the "scheduler stepped before the optimizer" warning relies on ``Optimizer._opt_called``,
which the base ``Optimizer`` sets in every step; an optimizer that is not a ``lamina.optim.Optimizer``
is rejected, as in PyTorch.
"""

from __future__ import annotations

import warnings
from typing import Any

from .. import plugins as _plugins
from ..ops.tensor import Tensor
from .optimizer import Optimizer

__all__ = ["LRScheduler", "_LRScheduler"]

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where possible. "
    "Please use `scheduler.step()` to step the scheduler. During the deprecation, if epoch is different "
    "from None, the closed form is used instead of the new chainable form, where available."
)


def _param_groups_val_list(optimizer: Optimizer, key: str) -> list[Any]:
    """``[group[key] for each group]``; tensors are cloned so callers never alias the optimizer's."""
    return [g[key].clone() if isinstance(g[key], Tensor) else g[key] for g in optimizer.param_groups]


def _update_param_group_val(group: dict[str, Any], key: str, value: Any) -> None:
    """Set ``group[key]``; a tensor entry is filled in place (a tensor ``lr`` keeps its identity)."""
    current = group[key]
    if isinstance(current, Tensor):
        current.fill_(value.item() if isinstance(value, Tensor) else value)
    else:
        group[key] = value


def _warn_get_lr_called_within_step(scheduler: LRScheduler) -> None:
    """For subclasses' ``get_lr``: warn when it is called from outside ``step()``."""
    if not scheduler._get_lr_called_within_step:
        warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                      UserWarning, stacklevel=3)


class LRScheduler:
    """Base class of learning-rate schedulers: subclasses implement ``get_lr()``."""

    _get_lr_called_within_step: bool = False
    _is_initial: bool = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                lr = group["lr"]
                group.setdefault("initial_lr", lr.clone() if isinstance(lr, Tensor) else lr)
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                                   f"a scheduler with last_epoch={last_epoch} (>= 0); load the optimizer's "
                                   "state dict first, or use last_epoch=-1 for a fresh run")
        self.base_lrs: list[Any] = _param_groups_val_list(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimizer."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)

    def get_last_lr(self) -> list[Any]:
        """The learning rates the last ``step()`` set, one per parameter group."""
        return self._last_lr

    def get_lr(self) -> list[Any]:
        """The learning rates for epoch ``self.last_epoch``, computed from the current ones."""
        raise NotImplementedError(f"{type(self).__name__}.get_lr is not implemented")

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (call after ``optimizer.step()``) and write the new ``lr`` into the groups."""
        if self._step_count == 1 and getattr(self.optimizer, "_opt_called", True) is False:
            warnings.warn("Detected call of `lr_scheduler.step()` before `optimizer.step()`. Call them in the "
                          "opposite order: `optimizer.step()` before `lr_scheduler.step()`; otherwise the first "
                          "value of the learning rate schedule is skipped.", UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed_form = getattr(self, "_get_closed_form_lr", None)
                values = closed_form() if closed_form is not None else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        values = list(values)
        if len(values) != len(self.optimizer.param_groups):
            raise ValueError(f"{type(self).__name__}.get_lr: expected one learning rate per parameter group "
                             f"({len(self.optimizer.param_groups)}), got {len(values)}")
        for group, lr in zip(self.optimizer.param_groups, values):
            _update_param_group_val(group, "lr", lr)
        self._last_lr = _param_groups_val_list(self.optimizer, "lr")


_LRScheduler = LRScheduler  # PyTorch's old name, kept for code that subclasses it

__getattr__, __dir__ = _plugins.namespace(("lamina.lr_scheduler",), __name__)
