"""state_dict / load_state_dict: key order and results vs PyTorch; all-or-nothing loading; hooks."""

from __future__ import annotations

from collections import OrderedDict

import _nn_models
import lamina
import numpy as np
import pytest
from lamina import nn

M = _nn_models.make(lamina)


def _snapshot(module):
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def _same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_state_dict_keys_order_matches_torch():
    torch = pytest.importorskip("torch")
    T = _nn_models.make(torch)
    for build in ("Net", "Shared", "Affine"):
        args = (3,) if build == "Affine" else ()
        a, b = getattr(M, build)(*args), getattr(T, build)(*args)
        assert list(a.state_dict()) == list(b.state_dict()), build
        assert list(a.state_dict(prefix="model.")) == list(b.state_dict(prefix="model."))
        assert list(a.state_dict()._metadata) == list(b.state_dict()._metadata)


def test_state_dict_values_detached_unless_keep_vars():
    m = M.Affine(3)
    sd = m.state_dict()
    assert isinstance(sd, OrderedDict)
    assert type(sd["weight"]) is lamina.Tensor and not sd["weight"].requires_grad
    sd["weight"].add_(1)  # shares storage, as in PyTorch
    assert m.weight.tolist() == [2.5] * 3
    kept = m.state_dict(keep_vars=True)
    assert kept["weight"] is m.weight and kept["running"] is m.running
    assert "scratch" not in sd and "bias" in sd


def test_load_round_trip_and_identity():
    src, dst = M.Net(), M.Net()
    for p in src.parameters():
        p.data.add_(lamina.randn(*p.shape))
    weight = dst.stem.weight
    res = dst.load_state_dict(src.state_dict())
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert repr(res) == "<All keys matched successfully>"
    assert dst.stem.weight is weight
    assert _same(_snapshot(src), _snapshot(dst))


def test_strict_false_missing_and_unexpected_match_torch():
    torch = pytest.importorskip("torch")
    T = _nn_models.make(torch)
    results = []
    for lib, ns in ((lamina, M), (torch, T)):
        net = ns.Net()
        sd = net.state_dict()
        del sd["stem.weight"], sd["heads.3.running"], sd["plist.1"]
        sd["stem.extra"] = lib.zeros(1)
        sd["nosuch.weight"] = lib.zeros(1)
        sd["blocks.0.bogus"] = lib.zeros(1)
        res = net.load_state_dict(sd, strict=False)
        results.append((res.missing_keys, res.unexpected_keys))
        with pytest.raises(RuntimeError) as ei:
            net.load_state_dict(sd)
        results.append(str(ei.value))
    assert results[0] == results[2]
    assert results[1] == results[3]


def test_size_mismatch_message_matches_torch():
    torch = pytest.importorskip("torch")
    T = _nn_models.make(torch)
    msgs = []
    for lib, ns in ((lamina, M), (torch, T)):
        net = ns.Net()
        sd = net.state_dict()
        sd["stem.weight"] = lib.zeros(4)
        sd["heads.1.bias"] = lib.zeros(2, 3)
        with pytest.raises(RuntimeError) as ei:
            net.load_state_dict(sd)
        msgs.append(str(ei.value).replace("torch.", "lamina."))
    assert msgs[0] == msgs[1]
    assert msgs[0].startswith("Error(s) in loading state_dict for Net:\n\tsize mismatch for stem.weight: copying "
                              "a param with shape lamina.Size([4]) from checkpoint, the shape in current model is "
                              "lamina.Size([3]).")


def test_load_is_all_or_nothing_and_lists_every_problem():
    net = M.Net()
    before = _snapshot(net)
    src = M.Net()
    sd = {k: v + 1 if v.is_floating_point() else v for k, v in src.state_dict().items()}
    sd["stem.weight"] = lamina.zeros(5)  # size
    sd["blocks.0.running"] = lamina.zeros(3, dtype=lamina.float64)  # floating dtype
    sd["stem.count"] = lamina.zeros((), dtype=lamina.float32)  # kind: integer buffer, float checkpoint
    sd["heads.0.weight"] = np.zeros(3)  # not a tensor
    del sd["pdict.beta"]  # missing
    sd["ghost"] = lamina.zeros(1)  # unexpected
    with pytest.raises(RuntimeError) as ei:
        net.load_state_dict(sd)
    msg = str(ei.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:\n\t")
    for part in ('Missing key(s) in state_dict: "pdict.beta".',
                 'Unexpected key(s) in state_dict: "ghost".',
                 "size mismatch for stem.weight",
                 "dtype mismatch for blocks.0.running: checkpoint float64, model float32",
                 "dtype mismatch for stem.count: checkpoint float32, model int64",
                 'While copying the parameter named "heads.0.weight"'):
        assert part in msg, part
    assert len(msg.split("\n\t")) == 7
    assert _same(before, _snapshot(net))  # nothing was copied
    # without strict, key problems are reported but shape/dtype problems still raise (and still copy nothing)
    with pytest.raises(RuntimeError, match="size mismatch"):
        net.load_state_dict(sd, strict=False)
    assert _same(before, _snapshot(net))


def test_zero_dim_parameter_accepts_one_element_checkpoint():
    m = nn.Module()
    m.t = nn.Parameter(lamina.tensor(1.0))
    m.load_state_dict({"t": lamina.tensor([4.0])})
    assert m.t.item() == 4.0


def test_assign_replaces_tensors():
    m = M.Affine(3)
    w = lamina.full((3,), 7.0)
    sd = m.state_dict()
    sd["weight"] = w
    m.load_state_dict(sd, assign=True)
    assert type(m.weight) is nn.Parameter and m.weight.requires_grad
    assert m.weight.tolist() == [7.0] * 3
    w.add_(1)  # assign keeps the checkpoint's storage
    assert m.weight.tolist() == [8.0] * 3


def test_load_hooks_and_extra_state():
    class WithExtra(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(lamina.zeros(1))
            self.tag = "a"

        def get_extra_state(self):
            return {"tag": self.tag}

        def set_extra_state(self, state):
            self.tag = state["tag"]

    src, dst = WithExtra(), WithExtra()
    src.tag = "b"
    sd = src.state_dict()
    assert list(sd) == ["w", "_extra_state"]
    calls = []
    dst.register_load_state_dict_pre_hook(lambda mod, sd_, prefix, *rest: calls.append(("pre", prefix)))
    dst.register_load_state_dict_post_hook(lambda mod, keys: calls.append(("post", list(keys.missing_keys))))
    dst.load_state_dict(sd)
    assert dst.tag == "b" and calls == [("pre", ""), ("post", [])]
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "_extra_state"'):
        dst.load_state_dict({"w": lamina.zeros(1)})


def test_state_dict_hooks():
    m = M.Affine(2)
    seen = []
    m.register_state_dict_pre_hook(lambda mod, prefix, keep_vars: seen.append(prefix))
    def drop_count(mod, sd, prefix, meta):
        del sd[prefix + "count"]

    m.register_state_dict_post_hook(drop_count)
    sd = m.state_dict(prefix="x.")
    assert seen == ["x."] and "x.count" not in sd
    m.register_state_dict_post_hook(lambda mod, sd, prefix, meta: sd)
    with pytest.raises(RuntimeError, match="post-hook must return None"):
        m.state_dict()


def test_migrate_state_dict_hook_runs_before_checks():
    from lamina import hooks

    class Renamer:
        @hooks.hookimpl
        def lamina_migrate_state_dict(self, module, state_dict, prefix):
            if isinstance(module, M.Affine) and prefix + "scale" in state_dict:
                state_dict = OrderedDict(state_dict)
                state_dict[prefix + "weight"] = state_dict.pop(prefix + "scale")
                return state_dict
            return None

    plugin = Renamer()
    hooks.register_hooks(plugin, name="test-renamer")
    try:
        net = nn.Sequential(M.Affine(2))
        sd = net.state_dict()
        sd["0.scale"] = sd.pop("0.weight") * 0 + 3
        assert repr(net.load_state_dict(sd)) == "<All keys matched successfully>"
        assert net[0].weight.tolist() == [3.0, 3.0]
    finally:
        hooks.unregister_hooks(plugin)


def test_load_state_dict_rejects_non_mapping():
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        M.Affine(2).load_state_dict([1, 2])
