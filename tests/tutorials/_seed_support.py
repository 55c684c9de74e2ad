"""Helpers for the seed-tutorial acceptance tests (tests/tutorials/test_seed_*.py).

Each tutorial snippet is written once, as a function whose body is the tutorial code with
``import lamina as torch`` (the module globals ``torch``, ``nn``, ``F``, ``optim``, ``DataLoader``,
``TensorDataset`` and, where a test module imports it, ``SummaryWriter`` are lamina's).
:func:`on_torch` re-binds the same function to PyTorch's modules, so one snippet body builds the
lamina model and its PyTorch twin: parameter counts, reprs and (after copying the weights) outputs
and gradients are compared one to one.
"""

from __future__ import annotations

import types

import lamina
import numpy as np
import pytest

NAMES = ("torch", "nn", "F", "optim", "DataLoader", "TensorDataset", "SummaryWriter")


def real_torch():
    """PyTorch, the test oracle (skips the calling test where it is not installed)."""
    return pytest.importorskip("torch")


def on_torch(fn):
    """``fn`` with its globals ``torch``/``nn``/``F``/``optim``/``DataLoader``/``TensorDataset`` (and
    ``SummaryWriter``, where its module has one) taken from PyTorch."""
    torch = real_torch()
    import torch.nn.functional as tF
    import torch.utils.data as tdata

    env = dict(fn.__globals__)
    env.update(torch=torch, nn=torch.nn, F=tF, optim=torch.optim, DataLoader=tdata.DataLoader,
               TensorDataset=tdata.TensorDataset)
    if env.get("SummaryWriter") is not None:  # imported only for the modules that log to TensorBoard
        env["SummaryWriter"] = pytest.importorskip("torch.utils.tensorboard").SummaryWriter
    twin = types.FunctionType(fn.__code__, env, fn.__name__, fn.__defaults__, fn.__closure__)
    twin.__kwdefaults__ = fn.__kwdefaults__
    return twin


def as_lamina_text(text: str) -> str:
    """A PyTorch repr/print-out as lamina writes it (``torch.Size`` -> ``lamina.Size``)."""
    return text.replace("torch", "lamina")


def numpy_of(t) -> np.ndarray:
    """A lamina or PyTorch tensor as a NumPy array (a copy, detached)."""
    if isinstance(t, lamina.Tensor):
        return t.detach().numpy().copy()
    return t.detach().cpu().numpy().copy()


def n_params(model, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def torch_from(t):
    """A lamina tensor as a PyTorch tensor (same values and dtype)."""
    return real_torch().from_numpy(numpy_of(t))


def lamina_from(t):
    """A PyTorch tensor as a lamina tensor (same values and dtype)."""
    return lamina.from_numpy(numpy_of(t))


def copy_weights(lamina_model, torch_model) -> None:
    """Give ``torch_model`` the parameters and buffers of ``lamina_model`` (same state_dict keys)."""
    ours = lamina_model.state_dict()
    theirs = torch_model.state_dict()
    assert list(ours) == list(theirs), f"state_dict keys differ:\n{list(ours)}\n{list(theirs)}"
    torch_model.load_state_dict({k: torch_from(v) for k, v in ours.items()})


def assert_close(ours, theirs, rtol: float = 1e-4, atol: float = 1e-5, what: str = "", scaled: bool = False) -> None:
    """Elementwise closeness; ``scaled`` multiplies ``atol`` by the largest magnitude of ``theirs``.

    Scaled tolerances suit float32 results summed over many terms (a weight gradient over a batch of
    images), whose round-off grows with the size of the largest entries, not of each entry.
    """
    a, b = numpy_of(ours), numpy_of(theirs)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != {b.dtype}"
    if scaled and b.size:
        atol = atol * max(1.0, float(np.abs(b).max()))
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def assert_same_grads(lamina_model, torch_model, rtol: float = 1e-4, atol: float = 1e-5) -> None:
    """Every parameter's gradient equals its PyTorch twin's (both None or both close)."""
    theirs = dict(torch_model.named_parameters())
    for name, p in lamina_model.named_parameters():
        q = theirs[name]
        assert (p.grad is None) == (q.grad is None), f"{name}: grad None mismatch"
        if p.grad is not None:
            assert_close(p.grad, q.grad, rtol, atol, what=f"grad of {name}", scaled=True)


def check_twin(build, make_inputs, *, args: tuple = (), train: bool = False, rtol: float = 1e-4,
               atol: float = 1e-5):
    """Build a model with ``build(*args)`` on lamina and on PyTorch, copy the weights, compare outputs and grads.

    ``build`` is a module-level snippet function returning a model; ``make_inputs()`` returns a
    tuple of lamina tensors (the PyTorch inputs are copies; inputs that require grad are compared
    too). Returns ``(lamina_model, torch_model, lamina_out, torch_out)``.
    """
    ours = build(*args)
    theirs = on_torch(build)(*args)
    assert repr(ours) == as_lamina_text(repr(theirs))
    assert n_params(ours) == n_params(theirs)
    copy_weights(ours, theirs)
    ours.train(train)
    theirs.train(train)
    xs = make_inputs()
    ys = tuple(torch_from(x).requires_grad_(x.requires_grad) for x in xs)
    out, ref = ours(*xs), theirs(*ys)
    assert_close(out, ref, rtol, atol, what="output", scaled=True)
    out.sum().backward()
    ref.sum().backward()
    assert_same_grads(ours, theirs, rtol, atol)
    for i, (x, y) in enumerate(zip(xs, ys)):
        if x.requires_grad:
            assert_close(x.grad, y.grad, rtol, atol, what=f"grad of input {i}", scaled=True)
    return ours, theirs, out, ref


def tensorboard_scalars(run_dir, tag: str) -> list[tuple[int, float]]:
    """``(step, value)`` of every ``tag`` scalar in the event files of ``run_dir``, read by tensorboard itself."""
    from tensorboard.backend.event_processing.event_accumulator import (
        STORE_EVERYTHING_SIZE_GUIDANCE,
        EventAccumulator,
    )

    run = EventAccumulator(str(run_dir), size_guidance=STORE_EVERYTHING_SIZE_GUIDANCE)
    run.Reload()
    return [(event.step, event.value) for event in run.Scalars(tag)]
