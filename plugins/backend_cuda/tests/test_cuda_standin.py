"""The CUDA device path on CPU: the backend class in stand-in mode (NumPy playing CuPy) serves
device type ``cuda``; training, moves, errors, scoping and random numbers behave as on a GPU."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _cuda_standin import standin_cuda
from lamina import nn


@pytest.fixture
def cuda():
    with standin_cuda() as backend:
        yield backend


def test_standin_serves_cuda_and_lamina_cuda_api_answers_through_it(cuda):
    assert cuda.standin and cuda.name == "standin"
    assert lamina.cuda.is_available()
    assert lamina.cuda.device_count() == 2
    assert lamina.cuda.current_device() == 0
    lamina.cuda.synchronize()
    lamina.cuda.synchronize("cuda:1")
    assert lamina.cuda.memory_allocated() == 0 and lamina.cuda.max_memory_allocated() == 0
    lamina.cuda.empty_cache()


@pytest.mark.parametrize("spec, index", [("cuda", 0), ("cuda:0", 0), ("cuda:1", 1), (1, 1)])
def test_device_strings(cuda, spec, index):
    x = lamina.ones(2, 3, device=spec)
    assert x.device.type == "cuda" and x.device.index == index and x.is_cuda  # "cuda" means the current device
    assert x.device == lamina.device("cuda", index)


@pytest.mark.parametrize("spec", ["cuda:2", "cuda:9"])
def test_device_index_out_of_range(cuda, spec):
    with pytest.raises(ValueError, match=r"cuda: expected a device index in \[0, 2\) \(2 device\(s\) visible\), "
                                         rf"got {spec[-1]}"):
        lamina.tensor([1.0, 2.0], device=spec)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int64", "int32", "uint8", "bool"])
def test_host_round_trip_is_bitwise_and_a_copy(cuda, dtype):
    host = (np.random.default_rng(0).standard_normal((4, 5)) * 50).astype(dtype)
    x = lamina.tensor(host, device="cuda")
    assert x.array is not host and not np.shares_memory(x.array, host)
    back = x.cpu().numpy()
    assert back.dtype == host.dtype and np.array_equal(back, host)


@pytest.mark.parametrize("spec, shown", [("cuda", "cuda:0"), ("cuda:1", "cuda:1")])
def test_numpy_on_a_cuda_tensor_raises_pytorchs_message(cuda, spec, shown):
    x = lamina.ones(3, device=spec)
    msg = (f"can't convert {shown} device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host "
           "memory first.")
    with pytest.raises(TypeError) as e:
        x.numpy()
    assert str(e.value) == msg
    with pytest.raises(TypeError, match="Use Tensor.cpu()"):
        np.asarray(x)


def test_mixed_devices_raise_listing_each_device(cuda):
    a, b = lamina.ones(3, device="cuda"), lamina.ones(3)
    with pytest.raises(lamina.DeviceMismatchError, match=r"argument 0: cuda:0, argument 1: cpu"):
        a + b
    assert (a + lamina.ones(3, device="cuda:0")).device == lamina.device("cuda:0")  # "cuda" and "cuda:0" mix
    c = lamina.ones(3, device="cuda:1")
    with pytest.raises(lamina.DeviceMismatchError, match=r"argument 0: cuda:1, argument 1: cuda:0"):
        c * a


def test_ops_on_cuda_1_run_inside_its_device_scope(cuda):
    seen = []
    real = type(cuda).device_scope

    def spy(self, index):
        seen.append(index)
        return real(self, index)

    type(cuda).device_scope = spy
    try:
        x = lamina.ones(4, device="cuda:1", requires_grad=True)
        (x * 3).sum().backward()
    finally:
        type(cuda).device_scope = real
    assert seen.count(1) >= 3  # allocation, forward of each op, backward
    assert cuda.current_stack == [0]  # every scope was left
    assert np.array_equal(x.grad.cpu().numpy(), np.full(4, 3.0, dtype=np.float32))


def test_seeded_random_numbers_reproduce_and_keep_dtype(cuda):
    lamina.manual_seed(3)
    a = lamina.randn(5, device="cuda")
    lamina.cuda.manual_seed_all(3)
    b = lamina.randn(5, device="cuda")
    assert a.dtype == lamina.float32 and np.array_equal(a.cpu().numpy(), b.cpu().numpy())
    g = lamina.Generator("cuda").manual_seed(7)
    u = lamina.rand(1000, generator=g, device="cuda", dtype=lamina.float64).cpu().numpy()
    assert u.dtype == np.float64 and 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.05
    k = lamina.randint(0, 10, (200,), device="cuda").cpu().numpy()
    assert k.dtype == np.int64 and k.min() >= 0 and k.max() <= 9 and len(set(k.tolist())) == 10
    p = lamina.randperm(20, device="cuda").cpu().numpy()
    assert sorted(p.tolist()) == list(range(20))


def test_generator_state_is_refused_with_the_reason(cuda):
    g = lamina.Generator("cuda").manual_seed(0)
    with pytest.raises(NotImplementedError, match="not supported on CUDA"):
        g.get_state()


def _model():
    lamina.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3))


def _train(device: str, steps: int = 5) -> tuple[list[float], dict]:
    model = _model().to(device)
    opt = lamina.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(1)
    x = lamina.tensor(rng.standard_normal((32, 8)), dtype=lamina.float32).to(device)
    y = lamina.tensor(rng.integers(0, 3, 32)).to(device)
    losses = []
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, {k: v.cpu().numpy() for k, v in model.state_dict().items()}


def test_training_loop_runs_on_cuda_unchanged_and_matches_cpu(cuda):
    pytest.importorskip("lamina_layers_basic")
    pytest.importorskip("lamina_optim")
    pytest.importorskip("lamina_losses")
    got, state = _train("cuda")
    want, want_state = _train("cpu")
    assert got[-1] < got[0]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    for k in want_state:
        np.testing.assert_allclose(state[k], want_state[k], rtol=1e-6, atol=1e-6, err_msg=k)


def test_module_to_cuda_moves_parameters_and_grads_back(cuda):
    pytest.importorskip("lamina_layers_basic")
    m = _model().to("cuda")
    assert all(p.device == lamina.device("cuda:0") for p in m.parameters())
    m(lamina.randn(2, 8, device="cuda")).sum().backward()
    assert all(p.grad.device == lamina.device("cuda:0") for p in m.parameters())
    back = m.cpu()
    assert all(p.device == lamina.device("cpu") and p.grad.device == lamina.device("cpu") for p in back.parameters())


def test_default_device_swaps_without_code_changes(cuda):
    with lamina.device("cuda"):
        x = lamina.zeros(2, 2)
        y = lamina.tensor([1.0, 2.0])
    assert x.device == lamina.device("cuda:0") and y.device == lamina.device("cuda:0")
    device = "cuda" if lamina.cuda.is_available() else "cpu"
    assert device == "cuda"


def test_gradient_flows_across_a_device_move(cuda):
    x = lamina.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x.to("cuda")
    (y.relu() * 2).sum().backward()
    assert x.grad.device == lamina.device("cpu")
    assert np.array_equal(x.grad.numpy(), np.array([2.0, 0.0, 2.0], dtype=np.float32))


def test_out_of_memory_from_a_factory_names_the_bytes(cuda):
    with pytest.raises(lamina.OutOfMemoryError, match=r"could not allocate \d+ bytes"):
        lamina.empty(2**40, 2**22, dtype=lamina.uint8, device="cuda")
