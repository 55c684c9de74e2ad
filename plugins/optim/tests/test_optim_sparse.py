"""Optimizers with sparse gradients (``nn.Embedding(sparse=True)``), against PyTorch: SparseAdam, SGD and
Adagrad train the same model to the same losses and parameters; SparseAdam's state and state_dict; every
optimizer without a sparse rule raises torch's error; LBFGS, zero_grad and clip_grad_norm_ as torch."""

from __future__ import annotations

import io
import warnings

import lamina
import numpy as np
import pytest
from lamina_optim.sparse import SparseAdam

torch = pytest.importorskip("torch")
pytest.importorskip("lamina_sparse")
pytest.importorskip("lamina_layers_basic")
pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks are implicitly disabled")


class _Model:
    """Embedding(7, 3, sparse, padding_idx=2) -> Linear(3, 1), the same weights in both libraries."""

    def __init__(self, lib, dtype):
        self.lib = lib
        dt = getattr(lib, dtype)
        self.emb = lib.nn.Embedding(7, 3, sparse=True, padding_idx=2, dtype=dt)
        self.lin = lib.nn.Linear(3, 1, dtype=dt)
        rng = np.random.default_rng(0)
        with lib.no_grad():
            self.emb.weight.copy_(lib.tensor(rng.standard_normal((7, 3)).astype(dtype)))
            self.lin.weight.copy_(lib.tensor(np.array([[0.5, -1.0, 0.25]], dtype=dtype)))
            self.lin.bias.fill_(0.1)

    def loss(self, idx):
        return (self.lin(self.emb(self.lib.tensor(idx))) ** 2).mean()


def _train(lib, make_opt, dtype, steps=5, model=None, opt=None, start=0):
    model = model or _Model(lib, dtype)
    opt = opt or make_opt(lib, model.emb.parameters())
    rng = np.random.default_rng(1)
    batches = [rng.integers(0, 7, (4, 3)) for _ in range(start + steps)]
    losses = []
    for idx in batches[start:]:
        opt.zero_grad()
        loss = model.loss(idx)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses, model.emb.weight.detach().numpy().copy(), model, opt


def _sparse_adam(lib, params, **kw):
    return (SparseAdam if lib is lamina else torch.optim.SparseAdam)(params, **kw)


CONFIGS = [
    ("SparseAdam", {"lr": 0.1}),
    ("SparseAdam", {"lr": 0.05, "betas": (0.8, 0.9), "eps": 1e-6, "maximize": True}),
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1, "initial_accumulator_value": 0.1, "maximize": True}),
]


def _maker(name, kw):
    if name == "SparseAdam":
        return lambda lib, params: _sparse_adam(lib, params, **kw)
    return lambda lib, params: getattr(lib.optim, name)(params, **kw)


@pytest.mark.parametrize(("name", "kw"), CONFIGS, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_training_an_embedding_equals_torch(name, kw, dtype):
    la, lw, lm, lo = _train(lamina, _maker(name, kw), dtype)
    ta, tw, tm, to = _train(torch, _maker(name, kw), dtype)
    tol = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(la, ta, rtol=tol, atol=tol)
    np.testing.assert_allclose(lw, tw, rtol=tol, atol=tol)
    assert np.abs(lw - _Model(lamina, dtype).emb.weight.detach().numpy()).max() > 1e-3   # it trained
    np.testing.assert_array_equal(lw[2], tw[2])                                         # padding row untouched
    for key, tv in to.state[tm.emb.weight].items():
        lv = lo.state[lm.emb.weight][key]
        if isinstance(tv, torch.Tensor) and not tv.is_sparse:
            np.testing.assert_allclose(lv.numpy(), tv.numpy(), rtol=tol, atol=tol)
        elif isinstance(tv, torch.Tensor):
            np.testing.assert_allclose(lv.to_dense().numpy(), tv.to_dense().numpy(), rtol=tol, atol=tol)
        else:
            assert lv == tv and type(lv) is type(tv)


def test_sparse_adam_state_and_defaults_as_torch():
    w = lamina.zeros(5, 3, requires_grad=True)
    opt = SparseAdam([w])
    topt = torch.optim.SparseAdam([torch.zeros(5, 3, requires_grad=True)])
    assert opt.defaults == topt.defaults and list(opt.param_groups[0]) == list(topt.param_groups[0])
    assert repr(opt) == repr(topt)
    lamina.nn.functional.embedding(lamina.tensor([0, 2]), w, sparse=True).sum().backward()
    opt.step()
    assert list(opt.state[w]) == ["step", "exp_avg", "exp_avg_sq"] and opt.state[w]["step"] == 1
    assert type(opt.state[w]["step"]) is int
    w.grad = None
    lamina.nn.functional.embedding(lamina.tensor([], dtype=lamina.int64), w, sparse=True).sum().backward()
    opt.step()                                       # no rows: the step still counts, as torch
    assert opt.state[w]["step"] == 2


def test_sparse_adam_state_dict_resumes_like_an_uninterrupted_run():
    make = _maker("SparseAdam", {"lr": 0.1})
    _, full, _, _ = _train(lamina, make, "float64", steps=6)
    _, _, model, opt = _train(lamina, make, "float64", steps=3)
    buf = io.BytesIO()
    lamina.save({"model": model.emb.state_dict(), "opt": opt.state_dict()}, buf)
    buf.seek(0)
    sd = lamina.load(buf)
    fresh = _Model(lamina, "float64")
    fresh.lin = model.lin
    fresh.emb.load_state_dict(sd["model"])
    opt2 = SparseAdam(fresh.emb.parameters(), lr=0.1)
    opt2.load_state_dict(sd["opt"])
    assert opt2.state[fresh.emb.weight]["step"] == 3
    _, resumed, _, _ = _train(lamina, make, "float64", steps=3, model=fresh, opt=opt2, start=3)
    np.testing.assert_array_equal(resumed, full)
    _, tfull, _, _ = _train(torch, make, "float64", steps=6)
    np.testing.assert_allclose(resumed, tfull, rtol=1e-12, atol=1e-12)


def _sparse_grad_weight(lib):
    w = lib.tensor(np.random.default_rng(5).standard_normal((5, 3)), requires_grad=True)
    c = lib.tensor(np.arange(9.0).reshape(3, 3))
    (lib.nn.functional.embedding(lib.tensor([0, 2, 2]), w, sparse=True) * c).sum().backward()
    return w


def test_sparse_adam_errors_as_torch():
    for lib, cls in ((lamina, SparseAdam), (torch, torch.optim.SparseAdam)):
        w = lib.zeros(3, requires_grad=True)
        (w * 2).sum().backward()
        with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients, please consider Adam "
                                               "instead"):
            cls([w]).step()
        for kw, msg in (({"lr": 0.0}, r"Invalid learning rate: 0\.0"), ({"lr": -1}, "Invalid learning rate: -1"),
                        ({"eps": 0.0}, r"Invalid epsilon value: 0\.0"),
                        ({"betas": (1.0, 0.9)}, r"Invalid beta parameter at index 0: 1\.0"),
                        ({"betas": (0.9, -0.1)}, r"Invalid beta parameter at index 1: -0\.1")):
            with pytest.raises(ValueError, match=msg):
                cls([lib.zeros(2, requires_grad=True)], **kw)
        sp = lib.tensor([[0.0, 1.0], [2.0, 0.0]]).to_sparse().requires_grad_()
        with pytest.raises(ValueError, match=r"Sparse params at indices \[\[1, 1\]\]: SparseAdam requires dense "
                                             "parameter tensors"):
            cls([{"params": [lib.zeros(2, requires_grad=True)]}, {"params": [lib.zeros(2, requires_grad=True), sp]}])
        with pytest.raises(ValueError, match=r"Complex params at indices \[\[0, 0\]\]: SparseAdam does not support "
                                             "complex parameters"):
            cls([lib.zeros(2, dtype=lib.complex64, requires_grad=True)])


DENSE_ONLY = [("Adam", "Adam does not support sparse gradients, please consider SparseAdam instead"),
              ("AdamW", "Adam does not support sparse gradients, please consider SparseAdam instead"),
              ("Adamax", "Adamax does not support sparse gradients"), ("NAdam", "NAdam does not support sparse"),
              ("RAdam", "RAdam does not support sparse gradients"), ("RMSprop", "RMSprop does not support sparse"),
              ("Adadelta", "Adadelta does not support sparse"), ("ASGD", "ASGD does not support sparse gradients"),
              ("Rprop", "Rprop does not support sparse gradients"), ("Adafactor", "Adafactor does not support sparse"),
              ("Muon", "Muon does not support sparse gradients")]


@pytest.mark.parametrize(("name", "msg"), DENSE_ONLY, ids=[n for n, _ in DENSE_ONLY])
def test_optimizers_without_a_sparse_rule_raise_torchs_error(name, msg):
    for lib in (lamina, torch):
        w = _sparse_grad_weight(lib)
        before = w.detach().clone().numpy()
        with pytest.raises(RuntimeError, match=msg):
            getattr(lib.optim, name)([w]).step()
        np.testing.assert_array_equal(w.detach().numpy(), before)


def test_sgd_weight_decay_and_adagrad_weight_decay_refuse_sparse_gradients():
    for lib in (lamina, torch):
        with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported. Use add\(dense, sparse\) "
                                               "instead."):
            lib.optim.SGD([_sparse_grad_weight(lib)], lr=0.1, weight_decay=0.1).step()
        with pytest.raises(RuntimeError, match="weight_decay option is not compatible with sparse gradients"):
            lib.optim.Adagrad([_sparse_grad_weight(lib)], weight_decay=0.1).step()


def test_sgd_momentum_buffer_is_sparse_as_torch():
    bufs = []
    for lib in (lamina, torch):
        w = _sparse_grad_weight(lib)
        opt = lib.optim.SGD([w], lr=0.1, momentum=0.9)
        opt.step()
        bufs.append(opt.state[w]["momentum_buffer"])
    assert bufs[0].is_sparse and bufs[1].is_sparse
    np.testing.assert_allclose(bufs[0].to_dense().numpy(), bufs[1].to_dense().numpy())


def test_lbfgs_uses_the_dense_form_of_a_sparse_gradient():
    out = []
    for lib in (lamina, torch):
        w = lib.tensor(np.random.default_rng(6).standard_normal((5, 3)), requires_grad=True)
        opt = lib.optim.LBFGS([w], lr=0.5, max_iter=4)

        def closure(lib=lib, w=w, opt=opt):
            opt.zero_grad()
            loss = (lib.nn.functional.embedding(lib.tensor([0, 2, 2, 4]), w, sparse=True) ** 2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        out.append(w.detach().numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-10, atol=1e-12)


def test_zero_grad_set_to_none_false_empties_a_sparse_grad():
    for lib in (lamina, torch):
        w = _sparse_grad_weight(lib)
        g = w.grad
        lib.optim.SGD([w]).zero_grad(set_to_none=False)
        assert w.grad is g and w.grad.is_sparse and w.grad._nnz() == 0 and w.grad.is_coalesced()
        assert tuple(w.grad._values().shape) == (0, 3)
        lib.optim.SGD([w]).zero_grad()
        assert w.grad is None


@pytest.mark.parametrize("norm_type", [2.0, "inf"])
def test_clip_grad_norm_refuses_a_sparse_gradient_as_torch(norm_type):
    for lib in (lamina, torch):
        w = _sparse_grad_weight(lib)
        with warnings.catch_warnings(), pytest.raises(NotImplementedError, match="SparseCPU"):
            lib.nn.utils.clip_grad_norm_([w], 1.0, norm_type=norm_type)


def test_sparse_adam_is_registered():
    assert lamina.optim.SparseAdam is SparseAdam, (
        "lamina.optim.SparseAdam is not the registered entry point: reinstall lamina-optim (pip install -e "
        "plugins/optim) so that its entry points are refreshed")
