"""What the kit's records cannot express about lamina-optim (the kit itself runs in test_optim_kit.py)."""

from __future__ import annotations

import lamina
import lamina.optim as optim
import numpy as np
import pytest


def test_adagrad_leaves_parameters_without_grad_unchanged():
    a = lamina.ones(3, requires_grad=True)
    b = lamina.ones(2, requires_grad=True)
    opt = optim.Adagrad([a, b], lr=0.5)
    a.grad = lamina.ones(3)
    opt.step()
    assert np.array_equal(b.detach().numpy(), np.ones(2, "float32"))
    assert float(opt.state[b]["step"]) == 0.0 and float(opt.state[a]["step"]) == 1.0


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad",
                                  "Adadelta", "ASGD", "Rprop"])
def test_float32_stays_float32_and_updates_in_place(name):
    p = lamina.tensor(np.linspace(-1, 1, 6, dtype="float32").reshape(2, 3), requires_grad=True)
    storage = p.array
    opt = getattr(optim, name)([p], lr=0.01)
    for _ in range(3):
        p.grad = lamina.full((2, 3), 0.5)
        opt.step()
    assert p.array is storage and p.dtype == lamina.float32
    for key, v in opt.state[p].items():
        if isinstance(v, lamina.Tensor) and v.is_floating_point():
            assert v.dtype == lamina.float32, key


@pytest.mark.parametrize("name", ["Adam", "SGD", "RMSprop"])
def test_differentiable_is_rejected_with_a_clear_message(name):
    with pytest.raises(ValueError, match=f"{name}: differentiable=True is not supported"):
        getattr(optim, name)([lamina.zeros(2, requires_grad=True)], lr=0.1, differentiable=True)


def test_tensor_lr_is_accepted():
    p = lamina.ones(2, requires_grad=True)
    opt = optim.Adam([p], lr=lamina.tensor(0.1))
    p.grad = lamina.ones(2)
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.9, 0.9], rtol=1e-6)


def test_repr_lists_group_options_like_torch():
    torch = pytest.importorskip("torch")
    a = optim.Adam([lamina.zeros(2, requires_grad=True)], lr=0.01)
    b = torch.optim.Adam([torch.zeros(2, requires_grad=True)], lr=0.01)
    assert repr(a) == repr(b)
