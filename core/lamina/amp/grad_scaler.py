"""``lamina.amp.GradScaler``: loss scaling for low-precision training, with torch's algorithm.

``scale(loss)`` multiplies by the scale; ``unscale_(opt)`` divides the gradients by it and records whether
any is inf/NaN; ``step(opt)`` skips ``opt.step()`` when one was; ``update()`` then backs the scale off
(``* backoff_factor``) after a skipped step, or grows it (``* growth_factor``) after ``growth_interval``
clean steps in a row. ``enabled=False`` makes every method a pass-through.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from enum import Enum
from typing import Any

import numpy as np

from .._base import dtype as _dtype
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..ops.comparison import isfinite
from ..ops.creation import full

_FIX = "This may indicate your script did not use scaler.scale(loss or outputs) earlier in the iteration."


class OptState(Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_state() -> dict:
    return {"stage": OptState.READY, "found_inf_per_device": {}}


class GradScaler:
    """Dynamic loss scaling: ``scaler.scale(loss).backward(); scaler.step(opt); scaler.update()``."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device = device
        self._enabled = enabled
        if enabled and device == "cuda":
            from .. import cuda

            if not cuda.is_available():
                warnings.warn("lamina.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                              UserWarning, stacklevel=2)
                self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise ValueError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise ValueError("The backoff factor must be < 1.0.")
            self._init_scale = float(init_scale)
            self._scale: Tensor | None = None
            self._growth_factor = float(growth_factor)
            self._backoff_factor = float(backoff_factor)
            self._growth_interval = int(growth_interval)
            self._init_growth_tracker = 0
            self._growth_tracker: Tensor | None = None
            self._per_optimizer_states: defaultdict = defaultdict(_fresh_state)

    # --- the loop ---------------------------------------------------------------------------------
    def _check(self, funcname: str) -> tuple[Tensor, Tensor]:
        assert self._scale is not None, f"Attempted {funcname} but _scale is None.  " + _FIX
        assert self._growth_tracker is not None, f"Attempted {funcname} but _growth_tracker is None.  " + _FIX
        return self._scale, self._growth_tracker

    def _lazy_init(self, device: Any) -> None:
        self._scale = full((), self._init_scale, dtype=_dtype.float32, device=device)
        self._growth_tracker = full((), self._init_growth_tracker, dtype=_dtype.int32, device=device)

    def scale(self, outputs: Any) -> Any:
        """``outputs * scale`` for a tensor, or for each tensor in (nested) lists and tuples."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            if self._scale is None:
                self._lazy_init(outputs.device)
            return outputs * self._scale.to(outputs.device)
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        if isinstance(outputs, map):
            return map(self.scale, outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def unscale_(self, optimizer: Any) -> None:
        """Divide ``optimizer``'s gradients by the scale in place and note whether any is inf/NaN."""
        if not self._enabled:
            return
        self._check("unscale_")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = 1.0 / float(self._scale.item())  # torch: the reciprocal in float64, then float32
        found: dict[str, Tensor] = {}
        with no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    g = p.grad
                    if g is None:
                        continue
                    if g.dtype.name == "float16":
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    if g.is_sparse:  # (nn.Embedding(sparse=True)) torch unscales its values in place
                        g = g._values()
                    key = str(g.device)
                    flag = found.setdefault(key, full((1,), 0.0, dtype=_dtype.float32, device=g.device))
                    if not bool(isfinite(g).all()):
                        flag.fill_(1.0)
                    g.mul_(full((), inv_scale, dtype=_dtype.float32, device=g.device).to(g.dtype))
        state["found_inf_per_device"] = found
        state["stage"] = OptState.UNSCALED

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """``optimizer.step()`` unless the unscaled gradients hold an inf/NaN (then the step is skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check("step")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        assert len(state["found_inf_per_device"]) > 0, "No inf checks were recorded for this optimizer."
        retval = None
        if not sum(float(v.item()) for v in state["found_inf_per_device"].values()):
            retval = optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Back off or grow the scale from this iteration's inf checks (or set it to ``new_scale``)."""
        if not self._enabled:
            return
        scale, tracker = self._check("update")
        if new_scale is not None:
            if isinstance(new_scale, Tensor):
                if new_scale.numel() != 1 or new_scale.requires_grad:
                    raise ValueError("new_scale should be a single-element tensor that does not require grad.")
                scale.fill_(float(new_scale.item()))
            else:
                scale.fill_(float(new_scale))
        else:
            found_infs = [f for s in self._per_optimizer_states.values() for f in s["found_inf_per_device"].values()]
            assert len(found_infs) > 0, "No inf checks were recorded prior to update."
            found_inf = sum(float(f.item()) for f in found_infs)
            if found_inf:
                scale.fill_(float(scale.item()) * self._backoff_factor)
                tracker.fill_(0)
            else:
                successful = int(tracker.item()) + 1
                if successful == self._growth_interval:
                    grown = _float32_value(float(scale.item()) * self._growth_factor)
                    if grown != float("inf"):
                        scale.fill_(grown)
                    tracker.fill_(0)
                else:
                    tracker.fill_(successful)
        self._per_optimizer_states = defaultdict(_fresh_state)

    # --- settings and state -----------------------------------------------------------------------
    def get_scale(self) -> float:
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else float(self._scale.item())

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = new_interval

    def _get_growth_tracker(self) -> int:
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else int(self._growth_tracker.item())

    def is_enabled(self) -> bool:
        return self._enabled

    def state_dict(self) -> dict[str, Any]:
        """scale, growth_factor, backoff_factor, growth_interval and _growth_tracker ({} when disabled)."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale.fill_(self._init_scale)
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._init_growth_tracker = int(state_dict["_growth_tracker"])
        if self._growth_tracker is not None:
            self._growth_tracker.fill_(self._init_growth_tracker)


class _DeprecatedGradScaler(GradScaler):
    _device_type = "cuda"

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        warnings.warn(f"`lamina.{self._device_type}.amp.GradScaler(args...)` is deprecated. Please use "
                      f"`lamina.amp.GradScaler('{self._device_type}', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__(self._device_type, init_scale, growth_factor, backoff_factor, growth_interval, enabled)


class cpu_GradScaler(_DeprecatedGradScaler):  # noqa: N801
    """``lamina.cpu.amp.GradScaler`` (deprecated: use ``lamina.amp.GradScaler('cpu')``)."""

    _device_type = "cpu"


class cuda_GradScaler(_DeprecatedGradScaler):  # noqa: N801
    """``lamina.cuda.amp.GradScaler`` (deprecated: use ``lamina.amp.GradScaler('cuda')``)."""

    _device_type = "cuda"


def _float32_value(v: float) -> float:
    """``v`` rounded to float32 (inf when it overflows), as the scale is a float32 tensor."""
    with np.errstate(over="ignore"):
        return float(np.float32(v))
