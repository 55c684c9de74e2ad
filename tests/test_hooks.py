"""pluggy hooks: optimizer-step wrappers, configure, state-dict migration, isolation."""

from __future__ import annotations

import pytest
from lamina import hooks, plugins
from lamina.errors import PluginLoadError
from plugin_factory import Sandbox

WRAPPER_PLUGIN = '''
import lamina.hooks
__lamina_plugin_api__ = "1.0"
EVENTS = []
CONFIG = []

@lamina.hooks.hookimpl(wrapper=True)
def lamina_optimizer_step(optimizer, closure, step):
    EVENTS.append(("before", optimizer.name))
    result = yield
    EVENTS.append(("after", result))
    return result * 10

@lamina.hooks.hookimpl
def lamina_configure(config):
    CONFIG.append(config)
'''


class DummyOptimizer:
    name = "dummy"

    def __init__(self):
        self.steps = 0

    def _step(self, closure):
        self.steps += 1
        return closure() if closure is not None else None


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    box = Sandbox(tmp_path, monkeypatch)
    yield box
    box.close()


def test_fast_path_without_hooks_plugins(sandbox, monkeypatch):
    opt = DummyOptimizer()
    assert hooks.call_optimizer_step(opt, lambda: 1.5, opt._step) == 1.5
    pm = hooks.get_plugin_manager()

    def forbidden(**kwargs):
        raise AssertionError("pluggy was called on the fast path")

    monkeypatch.setattr(pm.hook, "lamina_optimizer_step", forbidden)
    assert hooks.call_optimizer_step(opt, None, opt._step) is None
    assert opt.steps == 2


def test_hooks_plugin_wraps_the_step(sandbox):
    sandbox.dist("lamina-ema", entry_points={"lamina.hooks": {"ema": "lamina_ema"}},
                 modules={"lamina_ema": WRAPPER_PLUGIN})
    opt = DummyOptimizer()
    assert hooks.call_optimizer_step(opt, lambda: 2.0, opt._step) == 20.0
    import lamina_ema

    assert lamina_ema.EVENTS == [("before", "dummy"), ("after", 2.0)]
    assert opt.steps == 1
    (config,) = lamina_ema.CONFIG  # lamina_configure once, when the manager was built
    assert config["plugin_api_version"] == plugins.PLUGIN_API_VERSION
    hooks.call_optimizer_step(opt, lambda: 1.0, opt._step)
    assert len(lamina_ema.CONFIG) == 1


def test_hooks_plugin_raising_at_import_is_isolated(sandbox):
    sandbox.dist("lamina-bad-hooks", entry_points={"lamina.hooks": {"bad": "lamina_bad_hooks"}},
                 modules={"lamina_bad_hooks": "raise KeyError('no config')\n"})
    sandbox.dist("lamina-ema", entry_points={"lamina.hooks": {"ema": "lamina_ema"}},
                 modules={"lamina_ema": WRAPPER_PLUGIN})
    opt = DummyOptimizer()
    assert hooks.call_optimizer_step(opt, lambda: 3.0, opt._step) == 30.0  # the healthy one still runs
    failed = {n.name: n.reason for d in plugins.status() for n in d.names if n.state == "failed"}
    assert list(failed) == ["bad"] and "KeyError" in failed["bad"]


def test_hooks_plugin_failure_raises_in_strict_mode(sandbox):
    sandbox.dist("lamina-bad-hooks", entry_points={"lamina.hooks": {"bad": "lamina_bad_hooks"}},
                 modules={"lamina_bad_hooks": "raise KeyError('no config')\n"})
    sandbox.env(LAMINA_STRICT_PLUGINS="1")
    opt = DummyOptimizer()
    with pytest.raises(PluginLoadError, match="no config"):
        hooks.call_optimizer_step(opt, None, opt._step)
    assert opt.steps == 0


def test_invalid_hookimpl_is_recorded_as_failed(sandbox):
    source = ("import lamina.hooks\n@lamina.hooks.hookimpl\n"
              "def lamina_optimizer_step(optimizer, closure, step, extra):\n    return 0\n")
    sandbox.dist("lamina-odd-hooks", entry_points={"lamina.hooks": {"odd": "lamina_odd_hooks"}},
                 modules={"lamina_odd_hooks": source})
    opt = DummyOptimizer()
    assert hooks.call_optimizer_step(opt, lambda: 4, opt._step) == 4
    (name,) = [n for d in plugins.status() for n in d.names]
    assert name.state == "failed" and "could not be used" in name.reason


def test_in_process_hooks_and_ordering(sandbox):
    calls = []

    class Clip:
        @hooks.hookimpl(wrapper=True)
        def lamina_optimizer_step(self, optimizer, closure, step):
            calls.append("clip")
            return (yield)

    class Log:
        @hooks.hookimpl(wrapper=True, tryfirst=True)
        def lamina_optimizer_step(self, optimizer, closure, step):
            calls.append("log-before")
            result = yield
            calls.append("log-after")
            return result

    clip, log = Clip(), Log()
    hooks.register_hooks(clip)
    hooks.register_hooks(log, name="log")
    opt = DummyOptimizer()
    assert hooks.call_optimizer_step(opt, lambda: 5, opt._step) == 5
    assert calls == ["log-before", "clip", "log-after"]
    plugins.refresh()  # in-process hooks survive a refresh
    calls.clear()
    hooks.call_optimizer_step(opt, lambda: 5, opt._step)
    assert calls == ["log-before", "clip", "log-after"]
    hooks.unregister_hooks(clip)
    hooks.unregister_hooks(log)
    calls.clear()
    hooks.call_optimizer_step(opt, lambda: 5, opt._step)
    assert calls == []


def test_late_registration_still_gets_configure(sandbox):
    seen = []

    class Late:
        @hooks.hookimpl
        def lamina_configure(self, config):
            seen.append(config["plugin_api_version"])

    hooks.get_plugin_manager()
    hooks.register_hooks(Late())
    assert seen == [plugins.PLUGIN_API_VERSION]


def test_state_dict_migration_chains(sandbox):
    class RenameWeight:
        @hooks.hookimpl
        def lamina_migrate_state_dict(self, state_dict, prefix):
            return {k.replace(prefix + "w", prefix + "weight"): v for k, v in state_dict.items()}

    class DropVersion:
        @hooks.hookimpl(trylast=True)
        def lamina_migrate_state_dict(self, module, state_dict):
            state_dict.pop("version", None)  # in place: returns None

    hooks.register_hooks(DropVersion())
    hooks.register_hooks(RenameWeight())
    migrated = hooks.call_migrate_state_dict(object(), {"fc.w": 1, "version": 2}, "fc.")
    assert migrated == {"fc.weight": 1}


def test_state_dict_unchanged_without_hooks(sandbox):
    original = {"a": 1}
    assert hooks.call_migrate_state_dict(object(), original, "") is original
