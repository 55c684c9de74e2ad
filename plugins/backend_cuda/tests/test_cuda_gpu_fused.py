"""On a CUDA device (marked ``gpu``; skipped without one): the fused kernels for other plugins' ops,
through the public layers, against the CPU backend: outputs and every gradient (float32 rtol 1e-4,
atol 1e-5; the kernel must be the one chosen), and an Adam/SGD training step."""

from __future__ import annotations

import lamina
import numpy as np
import pytest

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not lamina.cuda.is_available(), reason="no CUDA device")]

RTOL, ATOL = 1e-4, 1e-5


def _parity(make, shape, target=None, loss=None, seed=0):
    """Same module weights on cpu and cuda; compare output, input grad and every parameter grad."""
    rng = np.random.default_rng(seed)
    host = rng.standard_normal(shape).astype(np.float32) * 2
    lamina.manual_seed(seed)
    ref = make()
    res = {}
    for dev in ("cpu", "cuda"):
        m = make().to(dev)
        m.load_state_dict({k: v.to(dev) for k, v in ref.state_dict().items()})
        x = lamina.tensor(host, device=dev, requires_grad=True)
        y = m(x) if loss is None else loss(m(x), lamina.tensor(target, device=dev))
        y = y[0] if isinstance(y, tuple) else y
        dy = lamina.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(np.float32), device=dev)
        (y * dy).sum().backward()
        res[dev] = [y.detach().cpu().numpy(), x.grad.cpu().numpy()] + [p.grad.cpu().numpy() for p in m.parameters()]
    for k, (got, want) in enumerate(zip(res["cuda"], res["cpu"])):
        np.testing.assert_allclose(got, want, RTOL, ATOL, err_msg=f"item {k}")


@pytest.mark.parametrize("make, shape", [
    (lambda: lamina.nn.Conv2d(3, 8, 3, padding=1), (2, 3, 12, 10)),
    (lambda: lamina.nn.Conv2d(4, 6, (3, 2), stride=(2, 1), dilation=(1, 2), groups=2), (2, 4, 11, 9)),
    (lambda: lamina.nn.Conv1d(5, 4, 4, stride=3, padding=2), (3, 5, 20)),
    (lambda: lamina.nn.MaxPool2d(3, stride=2, padding=1), (2, 3, 9, 8)),
    (lambda: lamina.nn.MaxPool1d(4, stride=3, padding=2, ceil_mode=True), (2, 3, 13)),
    (lambda: lamina.nn.BatchNorm2d(4), (3, 4, 5, 6)),
    (lambda: lamina.nn.InstanceNorm1d(4, affine=True), (3, 4, 17)),
    (lambda: lamina.nn.LayerNorm(33), (4, 7, 33)),
    (lambda: lamina.nn.RMSNorm(20), (6, 20)),
    (lambda: lamina.nn.LSTM(4, 6, num_layers=2, bidirectional=True), (5, 3, 4)),
    (lambda: lamina.nn.LSTM(4, 6, proj_size=3), (5, 3, 4)),
    (lambda: lamina.nn.GRU(4, 6, batch_first=True), (3, 5, 4)),
])
def test_layer_parity_with_cpu(make, shape):
    _parity(make, shape)


@pytest.mark.parametrize("kw", [{}, {"label_smoothing": 0.1}, {"ignore_index": 2, "reduction": "sum"},
                                {"reduction": "none", "label_smoothing": 0.2}])
def test_cross_entropy_parity_with_cpu(kw):
    target = np.random.default_rng(3).integers(0, 7, 9)
    _parity(lambda: lamina.nn.Identity(), (9, 7), target=target,
            loss=lambda y, t: lamina.nn.CrossEntropyLoss(**kw)(y, t))


def test_the_fused_kernels_are_chosen():
    from lamina_backend_cuda.testing_fused import target_op

    ConvNd = target_op("ConvNd")
    x = lamina.randn(2, 3, 8, 8, device="cuda")
    w = lamina.randn(4, 3, 3, 3, device="cuda")
    text = lamina.kernels.explain(ConvNd, x, w, None, (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    assert text.endswith("-> lamina-backend-cuda:CudaConvNd")


@pytest.mark.parametrize("name, kw", [("Adam", {"lr": 1e-2}), ("AdamW", {"lr": 1e-2, "amsgrad": True}),
                                      ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True})])
def test_optimizer_step_parity_with_cpu(name, kw):
    rng = np.random.default_rng(5)
    init = rng.standard_normal((7, 9)).astype(np.float32)
    grads = [rng.standard_normal((7, 9)).astype(np.float32) for _ in range(5)]
    out = {}
    for dev in ("cpu", "cuda"):
        p = lamina.nn.Parameter(lamina.tensor(init, device=dev))
        opt = getattr(lamina.optim, name)([p], **kw)
        for g in grads:
            p.grad = lamina.tensor(g, device=dev)
            opt.step()
        out[dev] = p.detach().cpu().numpy()
    np.testing.assert_allclose(out["cuda"], out["cpu"], 1e-5, 1e-6)
