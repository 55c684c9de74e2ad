"""A hooks plugin: counts optimizer steps and, when configured, clips gradients before each step."""

from __future__ import annotations

import lamina

__lamina_plugin_api__ = "1.0"

STATS = {"steps": 0, "configured": False}
#: set to a number to clip every gradient to [-CLIP, CLIP] before each step
CLIP: float | None = None


@lamina.hookimpl
def lamina_configure(config):
    STATS["configured"] = True


@lamina.hookimpl(wrapper=True)
def lamina_optimizer_step(optimizer, closure, step):
    if CLIP is not None:
        params = [p for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        lamina.nn.utils.clip_grad_value_(params, CLIP)
    result = yield
    STATS["steps"] += 1
    return result
