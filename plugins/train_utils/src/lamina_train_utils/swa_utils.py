"""``lamina.optim.swa_utils``: stochastic weight averaging and exponential moving averages of a model.

* :class:`AveragedModel` keeps a deep copy of a model (under the attribute ``module``, so its
  state_dict keys read ``module.<name>``, plus the ``n_averaged`` buffer) and folds the model's
  parameters into it on each ``update_parameters`` call: the running mean by default, or
  ``avg_fn(averaged, current, n_averaged)`` per tensor / ``multi_avg_fn(averaged_list,
  current_list, n_averaged)`` updating the lists in place.
* :class:`SWALR` anneals each group's learning rate to its ``swa_lr`` over ``anneal_epochs``
  epochs (cosine or linear), then holds it.
* :func:`update_bn` recomputes the batch-norm running statistics of a model in one pass over data
  (a cumulative average: ``momentum=None`` during the pass).
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Iterable
from copy import deepcopy
from typing import Any

import lamina
from lamina import Tensor
from lamina.nn import Module
from lamina.optim.lr_scheduler import LRScheduler

__lamina_plugin_api__ = "1.0"

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn",
           "get_swa_avg_fn"]


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def _inexact(t: Tensor) -> bool:
    return lamina.is_floating_point(t) or lamina.is_complex(t)


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable[[list, list, Any], None]:
    """An in-place update of lists of tensors to ``decay * averaged + (1 - decay) * current``."""
    _check_decay(decay)

    def ema_update(ema_param_list, current_param_list, _):
        with lamina.no_grad():
            if _inexact(ema_param_list[0]):
                for e, c in zip(ema_param_list, current_param_list):
                    e.lerp_(c, 1 - decay)
            else:
                for e, c in zip(ema_param_list, current_param_list):
                    e.copy_(e * decay + c * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> Callable[[list, list, Any], None]:
    """An in-place update of lists of tensors to the running mean over ``num_averaged + 1`` models."""

    def swa_update(averaged_param_list, current_param_list, num_averaged):
        with lamina.no_grad():
            if _inexact(averaged_param_list[0]):
                for a, c in zip(averaged_param_list, current_param_list):
                    a.lerp_(c, float(1 / (num_averaged + 1)))
            else:
                for a, c in zip(averaged_param_list, current_param_list):
                    if isinstance(num_averaged, Tensor):
                        a.addcdiv_(c - a, num_averaged + 1)
                    else:
                        a.add_(c - a, alpha=1.0 / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable[[Tensor, Tensor, Any], Tensor]:
    """``decay * averaged + (1 - decay) * current`` for one tensor."""
    _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        with lamina.no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> Callable[[Tensor, Tensor, Any], Tensor]:
    """The running mean over ``num_averaged + 1`` models, for one tensor."""

    def swa_update(averaged_param, current_param, num_averaged):
        with lamina.no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A running average (SWA, or EMA through ``avg_fn``/``multi_avg_fn``) of ``model``'s parameters, and with
    ``use_buffers`` of its buffers too (otherwise the buffers are copied from the model on each update)."""

    def __init__(self, model: Module, device: Any = None, avg_fn: Callable | None = None,
                 multi_avg_fn: Callable | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", lamina.tensor(0, dtype=lamina.long, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current parameters (and buffers, with ``use_buffers``) into the average."""
        if self.use_buffers:
            mine: Iterable[Tensor] = itertools.chain(self.module.parameters(), self.module.buffers())
            theirs: Iterable[Tensor] = itertools.chain(model.parameters(), model.buffers())
        else:
            mine, theirs = self.parameters(), model.parameters()
        averaged, current = [], []
        first = bool(self.n_averaged == 0)
        for p_avg, p_model in zip(mine, theirs):
            p_cur = p_model.detach().to(p_avg.device)
            averaged.append(p_avg.detach())
            current.append(p_cur)
            if first:
                p_avg.detach().copy_(p_cur)
        if self.n_averaged > 0:
            if self.multi_avg_fn is not None or self.avg_fn is None:
                groups: dict[tuple, tuple[list, list]] = {}
                for a, c in zip(averaged, current):
                    mine_g, theirs_g = groups.setdefault((str(a.device), a.dtype), ([], []))
                    mine_g.append(a)
                    theirs_g.append(c)
                for (dev, _), (mine_g, theirs_g) in groups.items():
                    n = self.n_averaged.to(dev)
                    if self.multi_avg_fn is not None:
                        self.multi_avg_fn(mine_g, theirs_g, n)
                    else:  # torch's CPU path: the per-tensor running mean
                        avg = get_swa_avg_fn()
                        for a, c in zip(mine_g, theirs_g):
                            a.copy_(avg(a, c, n))
            else:
                for a, c in zip(averaged, current):
                    a.detach().copy_(self.avg_fn(a.detach(), c, self.n_averaged.to(a.device)))
        if not self.use_buffers:
            for b_avg, b_model in zip(self.module.buffers(), model.buffers()):
                b_avg.detach().copy_(b_model.detach().to(b_avg.device))
        self.n_averaged += 1


def _batch_norm_types() -> tuple[type, ...]:
    names = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
             "SyncBatchNorm")
    return tuple(t for t in (getattr(lamina.nn, n, None) for n in names) if isinstance(t, type))


def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """Reset and recompute the running mean and variance of every batch-norm layer of ``model`` over one pass
    of ``loader`` (its items, or their first element when they are lists or tuples)."""
    with lamina.no_grad():
        kinds = _batch_norm_types()
        momenta = {}
        for module in model.modules():
            if isinstance(module, kinds):
                module.reset_running_stats()
                momenta[module] = module.momentum
        if not momenta:
            return
        was_training = model.training
        model.train()
        for module in momenta:
            module.momentum = None
        for input in loader:
            if isinstance(input, (list, tuple)):
                input = input[0]
            if device is not None:
                input = input.to(device)
            model(input)
        for module, momentum in momenta.items():
            module.momentum = momentum
        model.train(was_training)


def _per_group(name: str, optimizer: Any, value: Any) -> list:
    groups = optimizer.param_groups
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. {name} has "
                             f"{len(value)} values, param_groups has {len(groups)}.")
        return [v.clone() if isinstance(v, Tensor) else v for v in value]
    return [value.clone() if isinstance(value, Tensor) else value for _ in groups]


class SWALR(LRScheduler):
    """Anneals each parameter group's learning rate from its value to ``swa_lr`` over ``anneal_epochs`` steps
    (``anneal_strategy`` ``'cos'`` or ``'linear'``), then keeps it at ``swa_lr``."""

    def __init__(self, optimizer: Any, swa_lr: Any, anneal_epochs: int = 10, anneal_strategy: str = "cos",
                 last_epoch: int = -1) -> None:
        for lr, group in zip(_per_group("swa_lr", optimizer, swa_lr), optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: Any, swa_lr: Any, alpha: float) -> Any:
        # the lr before annealing, recovered from the current one (alpha = the fraction annealed so far)
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list[Any]:
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                          UserWarning, stacklevel=2)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        span = max(1, self.anneal_epochs)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / span)))
        starts = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / span)))
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(self.optimizer.param_groups, starts)]

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
