"""nn.utils: clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters (vs PyTorch);
nn.functional core functions; lazy nn.utils submodules."""

from __future__ import annotations

import math
import subprocess
import sys

import lamina
import lamina.nn.functional as F
import numpy as np
import pytest
from lamina import nn
from lamina.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    get_total_norm,
    parameters_to_vector,
    vector_to_parameters,
)

SHAPES = [(3, 4), (4,), (2, 2, 2)]


def _params(lib, rng, scale=1.0, dtype=np.float32):
    ps = []
    for shape in SHAPES:
        p = lib.nn.Parameter(lib.tensor(rng.standard_normal(shape).astype(dtype)))
        p.grad = lib.tensor((rng.standard_normal(shape) * scale).astype(dtype))
        ps.append(p)
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, 0.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    ours = _params(lamina, np.random.default_rng(1), scale=2.0)
    theirs = _params(torch, np.random.default_rng(1), scale=2.0)
    total = clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    want = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, lamina.Tensor) and total.dtype is lamina.float32 and total.ndim == 0
    np.testing.assert_allclose(total.item(), want.item(), rtol=1e-6)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_clip_grad_norm_float64_single_tensor_and_empty():
    torch = pytest.importorskip("torch")
    p = _params(lamina, np.random.default_rng(2), dtype=np.float64)[0]
    q = _params(torch, np.random.default_rng(2), dtype=np.float64)[0]
    t = clip_grad_norm_(p, 0.1)
    assert t.dtype is lamina.float64
    np.testing.assert_allclose(t.item(), torch.nn.utils.clip_grad_norm_(q, 0.1).item(), rtol=1e-12)
    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)
    assert clip_grad_norm_([nn.Parameter(lamina.ones(2))], 1.0).item() == 0.0


def test_clip_grad_norm_nonfinite():
    ps = _params(lamina, np.random.default_rng(3))
    ps[1].grad.array[0] = np.nan
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    assert math.isnan(get_total_norm([p.grad for p in ps]).item())


def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch")
    ours = _params(lamina, np.random.default_rng(4), scale=3.0)
    theirs = _params(torch, np.random.default_rng(4), scale=3.0)
    assert clip_grad_value_(ours, 0.7) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    assert max(abs(p.grad.numpy()).max() for p in ours) == pytest.approx(0.7)


def test_parameters_to_vector_and_back_match_torch():
    torch = pytest.importorskip("torch")
    ours = _params(lamina, np.random.default_rng(5))
    theirs = _params(torch, np.random.default_rng(5))
    vec = parameters_to_vector(ours)
    np.testing.assert_array_equal(vec.detach().numpy(), torch.nn.utils.parameters_to_vector(theirs).detach().numpy())
    assert vec.shape == (sum(int(np.prod(s)) for s in SHAPES),)
    vec.sum().backward()  # differentiable, like torch.cat of views
    assert ours[0].grad is not None
    new = lamina.arange(vec.shape[0], dtype=lamina.float32)
    identity = [id(p) for p in ours]
    vector_to_parameters(new, ours)
    assert [id(p) for p in ours] == identity
    assert ours[1].tolist() == [12.0, 13.0, 14.0, 15.0]
    assert ours[2].shape == (2, 2, 2)
    with pytest.raises(TypeError, match="expected lamina.Tensor, but got: list"):
        vector_to_parameters([1.0], ours)


def test_functional_core_functions_match_torch():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    x = np.random.default_rng(6).standard_normal((2, 3, 4)).astype(np.float32)
    a, b = lamina.tensor(x), torch.tensor(x)
    for name in ("relu", "sigmoid", "tanh"):
        np.testing.assert_allclose(getattr(F, name)(a).numpy(), getattr(TF, name)(b).numpy(), rtol=1e-6)
    for name in ("softmax", "log_softmax", "softmin"):
        for dim in (0, -1, 1):
            np.testing.assert_allclose(getattr(F, name)(a, dim=dim).numpy(), getattr(TF, name)(b, dim=dim).numpy(),
                                       rtol=1e-5, atol=1e-6)
        with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name}"):
            got = getattr(F, name)(a)
        with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name}"):
            want = getattr(TF, name)(b)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(F.softmax(a, 1, dtype=lamina.float64).numpy(),
                               TF.softmax(b, 1, dtype=torch.float64).numpy(), rtol=1e-12)
    c = a.clone()
    assert F.relu(c, inplace=True) is c and c.numpy().min() == 0.0


def test_nn_utils_plugin_submodule_is_lazy(tmp_path):
    """A plugin publishes ``lamina.nn.utils.<name>`` with an entry point ``nn.utils.<name>`` in lamina.namespaces."""
    pkg = tmp_path / "site"
    (pkg / "fake_rnn_utils").mkdir(parents=True)
    (pkg / "fake_rnn_utils" / "__init__.py").write_text("def pack_padded_sequence(x):\n    return ('packed', x)\n")
    dist = pkg / "lamina_fake_rnn-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: lamina-fake-rnn\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[lamina.namespaces]\nnn.utils.fakernn = fake_rnn_utils\n")
    code = (
        "import sys\n"
        "import lamina.nn.utils as U\n"
        "assert 'fake_rnn_utils' not in sys.modules\n"
        "from lamina.nn.utils.fakernn import pack_padded_sequence\n"
        "assert pack_padded_sequence(1) == ('packed', 1)\n"
        "import lamina.nn.utils.fakernn as R\n"
        "assert U.fakernn is R and 'fakernn' in dir(U)\n"
        "try:\n    U.nosuchthing\nexcept AttributeError as e:\n    assert 'nosuchthing' in str(e)\n"
        "else:\n    raise SystemExit('no error')\n"
    )
    env = {"PYTHONPATH": str(pkg), "PATH": "/usr/bin:/bin"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
