"""nn.DataParallel on one device against torch's on a machine without GPUs: repr, state_dict keys, outputs,
gradients, loading torch's DataParallel checkpoints, and the several-devices error."""

from __future__ import annotations

import lamina
import numpy as np
import pytest

torch = pytest.importorskip("torch")


def _pair():
    lamina.manual_seed(0)
    lm = lamina.nn.Sequential(lamina.nn.Linear(3, 5), lamina.nn.ReLU(), lamina.nn.Linear(5, 2))
    tm = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2))
    tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in lm.state_dict().items()})
    return lamina.nn.DataParallel(lm), torch.nn.DataParallel(tm)


def test_matches_torch_without_accelerators():
    ld, td = _pair()
    assert repr(ld) == repr(td)
    assert list(ld.state_dict()) == list(td.state_dict())
    assert ld.device_ids == td.device_ids == []
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    lo, to = ld(lamina.tensor(x)), td(torch.tensor(x))
    np.testing.assert_allclose(lo.detach().numpy(), to.detach().numpy(), rtol=1e-6, atol=1e-6)
    lo.square().sum().backward()
    to.square().sum().backward()
    for (n, lp), (_, tp) in zip(ld.named_parameters(), td.named_parameters()):
        np.testing.assert_allclose(lp.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=n)
    ld.load_state_dict({k: lamina.tensor(v.numpy()) for k, v in td.state_dict().items()})
    assert ld.module is ld._modules["module"]


def test_functional_form_and_errors():
    ld, _ = _pair()
    x = lamina.ones(2, 3)
    np.testing.assert_array_equal(lamina.nn.parallel.data_parallel(ld.module, x).detach().numpy(),
                                  ld(x).detach().numpy())
    with pytest.raises(TypeError, match="expected an nn.Module"):
        lamina.nn.DataParallel(lambda v: v)
    assert lamina.nn.DataParallel is lamina.nn.parallel.DataParallel
