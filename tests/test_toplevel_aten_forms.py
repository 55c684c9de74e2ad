"""The top-level ``lamina.<op>`` forms that the layer, norm, loss and recurrent plugins serve through
``lamina.functions`` (torch's ATen signatures: ``torch.dropout(input, p, train)``, ``torch.embedding(
weight, indices)``, ``torch.batch_norm(input, weight, bias, ...)``, integer ``reduction``): values and
gradients against torch on the same float64 inputs."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _oracle import assert_close

torch = pytest.importorskip("torch")

R = np.random.default_rng(7)


def a(*shape, low=-1.0, high=1.0):
    return R.uniform(low, high, shape)


def pos(*shape):
    return R.uniform(0.2, 1.0, shape)


def ints(high, *shape):
    return R.integers(0, high, shape)


def labels(*shape):
    return np.where(R.uniform(size=shape) > 0.5, 1.0, -1.0)


def _lists(*shapes_seqs):
    return list(shapes_seqs)


class Buffer:
    """A float input without gradient (running statistics), compared after the call: updated in place."""

    def __init__(self, value):
        self.value = value


# (name, args: list of numpy arrays / python values; the floating arrays get gradients, kwargs)
CASES = [
    ("conv1d", [a(2, 3, 9), a(4, 3, 3), a(4)], {"stride": 2, "padding": 1}),
    ("conv2d", [a(2, 3, 6, 6), a(4, 3, 3, 3), a(4)], {"dilation": 2}),
    ("conv3d", [a(1, 2, 5, 5, 5), a(3, 2, 2, 2, 2)], {}),
    ("conv_transpose1d", [a(2, 3, 5), a(3, 4, 3), a(4)], {"stride": 2, "output_padding": 1}),
    ("conv_transpose2d", [a(1, 2, 4, 4), a(2, 3, 3, 3)], {"padding": 1}),
    ("conv_transpose3d", [a(1, 2, 3, 3, 3), a(2, 2, 2, 2, 2)], {}),
    ("convolution", [a(2, 3, 6, 6), a(4, 3, 3, 3), a(4), [1, 1], [1, 1], [1, 1], False, [0, 0], 1], {}),
    ("convolution", [a(1, 4, 5), a(4, 2, 3), None, [2], [0], [1], True, [1], 2], {}),
    ("conv_tbc", [a(7, 2, 3), a(3, 3, 5), a(5), 1], {}),
    ("adaptive_avg_pool1d", [a(2, 3, 10), [4]], {}),
    ("adaptive_max_pool1d", [a(2, 3, 10), [4]], {}),
    ("avg_pool1d", [a(2, 3, 10), [3]], {"stride": [2], "padding": [1], "count_include_pad": False}),
    ("max_pool1d", [a(2, 3, 10), [3]], {}),
    ("max_pool1d_with_indices", [a(2, 3, 10), [2], [2]], {}),
    ("max_pool2d", [a(1, 2, 6, 6), [2, 2]], {"stride": [1, 1], "ceil_mode": True}),
    ("max_pool3d", [a(1, 2, 4, 4, 4), [2, 2, 2]], {}),
    ("bilinear", [a(3, 4), a(3, 5), a(2, 4, 5), a(2)], {}),
    ("cosine_similarity", [a(3, 4), a(3, 4)], {"dim": 1}),
    ("pairwise_distance", [a(3, 4), a(3, 4)], {"p": 3.0, "keepdim": True}),
    ("pdist", [a(5, 3)], {}),
    ("pdist", [a(4, 3)], {"p": 1.0}),
    ("pixel_shuffle", [a(1, 8, 2, 3), 2], {}),
    ("pixel_unshuffle", [a(1, 2, 4, 6), 2], {}),
    ("channel_shuffle", [a(1, 6, 2, 2), 3], {}),
    ("constant_pad_nd", [a(2, 3, 4), [1, 2, -1, 1]], {"value": 0.5}),
    ("dropout", [a(3, 4), 0.3, False], {}),
    ("alpha_dropout", [a(3, 4), 0.3, False], {}),
    ("feature_dropout", [a(3, 4, 2), 0.3, False], {}),
    ("feature_alpha_dropout", [a(3, 4, 2), 0.3, False], {}),
    ("embedding", [a(6, 3), ints(6, 2, 4)], {}),
    ("embedding", [a(6, 3), np.array([[0, 2, 2], [5, 2, 1]])], {"padding_idx": 2}),
    ("embedding_bag", [a(6, 3), np.array([0, 2, 1, 4, 4, 5]), np.array([0, 2, 2])], {}),
    ("embedding_bag", [a(6, 3), np.array([0, 2, 1, 4, 4, 5]), np.array([0, 2, 2]), False, 1, False, None, False, 4],
     {}),
    ("embedding_bag", [a(6, 3), np.array([0, 2, 1, 4, 3, 5]), np.array([0, 2, 2, 6]), False, 2], {
        "include_last_offset": True}),
    ("embedding_bag", [a(6, 3), np.array([0, 2, 1, 4, 3, 5]), np.array([0, 2, 2]), False, 2, False, None, False, -1],
     {}),
    ("embedding_bag", [a(6, 3), np.array([0, 2, 1, 4, 3, 5]), np.array([0, 3]), False, 0, False, pos(6)], {}),
    ("embedding_bag", [a(6, 3), np.array([0, 2, 1, 4, 3, 5]), np.array([0, 3]), False, 0, False, pos(6), False, 1],
     {}),
    ("embedding_bag", [a(6, 3), np.array([0, 2, 1, 4, 3, 5]), np.array([0, 1, 6]), False, 0, False, None, True], {}),
    ("celu", [a(3, 4) * 3], {}),
    ("celu", [a(3, 4) * 3, 1.7], {}),
    ("selu", [a(3, 4) * 3], {}),
    ("rrelu", [a(3, 4)], {}),
    ("rrelu", [a(3, 4), 0.2, 0.4, False], {}),
    ("threshold", [a(3, 4), 0.1, -2.0], {}),
    ("hardshrink", [a(3, 4)], {}),
    ("hardshrink", [a(3, 4), 0.3], {}),
    ("prelu", [a(2, 3, 4), pos(3)], {}),
    ("prelu", [a(2, 3, 4), pos(1)], {}),
    ("batch_norm", [a(4, 3, 5), pos(3), a(3), Buffer(a(3)), Buffer(pos(3)), True, 0.1, 1e-5, False], {}),
    ("batch_norm", [a(4, 3), pos(3), a(3), Buffer(a(3)), Buffer(pos(3)), False, 0.1, 1e-5, True], {}),
    ("instance_norm", [a(2, 3, 6), None, None, Buffer(a(3)), Buffer(pos(3)), True, 0.2, 1e-5, False], {}),
    ("instance_norm", [a(2, 3, 6), pos(3), a(3), None, None, True, 0.1, 1e-5, False], {}),
    ("layer_norm", [a(2, 3, 4), [3, 4], pos(3, 4), a(3, 4)], {"eps": 1e-6}),
    ("group_norm", [a(2, 4, 5), 2, pos(4), a(4)], {}),
    ("rms_norm", [a(2, 3, 4), [4], pos(4)], {}),
    ("norm_except_dim", [a(4, 3, 2)], {}),
    ("norm_except_dim", [a(4, 3, 2), 3, 1], {}),
    ("norm_except_dim", [a(4, 3)], {"dim": -1}),
    ("binary_cross_entropy_with_logits", [a(3, 4), R.uniform(0, 1, (3, 4)), Buffer(pos(4)), Buffer(pos(4)), 2], {}),
    ("binary_cross_entropy_with_logits", [a(3, 4), R.uniform(0, 1, (3, 4))], {}),
    ("cosine_embedding_loss", [a(3, 4), a(3, 4), labels(3)], {}),
    ("margin_ranking_loss", [a(5), a(5), labels(5)], {"margin": 0.1}),
    ("triplet_margin_loss", [a(3, 4), a(3, 4), a(3, 4)], {"reduction": 1}),
    ("cosine_embedding_loss", [a(3, 4), a(3, 4), labels(3), 0.1, 0], {}),
    ("hinge_embedding_loss", [a(3, 4), labels(3, 4)], {"margin": 0.5}),
    ("kl_div", [np.log(pos(3, 4)), pos(3, 4)], {}),
    ("kl_div", [np.log(pos(3, 4)), np.log(pos(3, 4)), 2], {"log_target": True}),
    ("margin_ranking_loss", [a(5), a(5), labels(5), 0.2, 1], {}),
    ("poisson_nll_loss", [a(3, 4), pos(3, 4), True, True, 1e-8, 1], {}),
    ("triplet_margin_loss", [a(3, 4), a(3, 4), a(3, 4)], {"swap": True, "reduction": 0}),
    ("ctc_loss", [np.log(R.dirichlet(np.ones(5), (6, 2))), np.array([[1, 2, 3], [2, 4, 0]]), [6, 5], [3, 2]],
     {"reduction": 2}),
    ("lstm_cell", [a(3, 4), _lists(a(3, 5), a(3, 5)), a(20, 4), a(20, 5), a(20), a(20)], {}),
    ("gru_cell", [a(3, 4), a(3, 5), a(15, 4), a(15, 5), a(15), a(15)], {}),
    ("rnn_tanh_cell", [a(3, 4), a(3, 5), a(5, 4), a(5, 5)], {}),
    ("rnn_relu_cell", [a(3, 4), a(3, 5), a(5, 4), a(5, 5), a(5), a(5)], {}),
    ("lstm", [a(6, 2, 3), _lists(a(2, 2, 4), a(2, 2, 4)),
              _lists(a(16, 3), a(16, 4), a(16), a(16), a(16, 4), a(16, 4), a(16), a(16)), True, 2, 0.0, False,
              False, False], {}),
    ("gru", [a(2, 5, 3), a(2, 2, 4), _lists(a(12, 3), a(12, 4), a(12, 3), a(12, 4)), False, 1, 0.0, True, True,
             True], {}),
    ("rnn_tanh", [a(4, 2, 3), a(1, 2, 4), _lists(a(4, 3), a(4, 4), a(4), a(4)), True, 1, 0.0, False, False, False],
     {}),
    ("rnn_relu", [a(4, 2, 3), a(1, 2, 4), _lists(a(4, 3), a(4, 4), a(4), a(4)), True, 1, 0.0, False, False, False],
     {}),
]


def _convert(m, value, leaves, buffers=None):
    if isinstance(value, Buffer):
        t = m.tensor(value.value, dtype=m.float64)
        buffers.append(t)
        return t
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            t = m.tensor(value, dtype=m.float64, requires_grad=True)
            leaves.append(t)
            return t
        return m.tensor(value)
    if isinstance(value, list) and value and isinstance(value[0], np.ndarray):
        return [_convert(m, v, leaves) for v in value]
    return value


def _outputs(y):
    if isinstance(y, (tuple, list)):
        return [t for t in y if t is not None]
    return [y]


@pytest.mark.parametrize("name, args, kwargs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_torch(name, args, kwargs):
    results = []
    for m in (lamina, torch):
        leaves, buffers = [], []
        margs = [_convert(m, v, leaves, buffers) for v in args]
        ys = _outputs(getattr(m, name)(*margs, **kwargs)) + buffers
        loss = sum((y * (k + 1.5)).sum() for k, y in enumerate(ys) if y.is_floating_point())
        grads = m.autograd.grad(loss, leaves, allow_unused=True) if loss.requires_grad else [None] * len(leaves)
        results.append((ys, grads))
    (ly, lg), (ty, tg) = results
    assert len(ly) == len(ty)
    for k, (g, r) in enumerate(zip(ly, ty)):
        assert_close(g, r, "reduction", f"{name} output {k}")
    for k, (g, r) in enumerate(zip(lg, tg)):
        if r is None:
            assert g is None or not np.any(g.numpy()), f"{name}: gradient {k} should be None or zero"
        else:
            assert g is not None, f"{name}: no gradient for input {k}"
            assert_close(g, r, "reduction", f"{name} grad {k}")


@pytest.mark.parametrize("name", ["dropout", "feature_dropout", "alpha_dropout", "feature_alpha_dropout"])
def test_training_dropout_statistics_and_in_place_forms(name):
    lamina.manual_seed(0)
    x = lamina.ones(400, 50, 2)
    y = getattr(lamina, name)(x, 0.25, True)
    kept = (y != y.flatten()[y.flatten().argmin()]).to(lamina.float64).mean().item() if "alpha" in name else \
        (y != 0).to(lamina.float64).mean().item()
    assert abs(kept - 0.75) < 0.02
    if name.startswith("feature"):  # whole channels: both values along the last dim agree
        assert bool((y[..., 0] == y[..., 1]).all())
    z = lamina.ones(400, 50, 2)
    out = getattr(lamina, name + "_")(z, 0.25, True)
    assert out is z and z._version > 0


def test_integer_reduction_is_validated():
    with pytest.raises(ValueError, match="kl_div: reduction must be the int 0 .none., 1 .mean. or 2 .sum., got 'sum'"):
        lamina.kl_div(lamina.zeros(2), lamina.ones(2), "sum")


def test_convolution_rejects_a_wrong_rank():
    with pytest.raises(lamina.ShapeError, match="convolution: expected a 3-D, 4-D or 5-D input"):
        lamina.convolution(lamina.zeros(2, 3), lamina.zeros(1, 3), None, [1], [0], [1], False, [0], 1)


def test_embedding_renorm_rescales_the_rows_in_place():
    w = lamina.tensor([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]])
    tw = torch.tensor(w.tolist())
    idx = [0, 1]
    out = lamina.embedding_renorm_(w, lamina.tensor(idx), 1.0, 2.0)
    torch.embedding_renorm_(tw, torch.tensor(idx), 1.0, 2.0)
    assert out is w
    np.testing.assert_allclose(w.numpy(), tw.numpy(), rtol=1e-6)


# in-place activation forms: (name, args after the input, input draw); compared on a non-leaf vs torch
INPLACE = [("celu_", (), 3), ("celu_", (0.8,), 3), ("selu_", (), 3), ("rrelu_", (), 1),
           ("rrelu_", (0.1, 0.6, False), 1), ("threshold_", (0.2, 7.0), 1)]


@pytest.mark.parametrize("name, extra, scale", INPLACE, ids=[f"{c[0]}-{i}" for i, c in enumerate(INPLACE)])
def test_in_place_activation_forms_match_torch(name, extra, scale):
    x0, w = a(3, 4) * scale, a(3, 4)
    res = []
    for m in (lamina, torch):
        x = m.tensor(x0, dtype=m.float64, requires_grad=True)
        y = x * 1.0
        v = y._version
        out = getattr(m, name)(y, *extra)
        assert out is y and y._version > v
        (y * m.tensor(w)).sum().backward()
        res.append((y.detach(), x.grad))
    assert_close(res[0][0], res[1][0], "reduction", f"{name} value")
    assert_close(res[0][1], res[1][1], "reduction", f"{name} grad")
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        getattr(torch, name)(torch.ones(2, requires_grad=True), *extra)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        getattr(lamina, name)(lamina.ones(2, requires_grad=True), *extra)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_hardshrink_and_prelu_tensor_methods_match_torch(dtype):
    x0, wt = a(2, 3, 4).astype(dtype), pos(3).astype(dtype)
    for lambd in ((), (0.3,)):
        assert_close(lamina.tensor(x0).hardshrink(*lambd), torch.tensor(x0).hardshrink(*lambd))
    assert_close(lamina.tensor(x0).prelu(lamina.tensor(wt)), torch.tensor(x0).prelu(torch.tensor(wt)))


def test_rrelu_training_draws_slopes_from_the_generator():
    x = lamina.full((2000,), -1.0)
    y1 = lamina.rrelu(x, 0.1, 0.3, True, lamina.Generator().manual_seed(3))
    y2 = lamina.rrelu(x, 0.1, 0.3, True, lamina.Generator().manual_seed(3))
    np.testing.assert_array_equal(y1.numpy(), y2.numpy())  # the generator decides the slopes
    slopes = -y1.numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and abs(slopes.mean() - 0.2) < 0.01
    z = lamina.full((2000,), -1.0)
    assert lamina.rrelu_(z, 0.1, 0.3, True, lamina.Generator().manual_seed(3)) is z
    np.testing.assert_array_equal(z.numpy(), y1.numpy())
    np.testing.assert_array_equal(lamina.rrelu(x, 0.1, 0.3, False).numpy(), np.full(2000, -0.2, np.float32))


@pytest.mark.parametrize("call", [
    lambda m: m.celu(m.ones(3), 0.0),
    lambda m: m.celu_(m.ones(3), 0.0),
    lambda m: m.rrelu(m.ones(3), 0.5, 0.1),
    lambda m: m.rrelu_(m.ones(3), 0.5, 0.1, True),
    lambda m: m.prelu(m.ones(2, 3), m.ones(2)),
    lambda m: m.ones(2, 3).prelu(m.ones(2)),
    lambda m: m.embedding_bag(m.ones(5, 3), m.tensor([0, 1]), m.tensor([0]), False, 3),
    lambda m: m.embedding_bag(m.ones(5, 3), m.tensor([0, 1]), m.tensor([[0]]), False, 0),
    lambda m: m.embedding_bag(m.ones(5, 3), m.tensor([0.0, 1.0]), m.tensor([0]), False, 0),
], ids=["celu-alpha", "celu_-alpha", "rrelu-bounds", "rrelu_-bounds", "prelu-weight", "Tensor.prelu-weight",
        "bag-mode", "bag-offsets-2d",
        "bag-float-indices"])
def test_errors_as_torch(call):
    with pytest.raises(RuntimeError) as ref:
        call(torch)
    with pytest.raises(RuntimeError) as got:
        call(lamina)
    assert str(got.value).replace("lamina.", "torch.") == str(ref.value)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("include_last_offset", [False, True])
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_bag_four_outputs_without_grad(dtype, mode, include_last_offset, padding_idx):
    w, idx, off = a(6, 3).astype(dtype), np.array([0, 2, 1, 4, 2, 5, 3]), np.array([0, 2, 2, 7])
    args = (False, mode, False, None, include_last_offset, padding_idx)
    got = lamina.embedding_bag(lamina.tensor(w), lamina.tensor(idx), lamina.tensor(off), *args)
    ref = torch.embedding_bag(torch.tensor(w), torch.tensor(idx), torch.tensor(off), *args)
    assert len(got) == 4
    for k, (g, r) in enumerate(zip(got, ref)):
        assert_close(g, r, "reduction", f"output {k}")
    # the first output is F.embedding_bag's
    f = lamina.nn.functional.embedding_bag(lamina.tensor(idx), lamina.tensor(w), lamina.tensor(off),
                                           mode=("sum", "mean", "max")[mode], include_last_offset=include_last_offset,
                                           padding_idx=padding_idx)
    np.testing.assert_array_equal(got[0].numpy(), f.numpy())
