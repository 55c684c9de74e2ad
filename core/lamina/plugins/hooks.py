"""Coarse plugin events through pluggy (project name "lamina"): optimizer-step wrappers,
configuration, state-dict migration. Per-op dispatch never goes through here.

A hooks plugin is a module (or object) named by an entry point of group ``lamina.hooks``::

    import lamina

    @lamina.hookimpl(wrapper=True)
    def lamina_optimizer_step(optimizer, closure, step):
        clip_gradients(optimizer)          # before the step
        loss = yield                       # the step (and any inner wrappers) runs here
        update_ema(optimizer)              # after it
        return loss

Hooks plugins load with the plugin index's rules: one that raises at import is recorded as failed
(shown by ``lamina plugins``) and skipped, or raises under LAMINA_STRICT_PLUGINS=1.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pluggy

from .._base.errors import PluginLoadError
from . import _api

PROJECT = "lamina"
GROUP = "lamina.hooks"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class LaminaHookSpecs:
    """The hooks lamina calls."""

    @hookspec(firstresult=True)
    def lamina_optimizer_step(self, optimizer: Any, closure: Callable[[], Any] | None,
                              step: Callable[[Callable[[], Any] | None], Any]) -> Any:
        """Run one optimizer step; ``step(closure)`` performs the update and returns the loss (or None).

        The core's innermost implementation (``trylast``) returns ``step(closure)``; plugins wrap it
        with ``@hookimpl(wrapper=True)`` generators (``result = yield``) for clipping, EMA, logging.
        """

    @hookspec(historic=True)
    def lamina_configure(self, config: dict[str, Any]) -> None:
        """Called once when the plugin manager is built (and for plugins registered later)."""

    @hookspec
    def lamina_migrate_state_dict(self, module: Any, state_dict: dict[str, Any], prefix: str) -> dict | None:
        """Rewrite an old state dict before ``load_state_dict`` checks it; return a new dict, or None
        after editing ``state_dict`` in place. Implementations are chained (see call_migrate_state_dict)."""


class _InnermostStep:
    @hookimpl(trylast=True)
    def lamina_optimizer_step(self, optimizer, closure, step):
        return step(closure)


_CORE_NAME = "lamina.core.optimizer_step"
_lock = threading.RLock()
_pm: pluggy.PluginManager | None = None
_step_hooked = False  # any lamina_optimizer_step implementation beyond the core's
_in_process: list[tuple[object, str | None]] = []


def _config() -> dict[str, Any]:
    from . import _registry

    return {"plugin_api_version": _api.PLUGIN_API_VERSION, "plugins": _registry.settings().as_dict()}


def _update_fast_path(pm: pluggy.PluginManager) -> None:
    global _step_hooked
    impls = pm.hook.lamina_optimizer_step.get_hookimpls()
    _step_hooked = any(impl.plugin_name != _CORE_NAME for impl in impls)


def get_plugin_manager() -> pluggy.PluginManager:
    """The process's plugin manager, built at first use from group ``lamina.hooks``."""
    global _pm
    pm = _pm
    if pm is not None:
        return pm
    with _lock:
        if _pm is not None:
            return _pm
        from . import _backends, _registry  # the index machinery loads at first use

        strict = _registry.settings().strict
        pm = pluggy.PluginManager(PROJECT)
        pm.add_hookspecs(LaminaHookSpecs)
        pm.register(_InnermostStep(), name=_CORE_NAME)
        for info, obj in _backends.load_collection(GROUP):
            try:
                pm.register(obj, name=f"{info.distribution}:{info.name}")
            except Exception as exc:  # e.g. pluggy's validation of a malformed hookimpl
                _backends.mark_failed(info, exc)
                if strict:
                    raise PluginLoadError(f"hooks plugin {info.name!r} from {info.distribution} could not be "
                                          f"registered: {exc}") from exc
        for obj, name in _in_process:
            pm.register(obj, name=name)
        pm.hook.lamina_configure.call_historic(kwargs={"config": _config()})
        _update_fast_path(pm)
        _pm = pm
        return pm


def register_hooks(obj: object, name: str | None = None) -> str:
    """Register a module or object with ``@hookimpl`` functions in this process; returns its name."""
    with _lock:
        pm = get_plugin_manager()
        registered = pm.register(obj, name=name)
        _in_process.append((obj, name))
        _update_fast_path(pm)
        return registered


def unregister_hooks(obj: object) -> None:
    """Undo ``register_hooks``."""
    with _lock:
        pm = get_plugin_manager()
        pm.unregister(obj)
        _in_process[:] = [(o, n) for o, n in _in_process if o is not obj]
        _update_fast_path(pm)


def call_optimizer_step(optimizer: Any, closure: Callable[[], Any] | None,
                        step: Callable[[Callable[[], Any] | None], Any]) -> Any:
    """What ``Optimizer.step`` calls: ``step(closure)`` wrapped by the hooks plugins, if any.

    Fast path: with no hooks plugin, a plain call (no pluggy machinery).
    """
    pm = _pm
    if pm is None:
        pm = get_plugin_manager()
    if not _step_hooked:
        return step(closure)
    return pm.hook.lamina_optimizer_step(optimizer=optimizer, closure=closure, step=step)


def call_migrate_state_dict(module: Any, state_dict: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Pass ``state_dict`` through every ``lamina_migrate_state_dict`` implementation in pluggy's call
    order, each receiving the previous one's result; returns the final dict."""
    pm = get_plugin_manager()
    for impl in reversed(pm.hook.lamina_migrate_state_dict.get_hookimpls()):
        if impl.wrapper or impl.hookwrapper:
            continue
        kwargs = {"module": module, "state_dict": state_dict, "prefix": prefix}
        result = impl.function(*(kwargs[a] for a in impl.argnames))
        if result is not None:
            state_dict = result
    return state_dict


def _reset(*, clear_registered: bool = False) -> None:
    """Forget the plugin manager (lamina.plugins.refresh calls this); in-process hooks survive unless
    ``clear_registered``."""
    global _pm, _step_hooked
    with _lock:
        _pm = None
        _step_hooked = False
        if clear_registered:
            _in_process.clear()


__all__ = [
    "hookspec",
    "hookimpl",
    "LaminaHookSpecs",
    "get_plugin_manager",
    "register_hooks",
    "unregister_hooks",
    "call_optimizer_step",
    "call_migrate_state_dict",
]
