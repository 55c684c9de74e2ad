"""Checks for initialisation schemes (``InitInfo``; TESTKIT.md "Init schemes")."""

from __future__ import annotations

import math

import numpy as np

from ._core import (
    KINDS_INIT,
    Case,
    check,
    error_inputs,
    expect_error,
    fail,
    has,
    host,
    skip,
)


def _tensor(case: Case, shape, requires_grad=False, fill: float = 0.0):
    import lamina

    t = lamina.empty(*shape, dtype=getattr(lamina, case.dtype), device=case.device)
    t.fill_(fill)
    if requires_grad:
        t.requires_grad_()
    return t


def _run(case: Case, shape, config: dict, seed: int = 0, generator=None, requires_grad=False, fill: float = 0.0):
    import lamina

    t = _tensor(case, shape, requires_grad, fill)
    if generator is None:
        lamina.manual_seed(seed)
        out = case.record.fn(t, **config)
    else:
        out = case.record.fn(t, **config, generator=generator)
    return t, out


def _ks_statistic(x: np.ndarray, cdf_values: np.ndarray) -> float:
    n = x.size
    k = np.arange(1, n + 1)
    return float(max(np.max(k / n - cdf_values), np.max(cdf_values - (k - 1) / n)))


@check("init_distribution", KINDS_INIT, when=has("cdf"))
def distribution(case: Case) -> None:
    """Kolmogorov–Smirnov test against the declared distribution (fixed seed, >= 1e4 samples), in every dtype."""
    rec = case.record
    if rec.cdf is None:
        skip("no cdf declared")
    for shape in rec.shapes:
        for cfg in rec.configs:
            t, _ = _run(case, shape, cfg)
            big = t
            if t.numel() < 10_000:
                # draw more samples from the same per-element distribution with the same fans
                draws = [host(_run(case, shape, cfg, seed=s)[0]).ravel() for s in range(math.ceil(10_000 / t.numel()))]
                x = np.sort(np.concatenate(draws))
            else:
                x = np.sort(host(big).ravel())
            d = _ks_statistic(x, rec.cdf(x, tuple(shape), **cfg))
            crit = 1.95 / math.sqrt(x.size)  # alpha = 0.001
            if d > crit:
                fail(f"{case.name}{cfg} on {shape}: KS statistic {d:.4f} > {crit:.4f} (n={x.size}); the samples do not "
                     "follow the declared distribution")


@check("init_moments", KINDS_INIT, when=has("moments"))
def moments(case: Case) -> None:
    """Sample mean and std match the declared moments."""
    rec = case.record
    if rec.moments is None:
        skip("no moments declared")
    for shape in rec.shapes:
        for cfg in rec.configs:
            n = int(np.prod(shape))
            x = np.concatenate([host(_run(case, shape, cfg, seed=k)[0]).ravel()
                                for k in range(max(1, math.ceil(10_000 / max(n, 1))))])
            mean, std = rec.moments(tuple(shape), **cfg)
            se = max(std, 1e-12) / math.sqrt(x.size)
            if abs(x.mean() - mean) > 5 * se + 1e-12:
                fail(f"{case.name}{cfg} on {shape}: sample mean {x.mean():.5g}, expected {mean:.5g}")
            if std > 0 and abs(x.std() / std - 1) > 0.03:
                fail(f"{case.name}{cfg} on {shape}: sample std {x.std():.5g}, expected {std:.5g}")


@check("init_bounds", KINDS_INIT, when=has("bounds"))
def bounds(case: Case) -> None:
    """Every value lies within the declared bounds."""
    rec = case.record
    if rec.bounds is None:
        skip("no bounds declared")
    for shape in rec.shapes:
        for cfg in rec.configs:
            t, _ = _run(case, shape, cfg)
            lo, hi = rec.bounds(tuple(shape), **cfg)
            x = host(t)
            if x.min() < lo or x.max() > hi:
                fail(f"{case.name}{cfg} on {shape}: values in [{x.min():.5g}, {x.max():.5g}], "
                     f"bounds [{lo:.5g}, {hi:.5g}]")


@check("init_reference", KINDS_INIT, when=has("reference"))
def reference(case: Case) -> None:
    """A deterministic scheme (``reference(shape, **config)`` declared) writes exactly the reference values.

    The tensor starts filled with a sentinel (7.0), so a scheme that leaves old values in place is caught.
    """
    rec = case.record
    if rec.reference is None:
        skip("no reference declared (random scheme)")
    for shape in rec.shapes:
        for cfg in rec.configs:
            t, _ = _run(case, shape, cfg, fill=7.0)
            got = host(t)
            exp = np.asarray(rec.reference(tuple(shape), **cfg), dtype=np.float64).astype(case.dtype)
            if got.shape != exp.shape:
                fail(f"{case.name}{cfg} on {shape}: reference has shape {exp.shape}, tensor {got.shape}")
            bad = got != exp
            if bad.any():
                idx = tuple(int(i) for i in np.argwhere(bad)[0])
                fail(f"{case.name}{cfg} on {shape}: {int(bad.sum())} of {bad.size} values differ from the reference; "
                     f"first at {idx}: got {got[idx]!r}, expected {exp[idx]!r}")


@check("init_seeded_isolated", KINDS_INIT, dtypes="once")
def seeded(case: Case) -> None:
    """manual_seed reproduces; a generator= reproduces and leaves the global stream alone."""
    import inspect

    import lamina

    rec = case.record
    if "generator" not in inspect.signature(rec.fn).parameters:
        skip("deterministic scheme (no generator argument)")
    shape, cfg = rec.shapes[0], rec.configs[0]
    a = host(_run(case, shape, cfg, seed=3)[0])
    b = host(_run(case, shape, cfg, seed=3)[0])
    if not np.array_equal(a, b):
        fail(f"{case.name}: two runs under lamina.manual_seed(3) differ")
    try:
        lamina.manual_seed(5)
        ref = host(lamina.rand(8))
        lamina.manual_seed(5)
        g1 = lamina.Generator(case.device).manual_seed(11)
        c = host(_run(case, shape, cfg, generator=g1)[0])
        after = host(lamina.rand(8))
    except TypeError:
        fail(f"{case.name}: does not accept generator=")
    if not np.array_equal(ref, after):
        fail(f"{case.name}: drawing with generator= consumed the global random stream")
    g2 = lamina.Generator(case.device).manual_seed(11)
    d = host(_run(case, shape, cfg, generator=g2)[0])
    if not np.array_equal(c, d):
        fail(f"{case.name}: two runs with generators seeded 11 differ")


@check("init_inplace", KINDS_INIT)
def inplace(case: Case) -> None:
    """Works in place: returns the tensor, keeps dtype and device, records no autograd history."""
    import lamina

    rec = case.record
    for shape in rec.shapes:
        t, out = _run(case, shape, rec.configs[0], requires_grad=True)
        if out is not t:
            fail(f"{case.name}: returned a different object than the tensor it was given")
        if t.dtype.name != case.dtype or t.device != lamina.device(case.device):
            fail(f"{case.name}: changed dtype/device to {t.dtype}/{t.device}")
        if t.grad_fn is not None or not t.requires_grad or not t.is_leaf:
            fail(f"{case.name}: the tensor is no longer a leaf requiring grad (autograd history recorded)")


@check("init_error_inputs", KINDS_INIT, dtypes="once", when=has("error_inputs"))
def errors(case: Case) -> None:
    """Argument validation raises the declared error naming the argument (sample.args[0] is the shape)."""
    errs = error_inputs(case)
    if not errs:
        skip("no error inputs declared")
    for i, err in enumerate(errs):
        shape = err.sample.args[0] if err.sample.args else (4, 4)
        expect_error(lambda shape=shape, err=err: case.record.fn(_tensor(case, shape), **err.sample.kwargs),
                     err, f"{case.name} error input {i}")


#: this family's checks, in the order the runner generates them
CHECKS = (
    distribution,
    moments,
    bounds,
    reference,
    seeded,
    inplace,
    errors,
)
