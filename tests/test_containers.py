"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict, Identity; vs PyTorch."""

from __future__ import annotations

from collections import OrderedDict

import _nn_models
import lamina
import pytest
from lamina import nn

M = _nn_models.make(lamina)


def _pair():
    torch = pytest.importorskip("torch")
    return torch, _nn_models.make(torch)


def _r(module) -> str:
    return repr(module).replace("torch.", "lamina.")


def _keys(module):
    return list(module._modules)


def test_sequential_forms_and_forward():
    a, b = M.Affine(2), M.Affine(2, bias=False)
    seq = nn.Sequential(a, b)
    assert _keys(seq) == ["0", "1"] and len(seq) == 2 and list(seq) == [a, b]
    x = lamina.ones(2)
    assert seq(x).tolist() == b(a(x)).tolist()
    named = nn.Sequential(OrderedDict([("enc", a), ("dec", b)]))
    assert _keys(named) == ["enc", "dec"] and named.enc is a
    assert nn.Sequential()(x) is x


def test_sequential_indexing_and_mutation_match_torch():
    torch, T = _pair()
    ops = [
        lambda s, ns: s[-1],
        lambda s, ns: s[1:],
        lambda s, ns: s[::2],
        lambda s, ns: s.__delitem__(1) or s,
        lambda s, ns: s.__delitem__(slice(0, 2)) or s,
        lambda s, ns: s.__setitem__(-2, ns.Multi()) or s,
        lambda s, ns: s.append(ns.Multi()),
        lambda s, ns: s.insert(1, ns.Multi()),
        lambda s, ns: s.insert(-1, ns.Multi()),
        lambda s, ns: s.extend([ns.Multi(), ns.Affine(4)]),
        lambda s, ns: s.pop(0) and s,
        lambda s, ns: s + type(s)(ns.Multi()),
        lambda s, ns: s * 2,
    ]
    for i, op in enumerate(ops):
        outs = []
        for ns in (M, T):
            s = type(ns.Net().blocks)(ns.Affine(1), ns.Affine(2), ns.Affine(3, bias=False))
            out = op(s, ns)
            outs.append((_r(out), _keys(out) if hasattr(out, "_modules") else None))
        assert outs[0] == outs[1], i
    seq = nn.Sequential(M.Affine(1))
    with pytest.raises(IndexError, match="index 3 is out of range"):
        _ = seq[3]
    with pytest.raises(ValueError, match="add operator supports only objects of Sequential"):
        _ = seq + nn.ModuleList()
    assert "0" not in dir(seq)


def test_sequential_slice_shares_modules():
    seq = nn.Sequential(M.Affine(1), M.Affine(2), M.Affine(3))
    part = seq[1:]
    assert isinstance(part, nn.Sequential) and part[0] is seq[1]


def test_module_list_operations_match_torch():
    torch, T = _pair()
    ops = [
        lambda m, ns: m[1:3],
        lambda m, ns: m[-1],
        lambda m, ns: m.__delitem__(0) or m,
        lambda m, ns: m.__delitem__(slice(None, None, 2)) or m,
        lambda m, ns: m.__setitem__(-1, ns.Multi()) or m,
        lambda m, ns: m.insert(1, ns.Multi()) or m,
        lambda m, ns: m.append(ns.Affine(1)),
        lambda m, ns: m.extend([ns.Affine(1), ns.Affine(1)]),
        lambda m, ns: m.pop(1) and m,
        lambda m, ns: m + type(m)([ns.Multi()]),
    ]
    for i, op in enumerate(ops):
        outs = []
        for ns, lib in ((M, lamina), (T, torch)):
            m = lib.nn.ModuleList([ns.Affine(1), ns.Affine(1), ns.Affine(2), ns.Affine(1)])
            out = op(m, ns)
            outs.append((_r(out), _keys(out) if hasattr(out, "_modules") else None))
        assert outs[0] == outs[1], i
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable"):
        nn.ModuleList().extend(3)
    assert repr(nn.ModuleList()) == "ModuleList()"


def test_module_list_collapses_repeats_like_torch():
    torch, T = _pair()
    for n_same in (1, 2, 5):
        a = nn.ModuleList([M.Affine(2)] * n_same + [M.Multi(), M.Affine(2), M.Affine(2)])
        b = torch.nn.ModuleList([T.Affine(2)] * n_same + [T.Multi(), T.Affine(2), T.Affine(2)])
        assert _r(b) == repr(a)


def test_module_dict_matches_torch():
    torch, T = _pair()
    outs = []
    for ns, lib in ((M, lamina), (T, torch)):
        d = lib.nn.ModuleDict({"z": ns.Affine(1), "a": ns.Affine(2)})
        d.update([("m", ns.Multi())])
        d["b"] = ns.Affine(3)
        del d["z"]
        popped = d.pop("a")
        outs.append((_r(d), list(d.keys()), [type(v).__name__ for v in d.values()], "m" in d, len(d),
                     type(popped).__name__, list(d)))
        d.clear()
        outs.append(len(d))
    assert outs[:2] == outs[2:]
    with pytest.raises(ValueError, match="has length 3; 2 is required"):
        nn.ModuleDict([("a", M.Affine(1), 3)])


def test_parameter_list_matches_torch():
    torch, T = _pair()
    outs = []
    for lib in (lamina, torch):
        pl = lib.nn.ParameterList([lib.ones(2, 3), lib.nn.Parameter(lib.zeros(1)), "text"])
        pl.append(lib.ones(4, dtype=lib.float64))
        pl.extend([lib.zeros(2)])
        pl[1] = lib.ones(5)
        outs.append((_r(pl), [n for n, _ in pl.named_parameters()], len(pl), _r(pl[1:3]),
                     type(pl[2]).__name__, [type(p).__name__ for p in pl]))
    assert outs[0] == outs[1]
    with pytest.raises(RuntimeError, match="ParameterList should not be called"):
        nn.ParameterList()()
    with pytest.raises(TypeError, match="should be called with an iterable"):
        nn.ParameterList().extend(lamina.ones(2))


def test_parameter_dict_matches_torch():
    torch, T = _pair()
    outs = []
    for lib in (lamina, torch):
        pd = lib.nn.ParameterDict({"z": lib.ones(2), "a": lib.zeros(3, 1)})  # a plain dict is sorted
        pd.update(OrderedDict([("y", lib.ones(1)), ("b", 4)]))
        pd["c"] = lib.nn.Parameter(lib.ones(2, 2), requires_grad=False)
        pd.setdefault("d", lib.zeros(1))
        popped = pd.pop("z")
        k, _ = pd.popitem()
        outs.append((_r(pd), list(pd.keys()), [n for n, _ in pd.named_parameters()], k, "a" in pd,
                     type(popped).__name__, pd.get("nope", 7), list(reversed(pd)), _r(pd | pd.copy())))
    assert outs[0] == outs[1]
    with pytest.raises(TypeError, match="cannot be used as a key as it is not a string"):
        _ = nn.ParameterDict()[1]


def test_containers_state_dict_keys_match_torch():
    torch, T = _pair()
    a, b = M.Net(), T.Net()
    for name in ("plist", "pdict", "heads", "branches"):
        assert list(getattr(a, name).state_dict()) == list(getattr(b, name).state_dict())


def test_identity_ignores_arguments():
    ident = nn.Identity(54, unused="x")
    x = lamina.ones(2)
    assert ident(x) is x and repr(ident) == "Identity()"
