"""lamina.jit against torch.jit: scripted and traced functions and modules compute what torch's compiled ones
compute (values and gradients, same weights and inputs); is_scripting/is_tracing; torch's tracer checks raise
the same exception types; the decorators; what needs a compiled program raises NotImplementedError."""

from __future__ import annotations

import typing
import warnings

import lamina
import lamina.jit as ljit
import numpy as np
import pytest
import torch

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch 2.13 deprecates script/trace


def _pair(shape, seed=0, dtype="float64", requires_grad=True):
    a = np.random.default_rng(seed).standard_normal(shape)
    return (lamina.tensor(a, dtype=getattr(lamina, dtype), requires_grad=requires_grad),
            torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=requires_grad))


def _f(a, b):
    return (a * b).tanh() + a.exp().sum(dim=0)


def _mlp(lib, seed=0):
    rng = np.random.default_rng(seed)
    model = lib.nn.Sequential(lib.nn.Linear(4, 5), lib.nn.ReLU(), lib.nn.Linear(5, 2))
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)), dtype=p.dtype))
    return model


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_script_function_is_itself_and_matches_torch(dtype):
    (lx, tx), (lw, tw) = _pair((3, 4), 0, dtype), _pair((4,), 1, dtype)
    assert ljit.script(_f) is _f
    ly, ty = ljit.script(_f)(lx, lw), torch.jit.script(_f)(tx, tw)
    assert ly.dtype == getattr(lamina, dtype)
    np.testing.assert_allclose(ly.detach().numpy(), ty.detach().numpy(), rtol=1e-6)
    ly.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(lw.grad.numpy(), tw.grad.numpy(), rtol=1e-6)


def test_script_module_class_and_decorator():
    lm, tm = _mlp(lamina), _mlp(torch)
    assert ljit.script(lm) is lm
    (lx, tx) = _pair((3, 4), 2, "float32", requires_grad=False)
    np.testing.assert_allclose(ljit.script(lm)(lx).detach().numpy(), torch.jit.script(tm)(tx).detach().numpy(),
                               rtol=1e-5, atol=1e-6)

    @ljit.script
    def g(x):
        return x * 2

    class Point:
        def __init__(self, x: int):
            self.x = x

    assert ljit.script(Point) is Point
    assert g(lamina.tensor([1.0, 2.0])).tolist() == [2.0, 4.0]
    assert ljit.script(3) == 3  # no compiler to reject it (torch under PYTORCH_JIT=0 also returns it)


def test_script_and_trace_warn_deprecated_like_torch():
    for lib in (ljit, torch.jit):
        with pytest.warns(DeprecationWarning, match="deprecated"):
            lib.script(_f)
        with pytest.warns(DeprecationWarning, match="deprecated"):
            lib.trace(lambda x: x * 2, (lamina.ones(2) if lib is ljit else torch.ones(2),))


def test_is_scripting_and_is_tracing():
    seen = {"lamina": [], "torch": []}

    def probe(lib, key):
        def fn(x):
            seen[key].append((lib.is_scripting(), lib.is_tracing()))
            return x + 1
        return fn

    (lx, tx) = _pair((2,), requires_grad=False)
    for lib, key, x in ((ljit, "lamina", lx), (torch.jit, "torch", tx)):
        assert (lib.is_scripting(), lib.is_tracing()) == (False, False)
        lib.trace(probe(lib, key), (x,))
        assert lib.is_tracing() is False
    assert seen["lamina"][0] == seen["torch"][0] == (False, True)  # (torch then reruns fn untraced, to check)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_trace_function_and_module_return_themselves_and_match_torch(dtype):
    (lx, tx) = _pair((3, 4), 3, dtype)

    def fn(x):
        return x.sin() * x

    assert ljit.trace(fn, lx.detach()) is fn  # a single tensor is one example input
    ty = torch.jit.trace(fn, tx.detach())(tx)
    np.testing.assert_allclose(fn(lx).detach().numpy(), ty.detach().numpy(), rtol=1e-6)
    lm, tm = _mlp(lamina).to(getattr(lamina, dtype)), _mlp(torch).to(getattr(torch, dtype))
    assert ljit.trace(lm, (lx.detach(),)) is lm
    assert ljit.trace(lm.forward, (lx.detach(),)) is lm
    traced = torch.jit.trace(tm, (tx.detach(),))
    ly, ty = lm(lx), traced(tx)
    np.testing.assert_allclose(ly.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    ly.sum().backward()
    ty.sum().backward()
    for lp, tp in zip(lm.parameters(), tm.parameters()):
        np.testing.assert_allclose(lp.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_trace_runs_the_function_and_check_inputs_once_each():
    calls = []

    def fn(x):
        calls.append(tuple(x.shape))
        return x * 2

    ljit.trace(fn, (lamina.ones(2),), check_inputs=[(lamina.ones(3),), (lamina.ones(1, 2),)])
    assert calls == [(2,), (3,), (1, 2)]
    calls.clear()
    ljit.trace(fn, (lamina.ones(2),), check_trace=False, check_inputs=[(lamina.ones(3),)])
    assert calls == [(2,)]


def test_trace_kwarg_inputs_and_trace_module():
    class Two(lamina.nn.Module):
        def forward(self, x, y):
            return x - y

        def double(self, x):
            return x * 2

    m = Two()
    assert ljit.trace(m, example_kwarg_inputs={"x": lamina.ones(2), "y": lamina.zeros(2)}) is m
    assert ljit.trace_module(m, {"forward": (lamina.ones(2), lamina.ones(2)), "double": lamina.ones(3)}) is m


@pytest.mark.parametrize("case", ["int input", "int output", "none output", "dict output", "bound method",
                                  "module without inputs", "trace_module non-module", "trace_module non-dict",
                                  "no inputs"])
def test_trace_errors_as_torch(case):
    def run(lib, jit):
        x = lib.ones(2)
        lin = lib.nn.Linear(2, 2)
        actions = {
            "int input": lambda: jit.trace(lambda a: lib.ones(1), (3,)),
            "int output": lambda: jit.trace(lambda a: (a, 3), (x,)),
            "none output": lambda: jit.trace(lambda a: None, (x,)),
            "dict output": lambda: jit.trace(lambda a: (a, {"k": a}), (x,)),
            "bound method": lambda: jit.trace(lin.extra_repr, (x,)),
            "module without inputs": lambda: jit.trace(lin),
            "trace_module non-module": lambda: jit.trace_module(lambda a: a, {"forward": x}),
            "trace_module non-dict": lambda: jit.trace_module(lin, (x,)),
            "no inputs": lambda: jit.trace(lambda a: a),
        }
        with pytest.raises(Exception) as info:
            actions[case]()
        return info.type

    assert run(lamina, ljit) is run(torch, torch.jit)


def test_trace_containers_strict_and_not():
    x = lamina.ones(2)
    ljit.trace(lambda a: {"k": a}, (x,), strict=False)
    ljit.trace(lambda a: (a, [a]), (x,), strict=False)
    with pytest.warns(ljit.TracerWarning, match="list"):
        ljit.trace(lambda a: (a, [a]), (x,))
    with pytest.warns(torch.jit.TracerWarning, match="list"):
        torch.jit.trace(lambda a: (a, [a]), (torch.ones(2),))
    with pytest.raises(RuntimeError, match="dict"):
        ljit.trace(lambda a: {"k": a}, (x,))
    ljit.trace(lambda a: a["k"] * 2, ({"k": x},))  # a dict input is one example input, as in torch


def test_decorators_return_what_they_decorate():
    def fn(x):
        return x

    for deco in (ljit.ignore, ljit.ignore(drop=True), ljit.ignore(False), ljit.unused, ljit.export,
                 ljit.script_method, ljit.script_if_tracing):
        assert deco(fn) is fn
    for bad in ("x", 3, None):
        with pytest.raises(RuntimeError, match="must be a bool or a function"):
            ljit.ignore(bad)
        with pytest.raises(RuntimeError, match="must be a bool or a function"):
            torch.jit.ignore(bad)

    class Iface:
        def f(self, x: int) -> int:
            ...

    assert ljit.interface(Iface) is Iface


def test_attribute_annotate_final():
    assert ljit.Attribute([1, 2], list[int]) == [1, 2]
    assert ljit.annotate(int, 3) == torch.jit.annotate(int, 3) == 3
    assert ljit.Final is torch.jit.Final is typing.Final

    class M(lamina.nn.Module):
        scale: ljit.Final[float]

        def __init__(self):
            super().__init__()
            self.scale = 2.0
            self.names = ljit.Attribute([], list[str])

    assert M().scale == 2.0 and M().names == []


_ISINSTANCE_CASES = [
    ([1, 2], "List[int]"), ([1, "a"], "List[int]"), ([], "List[int]"), ((1, "a"), "Tuple[int, str]"),
    ((1, 2), "Tuple[int, str]"), ({"a": "T"}, "Dict[str, Tensor]"), ({"a": 1}, "Dict[str, Tensor]"),
    (None, "Optional[int]"), (3, "Optional[int]"), (3.0, "Optional[int]"), ("T", "Tensor"), (3, "int"),
    ([[1], [2]], "List[List[int]]"), (3, "float"), ([1, 2], "list[int]"), (1, "(str, int)"),
]


@pytest.mark.parametrize("obj,spec", _ISINSTANCE_CASES)
def test_isinstance_as_torch(obj, spec):
    def resolve(lib, o):
        if o == "T":
            return lib.ones(1)
        if isinstance(o, list):
            return [resolve(lib, x) for x in o]
        if isinstance(o, dict):
            return {k: resolve(lib, v) for k, v in o.items()}
        return o

    def target(lib):
        names = {"List": typing.List, "Tuple": typing.Tuple, "Dict": typing.Dict, "Optional": typing.Optional,  # noqa: UP006
                 "Tensor": lib.Tensor}
        return eval(spec, names)  # the table's spellings, with this library's Tensor

    def check(jit, lib):
        if obj == []:  # the inner type of an empty container cannot be checked: both warn
            with pytest.warns(UserWarning, match="inner type"):
                return jit.isinstance(resolve(lib, obj), target(lib))
        return jit.isinstance(resolve(lib, obj), target(lib))

    assert check(ljit, lamina) is check(torch.jit, torch)


def test_isinstance_rejects_non_types():
    for lib in (ljit, torch.jit):
        with pytest.raises(RuntimeError, match="must be a type"):
            lib.isinstance(3, "int")


def test_fork_wait_future():
    for lib in (ljit, torch.jit):
        fut = lib.fork(lambda x, y=1: x * 10 + y, 2, y=3)
        assert lib.wait(fut) == 23
        assert fut.done() and fut.value() == 23
        assert fut.then(lambda f: f.wait() + 1).wait() == 24


def test_fusion_settings_as_torch():
    default = [("STATIC", 2), ("DYNAMIC", 10)]
    previous = ljit.set_fusion_strategy([("DYNAMIC", 3)])
    assert previous == default
    assert ljit.set_fusion_strategy(previous) == [("DYNAMIC", 3)]
    with pytest.raises(RuntimeError, match="STATIC"):
        ljit.set_fusion_strategy([("FAST", 1)])
    assert ljit.onednn_fusion_enabled() is torch.jit.onednn_fusion_enabled() is False
    with ljit.optimized_execution(False), ljit.fuser("fuser1"):
        pass
    with pytest.warns(UserWarning, match="script mode"):
        with ljit.strict_fusion():
            pass


@pytest.mark.parametrize("name,args", [("save", (None, "m.pt")), ("load", ("m.pt",)), ("freeze", (None,)),
                                       ("optimize_for_inference", (None,)), ("export_opnames", (None,)),
                                       ("save_jit_module_to_flatbuffer", (None, "m.ff")),
                                       ("jit_module_from_flatbuffer", ("m.ff",)),
                                       ("run_frozen_optimizations", (None,))])
def test_compiled_program_functions_raise_clearly(name, args):
    with pytest.raises(NotImplementedError, match=rf"torch\.jit\.{name}\b.*TorchScript compiler") as info:
        getattr(ljit, name)(*args)
    if name in ("save", "load"):
        assert "lamina.save(model.state_dict()" in str(info.value) and "lamina.load" in str(info.value)


def test_script_classes_exist_for_isinstance_only():
    m = lamina.nn.Linear(2, 2)
    for name in ("ScriptModule", "RecursiveScriptModule", "TracedModule", "TopLevelTracedModule", "ScriptFunction",
                 "RecursiveScriptClass", "CompilationUnit"):
        cls = getattr(ljit, name)
        assert getattr(torch.jit, name)  # the name torch programs use
        assert not isinstance(m, cls) and not isinstance(ljit.script(_f), cls)
        with pytest.raises(NotImplementedError, match=rf"torch\.jit\.{name}\b"):
            cls()
    assert issubclass(ljit.ScriptModule, lamina.nn.Module) and issubclass(torch.jit.ScriptModule, torch.nn.Module)
    assert issubclass(ljit.TopLevelTracedModule, ljit.ScriptModule)


def test_error_type():
    assert ljit.Error.__mro__[1:] == (Exception, BaseException, object)
    assert torch.jit.Error.__mro__[1:] == (Exception, BaseException, object)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ljit.Error):
            raise ljit.Error("raised by a scripted function in torch")
