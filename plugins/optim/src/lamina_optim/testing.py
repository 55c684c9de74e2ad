"""Conformance records for lamina-optim (consumed by ``lamina.testing``).

Each optimizer has a NumPy float64 ``reference_step`` written from its documented update rule.
Where PyTorch keeps a scalar of the rule as 0-d float32 state (ASGD's ``eta``, NAdam's
``mu_product``), the reference rounds it the same way, so float64 parameters still match to 1e-10.
"""

from __future__ import annotations

import math

import numpy as np

__lamina_plugin_api__ = "1.0"


def _prep(g, p, maximize=False, weight_decay=0.0):
    g = -g if maximize else g
    return g + weight_decay * p if weight_decay else g


def _adam_prep(p, g, lr, maximize, weight_decay, decoupled):
    """(p, g) after maximize and weight decay: decoupled scales p by 1 - lr * weight_decay, L2 adds to g."""
    if decoupled:
        return p * (1 - lr * weight_decay), (-g if maximize else g)
    return p, _prep(g, p, maximize, weight_decay)


def _slot(state, i, **init):
    """Per-parameter reference state, created on first use."""
    s = state.setdefault(i, {})
    for k, v in init.items():
        s.setdefault(k, v)
    return s


def _tick(s):
    """Advance the step counter ``t`` of a reference state; returns the new step number."""
    s["t"] += 1
    return s["t"]


def _moments(s, g, b1, b2):
    """Adam's moment updates of reference state ``s`` (``m``, ``v``)."""
    s["m"] = b1 * s["m"] + (1 - b1) * g
    s["v"] = b2 * s["v"] + (1 - b2) * g * g


def sgd_ref(params, grads, state, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
            maximize=False, **_):
    out = []
    for i, (p, g) in enumerate(zip(params, grads)):
        d = _prep(g, p, maximize, weight_decay)
        if momentum:
            s = state.setdefault(i, {})
            s["b"] = d.copy() if "b" not in s else momentum * s["b"] + (1 - dampening) * d
            d = d + momentum * s["b"] if nesterov else s["b"]
        out.append(p - lr * d)
    return out


def adam_ref(params, grads, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
             maximize=False, decoupled_weight_decay=False, **_):
    b1, b2 = betas
    out = []
    for i, (p, g) in enumerate(zip(params, grads)):
        s = _slot(state, i, t=0, m=np.zeros_like(p), v=np.zeros_like(p), vmax=np.zeros_like(p))
        t = _tick(s)
        p, g = _adam_prep(p, g, lr, maximize, weight_decay, decoupled_weight_decay)
        _moments(s, g, b1, b2)
        s["vmax"] = np.maximum(s["vmax"], s["v"])
        v = s["vmax"] if amsgrad else s["v"]
        m_hat = s["m"] / (1 - b1 ** t)
        out.append(p - lr * m_hat / (np.sqrt(v) / math.sqrt(1 - b2 ** t) + eps))
    return out


def adamw_ref(params, grads, state, weight_decay=1e-2, **cfg):
    return adam_ref(params, grads, state, weight_decay=weight_decay, decoupled_weight_decay=True, **cfg)


def adamax_ref(params, grads, state, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False, **_):
    b1, b2 = betas
    out = []
    for i, (p, g) in enumerate(zip(params, grads)):
        s = _slot(state, i, t=0, m=np.zeros_like(p), u=np.zeros_like(p))
        t = _tick(s)
        g = _prep(g, p, maximize, weight_decay)
        s["m"] = b1 * s["m"] + (1 - b1) * g
        s["u"] = np.maximum(b2 * s["u"], np.abs(g) + eps)
        out.append(p - lr / (1 - b1 ** t) * s["m"] / s["u"])
    return out


def nadam_ref(params, grads, state, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
              decoupled_weight_decay=False, maximize=False, **_):
    b1, b2 = betas
    out = []
    for i, (p, g) in enumerate(zip(params, grads)):
        s = _slot(state, i, t=0, prod=np.float32(1.0), m=np.zeros_like(p), v=np.zeros_like(p))
        t = _tick(s)
        p, g = _adam_prep(p, g, lr, maximize, weight_decay, decoupled_weight_decay)
        mu = b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        s["prod"] = np.float32(s["prod"] * np.float32(mu))  # stored as 0-d float32 state
        prod = float(s["prod"])
        _moments(s, g, b1, b2)
        denom = np.sqrt(s["v"] / (1 - b2 ** t)) + eps
        out.append(p - lr * (1 - mu) / (1 - prod) * g / denom - lr * mu_next / (1 - prod * mu_next) * s["m"] / denom)
    return out


def radam_ref(params, grads, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
              decoupled_weight_decay=False, maximize=False, **_):
    b1, b2 = betas
    rho_inf = 2 / (1 - b2) - 1
    out = []
    for i, (p, g) in enumerate(zip(params, grads)):
        s = _slot(state, i, t=0, m=np.zeros_like(p), v=np.zeros_like(p))
        t = _tick(s)
        p, g = _adam_prep(p, g, lr, maximize, weight_decay, decoupled_weight_decay)
        _moments(s, g, b1, b2)
        m_hat = s["m"] / (1 - b1 ** t)
        rho_t = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
        if rho_t > 5:
            r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            out.append(p - lr * m_hat * r * math.sqrt(1 - b2 ** t) / (np.sqrt(s["v"]) + eps))
        else:
            out.append(p - lr * m_hat)
    return out


def rmsprop_ref(params, grads, state, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                centered=False, maximize=False, **_):
    out = []
    for i, (p, g) in enumerate(zip(params, grads)):
        s = _slot(state, i, v=np.zeros_like(p), gavg=np.zeros_like(p), b=np.zeros_like(p))
        g = _prep(g, p, maximize, weight_decay)
        s["v"] = alpha * s["v"] + (1 - alpha) * g * g
        var = s["v"]
        if centered:
            s["gavg"] = alpha * s["gavg"] + (1 - alpha) * g
            var = var - s["gavg"] ** 2
        step = g / (np.sqrt(var) + eps)
        if momentum > 0:
            s["b"] = momentum * s["b"] + step
            step = s["b"]
        out.append(p - lr * step)
    return out


def adagrad_ref(params, grads, state, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                eps=1e-10, maximize=False, **_):
    out = []
    for i, (p, g) in enumerate(zip(params, grads)):
        s = _slot(state, i, t=0, sum=np.full_like(p, initial_accumulator_value))
        t = _tick(s)
        g = _prep(g, p, maximize, weight_decay)
        s["sum"] = s["sum"] + g * g
        out.append(p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s["sum"]) + eps))
    return out


def adadelta_ref(params, grads, state, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False, **_):
    out = []
    for i, (p, g) in enumerate(zip(params, grads)):
        s = _slot(state, i, v=np.zeros_like(p), u=np.zeros_like(p))
        g = _prep(g, p, maximize, weight_decay)
        s["v"] = rho * s["v"] + (1 - rho) * g * g
        dx = np.sqrt(s["u"] + eps) / np.sqrt(s["v"] + eps) * g
        s["u"] = rho * s["u"] + (1 - rho) * dx * dx
        out.append(p - lr * dx)
    return out


def asgd_ref(params, grads, state, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, maximize=False, **_):
    out = []
    for i, (p, g) in enumerate(zip(params, grads)):
        s = _slot(state, i, t=0, eta=float(np.float32(lr)), mu=1.0, ax=np.zeros_like(p))
        t = _tick(s)
        g = _prep(g, p, maximize, weight_decay)
        p = p * (1 - lambd * s["eta"]) - s["eta"] * g
        s["ax"] = p.copy() if s["mu"] == 1 else s["ax"] + s["mu"] * (p - s["ax"])
        # eta and mu are kept as 0-d float32 state tensors
        s["eta"] = float(np.float32(lr / (1 + lambd * lr * t) ** alpha))
        s["mu"] = float(np.float32(1 / max(1, t - t0)))
        out.append(p)
    return out


def rprop_ref(params, grads, state, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False, **_):
    out = []
    for i, (p, g) in enumerate(zip(params, grads)):
        s = _slot(state, i, prev=np.zeros_like(p), size=np.full_like(p, lr))
        g = _prep(g, p, maximize)
        same = g * s["prev"]
        s["size"] = np.clip(s["size"] * np.where(same > 0, etas[1], np.where(same < 0, etas[0], 1.0)), *step_sizes)
        g = np.where(same < 0, 0.0, g)
        s["prev"] = g
        out.append(p - np.sign(g) * s["size"])
    return out


_F64_EPS = float(np.finfo(np.float64).eps)


def adafactor_ref(params, grads, state, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0,
                  maximize=False, eps1_default=_F64_EPS, **_):
    """PyTorch 2.13's Adafactor (factored over the last two dims for >= 2-D parameters)."""
    eps1 = eps1_default if eps[0] is None else eps[0]
    out = []
    for i, (p, g) in enumerate(zip(params, grads)):
        g = -g if maximize else g
        factored = g.ndim > 1
        s = _slot(state, i, t=0, row=np.zeros(g.shape[:-1] + (1,)) if factored else None,
                  col=np.zeros(g.shape[:-2] + (1, g.shape[-1])) if factored else None, v=np.zeros_like(g))
        t = _tick(s)
        w = t ** beta2_decay
        alpha = max(eps[1], np.sqrt(np.mean(p * p))) * min(lr, t ** -0.5)
        p = p * (1 - lr * weight_decay)
        if factored:
            s["row"] = s["row"] + w * (np.mean(g * g, axis=-1, keepdims=True) - s["row"])
            s["col"] = s["col"] + w * (np.mean(g * g, axis=-2, keepdims=True) - s["col"])
            est = s["row"] @ s["col"] / np.maximum(np.mean(s["row"], axis=-2, keepdims=True), eps1)
        else:
            s["v"] = s["v"] + w * (g * g - s["v"])
            est = s["v"]
        u = g / np.sqrt(np.maximum(est, eps1 * eps1))
        out.append(p - alpha / max(1.0, np.sqrt(np.mean(u * u)) / d) * u)
    return out


def _common_errors(lr_arg=True):
    errs = [({"lr": -0.1}, ValueError, r"Invalid learning rate: -0\.1")] if lr_arg else []
    return errs


def _adam_errors():
    return (*_common_errors(), ({"eps": -1.0}, ValueError, r"Invalid epsilon value: -1\.0"),
            ({"betas": (1.0, 0.999)}, ValueError, r"Invalid beta parameter at index 0: 1\.0"),
            ({"betas": (0.9, -0.5)}, ValueError, r"Invalid beta parameter at index 1: -0\.5"),
            ({"weight_decay": -1e-2}, ValueError, r"Invalid weight_decay value: -0\.01"))


def records() -> list:
    from lamina.testing import OptimizerInfo

    from .adam import Adam, Adamax, AdamW, NAdam, RAdam
    from .asgd_rprop import ASGD, Rprop
    from .lbfgs import LBFGS
    from .rmsprop import Adadelta, Adagrad, RMSprop
    from .sgd import SGD

    return _records_factored() + [
        OptimizerInfo(cls=SGD, reference_step=sgd_ref, configs=(
            {"lr": 0.1}, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1},
            {"lr": 0.05, "momentum": 0.9, "dampening": 0.5, "maximize": True},
            {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
            error_configs=(*_common_errors(), ({"lr": 0.1, "momentum": -0.5}, ValueError, r"Invalid momentum value"),
                           ({"lr": 0.1, "weight_decay": -1}, ValueError, r"Invalid weight_decay value: -1"),
                           ({"lr": 0.1, "nesterov": True}, ValueError,
                            "Nesterov momentum requires a momentum and zero dampening"))),
        OptimizerInfo(cls=Adam, reference_step=adam_ref, configs=(
            {"lr": 0.01}, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}, {"lr": 0.01, "maximize": True},
            {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1, "decoupled_weight_decay": True}),
            error_configs=(*_adam_errors(), ({"betas": (0.5, 0)}, ValueError,
                                             "betas must be either both floats or both Tensors"))),
        OptimizerInfo(cls=AdamW, reference_step=adamw_ref, configs=(
            {"lr": 0.01}, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.3}, {"lr": 0.01, "maximize": True}),
            error_configs=_adam_errors()),
        OptimizerInfo(cls=Adamax, reference_step=adamax_ref, configs=(
            {"lr": 0.01}, {"lr": 0.01, "weight_decay": 0.1, "maximize": True}), error_configs=_adam_errors()),
        OptimizerInfo(cls=NAdam, reference_step=nadam_ref, configs=(
            {"lr": 0.01}, {"lr": 0.01, "weight_decay": 0.1, "momentum_decay": 0.01},
            {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}),
            error_configs=(*_adam_errors(), ({"momentum_decay": -1.0}, ValueError,
                                             r"Invalid momentum_decay value: -1\.0"))),
        OptimizerInfo(cls=RAdam, reference_step=radam_ref, configs=(
            {"lr": 0.01}, {"lr": 0.01, "weight_decay": 0.1, "maximize": True},
            {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}), error_configs=_adam_errors()),
        OptimizerInfo(cls=RMSprop, reference_step=rmsprop_ref, configs=(
            {"lr": 0.01}, {"lr": 0.01, "centered": True, "momentum": 0.9},
            {"lr": 0.01, "weight_decay": 0.1, "momentum": 0.5, "maximize": True, "alpha": 0.9}),
            error_configs=(*_common_errors(), ({"eps": -1.0}, ValueError, "Invalid epsilon value"),
                           ({"momentum": -1.0}, ValueError, "Invalid momentum value"),
                           ({"weight_decay": -1.0}, ValueError, "Invalid weight_decay value"),
                           ({"alpha": -1.0}, ValueError, r"Invalid alpha value: -1\.0"))),
        OptimizerInfo(cls=Adagrad, reference_step=adagrad_ref, configs=(
            {"lr": 0.1}, {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.1},
            {"lr": 0.1, "maximize": True}),
            error_configs=(*_common_errors(), ({"lr_decay": -1.0}, ValueError, r"Invalid lr_decay value: -1\.0"),
                           ({"initial_accumulator_value": -1.0}, ValueError,
                            r"Invalid initial_accumulator_value value: -1\.0"),
                           ({"eps": -1.0}, ValueError, "Invalid epsilon value")),
            expected_failures={"optim_grad_none_untouched": "Adagrad creates 'step' and 'sum' for every parameter "
                                                            "in its constructor, as PyTorch does"}),
        OptimizerInfo(cls=Adadelta, reference_step=adadelta_ref, configs=(
            {"lr": 1.0}, {"lr": 0.5, "rho": 0.5, "weight_decay": 0.1, "maximize": True}),
            error_configs=(*_common_errors(), ({"rho": 1.5}, ValueError, r"Invalid rho value: 1\.5"),
                           ({"eps": -1.0}, ValueError, "Invalid epsilon value"))),
        OptimizerInfo(cls=ASGD, reference_step=asgd_ref, configs=(
            {"lr": 0.05}, {"lr": 0.05, "t0": 3.0, "lambd": 1e-2, "weight_decay": 0.1},
            {"lr": 0.05, "t0": 0.0, "alpha": 0.5, "maximize": True}),
            error_configs=(*_common_errors(), ({"weight_decay": -1.0}, ValueError, "Invalid weight_decay value"))),
        OptimizerInfo(cls=Rprop, reference_step=rprop_ref, configs=(
            {"lr": 0.01}, {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.1), "maximize": True}),
            error_configs=(*_common_errors(), ({"etas": (1.5, 1.2)}, ValueError, r"Invalid eta values: 1\.5, 1\.2"))),
        OptimizerInfo(cls=LBFGS, needs_closure=True, configs=(
            {"lr": 0.5, "max_iter": 4}, {"lr": 1, "max_iter": 5, "history_size": 3, "line_search_fn": "strong_wolfe"}),
            error_configs=(*_common_errors(), ({"line_search_fn": "backtracking"}, ValueError,
                                               "line_search_fn must be one of"))),
    ]


#: Muon accepts only 2-D parameters; the kit's parameter set has a (5,) vector, so every check that builds
#: the optimizer over it fails in the constructor (Muon is checked against PyTorch in test_optim_muon.py)
_MUON_2D_ONLY = "Muon accepts only 2-D parameters and the kit's parameter set includes a (5,) vector"


def sparse_adam_ref(params, grads, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False, **_):
    """SparseAdam with every row present (the kit's gradients have no zero row)."""
    b1, b2 = betas
    out = []
    for i, (p, g) in enumerate(zip(params, grads)):
        s = _slot(state, i, t=0, m=np.zeros_like(p), v=np.zeros_like(p))
        t = _tick(s)
        g = -g if maximize else g
        s["m"] = s["m"] + (g - s["m"]) * (1 - b1)
        s["v"] = s["v"] + (g * g - s["v"]) * (1 - b2)
        out.append(p - lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) * s["m"] / (np.sqrt(s["v"]) + eps))
    return out


def _sparse_fed(cls: type) -> type:
    """``cls`` stepping on the COO form of the dense gradients the kit feeds (``to_sparse(1)``: one entry per
    row, the layout of an ``Embedding(sparse=True)`` gradient); SparseAdam refuses dense gradients."""

    class SparseFed(cls):
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None and not p.grad.is_sparse:
                        p.grad = p.grad.to_sparse(1)
            return super().step(closure)

    SparseFed.__name__ = SparseFed.__qualname__ = cls.__name__
    return SparseFed


def _records_factored() -> list:
    from lamina.testing import OptimizerInfo

    from .adafactor import Adafactor
    from .muon import Muon
    from .sparse import SparseAdam

    return [
        OptimizerInfo(cls=_sparse_fed(SparseAdam), covers=(SparseAdam,), name="SparseAdam",
                      reference_step=sparse_adam_ref,
                      configs=({"lr": 0.01}, {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6, "maximize": True}),
                      error_configs=(({"lr": 0.0}, ValueError, r"Invalid learning rate: 0\.0"),
                                     ({"eps": 0.0}, ValueError, r"Invalid epsilon value: 0\.0"),
                                     ({"betas": (1.0, 0.999)}, ValueError, r"Invalid beta parameter at index 0: 1\.0"),
                                     ({"betas": (0.9, -0.5)}, ValueError,
                                      r"Invalid beta parameter at index 1: -0\.5"))),
        OptimizerInfo(cls=Adafactor, reference_step=adafactor_ref, configs=(
            {}, {"lr": 0.1, "weight_decay": 0.1}, {"lr": 0.05, "maximize": True, "d": 2.0, "beta2_decay": -0.5},
            {"eps": (1e-3, 1e-2)}),
            error_configs=(({"lr": -0.1}, ValueError, r"Learning rate should be >= 0 but is: -0\.1"),
                           ({"beta2_decay": 0.5}, ValueError, r"beta2_decay should be <= 0 but is: 0\.5"),
                           ({"eps": (-1.0, 1e-3)}, ValueError, r"epsilon1 should be >= 0 but is: -1\.0"),
                           ({"eps": (None, -1.0)}, ValueError, r"epsilon2 should be >= 0 but is: -1\.0"),
                           ({"d": 0.5}, ValueError, r"Clipping threshold d should be >= 1 but is: 0\.5"),
                           ({"weight_decay": -1.0}, ValueError, r"weight_decay should be >= 0 but is: -1\.0"))),
        OptimizerInfo(cls=Muon, configs=({"lr": 0.02},),
                      expected_failures={name: _MUON_2D_ONLY for name in (
                          "optim_quadratic", "optim_grad_none_untouched", "optim_state_dict_roundtrip",
                          "optim_per_group_options", "optim_nonfinite_isolated", "optim_state_dtype_device",
                          "optim_zero_grad_default")},
                      error_configs=(({"lr": -0.1}, ValueError, r"Learning rate should be >= 0 but is: -0\.1"),
                                     ({"momentum": -1.0}, ValueError, r"momentum should be >= 0 but is: -1\.0"))),
    ]
