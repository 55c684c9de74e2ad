"""L-BFGS with an optional strong-Wolfe line search (bracketing + cubic interpolation).

The algorithm works on one flat vector of all parameters. Scalars derived from the vectors (dot
products, step lengths) stay 0-d tensors of the parameters' dtype, as in PyTorch, so float32
problems take the same decisions in the same precision; loss values are Python floats.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import lamina
from lamina import Tensor
from lamina.optim import Optimizer

from ._common import check_range, to_float

__lamina_plugin_api__ = "1.0"

__all__ = ["LBFGS"]


def _cubic_minimizer(x1: Any, f1: Any, g1: Any, x2: Any, f2: Any, g2: Any, bounds: tuple | None = None) -> Any:
    """Minimiser of the cubic through (x1, f1, g1), (x2, f2, g2), clamped to ``bounds``
    (default: the interval between the points); the midpoint when the cubic has no minimum."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1 ** 2 - g1 * g2
    if not disc >= 0:  # also NaN
        return (lo + hi) / 2.0
    d2 = disc.sqrt() if isinstance(disc, Tensor) else disc ** 0.5
    if x1 <= x2:
        t = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        t = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(t, lo), hi)


class _Point:
    """One trial of the line search: step ``t``, loss ``f``, flat gradient ``g``, slope ``gtd``."""

    __slots__ = ("t", "f", "g", "gtd")

    def __init__(self, t: Any, f: float, g: Tensor, gtd: Any) -> None:
        self.t, self.f, self.g, self.gtd = t, f, g, gtd


def _strong_wolfe(evaluate: Callable, t: Any, d: Tensor, f: float, g: Tensor, gtd: Any, c1: float = 1e-4,
                  c2: float = 0.9, tolerance_change: float = 1e-9, max_ls: int = 25) -> tuple:
    """Find ``t`` satisfying the strong Wolfe conditions along ``d``; returns ``(f, g, t, evaluations)``.

    Phase 1 grows the step until a bracket is found (or the conditions hold); phase 2 shrinks the
    bracket with safeguarded cubic interpolation. ``evaluate(t)`` returns ``(loss, flat_grad)``.
    """
    d_norm = d.abs().max()
    start = _Point(0, f, g.clone(), gtd)
    f_new, g_new = evaluate(t)
    evals, it = 1, 0
    prev = start
    new = _Point(t, f_new, g_new, g_new.dot(d))
    bracket: list[_Point] | None = None
    done = False
    while it < max_ls:
        if new.f > f + c1 * new.t * gtd or (it > 1 and new.f >= prev.f):
            bracket = [prev, _Point(new.t, new.f, new.g.clone(), new.gtd)]
            break
        if abs(new.gtd) <= -c2 * gtd:
            bracket, done = [new], True
            break
        if new.gtd >= 0:
            bracket = [prev, _Point(new.t, new.f, new.g.clone(), new.gtd)]
            break
        # extrapolate: somewhere between just past t and ten times t
        t_next = _cubic_minimizer(prev.t, prev.f, prev.gtd, new.t, new.f, new.gtd,
                                  bounds=(new.t + 0.01 * (new.t - prev.t), new.t * 10))
        prev = _Point(new.t, new.f, new.g.clone(), new.gtd)
        f_new, g_new = evaluate(t_next)
        evals += 1
        it += 1
        new = _Point(t_next, f_new, g_new, g_new.dot(d))
    if it == max_ls:
        bracket = [start, new]
    assert bracket is not None
    low, high = (0, 1) if bracket[0].f <= bracket[-1].f else (1, 0)
    insufficient = False
    while not done and it < max_ls:
        if abs(bracket[1].t - bracket[0].t) * d_norm < tolerance_change:
            break
        a, b = bracket
        t = _cubic_minimizer(a.t, a.f, a.gtd, b.t, b.f, b.gtd)
        # safeguard: keep t at least 10% of the bracket away from its ends
        t_hi, t_lo = max(a.t, b.t), min(a.t, b.t)
        margin = 0.1 * (t_hi - t_lo)
        if min(t_hi - t, t - t_lo) < margin:
            if insufficient or t >= t_hi or t <= t_lo:
                t = t_hi - margin if abs(t - t_hi) < abs(t - t_lo) else t_lo + margin
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        f_new, g_new = evaluate(t)
        evals += 1
        it += 1
        trial = _Point(t, f_new, g_new.clone(), g_new.dot(d))
        if trial.f > f + c1 * t * gtd or trial.f >= bracket[low].f:
            bracket[high] = trial
            low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
        else:
            if abs(trial.gtd) <= -c2 * gtd:
                done = True
            elif trial.gtd * (bracket[high].t - bracket[low].t) >= 0:
                bracket[high] = bracket[low]
            bracket[low] = trial
    best = bracket[low]
    return best.f, best.g, best.t, evals


class LBFGS(Optimizer):
    """Limited-memory BFGS (after minFunc). ``step(closure)`` runs up to ``max_iter`` iterations.

    One parameter group only. The two-loop recursion builds the direction from the last
    ``history_size`` curvature pairs; without a line search the step is ``lr`` (the first one is
    scaled by ``min(1, 1/|g|_1)``). State (on the first parameter): ``func_evals``, ``n_iter``,
    ``d``, ``t``, ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``, ``prev_flat_grad``, ``prev_loss``, ``al``.
    """

    def __init__(self, params: Any, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        check_range("learning rate", lr)
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be one of [None, 'strong_wolfe'], got {line_search_fn!r}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {"lr": lr, "max_iter": max_iter, "max_eval": max_eval, "tolerance_grad": tolerance_grad,
                    "tolerance_change": tolerance_change, "history_size": history_size,
                    "line_search_fn": line_search_fn}
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._params = self.param_groups[0]["params"]

    def _flat_grad(self) -> Tensor:
        """Every parameter's gradient flattened into one vector (zeros for None; a sparse one made dense)."""
        return lamina.cat([lamina.zeros(p.numel(), dtype=p.dtype, device=p.device) if p.grad is None
                           else (p.grad.to_dense() if p.grad.is_sparse else p.grad).reshape(-1)
                           for p in self._params], 0)

    def _move(self, t: Any, d: Tensor) -> None:
        """``params += t * d`` (d split into the parameters' shapes)."""
        offset = 0
        for p in self._params:
            n = p.numel()
            p.add_(d[offset:offset + n].view_as(p), alpha=t)
            offset += n

    def _evaluate(self, closure: Callable, x: list[Tensor], t: Any, *, d: Tensor) -> tuple[float, Tensor]:
        """Loss and flat gradient at ``x + t * d``; the parameters are restored to ``x`` after."""
        self._move(t, d)
        loss = float(closure())
        g = self._flat_grad()
        for p, saved in zip(self._params, x):
            p.copy_(saved)
        return loss, g

    def step(self, closure: Callable[[], Any]) -> Any:  # type: ignore[override]
        """Run up to ``max_iter`` L-BFGS iterations; ``closure`` re-evaluates the loss (and gradients)."""
        with lamina.no_grad():
            return self._run(closure)

    def _run(self, closure: Callable[[], Any]) -> Any:
        group = self.param_groups[0]
        lr = to_float(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        history_size, line_search = group["history_size"], group["line_search_fn"]

        def evaluate_closure() -> Any:
            with lamina.enable_grad():
                return closure()

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = evaluate_closure()
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        g = self._flat_grad()
        if g.abs().max() <= tol_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag, prev_g, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = g.neg()
                old_dirs, old_stps, ro, H_diag = [], [], [], 1
            else:
                y = g.sub(prev_g)
                s = d.mul(t)
                ys = y.dot(s)
                if ys > 1e-10:  # keep only pairs with positive curvature
                    if len(old_dirs) == history_size:
                        del old_dirs[0], old_stps[0], ro[0]
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                # two-loop recursion: d = -H g
                q = g.neg()
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q.add_(old_dirs[i], alpha=-al[i])
                d = r = q.mul(H_diag)
                for i in range(len(old_dirs)):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r.add_(old_stps[i], alpha=al[i] - be_i)
            if prev_g is None:
                prev_g = g.clone()
            else:
                prev_g.copy_(g)
            prev_loss = loss
            t = min(1.0, 1.0 / g.abs().sum()) * lr if state["n_iter"] == 1 else lr
            gtd = g.dot(d)
            if gtd > -tol_change:  # not a descent direction
                break
            step_evals = 0
            if line_search is not None:
                x0 = [p.clone() for p in self._params]
                loss, g, t, step_evals = _strong_wolfe(partial(self._evaluate, evaluate_closure, x0, d=d),
                                                       t, d, loss, g, gtd, max_ls=max_eval - evals)
                self._move(t, d)
                optimal = g.abs().max() <= tol_grad
            else:
                self._move(t, d)
                optimal = False
                if n_iter != max_iter:
                    loss = float(evaluate_closure())
                    g = self._flat_grad()
                    optimal = g.abs().max() <= tol_grad
                    step_evals = 1
            evals += step_evals
            state["func_evals"] += step_evals
            if (n_iter == max_iter or evals >= max_eval or optimal
                    or d.mul(t).abs().max() <= tol_change or abs(loss - prev_loss) < tol_change):
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_g, prev_loss=prev_loss)
        return orig_loss
