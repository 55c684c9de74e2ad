"""lamina.fx against torch.fx: wrap's argument and call-site checks, has_side_effect, map_arg over nested
structures; symbolic tracing and the graph classes raise NotImplementedError."""

from __future__ import annotations

import collections

import lamina
import lamina.fx as lfx
import pytest
import torch.fx as tfx

# wrap must be called at the top level of a module, in both
WRAPPED_BY_NAME = lfx.wrap("len")
WRAPPED_FN = lfx.wrap(divmod)
TORCH_WRAPPED_BY_NAME = tfx.wrap("len")


def test_wrap_returns_its_argument():
    assert WRAPPED_BY_NAME == TORCH_WRAPPED_BY_NAME == "len"
    assert WRAPPED_FN is divmod


@pytest.mark.parametrize("arg", ["len", 3])
def test_wrap_errors_as_torch(arg):
    def inside(fx):
        return fx.wrap(arg)

    types = []
    for fx in (lfx, tfx):
        with pytest.raises(Exception) as info:
            inside(fx)
        types.append((info.type, "top level" in str(info.value) or "callable or string" in str(info.value)))
    assert types[0] == types[1] and types[0][1]


def test_has_side_effect_returns_the_function():
    def fn(x):
        return x

    assert lfx.has_side_effect(fn) is fn


def test_map_arg_keeps_structures_without_nodes():
    point = collections.namedtuple("point", "x y")
    arg = [1, (2.0, {"a": "s", "b": [None, slice(1, 3)]}), point(4, 5)]
    assert lfx.map_arg(arg, lambda n: 0) == tfx.map_arg(arg, lambda n: 0) == arg
    assert type(lfx.map_arg(arg, lambda n: 0)[2]) is point
    with pytest.raises(AssertionError, match="callable"):
        lfx.map_arg(arg, 3)


def test_tracing_and_graphs_raise_clearly():
    model = lamina.nn.Linear(2, 2)
    with pytest.raises(NotImplementedError, match=r"torch\.fx\.symbolic_trace.*symbolic tracer"):
        lfx.symbolic_trace(model)
    with pytest.raises(NotImplementedError, match=r"torch\.fx\.replace_pattern"):
        lfx.replace_pattern(None, lambda x: x, lambda x: x)
    for name in ("Graph", "GraphModule", "Tracer", "Node", "Proxy", "Interpreter", "Transformer"):
        assert hasattr(tfx, name)
        cls = getattr(lfx, name)
        assert not isinstance(model, cls)
        with pytest.raises(NotImplementedError, match=rf"torch\.fx\.{name}\b"):
            cls(model)
    assert issubclass(lfx.GraphModule, lamina.nn.Module)
    assert sorted(lfx.__all__) == sorted(tfx.__all__)


def test_fx_serves_as_lamina_fx():
    import lamina_jit.fx

    assert lamina.fx is lamina_jit.fx and lamina.jit.script is lamina.jit.script
