"""The third-party plugin, used exactly as a user would: through lamina.nn and the kit."""

from __future__ import annotations

import lamina
import pytest
from lamina.testing import parametrize_plugin, run_check

pytestmark = pytest.mark.filterwarnings("error")


def test_layer_and_loss_resolve_through_lamina_nn():
    Gated = getattr(lamina.nn, "acme.GatedLinear")
    Loss = getattr(lamina.nn, "acme.CharbonnierLoss")
    from acme_layers.gated import GatedLinear

    assert Gated is GatedLinear
    lamina.manual_seed(0)
    m = Gated(3, 2)
    x = lamina.randn(5, 3)
    loss = Loss()(m(x), lamina.zeros(5, 2))
    loss.backward()
    assert m.weight_a.grad is not None and m.weight_g.grad.shape == (2, 3)
    assert repr(m) == "GatedLinear(in_features=3, out_features=2)"


def test_hooks_plugin_wraps_optimizer_steps():
    from acme_layers import hooks

    class Plain(lamina.optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": 0.1})

        @lamina.no_grad()
        def step(self, closure=None):
            for g in self.param_groups:
                for p in g["params"]:
                    p.add_(p.grad, alpha=-g["lr"])

    p = lamina.ones(3, requires_grad=True)
    opt = Plain([p])
    (p * 100).sum().backward()
    before = hooks.STATS["steps"]
    hooks.CLIP = 0.5
    try:
        opt.step()
    finally:
        hooks.CLIP = None
    assert hooks.STATS["steps"] == before + 1
    assert hooks.STATS["configured"]
    assert lamina.allclose(p, lamina.full((3,), 0.95))  # the gradient 100 was clipped to 0.5


@parametrize_plugin("acme-lamina-layers")  # every check of every component; strict: a component without a record fails
def test_kit(case, check):
    run_check(case, check)
