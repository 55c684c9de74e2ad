"""Edge cases of the torch 2.13 coverage families against torch: ties (lower median, latest cummax
index, smallest mode), NaN/inf, empty and 0-d inputs, integer and bool dtypes, in-place forms and
torch's errors."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _oracle import assert_close

torch = pytest.importorskip("torch")
NAN, INF = float("nan"), float("inf")


def both(data, dtype="float32"):
    a = np.asarray(data, dtype=dtype)
    return lamina.from_numpy(a.copy()), torch.from_numpy(a.copy())


def check(fn, *datas, dtype="float32"):
    pairs = [both(d, dtype) for d in datas]
    lo, to = fn(lamina, *[p[0] for p in pairs]), fn(torch, *[p[1] for p in pairs])
    assert_close(_plain(lo), _plain(to), "reduction", getattr(fn, "__name__", "op"))


def _plain(out):
    if isinstance(out, tuple):
        return tuple(_plain(o) for o in out)
    return out


MEDIAN_DATA = [[1.0, 2.0, 3.0, 4.0], [2.0, 1.0, 2.0, 2.0, 3.0], [[1.0, NAN, 3.0], [2.0, 1.0, 4.0]],
               [[NAN, NAN], [INF, -INF]], [[5.0], [4.0]]]


@pytest.mark.parametrize("data", MEDIAN_DATA)
def test_median_family(data):
    check(lambda m, x: m.median(x), data)
    check(lambda m, x: m.nanmedian(x), data)
    check(lambda m, x: tuple(m.median(x, -1)), data)
    check(lambda m, x: tuple(m.nanmedian(x, 0, keepdim=True)), data)


def test_median_ints_and_0d():
    check(lambda m, x: tuple(m.median(x, 1)), [[3, 1, 2, 2], [7, 7, 1, 0]], dtype="int64")
    check(lambda m, x: m.median(x), 3.0)
    check(lambda m, x: tuple(m.median(x, 0)), 3.0)


@pytest.mark.parametrize("interp", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_nan_and_interpolations(interp):
    data = [[1.0, NAN, 3.0, 0.5], [2.0, 1.0, 4.0, 8.0]]
    q = [0.0, 0.25, 0.5, 0.9, 1.0]
    check(lambda m, x: m.quantile(x, m.tensor(q), dim=1, interpolation=interp), data)
    check(lambda m, x: m.nanquantile(x, m.tensor(q), dim=1, interpolation=interp), data)
    check(lambda m, x: m.nanquantile(x, 0.5, keepdim=True, interpolation=interp), data)


def test_quantile_errors():
    with pytest.raises(RuntimeError, match="q values must be in the range"):
        lamina.quantile(lamina.ones(3), 1.5)
    with pytest.raises(RuntimeError, match="float or double"):
        lamina.quantile(lamina.ones(3, dtype=lamina.int64), 0.5)
    with pytest.raises(ValueError, match="interpolation"):
        lamina.quantile(lamina.ones(3), 0.5, interpolation="cubic")


def test_mode_ties_and_ints():
    check(lambda m, x: tuple(m.mode(x)), [1.0, 3.0, 3.0, 2.0, 2.0, 5.0])
    check(lambda m, x: tuple(m.mode(x, 1, keepdim=True)), [[1, 1, 2, 2], [3, 3, 3, 1]], dtype="int64")


def test_cummax_cummin_ties_nan_ints():
    check(lambda m, x: tuple(m.cummax(x, 0)), [1.0, 3.0, 2.0, 3.0, 0.0])
    check(lambda m, x: tuple(m.cummin(x, 0)), [1.0, NAN, 0.0, NAN])
    check(lambda m, x: tuple(m.cummax(x, 1)), [[1, 5, 5, 2], [0, 0, 9, 9]], dtype="int32")
    check(lambda m, x: tuple(m.cummin(x, 0)), np.zeros((0, 3)))


def test_scans_dtypes_and_inplace():
    check(lambda m, x: m.cumsum(x, 0), [1, 2, 3], dtype="int32")
    check(lambda m, x: m.cumsum(x, 0), [True, False, True], dtype="bool")
    check(lambda m, x: m.logcumsumexp(x, 0), [-INF, 0.0, 1000.0, 1.0])
    check(lambda m, x: m.diff(x), [True, False, False, True], dtype="bool")
    check(lambda m, x: m.diff(x, 3), [1, 4, 9, 16, 25], dtype="int64")
    x = lamina.tensor([1.0, 2.0, 3.0])
    v = x._version
    assert x.cumsum_(0) is x and x.tolist() == [1.0, 3.0, 6.0] and x._version == v + 1
    assert x.cumprod_(0).tolist() == [1.0, 3.0, 18.0]


def test_unique_family():
    data = [3, 1, 2, 3, 1, 5]
    for kw in ({}, {"return_inverse": True}, {"return_counts": True},
               {"return_inverse": True, "return_counts": True, "sorted": False}):
        check(lambda m, x, kw=kw: m.unique(x, **kw), data, dtype="int64")
        check(lambda m, x, kw=kw: m.unique_consecutive(x, **kw), data, dtype="int64") if "sorted" not in kw else None
    check(lambda m, x: m.unique(x, dim=0, return_inverse=True, return_counts=True), [[1, 2], [1, 2], [0, 3]],
          dtype="int64")
    check(lambda m, x: m.unique(x, dim=1, return_counts=True), [[1, 1, 0], [2, 2, 3]], dtype="int64")
    check(lambda m, x: m.unique_consecutive(x, dim=0, return_counts=True, return_inverse=True),
          [[1, 2], [1, 2], [0, 3], [1, 2]], dtype="int64")
    check(lambda m, x: m.unique(x, return_counts=True), [1.0, NAN, NAN, 0.0])
    check(lambda m, x: m.unique(x, return_inverse=True, return_counts=True), np.zeros(0), dtype="int64")
    check(lambda m, x: x.unique(return_counts=True), [True, False, True], dtype="bool")


def test_searchsorted_and_bucketize():
    seq, vals = [1.0, 3.0, 5.0, 7.0], [[0.0, 3.0, 6.0], [7.0, 8.0, 1.0]]
    for kw in ({}, {"right": True}, {"side": "right"}, {"out_int32": True}):
        check(lambda m, s, v, kw=kw: m.searchsorted(s, v, **kw), seq, vals)
        check(lambda m, v, b, kw=kw: m.bucketize(v, b, **{k: w for k, w in kw.items() if k != "side"}), vals, seq)
    check(lambda m, s, v: m.searchsorted(s, v), [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]], [[3.0], [3.0]])
    s, t = both([5.0, 1.0, 3.0])
    order = [1, 2, 0]
    assert lamina.searchsorted(s, lamina.tensor([2.0, 4.0]), sorter=lamina.tensor(order)).tolist() == \
        torch.searchsorted(t, torch.tensor([2.0, 4.0]), sorter=torch.tensor(order)).tolist()
    assert lamina.searchsorted(lamina.tensor([1, 3, 5]), 3).item() == 1
    with pytest.raises(RuntimeError, match="side and right can't be set to opposites"):
        lamina.searchsorted(lamina.tensor([1.0]), lamina.tensor([1.0]), right=True, side="left")


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float64"])
def test_structure_ops_keep_dtypes(dtype):
    m34 = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    for fn in (lambda m, x: m.tril(x, 1), lambda m, x: m.triu(x, -1), lambda m, x: m.diag(x),
               lambda m, x: m.diagflat(x), lambda m, x: m.kron(x, x), lambda m, x: m.rot90(x, 3),
               lambda m, x: m.flatten(m.diag_embed(x)), lambda m, x: m.block_diag(x, x[:1]),
               lambda m, x: m.combinations(x.flatten()[:4]), lambda m, x: m.cartesian_prod(x[0], x[1]),
               lambda m, x: m.msort(x), lambda m, x: m.count_nonzero(x, (0, 1)), lambda m, x: m.movedim(x, (0, 1),
                                                                                                      (1, 0))):
        check(fn, m34, dtype=dtype)
    if dtype != "bool":
        check(lambda m, x: m.trace(x), m34, dtype=dtype)
        check(lambda m, x: m.vander(x.flatten()[:3], 3), m34, dtype=dtype)


def test_bincount_histc_dtypes():
    check(lambda m, x: m.bincount(x, minlength=6), [0, 1, 1, 3], dtype="int64")
    check(lambda m, x, w: m.bincount(x.long(), w), [0, 1, 1, 3], [0.5, 0.5, 1.0, 2.0])
    check(lambda m, x, w: m.bincount(x.long(), w.double()), [0, 1, 1, 3], [0.5, 0.5, 1.0, 2.0])
    check(lambda m, x: m.histc(x), [1.0, 2.0, 1.0, 3.0])
    check(lambda m, x: m.histc(x, 3), [2.0, 2.0])
    with pytest.raises(RuntimeError):
        lamina.histc(lamina.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="non-negative"):
        lamina.bincount(lamina.tensor([-1, 2]))


def test_index_ops_inplace_and_errors():
    x = lamina.zeros(3, 4)
    v = x._version
    x.index_add_(0, lamina.tensor([0, 0, 2]), lamina.ones(3, 4))
    t = torch.zeros(3, 4).index_add_(0, torch.tensor([0, 0, 2]), torch.ones(3, 4))
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    assert x._version == v + 1
    x.index_fill_(1, lamina.tensor([1]), -2.0).index_copy_(0, lamina.tensor([1]), lamina.full((1, 4), 7.0))
    t.index_fill_(1, torch.tensor([1]), -2.0).index_copy_(0, torch.tensor([1]), torch.full((1, 4), 7.0))
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    x.put_(lamina.tensor([0, 11]), lamina.tensor([5.0, 6.0]))
    t.put_(torch.tensor([0, 11]), torch.tensor([5.0, 6.0]))
    x.masked_scatter_(x > 4, lamina.arange(12.0))
    t.masked_scatter_(t > 4, torch.arange(12.0))
    x.index_put_((lamina.tensor([2]),), lamina.tensor(9.0), accumulate=True)
    t.index_put_((torch.tensor([2]),), torch.tensor(9.0), accumulate=True)
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    with pytest.raises(RuntimeError, match="reduce argument must be either"):
        x.scatter_reduce(0, lamina.zeros(1, 1, dtype=lamina.int64), x, "max")
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        lamina.take_along_dim(x, lamina.tensor([0]), 1)
    with pytest.raises(IndexError):
        x.index_add(0, lamina.tensor([3]), lamina.ones(1, 4))


def test_nonzero_static_unravel_index():
    check(lambda m, x: m.nonzero_static(x, size=5), [0, 1, 1, 0, 1], dtype="int64")
    check(lambda m, x: m.nonzero_static(x, size=2, fill_value=-7), [[0, 1], [1, 1]], dtype="int64")
    check(lambda m, x: m.unravel_index(x, (3, 4)), [5, -1, 0, 11], dtype="int64")
    with pytest.raises(RuntimeError):
        lamina.unravel_index(lamina.tensor(12), (3, 4))


def test_split_and_structure_errors():
    with pytest.raises(RuntimeError, match="not divisible by the split_size"):
        lamina.hsplit(lamina.arange(5), 2)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        lamina.tril(lamina.ones(3))
    with pytest.raises(RuntimeError, match="number of sections must be larger than 0"):
        lamina.tensor_split(lamina.ones(3), 0)
    with pytest.raises(RuntimeError, match="Mismatch"):
        lamina.broadcast_shapes((2, 3), (4,))
    with pytest.raises(ValueError, match="indexing must be one of"):
        lamina.meshgrid(lamina.ones(2), indexing="yx")
    with pytest.raises(RuntimeError, match="block_diag"):
        lamina.block_diag(lamina.ones(1, 1, 1))
    assert lamina.broadcast_shapes((2, 1), (3,), 1) == torch.broadcast_shapes((2, 1), (3,), 1)


def test_cov_corrcoef_edges():
    check(lambda m, x: m.cov(x), [[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]])
    check(lambda m, x: m.corrcoef(x), [[1.0, 2.0, 4.0], [3.0, 1.0, 4.0]])
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        check(lambda m, x: m.cov(x, correction=5), [1.0, 2.0, 3.0])
    check(lambda m, x: m.cov(x), [[1, 2, 4], [3, 1, 4]], dtype="int64")


def test_matmul_family_beta_zero_ignores_nan():
    inp = lamina.full((2, 2), NAN)
    out = lamina.addmm(inp, lamina.ones(2, 3), lamina.ones(3, 2), beta=0)
    assert out.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    o = lamina.empty(0)
    assert lamina.addmv(lamina.zeros(2), lamina.ones(2, 2), lamina.ones(2), out=o) is o and o.tolist() == [2.0, 2.0]
    y = lamina.zeros(2, 2)
    y.addr_(lamina.ones(2), lamina.ones(2), alpha=3)
    assert y.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    with pytest.raises(RuntimeError, match="contracted dimensions need to match"):
        lamina.tensordot(lamina.ones(2, 3), lamina.ones(2, 3), 1)


def test_cdist_zero_distance_gradient_and_errors():
    a = lamina.tensor([[0.0, 0.0], [1.0, 1.0]], requires_grad=True)
    ta = torch.tensor([[0.0, 0.0], [1.0, 1.0]], requires_grad=True)
    lamina.cdist(a, a.detach()).sum().backward()
    torch.cdist(ta, ta.detach()).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), atol=1e-6)
    with pytest.raises(RuntimeError, match="same number of columns"):
        lamina.cdist(lamina.ones(2, 3), lamina.ones(2, 2))
    with pytest.raises(RuntimeError, match="non-negative p"):
        lamina.cdist(lamina.ones(2, 3), lamina.ones(2, 3), -1.0)
