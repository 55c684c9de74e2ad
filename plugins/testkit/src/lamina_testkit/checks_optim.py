"""Checks for optimizers (``OptimizerInfo``; TESTKIT.md "Optimizers")."""

from __future__ import annotations

import io

import numpy as np

from ._core import (
    KINDS_OPTIM,
    Case,
    check,
    close,
    fail,
    has,
    host,
    rng,
    skip,
)

SHAPES = ((3, 4), (5,))


def _params(case: Case, seed: int = 0):
    import lamina

    r = rng(seed)
    return [lamina.tensor(r.standard_normal(s), dtype=getattr(lamina, case.dtype), device=case.device,
                          requires_grad=True) for s in SHAPES]


def _grads(step: int, seed: int = 100) -> list[np.ndarray]:
    r = rng(seed + step)
    return [r.standard_normal(s) for s in SHAPES]


def _feed(params, grads, case: Case) -> None:
    import lamina

    for p, g in zip(params, grads):
        p.grad = lamina.tensor(g, dtype=p.dtype, device=p.device)


def _step(opt, params, case: Case, closure_loss=None):
    if case.record.needs_closure:
        def closure():
            opt.zero_grad()
            loss = closure_loss(params)
            loss.backward()
            return loss

        return opt.step(closure)
    return opt.step()


def _tol(case: Case):
    return (1e-10, 1e-12) if case.dtype == "float64" else (1e-4, 1e-5)


def _closure_free(rec, device: str) -> bool:
    """Checks that feed gradients directly do not apply to closure-driven optimizers (LBFGS)."""
    return not rec.needs_closure


@check("optim_trajectory_reference", KINDS_OPTIM,
       when=lambda rec, dev: rec.reference_step is not None and not rec.needs_closure)
def trajectory(case: Case) -> None:
    """10 steps with fixed gradients equal a NumPy float64 implementation of the documented rule."""
    rec = case.record
    for cfg in rec.configs:
        params = _params(case)
        opt = rec.cls(params, **cfg)
        ref = [host(p).astype(np.float64) for p in params]
        state: dict = {}
        for k in range(10):
            g = _grads(k)
            _feed(params, g, case)
            opt.step()
            ref = rec.reference_step(ref, [x.astype(np.float64) for x in g], state, **cfg)
            for i, (p, r) in enumerate(zip(params, ref)):
                close(host(p), r, *_tol(case), f"{case.name}{cfg}: parameter {i} after step {k + 1}")


def _quadratic(params):
    import lamina

    return sum(((p - 1.5) ** 2).sum() for p in params) if params else lamina.tensor(0.0)


@check("optim_quadratic", KINDS_OPTIM)
def quadratic(case: Case) -> None:
    """The loss on a quadratic decreases (maximize=True: the negated objective increases)."""
    rec = case.record
    for cfg in rec.configs:
        params = _params(case)
        opt = rec.cls(params, **cfg)
        sign = -1.0 if cfg.get("maximize") else 1.0

        def objective(ps, sign=sign):
            return _quadratic(ps) * sign

        start = float(objective(params).item())
        for _ in range(25):
            if rec.needs_closure:
                _step(opt, params, case, objective)
            else:
                opt.zero_grad()
                objective(params).backward()
                opt.step()
        end = float(objective(params).item())
        if sign > 0 and not end < start:
            fail(f"{case.name}{cfg}: loss went from {start:.5g} to {end:.5g} in 25 steps on a quadratic")
        if sign < 0 and not end > start:
            fail(f"{case.name}{cfg}: with maximize=True the objective went from {start:.5g} to {end:.5g}")


@check("optim_grad_none_untouched", KINDS_OPTIM, dtypes="once", when=_closure_free)
def grad_none(case: Case) -> None:
    """Parameters whose grad is None are not changed and get no state."""
    rec = case.record
    params = _params(case)
    opt = rec.cls(params, **rec.configs[0])
    before = host(params[1])
    _feed(params[:1], _grads(0)[:1], case)
    params[1].grad = None
    opt.step()
    if not np.array_equal(host(params[1]), before):
        fail(f"{case.name}: a parameter with grad None was changed")
    if opt.state.get(params[1]):
        fail(f"{case.name}: a parameter with grad None got optimizer state")


@check("optim_state_dict_roundtrip", KINDS_OPTIM, when=_closure_free)
def state_roundtrip(case: Case) -> None:
    """state_dict through lamina.save/load gives a bitwise-equal continued trajectory."""
    import lamina

    rec = case.record
    for cfg in rec.configs:
        a = _params(case)
        opt_a = rec.cls(a, **cfg)
        for k in range(3):
            _feed(a, _grads(k), case)
            opt_a.step()
        buf = io.BytesIO()
        lamina.save(opt_a.state_dict(), buf)
        buf.seek(0)
        sd = lamina.load(buf, map_location=case.device)
        b = [p.detach().clone().requires_grad_() for p in a]
        opt_b = rec.cls(b, **cfg)
        opt_b.load_state_dict(sd)
        for k in range(3, 6):
            _feed(a, _grads(k), case)
            _feed(b, _grads(k), case)
            opt_a.step()
            opt_b.step()
        for i, (p, q) in enumerate(zip(a, b)):
            if not np.array_equal(host(p), host(q)):
                fail(f"{case.name}{cfg}: parameter {i} differs after resuming from a saved state_dict")


@check("optim_per_group_options", KINDS_OPTIM, dtypes="once", when=_closure_free)
def per_group(case: Case) -> None:
    """Options given per parameter group apply to that group only."""
    rec = case.record
    cfg = dict(rec.configs[0])
    lr = cfg.pop("lr", None)
    if lr is None:
        lr = rec.cls(_params(case), **cfg).defaults.get("lr")
    if not isinstance(lr, (int, float)):
        skip("no numeric lr option")
    a = _params(case)
    opt = rec.cls([{"params": [a[0]], "lr": lr}, {"params": [a[1]], "lr": lr * 10}], **cfg)
    single = _params(case)
    opt_1 = rec.cls([single[0]], lr=lr, **cfg)
    opt_2 = rec.cls([single[1]], lr=lr * 10, **cfg)
    for k in range(3):
        _feed(a, _grads(k), case)
        _feed(single, _grads(k), case)
        opt.step()
        opt_1.step()
        opt_2.step()
    for i, (p, q) in enumerate(zip(a, single)):
        if not np.array_equal(host(p), host(q)):
            fail(f"{case.name}: group {i} with its own lr differs from a separate optimizer with that lr")


@check("optim_hyperparameter_validation", KINDS_OPTIM, dtypes="once", when=has("error_configs"))
def validation(case: Case) -> None:
    """Invalid hyperparameters raise the declared error."""
    import re

    rec = case.record
    if not rec.error_configs:
        skip("no error_configs declared")
    for cfg, err_type, match in rec.error_configs:
        try:
            rec.cls(_params(case), **cfg)
        except err_type as e:
            if not re.search(match, str(e)):
                fail(f"{case.name}{cfg}: message {str(e)!r} does not match {match!r}")
            continue
        fail(f"{case.name}{cfg}: expected {err_type.__name__} matching {match!r}")


@check("optim_nonfinite_isolated", KINDS_OPTIM, dtypes="once", when=_closure_free)
def nonfinite(case: Case) -> None:
    """A non-finite gradient affects only its own parameter (no exception, no spill to others)."""
    rec = case.record
    a = _params(case)
    b = _params(case)
    opt_a, opt_b = rec.cls(a, **rec.configs[0]), rec.cls([b[1]], **rec.configs[0])
    g = _grads(0)
    g[0] = np.full_like(g[0], np.nan)
    _feed(a, g, case)
    _feed(b, g, case)
    opt_a.step()
    opt_b.step()
    if not np.array_equal(host(a[1]), host(b[1])):
        fail(f"{case.name}: a NaN gradient in one parameter changed the update of another")


@check("optim_state_dtype_device", KINDS_OPTIM, when=_closure_free)
def state_dtype(case: Case) -> None:
    """Floating state tensors follow the parameter's dtype and device ('step' excepted)."""
    import lamina

    rec = case.record
    a = _params(case)
    opt = rec.cls(a, **rec.configs[0])
    _feed(a, _grads(0), case)
    opt.step()
    for p in a:
        for k, v in opt.state.get(p, {}).items():
            if isinstance(v, lamina.Tensor) and v.is_floating_point() and k != "step" and v.numel() == p.numel():
                if v.dtype != p.dtype or v.device != p.device:
                    fail(f"{case.name}: state {k!r} is {v.dtype} on {v.device}, parameter {p.dtype} on {p.device}")


@check("optim_zero_grad_default", KINDS_OPTIM, dtypes="once")
def zero_grad(case: Case) -> None:
    """zero_grad() sets gradients to None by default."""
    a = _params(case)
    opt = case.record.cls(a, **case.record.configs[0])
    _feed(a, _grads(0), case)
    opt.zero_grad()
    if any(p.grad is not None for p in a):
        fail(f"{case.name}: zero_grad() left gradients set (set_to_none=True is the default)")


#: this family's checks, in the order the runner generates them
CHECKS = (
    trajectory,
    quadratic,
    grad_none,
    state_roundtrip,
    per_group,
    validation,
    nonfinite,
    state_dtype,
    zero_grad,
)
