"""Top-level functions (``lamina.functions``) and Tensor methods (``lamina.tensor_methods``) served by
plugins: lazily, under the index's rules, never over the core's own names."""

from __future__ import annotations

import subprocess
import sys

import lamina
import pytest
from lamina import plugins
from lamina.errors import PluginConflictError, PluginLoadError, PluginNotFoundError
from lamina.plugins import _first_party, _functions
from plugin_factory import Sandbox

SOURCE = '''__lamina_plugin_api__ = "1.0"
import lamina

def twice(x):
    """twice(x) -> 2 * x"""
    return x * 2

def plus(self, k=1):
    return self + k

@property
def width(self):
    return self.shape[-1]

def exp(x):
    raise AssertionError("the core's exp must win")
'''


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    lamina.zeros(1)  # the CPU backend is chosen before the sandbox hides the installed plugins
    box = Sandbox(tmp_path, monkeypatch)
    yield box
    box.close()
    for name in ("plus", "width"):  # placeholders this test's index put on the class
        if isinstance(vars(lamina.Tensor).get(name), _functions._LazyMethod):
            delattr(lamina.Tensor, name)


def _offer(box, dist="lamina-fnbox", module="fnbox_impl", functions=("twice",), methods=("plus", "width"),
           source=SOURCE):
    box.dist(dist, entry_points={
        "lamina.functions": {n: f"{module}:{n}" for n in functions},
        "lamina.tensor_methods": {n: f"{module}:{n}" for n in methods},
    }, modules={module: source})
    plugins.names("lamina.tensor_methods")  # the index, as a program's first tensor builds it (backend lookup)


def test_a_top_level_function_is_served_on_first_use(sandbox):
    _offer(sandbox)
    assert not sandbox.imported("fnbox_impl")
    assert "twice" in dir(lamina)
    assert not sandbox.imported("fnbox_impl")  # dir() reads metadata only
    assert lamina.twice(lamina.tensor([1.0, 2.0])).tolist() == [2.0, 4.0]
    assert sandbox.imported("fnbox_impl")
    assert lamina.twice is sys.modules["fnbox_impl"].twice


def test_tensor_methods_and_properties_are_served_on_instances_and_the_class(sandbox):
    _offer(sandbox)
    x = lamina.ones(2, 3)
    assert not sandbox.imported("fnbox_impl")
    assert x.plus(2).tolist() == [[3.0] * 3] * 2
    assert x.width == 3
    assert lamina.Tensor.plus is sys.modules["fnbox_impl"].plus
    p = lamina.nn.Parameter(lamina.zeros(4))
    assert p.plus().tolist() == [1.0] * 4 and p.width == 4  # subclasses inherit them


def test_the_core_wins_over_a_plugin_and_the_shadowing_is_reported(sandbox):
    _offer(sandbox, functions=("twice", "exp"), methods=("plus", "exp"))
    assert lamina.exp(lamina.zeros(1)).item() == 1.0
    assert lamina.zeros(1).exp().item() == 1.0
    assert sorted(_functions.shadowed()) == ["lamina.functions:exp",
                                                                  "lamina.tensor_methods:exp"]
    assert sum("'exp' of its own" in p for p in plugins.problems()) == 2  # `lamina plugins` lists them


def test_first_party_plugins_shadow_no_core_name():
    plugins.refresh()
    assert _functions.shadowed() == []


def test_two_offers_conflict_until_a_preference(sandbox):
    _offer(sandbox)
    _offer(sandbox, dist="lamina-fnbox-two", module="fnbox_two")
    with pytest.raises(PluginConflictError, match="lamina-fnbox.*lamina-fnbox-two|lamina-fnbox-two.*lamina-fnbox"):
        _ = lamina.twice
    with pytest.raises(PluginConflictError):
        lamina.zeros(1).plus()
    plugins.prefer("twice", "lamina-fnbox-two")
    plugins.prefer("plus", "lamina-fnbox-two")
    assert lamina.twice.__module__ == "fnbox_two"
    assert lamina.zeros(1).plus.__func__.__module__ == "fnbox_two"
    plugins.prefer("twice", None)
    plugins.prefer("plus", None)


def test_a_broken_module_is_re_raised_chained(sandbox):
    _offer(sandbox, source="raise ImportError('fnbox is broken')\n")
    for _attempt in range(2):
        with pytest.raises(PluginLoadError, match="fnbox") as info:
            _ = lamina.twice
        assert "fnbox is broken" in str(info.value.__cause__)
    with pytest.raises(PluginLoadError):
        lamina.zeros(1).plus()


def test_a_known_first_party_name_without_its_distribution_names_it(sandbox, monkeypatch):
    table = {g: dict(n) for g, n in _first_party.FIRST_PARTY.items()}
    table.setdefault(_functions.FUNCTIONS, {})["fnbox_missing"] = "lamina-fnbox-missing"
    table.setdefault(_functions.TENSOR_METHODS, {})["fnbox_missing"] = "lamina-fnbox-missing"
    monkeypatch.setattr(_first_party, "FIRST_PARTY", table)
    _functions.install_methods(lamina.Tensor, ["fnbox_missing"])
    for get in (lambda: lamina.fnbox_missing, lambda: lamina.zeros(1).fnbox_missing):
        with pytest.raises(PluginNotFoundError, match="pip install lamina-fnbox-missing") as info:
            get()
        assert isinstance(info.value, AttributeError)
    assert not hasattr(lamina.zeros(1), "fnbox_missing")
    delattr(lamina.Tensor, "fnbox_missing")


def test_unknown_names_give_python_s_plain_attribute_error(sandbox):
    with pytest.raises(AttributeError, match="^module 'lamina' has no attribute 'no_such_function'$"):
        _ = lamina.no_such_function
    with pytest.raises(AttributeError):
        lamina.zeros(1).no_such_method()


def test_in_process_registration_and_unregistration(sandbox):
    plugins.register("lamina.tensor_methods", "fnbox_local", lambda self: self.sum())
    plugins.register("lamina.functions", "fnbox_local", lambda x: x + 1)
    try:
        assert lamina.ones(3).fnbox_local().item() == 3.0
        assert lamina.fnbox_local(1) == 2
    finally:
        plugins.unregister("lamina.tensor_methods", "fnbox_local")
        plugins.unregister("lamina.functions", "fnbox_local")
    assert not hasattr(lamina.ones(3), "fnbox_local")
    assert not hasattr(lamina, "fnbox_local")
    delattr(lamina.Tensor, "fnbox_local")


def test_import_lamina_puts_placeholders_without_reading_entry_points():
    code = ("import sys, lamina; from lamina.plugins import _functions; "
            "names = _functions._first_party.table_names((_functions.TENSOR_METHODS,)); "
            "print('lamina.plugins._registry' in sys.modules, "
            "all(any(n in vars(k) for k in lamina.Tensor.__mro__) for n in names))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]
