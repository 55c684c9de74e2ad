"""nn.Module and nn.Parameter: registration, iteration, modes, moves, copies, errors; PyTorch parity."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys

import _nn_models
import lamina
import numpy as np
import pytest
from lamina import nn

M = _nn_models.make(lamina)


class Leaf(nn.Module):  # module level so that pickle can find it
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(lamina.ones(3) * 1.5)
        self.register_buffer("running", lamina.zeros(3))

    def forward(self, x):
        return x * self.weight


class Pickled(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = Leaf()
        self.b = Leaf()
        self.b.weight = self.a.weight
        self.note = "kept"

    def forward(self, x):
        return self.b(self.a(x))


def _torch():
    return pytest.importorskip("torch")


def _torch_repr(module) -> str:
    return repr(module).replace("torch.", "lamina.")


# --- Parameter ----------------------------------------------------------------------------------
def test_parameter_is_tensor_sharing_storage():
    t = lamina.ones(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, lamina.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf
    p.data.mul_(3)
    assert t.tolist() == [[3.0] * 3] * 2  # same storage
    assert type(p * 2) is lamina.Tensor and type(p.detach()) is lamina.Tensor
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)


def test_parameter_repr_matches_torch():
    torch = _torch()
    data = [[0.5, -1.25], [2.0, 3.0]]
    assert repr(nn.Parameter(lamina.tensor(data))) == _torch_repr(torch.nn.Parameter(torch.tensor(data)))
    assert repr(nn.Parameter(lamina.tensor(data), requires_grad=False)) == \
        _torch_repr(torch.nn.Parameter(torch.tensor(data), requires_grad=False))


def test_parameter_of_integer_dtype_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(lamina.zeros(2, dtype=lamina.int64))
    assert not nn.Parameter(lamina.zeros(2, dtype=lamina.int64), requires_grad=False).requires_grad


def test_parameter_deepcopy_and_pickle_keep_type_and_attributes():
    p = nn.Parameter(lamina.tensor([1.0, 2.0]))
    p.tag = "w"
    p.grad = lamina.tensor([0.5, 0.5])
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q is not p and q.tag == "w" and q.requires_grad
    assert q.grad.tolist() == [0.5, 0.5] and q.grad is not p.grad
    q.data.add_(1)
    assert p.tolist() == [1.0, 2.0]
    r = pickle.loads(pickle.dumps(nn.Parameter(lamina.tensor([1.0]), requires_grad=False)))
    assert type(r) is nn.Parameter and not r.requires_grad and r.tolist() == [1.0]
    s = pickle.loads(pickle.dumps(p))
    assert s.tag == "w" and s.requires_grad


def test_buffer_marker_registers_buffer():
    m = nn.Module()
    m.stat = nn.Buffer(lamina.zeros(2), persistent=False)
    m.keep = nn.Buffer(lamina.ones(1))
    assert [n for n, _ in m.named_buffers()] == ["stat", "keep"]
    assert list(m.state_dict()) == ["keep"]
    assert type(m.stat) is lamina.Tensor


# --- registration and attribute errors -----------------------------------------------------------
def test_registration_by_assignment_and_explicit():
    m = nn.Module()
    m.w = nn.Parameter(lamina.ones(1))
    m.register_buffer("b", lamina.zeros(1))
    m.child = nn.Identity()
    m.add_module("other", nn.Identity())
    m.register_module("third", None)
    m.plain = 3
    assert list(m._parameters) == ["w"] and list(m._buffers) == ["b"]
    assert list(m._modules) == ["child", "other", "third"]
    assert m.plain == 3 and "plain" in m.__dict__
    m.w = None
    assert m.w is None and "w" in m._parameters
    del m.child
    assert "child" not in m._modules
    m.b = lamina.ones(3)  # re-assigning a buffer name keeps it a buffer
    assert m._buffers["b"].shape == (3,)
    m.other = nn.Parameter(lamina.ones(1))  # a parameter replaces a module of the same name
    assert "other" in m._parameters and "other" not in m._modules


def test_bad_assignment_errors_match_torch():
    torch = _torch()
    for lib, prefix in ((lamina, "lamina"), (torch, "torch")):
        m = lib.nn.Module()
        m.weight = lib.nn.Parameter(lib.ones(2))
        with pytest.raises(TypeError) as ei:
            m.weight = lib.ones(2)
        assert str(ei.value) == f"cannot assign '{prefix}.FloatTensor' as parameter 'weight' " \
                                f"({prefix}.nn.Parameter or None expected)"
        m.sub = lib.nn.Identity()
        with pytest.raises(TypeError, match="as child module 'sub'"):
            m.sub = 3
        m.register_buffer("buf", lib.ones(1))
        with pytest.raises(TypeError, match="as buffer 'buf'"):
            m.buf = 3
        with pytest.raises(KeyError, match="attribute 'sub' already exists"):
            m.register_parameter("sub", None)
        with pytest.raises(KeyError, match="empty string"):
            m.register_buffer("", None)
        with pytest.raises(TypeError, match="is not a Module subclass"):
            m.add_module("x", 3)
    with pytest.raises(ValueError, match="non-leaf"):
        nn.Module().register_parameter("y", _nonleaf())


def _nonleaf():
    p = nn.Parameter(lamina.ones(1))
    q = nn.Parameter.__new__(nn.Parameter, lamina.ones(1))
    q._node = (p * 2)._node
    return q


def test_getattr_error_and_before_init():
    class Net(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(lamina.ones(1))

    with pytest.raises(AttributeError, match=r"cannot assign parameters before Module.__init__\(\) call"):
        Net()
    with pytest.raises(AttributeError, match="^'Identity' object has no attribute 'foo'$"):
        _ = nn.Identity().foo


def test_missing_forward_raises_like_torch():
    class Net(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match=r'Module \[Net\] is missing the required "forward" function'):
        Net()(1)


def test_init_rejects_arguments():
    with pytest.raises(TypeError, match="unexpected keyword argument 'x'"):
        nn.Module(x=1)


def test_get_submodule_parameter_buffer():
    net = M.Net()
    assert net.get_submodule("blocks.0") is net.blocks[0]
    assert net.get_submodule("") is net
    assert net.get_parameter("heads.1.weight") is net.heads[1].weight
    assert net.get_buffer("stem.running") is net.stem.running
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        net.get_submodule("blocks.nope")
    with pytest.raises(AttributeError, match="`features` is not an nn.Module"):
        net.get_submodule("stem.features.x")
    with pytest.raises(AttributeError, match="`features` is not an nn.Parameter"):
        net.get_parameter("stem.features")
    net.set_submodule("blocks.1", M.Affine(3))
    assert isinstance(net.blocks[1], M.Affine)


def test_dir_lists_members_without_digits():
    net = M.Net()
    names = dir(net)
    assert {"stem", "blocks", "stat", "forward", "training"} <= set(names)
    assert "0" not in dir(net.blocks)
    assert names == sorted(names)


# --- iteration, parity with torch ----------------------------------------------------------------
def _names(it):
    return [n for n, _ in it]


def test_named_members_match_torch():
    torch = _torch()
    T = _nn_models.make(torch)
    for build in ("Net", "Shared"):
        a, b = getattr(M, build)(), getattr(T, build)()
        for call in ("named_parameters", "named_buffers", "named_modules", "named_children"):
            assert _names(getattr(a, call)()) == _names(getattr(b, call)()), (build, call)
        for call in ("named_parameters", "named_buffers", "named_modules"):
            got = _names(getattr(a, call)(remove_duplicate=False))
            assert got == _names(getattr(b, call)(remove_duplicate=False)), (build, call)
        assert _names(a.named_parameters(prefix="m", recurse=False)) == \
            _names(b.named_parameters(prefix="m", recurse=False))
        assert _names(a.named_modules(prefix="root")) == _names(b.named_modules(prefix="root"))
        assert len(list(a.parameters())) == len(list(b.parameters()))
        assert len(list(a.modules())) == len(list(b.modules()))


def test_shared_parameters_are_deduplicated():
    s = M.Shared()
    params = list(s.parameters())
    assert sum(p is s.a.weight for p in params) == 1
    assert len(params) == len({id(p) for p in params})
    assert sum(p is s.a.weight for p in s.parameters(recurse=True)) == 1


def test_parameters_is_a_generator():
    import types

    assert isinstance(M.Net().parameters(), types.GeneratorType)


def test_repr_matches_torch():
    torch = _torch()
    T = _nn_models.make(torch)
    assert repr(M.Net()) == _torch_repr(T.Net())
    assert repr(M.Shared()) == _torch_repr(T.Shared())
    assert repr(M.Multi()) == _torch_repr(T.Multi())
    assert repr(nn.Module()) == _torch_repr(torch.nn.Module())

    class Holder(nn.Module):  # a None child prints as None
        def __init__(self):
            super().__init__()
            self.register_module("gone", None)

    assert repr(Holder()) == "Holder(\n  (gone): None\n)"


# --- modes, grads, apply -------------------------------------------------------------------------
def test_train_eval_recursive():
    net = M.Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.blocks.train()
    assert net.blocks[0].training and not net.stem.training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("yes")


def test_zero_grad_and_requires_grad():
    net = M.Affine(3)
    net(lamina.ones(2, 3)).sum().backward()
    g = net.weight.grad
    net.zero_grad(set_to_none=False)
    assert net.weight.grad is g and g.tolist() == [0.0, 0.0, 0.0]
    net.zero_grad()
    assert net.weight.grad is None and net.bias.grad is None
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_apply_visits_children_first():
    net = M.Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    torch = pytest.importorskip("torch")
    tseen = []
    _nn_models.make(torch).Net().apply(lambda m: tseen.append(type(m).__name__))
    assert seen == tseen


# --- moves keep identity -------------------------------------------------------------------------
def test_to_dtype_keeps_parameter_identity():
    net = M.Net()
    params = list(net.parameters())
    net(lamina.ones(1, 3)).sum().backward()
    assert net.to(lamina.float64) is net
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(p.dtype is lamina.float64 and type(p) is nn.Parameter for p in params)
    assert net.stem.weight.grad.dtype is lamina.float64
    assert net.stem.count.dtype is lamina.int64  # integer buffers keep their dtype
    assert net.stem.running.dtype is lamina.float64
    net.float()
    assert net.stem.weight.dtype is lamina.float32
    net.half()
    assert net.stem.weight.dtype is lamina.float16
    net.double()
    assert net.stem.weight.dtype is lamina.float64 and net.stem.count.dtype is lamina.int64
    out = net(lamina.ones(1, 3, dtype=lamina.float64))
    assert out.dtype is lamina.float64
    net.to("cpu")
    net.cpu()
    assert net.stem.weight.device.type == "cpu"
    with pytest.raises(TypeError, match="only accepts floating point or complex dtypes"):
        net.to(lamina.int64)


def test_type_and_share_memory():
    net = M.Affine(2)
    assert net.share_memory() is net
    net.type(lamina.float64)
    assert net.weight.dtype is lamina.float64


# --- copies --------------------------------------------------------------------------------------
def test_deepcopy_preserves_sharing_and_independence():
    net = Pickled()
    c = copy.deepcopy(net)
    assert c.b.weight is c.a.weight and c.a.weight is not net.a.weight
    assert type(c.a.weight) is nn.Parameter and c.note == "kept"
    c.a.weight.data.add_(1)
    assert net.a.weight.tolist() == [1.5, 1.5, 1.5]
    x = lamina.ones(1, 3)
    assert np.allclose(copy.deepcopy(net)(x).detach().numpy(), net(x).detach().numpy())


def test_pickle_round_trip():
    net = Pickled()
    net.eval()
    back = pickle.loads(pickle.dumps(net))
    assert back.b.weight is back.a.weight and not back.training
    assert list(back.state_dict()) == list(net.state_dict())
    x = lamina.ones(2, 3)
    assert np.allclose(back(x).detach().numpy(), net(x).detach().numpy())
    assert back.a._forward_hooks is not None


def test_setstate_fills_missing_hook_dicts():
    net = M.Affine(2)
    state = dict(net.__dict__)
    del state["_forward_pre_hooks"]
    fresh = M.Affine.__new__(M.Affine)
    fresh.__setstate__(state)
    assert fresh(lamina.ones(2)).shape == (2,)


# --- the namespace ------------------------------------------------------------------------------
def test_import_lamina_nn_scans_no_entry_points():
    code = (
        "import sys, importlib.metadata as md\n"
        "calls = []\n"
        "orig = md.entry_points\n"
        "md.entry_points = lambda *a, **k: calls.append(1) or orig(*a, **k)\n"
        "import lamina.nn as nn\n"
        "import lamina.nn.functional as F\n"
        "import lamina.nn.init, lamina.nn.utils\n"
        "from lamina.nn import Module, Sequential, Parameter, Identity\n"
        "assert F.relu and nn.functional is F\n"
        "plugins = [m for m in sys.modules if m.startswith('lamina_')]\n"
        "assert not calls and not plugins, (calls, plugins)\n"
        "from lamina.plugins import _registry\n"
        "assert _registry._index is None\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_unknown_nn_name_is_an_attribute_error():
    with pytest.raises(AttributeError):
        _ = nn.DefinitelyNotALayer
    assert "Module" in dir(nn) and "Sequential" in dir(nn)
