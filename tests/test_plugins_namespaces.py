"""Namespaces served by plugins (group ``lamina.namespaces``): ``import lamina.<name>`` aliases the
providing module, lazily, under the plugin index's rules; a missing one names its distribution."""

from __future__ import annotations

import importlib
import pickle
import sys

import lamina
import pytest
from lamina import plugins
from lamina.errors import PluginError, PluginLoadError, PluginVersionError
from lamina.plugins import _first_party, _modules
from plugin_factory import Sandbox

PACKAGE = '__lamina_plugin_api__ = "1.0"\nfrom .tools import helper\n'
TOOLS = "def helper():\n    return 42\n\n\nclass Thing:\n    pass\n"


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    box = Sandbox(tmp_path, monkeypatch)
    monkeypatch.setattr(_modules, "_aliases", dict(_modules._aliases))  # lamina.testing's alias stays
    before = set(sys.modules)
    yield box
    box.close()
    for name in set(sys.modules) - before:  # the aliases this test created
        if name.startswith(("lamina.nsbox", "lamina.nn.nsbox")):
            del sys.modules[name]
    for parent, attr in ((lamina, "nsbox"), (lamina, "nsbox_missing"), (lamina.nn, "nsbox_par")):
        parent.__dict__.pop(attr, None)


def _provider(box, name="nsbox", module="nsbox_impl", source=PACKAGE, dist="lamina-nsbox"):
    box.dist(dist, entry_points={"lamina.namespaces": {name: module}},
             modules={f"{module}.__init__": source, f"{module}.tools": TOOLS})


def test_the_testkit_is_lamina_testing():
    import lamina.testing
    import lamina.testing.records
    import lamina_testkit

    assert lamina.testing is lamina_testkit and lamina.testing.records is lamina_testkit.records
    assert callable(lamina.testing.gradcheck)  # the function, not the submodule of the same name
    sample = pickle.loads(pickle.dumps(lamina.testing.Sample(name="s")))
    assert type(sample) is lamina_testkit.records.Sample


def test_import_aliases_the_module_and_its_submodules(sandbox):
    _provider(sandbox)
    assert not sandbox.imported("nsbox_impl")
    import lamina.nsbox
    import lamina.nsbox.tools
    import nsbox_impl

    assert lamina.nsbox is nsbox_impl and lamina.nsbox.tools is nsbox_impl.tools
    assert lamina.nsbox.__spec__.name == "nsbox_impl"  # the real module's spec is kept
    assert lamina.nsbox.tools.Thing.__module__ == "nsbox_impl.tools"
    from lamina.nsbox.tools import Thing

    assert Thing is nsbox_impl.tools.Thing
    assert [e.name for e in plugins.entries("lamina.namespaces")] == ["nsbox"]


def test_attribute_and_from_import_load_it_on_first_use(sandbox):
    _provider(sandbox)
    from lamina import nsbox

    assert lamina.nsbox is nsbox and nsbox.helper() == 42


def test_a_submodule_imported_under_the_alias_is_not_a_second_copy(sandbox):
    sandbox.dist("lamina-nsbox", entry_points={"lamina.namespaces": {"nsbox": "nsbox_impl"}},
                 modules={"nsbox_impl.__init__": '__lamina_plugin_api__ = "1.0"\n', "nsbox_impl.tools": TOOLS})
    import lamina.nsbox.tools
    import nsbox_impl.tools

    assert lamina.nsbox.tools is nsbox_impl.tools
    assert sys.modules["lamina.nsbox.tools"] is sys.modules["nsbox_impl.tools"]


def test_dotted_namespace_under_a_core_package(sandbox):
    sandbox.dist("lamina-nsbox", entry_points={"lamina.namespaces": {"nn.nsbox_par": "nsbox_par_impl"}},
                 modules={"nsbox_par_impl": '__lamina_plugin_api__ = "1.0"\nVALUE = 7\n'})
    import lamina.nn.nsbox_par
    import nsbox_par_impl

    assert lamina.nn.nsbox_par is nsbox_par_impl and lamina.nn.nsbox_par.VALUE == 7


def test_python_dash_m_runs_a_submodule_of_an_alias(sandbox):
    # python -m lamina.distributed.run: runpy asks the alias's loader for the real module's code
    import runpy

    sandbox.dist("lamina-nsbox", entry_points={"lamina.namespaces": {"nsbox": "nsbox_impl"}},
                 modules={"nsbox_impl.__init__": '__lamina_plugin_api__ = "1.0"\n',
                          "nsbox_impl.tools": "RESULT = __name__ + '!'\n"})
    out = runpy.run_module("lamina.nsbox.tools", run_name="__main__")
    assert out["RESULT"] == "__main__!"


def test_a_namespace_under_another_plugins_namespace(sandbox):
    # lamina.utils.data.distributed (lamina-distributed) under lamina.utils.data (lamina-data): the outer
    # module's own submodules win, then the index serves the inner namespace
    sandbox.dist("lamina-nsbox", entry_points={"lamina.namespaces": {"nsbox": "nsbox_impl"}},
                 modules={"nsbox_impl.__init__": '__lamina_plugin_api__ = "1.0"\n', "nsbox_impl.tools": TOOLS})
    sandbox.dist("lamina-nsbox-inner", entry_points={"lamina.namespaces": {"nsbox.inner": "nsbox_inner_impl",
                                                                           "nsbox.tools": "nsbox_inner_impl"}},
                 modules={"nsbox_inner_impl": '__lamina_plugin_api__ = "1.0"\nVALUE = 9\n'})
    import lamina.nsbox.inner
    import lamina.nsbox.tools
    import nsbox_impl.tools
    import nsbox_inner_impl

    assert lamina.nsbox.inner is nsbox_inner_impl and lamina.nsbox.inner.VALUE == 9
    assert lamina.nsbox.tools is nsbox_impl.tools  # the outer package's own submodule wins
    with pytest.raises(ModuleNotFoundError, match="lamina.nsbox.absent"):
        import lamina.nsbox.absent  # noqa: F401


def test_the_core_wins_over_a_namespace_of_the_same_name(sandbox):
    _provider(sandbox, name="return_types")
    spec = _modules.NamespaceFinder().find_spec("lamina.return_types", lamina.__path__)
    assert spec is not None and spec.origin.endswith("return_types.py")
    assert not sandbox.imported("nsbox_impl")


def test_a_first_party_namespace_that_is_not_installed_names_its_distribution(sandbox, monkeypatch):
    table = {group: dict(names) for group, names in _first_party.FIRST_PARTY.items()}
    table.setdefault("lamina.namespaces", {})["nsbox_missing"] = "lamina-nsbox-missing"
    monkeypatch.setattr(_first_party, "FIRST_PARTY", table)
    with pytest.raises(ImportError) as info:
        importlib.import_module("lamina.nsbox_missing")
    err = info.value
    assert isinstance(err, ModuleNotFoundError) and isinstance(err, PluginError)
    assert err.name == "lamina.nsbox_missing"
    assert str(err).startswith("No module named 'lamina.nsbox_missing'")
    assert "provided by the first-party distribution lamina-nsbox-missing, which is not installed" in str(err)
    assert "pip install lamina-nsbox-missing" in str(err)
    with pytest.raises(ModuleNotFoundError, match="pip install lamina-nsbox-missing"):
        lamina.nsbox_missing  # noqa: B018  (the attribute says the same)


def test_an_unknown_name_is_a_plain_module_not_found(sandbox):
    with pytest.raises(ModuleNotFoundError) as info:
        importlib.import_module("lamina.nsbox_unknown")
    assert not isinstance(info.value, PluginError)
    assert not hasattr(lamina, "nsbox_unknown")


def test_a_blocked_distribution_says_how_to_unblock_it(sandbox):
    _provider(sandbox)
    sandbox.env(LAMINA_DISABLE_PLUGINS="lamina-nsbox")
    with pytest.raises(ModuleNotFoundError, match="blocked by LAMINA_DISABLE_PLUGINS"):
        import lamina.nsbox  # noqa: F401
    assert not sandbox.imported("nsbox_impl")


def test_a_broken_module_raises_its_kept_error_every_time(sandbox):
    sandbox.dist("lamina-nsbox", entry_points={"lamina.namespaces": {"nsbox": "nsbox_bad"}},
                 modules={"nsbox_bad": "raise ValueError('cannot load nsbox')\n"})
    for _ in range(2):
        with pytest.raises(PluginLoadError, match="ValueError: cannot load nsbox") as info:
            import lamina.nsbox  # noqa: F401
        assert isinstance(info.value.__cause__, ValueError)
    assert "lamina.nsbox" not in sys.modules


def test_a_major_plugin_api_mismatch_is_refused(sandbox):
    _provider(sandbox, source='__lamina_plugin_api__ = "2.0"\n')
    with pytest.raises(PluginVersionError, match="plugin API 2.0"):
        import lamina.nsbox  # noqa: F401


def test_an_entry_that_is_not_a_module_is_refused(sandbox):
    sandbox.dist("lamina-nsbox", entry_points={"lamina.namespaces": {"nsbox": "nsbox_impl.tools:Thing"}},
                 modules={"nsbox_impl.__init__": "", "nsbox_impl.tools": TOOLS})
    with pytest.raises(PluginLoadError, match="not a module"):
        import lamina.nsbox  # noqa: F401


def test_two_providers_conflict_until_one_is_preferred(sandbox):
    _provider(sandbox)
    _provider(sandbox, module="nsbox_other", dist="lamina-nsbox-other")
    with pytest.raises(lamina.PluginConflictError, match="offered by 2 distributions"):
        importlib.import_module("lamina.nsbox")
    plugins.prefer("nsbox", "lamina-nsbox-other")
    try:
        import nsbox_other

        assert importlib.import_module("lamina.nsbox") is nsbox_other
    finally:
        plugins.prefer("nsbox", None)


def test_lamina_plugins_lists_namespaces(sandbox):
    _provider(sandbox)
    (dist,) = plugins.status(load=True)
    assert [(n.group, n.name, n.state) for n in dist.names] == [("lamina.namespaces", "nsbox", "loaded")]
