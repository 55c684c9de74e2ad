"""Version counters never lie: every write into a tensor's storage that PyTorch counts is counted.

A graph that saved a tensor's values must refuse to backward once the storage was written
("modified by an inplace operation"), whoever wrote it: an optimizer step (fused or not), an
in-place op, an ``init`` function, ``copy_``, ``load_state_dict``, item assignment. Each case runs
on PyTorch too, the oracle for whether it raises.
"""

from __future__ import annotations

import lamina
import numpy as np
import pytest

torch = pytest.importorskip("torch")

STALE = "modified by an inplace operation"

#: (name, constructor kwargs, uses a closure); each runs on lamina and on PyTorch with the same arguments
OPTIMIZERS = [
    ("SGD", {"lr": 0.1}, False),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}, False),
    ("Adam", {"lr": 0.01}, False),
    ("Adam", {"lr": 0.01, "amsgrad": True, "foreach": False}, False),
    ("Adam", {"lr": 0.01, "fused": True}, False),
    ("AdamW", {"lr": 0.01}, False),
    ("AdamW", {"lr": 0.01, "fused": True}, False),
    ("Adamax", {"lr": 0.01}, False),
    ("NAdam", {"lr": 0.01}, False),
    ("RAdam", {"lr": 0.01}, False),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}, False),
    ("Adagrad", {"lr": 0.1}, False),
    ("Adadelta", {"lr": 1.0}, False),
    ("ASGD", {"lr": 0.01}, False),
    ("Rprop", {"lr": 0.01}, False),
    ("LBFGS", {"lr": 0.5, "max_iter": 3}, True),
]


def _ids(cases):
    return [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, kw, _ in cases]


def _stale_backward_raises(lib, name: str, kwargs: dict, closure: bool) -> tuple[bool, str]:
    """Build loss = sum(w * w), backward keeping the graph, step, backward again on the old graph."""
    w = lib.nn.Parameter(lib.tensor([0.5, -1.5, 2.0]))
    opt = getattr(lib.optim, name)([w], **kwargs)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    if closure:
        def fresh():
            opt.zero_grad()
            out = (w * w).sum()
            out.backward()
            return out

        opt.step(fresh)
    else:
        opt.step()
    try:
        loss.backward()
    except RuntimeError as e:
        return True, str(e)
    return False, ""


@pytest.mark.parametrize("name, kwargs, closure", OPTIMIZERS, ids=_ids(OPTIMIZERS))
def test_optimizer_step_counts_its_write(name, kwargs, closure):
    raised, msg = _stale_backward_raises(lamina, name, kwargs, closure)
    if not kwargs.get("fused"):  # PyTorch's fused CPU kernels leave the version alone: there it is no oracle
        torch_raised, _ = _stale_backward_raises(torch, name, kwargs, closure)
        assert torch_raised, f"oracle: PyTorch's {name} step should invalidate the old graph"
    assert raised, f"{name}: backward through a graph whose weights the step changed returned a stale gradient"
    assert STALE in msg and "MulBackward" in msg


def _trajectory(lib, name: str, kwargs: dict, closure: bool) -> tuple[list[int], list[int], int]:
    """Versions of (weight, bias) after each of 4 steps, and the final version of a parameter that gets
    no gradient."""
    lib.manual_seed(0)
    model = lib.nn.Linear(4, 2)
    frozen = lib.nn.Parameter(lib.ones(3))
    opt = getattr(lib.optim, name)([*model.parameters(), frozen], **kwargs)
    x, y = lib.randn(8, 4), lib.randn(8, 2)
    weights, biases = [model.weight._version], [model.bias._version]

    def loss_fn():
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        return loss

    for _ in range(4):
        if closure:
            opt.step(loss_fn)
        else:
            loss_fn()
            opt.step()
        weights.append(model.weight._version)
        biases.append(model.bias._version)
    return weights, biases, frozen._version


@pytest.mark.parametrize("name, kwargs, closure", OPTIMIZERS, ids=_ids(OPTIMIZERS))
def test_trajectory_versions_grow_every_step(name, kwargs, closure):
    """Over a short training trajectory every step bumps the version of each updated parameter; a
    parameter without a gradient is written (version moves) exactly when PyTorch writes it too
    (LBFGS updates all its parameters; the others skip those without a gradient)."""
    weights, biases, frozen = _trajectory(lamina, name, kwargs, closure)
    assert all(b > a for a, b in zip(weights, weights[1:])), weights
    assert all(b > a for a, b in zip(biases, biases[1:])), biases
    _, _, torch_frozen = _trajectory(torch, name, kwargs, closure)
    assert (frozen == 0) == (torch_frozen == 0), (frozen, torch_frozen)


def _writers():
    def inplace_op(lib, w):
        with lib.no_grad():
            w.mul_(2)

    def init_fn(lib, w):
        lib.nn.init.normal_(w)

    def copy(lib, w):
        with lib.no_grad():
            w.copy_(lib.zeros(3))

    def setitem(lib, w):
        with lib.no_grad():
            w[0] = 1.0

    def fill(lib, w):
        with lib.no_grad():
            w.fill_(3.0)

    def load_state_dict(lib, w):
        holder = lib.nn.Module()
        holder.w = w
        holder.load_state_dict({"w": lib.ones(3)})

    def data_inplace(lib, w):
        w.data.add_(1)

    return [inplace_op, init_fn, copy, setitem, fill, load_state_dict, data_inplace]


@pytest.mark.parametrize("write", _writers(), ids=lambda f: f.__name__)
def test_every_storage_write_is_counted_as_in_pytorch(write):
    """Each writer bumps the version, and the stale graph refuses to backward, exactly when PyTorch's
    does (a write through ``.data`` is the one PyTorch hides from autograd)."""
    outcomes = {}
    for lib in (lamina, torch):
        w = lib.nn.Parameter(lib.tensor([0.5, -1.5, 2.0]))
        loss = (w * w).sum()
        loss.backward(retain_graph=True)
        before = w._version
        write(lib, w)
        try:
            loss.backward()
            raised = ""
        except RuntimeError as e:
            raised = STALE if STALE in str(e) else str(e)
        outcomes[lib.__name__] = (w._version > before, raised)
    assert outcomes["lamina"] == outcomes["torch"]
    assert outcomes["lamina"] == ((False, "") if write.__name__ == "data_inplace" else (True, STALE))


def test_increment_version_for_writes_behind_autograds_back():
    w = lamina.nn.Parameter(lamina.tensor([1.0, 2.0]))
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    w.array[...] = np.array([3.0, 4.0], dtype=np.float32)
    lamina.autograd.graph.increment_version(w)
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()


def test_step_without_gradient_leaves_the_graph_usable():
    """A parameter the step did not touch (no grad) keeps its version, so its graph still works."""
    w = lamina.nn.Parameter(lamina.tensor([1.0, 2.0]))
    other = lamina.nn.Parameter(lamina.tensor([1.0]))
    opt = lamina.optim.SGD([w, other], lr=0.1)
    loss = (w * w).sum()
    opt.step()
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0])
