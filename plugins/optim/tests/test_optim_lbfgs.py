"""LBFGS against PyTorch on a Rosenbrock-like problem, with and without the strong-Wolfe line search."""

from __future__ import annotations

import warnings

import lamina
import lamina.optim as optim
import numpy as np
import pytest

torch = pytest.importorskip("torch")


def rosenbrock(x, y):
    return ((1 - x) ** 2).sum() + 10 * ((y - x ** 2) ** 2).sum()


CONFIGS = [
    dict(lr=1, max_iter=20),
    dict(lr=0.5, max_iter=10, history_size=3),
    dict(lr=1, max_iter=20, line_search_fn="strong_wolfe"),
    dict(lr=1, max_iter=8, history_size=2, line_search_fn="strong_wolfe"),
    dict(lr=1, max_iter=20, max_eval=12, line_search_fn="strong_wolfe"),
    dict(lr=1, max_iter=50, tolerance_grad=1e-3, tolerance_change=1e-6, line_search_fn="strong_wolfe"),
]


def _run(lib, cfg, dtype, steps):
    x0 = np.array([-1.5, 0.5, 1.2], dtype=dtype)
    y0 = np.array([2.0, -0.3, 1.0], dtype=dtype)
    if lib == "torch":
        x, y = torch.tensor(x0, requires_grad=True), torch.tensor(y0, requires_grad=True)
        opt = torch.optim.LBFGS([x, y], **cfg)
    else:
        x, y = lamina.tensor(x0, requires_grad=True), lamina.tensor(y0, requires_grad=True)
        opt = optim.LBFGS([x, y], **cfg)
    losses, traj = [], []

    def closure():
        opt.zero_grad()
        loss = rosenbrock(x, y)
        loss.backward()
        return loss

    for _ in range(steps):
        with warnings.catch_warnings():
            # torch's LBFGS calls float() on the closure's loss, which warns for a tensor requiring grad
            warnings.filterwarnings("ignore", "Converting a tensor with requires_grad=True", UserWarning)
            losses.append(float(opt.step(closure).detach()))
        traj.append(np.concatenate([x.detach().numpy(), y.detach().numpy()]).copy())
    st = opt.state[opt.param_groups[0]["params"][0]]
    return losses, traj, st["func_evals"], st["n_iter"]


@pytest.mark.parametrize("cfg", CONFIGS, ids=[str(c) for c in CONFIGS])
def test_lbfgs_matches_torch_float64(cfg):
    got = _run("lamina", cfg, "float64", 3)
    want = _run("torch", cfg, "float64", 3)
    # ~50 iterations on a curved valley amplify round-off from 1e-16 to ~1e-12; decisions must be identical
    np.testing.assert_allclose(got[0], want[0], rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(np.array(got[1]), np.array(want[1]), rtol=1e-9, atol=1e-10)
    assert got[2:] == want[2:], "function evaluations / iterations differ"


@pytest.mark.parametrize("cfg", CONFIGS, ids=[str(c) for c in CONFIGS])
def test_lbfgs_matches_torch_float32(cfg):
    # float32 round-off grows quickly along the valley: compare one short step (at most 4 iterations)
    cfg = {**cfg, "max_iter": 4}
    got = _run("lamina", cfg, "float32", 1)
    want = _run("torch", cfg, "float32", 1)
    np.testing.assert_allclose(np.array(got[1]), np.array(want[1]), rtol=1e-4, atol=1e-5)
    assert got[2:] == want[2:]


def test_lbfgs_reaches_the_minimum():
    _, traj, _, _ = _run("lamina", dict(lr=1, max_iter=100, tolerance_grad=1e-12, tolerance_change=1e-14,
                                        line_search_fn="strong_wolfe"), "float64", 3)
    np.testing.assert_allclose(traj[-1], [1, 1, 1, 1, 1, 1], atol=1e-7)


def test_lbfgs_rejects_groups_and_unknown_line_search():
    a, b = lamina.zeros(2, requires_grad=True), lamina.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        optim.LBFGS([{"params": [a]}, {"params": [b]}])
    with pytest.raises(ValueError, match="line_search_fn must be one of"):
        optim.LBFGS([a], line_search_fn="armijo")
