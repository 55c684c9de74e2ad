"""Autograd behaviour: accumulation, retain_graph, autograd.grad, grad modes, long chains, anomaly
mode, PyTorch's error messages, mixed devices."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from lamina.autograd import Function

torch = pytest.importorskip("torch")


def test_gradients_accumulate_over_two_backward_calls():
    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_same_tensor_used_twice_and_diamond_graph():
    x = lamina.tensor(3.0, requires_grad=True)
    a = x * 2
    y = a * a + a.exp() + x
    y.backward()
    t = torch.tensor(3.0, requires_grad=True)
    ta = t * 2
    (ta * ta + ta.exp() + t).backward()
    assert np.isclose(x.grad.item(), t.grad.item(), rtol=1e-6)


def test_broadcast_gradient_is_reduced_to_input_shape():
    a = lamina.ones(3, 1, requires_grad=True)
    b = lamina.ones(4, requires_grad=True)
    c = lamina.tensor(2.0, requires_grad=True)
    (a * b * c).sum().backward()
    assert a.grad.shape == (3, 1) and a.grad.tolist() == [[8.0]] * 3
    assert b.grad.shape == (4,) and b.grad.tolist() == [6.0] * 4
    assert c.grad.shape == () and c.grad.item() == 12.0


def test_second_backward_without_retain_graph_raises_torch_message():
    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_backward_on_non_scalar_needs_a_gradient():
    x = lamina.ones(2, 2, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        y.backward()
    y.backward(lamina.ones(2, 2))
    assert x.grad.tolist() == [[2.0, 2.0]] * 2
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(lamina.ones(3))


def test_backward_of_tensor_not_requiring_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        lamina.ones(2).sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        lamina.autograd.grad(lamina.ones(1, requires_grad=True).sum(), lamina.ones(1))


def test_autograd_grad_and_allow_unused():
    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    z = lamina.tensor([1.0], requires_grad=True)
    y = (x ** 3).sum()
    (g,) = lamina.autograd.grad(y, x, retain_graph=True)
    assert g.tolist() == [3.0, 12.0] and x.grad is None
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        lamina.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = lamina.autograd.grad(y, [x, z], allow_unused=True, retain_graph=True)
    assert gz is None and gx.tolist() == [3.0, 12.0]
    (gz,) = lamina.autograd.grad(y, [z], allow_unused=True, materialize_grads=True)
    assert gz.tolist() == [0.0]


def test_autograd_grad_create_graph_gives_second_derivative():
    x = lamina.tensor([1.0, 2.0], dtype=lamina.float64, requires_grad=True)
    (g,) = lamina.autograd.grad((x ** 3).sum(), x, create_graph=True)
    assert g.requires_grad
    g.sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]


def test_backward_inputs_argument_limits_accumulation():
    a = lamina.tensor([1.0], requires_grad=True)
    b = lamina.tensor([2.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.tolist() == [2.0] and b.grad is None


# --- grad modes ----------------------------------------------------------------------------------

def test_no_grad_enable_grad_set_grad_enabled_inference_mode():
    x = lamina.ones(2, requires_grad=True)
    with lamina.no_grad():
        y = x * 2
        assert not lamina.is_grad_enabled()
        with lamina.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None and z.requires_grad
    with lamina.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert lamina.is_grad_enabled()
    lamina.set_grad_enabled(False)
    assert not lamina.is_grad_enabled()
    lamina.set_grad_enabled(True)
    with lamina.inference_mode():
        assert not (x * 2).requires_grad
    with lamina.inference_mode(False):
        assert (x * 2).requires_grad


def test_grad_modes_as_decorators():
    x = lamina.ones(2, requires_grad=True)

    @lamina.no_grad()
    def f():
        return x * 2

    @lamina.inference_mode()
    def g():
        return x * 2

    @lamina.set_grad_enabled(False)
    def h():
        return x * 2

    @lamina.enable_grad()
    def k():
        return x * 2

    assert not f().requires_grad and not g().requires_grad and not h().requires_grad
    assert lamina.is_grad_enabled()
    with lamina.no_grad():
        assert k().requires_grad
    assert f.__name__ == "f"


def test_grad_mode_restored_after_exception():
    with pytest.raises(ValueError), lamina.no_grad():
        raise ValueError
    assert lamina.is_grad_enabled()


# --- long graphs, anomaly mode -------------------------------------------------------------------

def test_chain_of_100k_ops_backward_has_no_recursion_limit():
    x = lamina.tensor([1.0], dtype=lamina.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.sum().backward()
    assert np.isclose(x.grad.item(), 1.00001 ** 100_000)


def test_anomaly_mode_names_the_op_that_produced_nan():
    x = lamina.tensor([0.0, 1.0], requires_grad=True)
    with lamina.autograd.detect_anomaly(), np.errstate(all="ignore"):
        y = (x.sqrt() * 0).sum()  # d sqrt at 0 is 0 / 0 = nan in SqrtBackward's output
        with pytest.raises(RuntimeError, match="Function 'SqrtBackward' returned nan values in its 0th output") as e:
            y.backward()
    assert "Traceback of the forward call" in str(e.value) and "test_autograd.py" in str(e.value)
    assert not lamina.autograd.is_anomaly_enabled()
    x.grad = None
    with np.errstate(all="ignore"):
        (x.sqrt() * 0).sum().backward()  # without anomaly mode: NaN passes silently, as in PyTorch
    assert np.isnan(x.grad[0].item())


# --- in-place checks ----------------------------------------------------------------------------

def test_inplace_change_of_a_saved_tensor_raises_torch_message():
    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y.exp()  # saves its output
    w = y * y  # saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match="one of the variables needed for gradient computation has been "
                                           "modified by an inplace operation"):
        w.sum().backward(retain_graph=True)
    z.exp_()
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0 instead"):
        z.sum().backward()


def test_inplace_on_a_view_of_a_saved_tensor_is_detected():
    x = lamina.ones(2, 3, requires_grad=True)
    y = x * 2
    s = y.sin()
    with lamina.no_grad():
        y[0, 0] = 5.0  # a write through y (which sin saved) under no_grad still bumps the version
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.sum().backward()


def test_no_error_when_the_modified_tensor_was_not_saved():
    x = lamina.ones(2, requires_grad=True)
    w = lamina.full((2,), 3.0)
    y = x + 1  # Add saves nothing
    z = y * 3 + y * w + y / w + y @ w  # y is not needed for y's own gradient: not saved (as in PyTorch)
    y.mul_(2)
    z.sum().backward()
    assert np.allclose(x.grad.tolist(), [3 + 3 + 1 / 3 + 2 * 3] * 2)  # y @ w is broadcast over 2 elements


# --- custom Function -----------------------------------------------------------------------------

class Cube(Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return scale * x ** 3

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * 3 * ctx.scale * x ** 2, None


def test_custom_function_and_node_introspection():
    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn.name() == "CubeBackward" and "CubeBackward" in repr(y)
    assert y.grad_fn.next_functions[0][0].name() == "AccumulateGrad"
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 24.0]
    with lamina.no_grad():
        assert Cube.apply(x, 1.0).grad_fn is None


def test_function_returning_wrong_number_of_gradients():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, dy):
            return dy, dy

    with pytest.raises(RuntimeError, match="returned an incorrect number of gradients"):
        Bad.apply(lamina.ones(1, requires_grad=True)).sum().backward()


# --- devices ---------------------------------------------------------------------------------------

class FakeBackend(lamina.backends.Backend):
    """A second device type (``fake``), NumPy underneath, registered in-process for these tests."""

    name = "numpy2"
    device_type = "fake"
    xp = np
    array_type = np.ndarray

    def from_host(self, array, index):
        return np.array(array)

    def new_generator(self, seed):
        return np.random.default_rng(seed)


@pytest.fixture
def fake_device():
    from lamina import plugins

    plugins.register("lamina.backends.fake", "numpy2", FakeBackend, replace=True)
    try:
        yield lamina.device("fake")
    finally:
        plugins.unregister("lamina.backends.fake", "numpy2")
        lamina.set_backend("fake", None)


def test_mixed_devices_raise_listing_each_device(fake_device):
    a = lamina.ones(2, device="fake")
    b = lamina.ones(2)
    # like PyTorch's "cuda", an index-less device type means its current device
    assert a.device == lamina.device("fake", 0) and a.device.type == "fake" and "device='fake:0'" in repr(a)
    assert lamina.ones(2, device="fake:0").device is a.device
    with pytest.raises(lamina.DeviceMismatchError, match=r"argument 0: fake:0, argument 1: cpu"):
        a * b
    with pytest.raises(lamina.DeviceMismatchError, match="fake.*cpu"):
        lamina.matmul(a, b)
    with pytest.raises(lamina.DeviceMismatchError, match="fake"):
        _ = a == b


def test_device_moves_are_differentiable(fake_device):
    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("fake") * 3
    assert y.device.type == "fake"
    z = y.cpu()
    assert z.device.type == "cpu"
    z.sum().backward()
    assert x.grad.device.type == "cpu" and x.grad.tolist() == [3.0, 3.0]
