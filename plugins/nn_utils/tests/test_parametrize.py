"""lamina.nn.utils.parametrize against torch.nn.utils.parametrize: same weights, same values, gradients,
state_dict keys, class names, remove results and errors."""

from __future__ import annotations

import copy

import lamina
import lamina.nn.utils.parametrize as LP
import numpy as np
import pytest
import torch
import torch.nn.utils.parametrize as TP


def _pair(seed=0, n=4, m=3, dtype=np.float64):
    rng = np.random.default_rng(seed)
    w, b = rng.standard_normal((n, m)).astype(dtype), rng.standard_normal(n).astype(dtype)
    lm, tm = lamina.nn.Linear(m, n, dtype=lamina.float64), torch.nn.Linear(m, n, dtype=torch.float64)
    with lamina.no_grad():
        lm.weight.copy_(lamina.tensor(w))
        lm.bias.copy_(lamina.tensor(b))
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(w))
        tm.bias.copy_(torch.tensor(b))
    return lm, tm


def _close(a, b, tol=1e-12):
    np.testing.assert_allclose(np.asarray(a.detach().numpy()), b.detach().numpy(), rtol=tol, atol=tol)


def _modules(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

    class Scale(lib.nn.Module):
        def forward(self, X):
            return X * 2.0

        def right_inverse(self, X):
            return X / 2.0

    class Split(lib.nn.Module):  # two originals: original0, original1
        def forward(self, A, B):
            return A + B

        def right_inverse(self, X):
            return X * 0.25, X * 0.75

    class Bad(lib.nn.Module):
        def forward(self, X):
            return X[:1]

    return Symmetric, Scale, Split, Bad


@pytest.mark.parametrize("which", [0, 1, 2])
def test_values_grads_keys(which):
    lm, tm = _pair(which, n=3)
    lp, tp = _modules(lamina)[which](), _modules(torch)[which]()
    LP.register_parametrization(lm, "weight", lp)
    TP.register_parametrization(tm, "weight", tp)
    assert type(lm).__name__ == type(tm).__name__ == "ParametrizedLinear"
    assert list(lm.state_dict()) == list(tm.state_dict())
    for k in tm.state_dict():
        _close(lm.state_dict()[k], tm.state_dict()[k])
    _close(lm.weight, tm.weight)
    x = np.random.default_rng(5).standard_normal((2, lm.in_features))
    lo, to = lm(lamina.tensor(x)), tm(torch.tensor(x))
    _close(lo, to)
    (lo ** 2).sum().backward()
    (to ** 2).sum().backward()
    for (ln, lpar), (tn, tpar) in zip(lm.named_parameters(), tm.named_parameters(), strict=True):
        assert ln == tn
        _close(lpar.grad, tpar.grad)
    assert LP.is_parametrized(lm) and LP.is_parametrized(lm, "weight") and not LP.is_parametrized(lm, "bias")
    assert LP.type_before_parametrizations(lm) is lamina.nn.Linear
    assert repr(lm) == repr(tm)


def test_original_keeps_identity_and_setter():
    lm, tm = _pair(1)
    w = lm.weight
    LP.register_parametrization(lm, "weight", _modules(lamina)[1]())
    TP.register_parametrization(tm, "weight", _modules(torch)[1]())
    assert lm.parametrizations.weight.original is w
    _close(lm.parametrizations.weight.original, tm.parametrizations.weight.original)
    v = np.arange(12.0).reshape(4, 3)
    lm.weight = lamina.tensor(v)
    tm.weight = torch.tensor(v)
    _close(lm.parametrizations.weight.original, tm.parametrizations.weight.original)
    _close(lm.weight, tm.weight)


@pytest.mark.parametrize("leave", [True, False])
@pytest.mark.parametrize("which", [0, 1])
def test_remove(which, leave):
    lm, tm = _pair(2, n=3)
    w = lm.weight
    LP.register_parametrization(lm, "weight", _modules(lamina)[which]())
    TP.register_parametrization(tm, "weight", _modules(torch)[which]())
    LP.remove_parametrizations(lm, "weight", leave_parametrized=leave)
    TP.remove_parametrizations(tm, "weight", leave_parametrized=leave)
    assert type(lm) is lamina.nn.Linear and not hasattr(lm, "parametrizations")
    assert lm.weight is w and isinstance(lm.weight, lamina.nn.Parameter)
    assert list(lm.state_dict()) == list(tm.state_dict()) == ["bias", "weight"]
    _close(lm.weight, tm.weight)


def test_remove_sequence_originals():
    lm, tm = _pair(3)
    LP.register_parametrization(lm, "weight", _modules(lamina)[2]())
    TP.register_parametrization(tm, "weight", _modules(torch)[2]())
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        LP.remove_parametrizations(lm, "weight", leave_parametrized=False)
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        TP.remove_parametrizations(tm, "weight", leave_parametrized=False)
    LP.remove_parametrizations(lm, "weight")
    TP.remove_parametrizations(tm, "weight")
    assert isinstance(lm.weight, lamina.nn.Parameter) and isinstance(tm.weight, torch.nn.Parameter)
    _close(lm.weight, tm.weight)


def test_chain_and_two_tensors():
    lm, tm = _pair(4, n=3, m=3)
    for P, lib, mod in ((LP, lamina, lm), (TP, torch, tm)):
        Sym, Scale, _, _ = _modules(lib)
        P.register_parametrization(mod, "weight", Sym())
        P.register_parametrization(mod, "weight", Scale())
        P.register_parametrization(mod, "bias", Scale())
    assert list(lm.state_dict()) == list(tm.state_dict())
    assert repr(lm) == repr(tm)
    _close(lm.weight, tm.weight)
    _close(lm.bias, tm.bias)
    LP.remove_parametrizations(lm, "weight")
    TP.remove_parametrizations(tm, "weight")
    assert type(lm).__name__ == "ParametrizedLinear"
    assert list(lm.state_dict()) == list(tm.state_dict())
    _close(lm.weight, tm.weight)


def test_cached():
    lm, _ = _pair(5)
    LP.register_parametrization(lm, "weight", _modules(lamina)[1]())
    with LP.cached():
        a, b = lm.weight, lm.weight
        assert a is b
    assert lm.weight is not lm.weight


def test_errors():
    lm, tm = _pair(6)
    for P, lib, mod in ((LP, lamina, lm), (TP, torch, tm)):
        Bad = _modules(lib)[3]
        with pytest.raises(ValueError, match="may not change the shape") as e:
            P.register_parametrization(mod, "weight", Bad())
        with pytest.raises(ValueError, match="does not have a parameter, a buffer") as e2:
            P.register_parametrization(mod, "nothere", Bad())
        with pytest.raises(ValueError, match="does not have a parametrization on weight"):
            P.remove_parametrizations(mod, "weight")
        P.register_parametrization(mod, "weight", Bad(), unsafe=True)
        assert mod.weight.shape == (1, 3)
    assert str(e.value).replace("lamina.Size", "torch.Size") != ""
    assert "nothere" in str(e2.value)
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        lm.weight = lamina.zeros(4, 3, dtype=lamina.float64)
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        tm.weight = torch.zeros(4, 3, dtype=torch.float64)


def test_dtype_error_matches_torch():
    class ToF32L(lamina.nn.Module):
        def forward(self, X):
            return X.float()

    class ToF32T(torch.nn.Module):
        def forward(self, X):
            return X.float()

    lm, tm = _pair(7)
    with pytest.raises(ValueError) as le:
        LP.register_parametrization(lm, "weight", ToF32L())
    with pytest.raises(ValueError) as te:
        TP.register_parametrization(tm, "weight", ToF32T())
    assert str(le.value).replace("lamina.", "torch.") == str(te.value)


def test_deepcopy_and_pickle():
    lm, _ = _pair(8)
    LP.register_parametrization(lm, "weight", _modules(lamina)[1]())
    c = copy.deepcopy(lm)
    assert type(c).__name__ == "ParametrizedLinear"
    _close(c.weight, torch.tensor(lm.weight.detach().numpy()))
    with pytest.raises(RuntimeError, match="Serialization of parametrized modules"):
        lm.__getstate__()


def test_transfer():
    la, ta = _pair(9)
    lb, tb = _pair(10)
    LP.register_parametrization(la, "weight", _modules(lamina)[1]())
    TP.register_parametrization(ta, "weight", _modules(torch)[1]())
    LP.transfer_parametrizations_and_params(la, lb)
    TP.transfer_parametrizations_and_params(ta, tb)
    assert list(lb.state_dict()) == list(tb.state_dict())
    _close(lb.weight, tb.weight)
    assert lb.parametrizations.weight.original is la.parametrizations.weight.original
    assert LP.transfer_parametrizations_and_params(lamina.nn.Linear(2, 2), lb) is lb


def test_buffer_parametrized():
    lbn, tbn = lamina.nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    LP.register_parametrization(lbn, "running_var", _modules(lamina)[1]())
    TP.register_parametrization(tbn, "running_var", _modules(torch)[1]())
    assert list(lbn.state_dict()) == list(tbn.state_dict())
    LP.remove_parametrizations(lbn, "running_var")
    TP.remove_parametrizations(tbn, "running_var")
    assert list(lbn.state_dict()) == list(tbn.state_dict())
    assert "running_var" in lbn._buffers


def test_state_dict_round_trip_and_optimizer_step():
    lm, tm = _pair(11, n=3)
    LP.register_parametrization(lm, "weight", _modules(lamina)[0]())
    TP.register_parametrization(tm, "weight", _modules(torch)[0]())
    lopt = lamina.optim.SGD(lm.parameters(), lr=0.1)
    topt = torch.optim.SGD(tm.parameters(), lr=0.1)
    x = np.random.default_rng(12).standard_normal((4, 3))
    for _ in range(2):
        lopt.zero_grad()
        topt.zero_grad()
        lm(lamina.tensor(x)).pow(2).sum().backward()
        tm(torch.tensor(x)).pow(2).sum().backward()
        lopt.step()
        topt.step()
    _close(lm.weight, tm.weight)
    fresh, _ = _pair(13, n=3)
    LP.register_parametrization(fresh, "weight", _modules(lamina)[0]())
    result = fresh.load_state_dict(lm.state_dict())
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    _close(fresh.weight, tm.weight)
    plain, _ = _pair(14, n=3)
    with pytest.raises(RuntimeError, match="parametrizations.weight.original"):
        plain.load_state_dict(lm.state_dict())


def test_train_mode_follows_module_and_dtype_conversion():
    lm, _ = _pair(15)
    lm.eval()
    p = _modules(lamina)[1]()
    LP.register_parametrization(lm, "weight", p)
    assert p.training is False
    lm.float()
    assert lm.weight.dtype == lamina.float32 and lm.parametrizations.weight.original.dtype == lamina.float32
