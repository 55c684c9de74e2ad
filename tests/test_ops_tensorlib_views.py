"""Views on storage (view's stride rule, as_strided, unfold, diagonal, storage_offset), creation
keyword forms and the random samplers, against torch 2.13."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from lamina.testing import gradcheck

torch = pytest.importorskip("torch")


def test_view_of_last_dim_split_follows_stride_rule():
    B, T, C, h = 2, 5, 12, 3
    qkv = lamina.randn(B, T, 3 * C)
    tq = torch.from_numpy(qkv.numpy().copy())
    q, _, _ = qkv.split(C, 2)
    tq_, _, _ = tq.split(C, 2)
    v = q.view(B, T, h, C // h)
    tv = tq_.view(B, T, h, C // h)
    assert v.stride() == tv.stride() and v.storage_offset() == tv.storage_offset()
    np.testing.assert_array_equal(v.numpy(), tv.numpy())
    v[0, 0, 0, 0] = 42.0                                   # a true view: writes reach qkv
    assert qkv[0, 0, 0].item() == 42.0


@pytest.mark.parametrize("shape", [(24,), (4, 6)])
def test_view_that_needs_a_copy_raises_like_torch(shape):
    x = lamina.randn(4, 6).t()
    with pytest.raises(RuntimeError, match="view size is not compatible|not compatible"):
        torch.randn(4, 6).t().view(*shape)
        x.view(*shape)
    with pytest.raises(RuntimeError, match="not compatible"):
        x.view(*shape)


def test_view_allowed_when_split_dims_are_contiguous_inside():
    x, t = lamina.arange(24.).reshape(2, 3, 4), torch.arange(24.).reshape(2, 3, 4)
    a, ta = x.permute(1, 0, 2), t.permute(1, 0, 2)       # (3, 2, 4): merging the last two dims fails
    with pytest.raises(RuntimeError):
        a.view(3, 8)
    assert a.view(3, 2, 2, 2).stride() == ta.view(3, 2, 2, 2).stride()


def test_storage_offset_and_strides_of_views():
    x, t = lamina.arange(24.).reshape(4, 6), torch.arange(24.).reshape(4, 6)
    for f in (lambda z: z[1:, 2:], lambda z: z[:, 1::2], lambda z: z.t()[2], lambda z: z.diagonal(1),
              lambda z: z.unfold(1, 3, 2), lambda z: z[2:].as_strided((2, 2), (1, 3))):
        assert f(x).storage_offset() == f(t).storage_offset()
        assert f(x).stride() == f(t).stride()
        np.testing.assert_array_equal(f(x).numpy(), f(t).numpy())


def test_strided_views_write_through():
    x = lamina.zeros(3, 4)
    x.as_strided((2, 2), (1, 4), 1).fill_(1.0)
    x.unfold(1, 2, 2)[2, 1, 0] = 5.0
    x.diagonal().add_(3.0)
    t = torch.zeros(3, 4)
    t.as_strided((2, 2), (1, 4), 1).fill_(1.0)
    t.unfold(1, 2, 2)[2, 1, 0] = 5.0
    t.diagonal().add_(3.0)
    np.testing.assert_array_equal(x.numpy(), t.numpy())


def test_as_strided_out_of_bounds_raises():
    with pytest.raises(RuntimeError, match="out of bounds for storage"):
        lamina.zeros(2, 2).as_strided((3, 3), (3, 1))


def test_as_strided_inplace_and_empty_strided():
    x = lamina.arange(6.)
    x.as_strided_((2, 2), (2, 1), 1)
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    e, te = lamina.empty_strided((2, 3), (1, 2)), torch.empty_strided((2, 3), (1, 2))
    assert e.stride() == te.stride() and e.shape == te.shape
    p, tp = lamina.empty_permuted((2, 3, 4), (2, 0, 1)), torch.empty_permuted((2, 3, 4), (2, 0, 1))
    assert p.stride() == tp.stride() and p.shape == tp.shape
    n = lamina.ones(2, dtype=lamina.int32).new_empty_strided((2, 2), (1, 2))
    assert n.dtype == lamina.int32 and n.stride() == (1, 2)


def test_gradcheck_where_torch_cannot():
    rng = np.random.default_rng(0)
    x = lamina.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    s = lamina.tensor(rng.standard_normal((2, 2)), requires_grad=True)
    assert gradcheck(lambda a, b: lamina.as_strided_scatter(a, b, (2, 2), (1, 2), 1), (x, s))
    v = lamina.tensor(rng.uniform(0.5, 2, 4), requires_grad=True)
    assert gradcheck(lambda a: lamina.vander(a, 3), (v,))
    w = lamina.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(lambda a: a.as_strided((3, 3), (1, 1)).sum(0) * a.as_strided((3,), (5,)), (w,))


CREATE = [("zeros", {}), ("ones", {}), ("empty", {}), ("rand", {}), ("randn", {})]


@pytest.mark.parametrize("name, kw", CREATE)
@pytest.mark.parametrize("form", ["varargs", "tuple", "list", "size_kw", "Size"])
def test_creation_size_forms(name, kw, form):
    args, kwargs = {"varargs": ((3, 4), {}), "tuple": (((3, 4),), {}), "list": (([3, 4],), {}),
                    "size_kw": ((), {"size": (3, 4)}), "Size": ((lamina.Size([3, 4]),), {})}[form]
    out = getattr(lamina, name)(*args, **kwargs)
    assert tuple(out.shape) == (3, 4) and out.dtype == lamina.float32


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_creation_keyword_errors_as_torch(name):
    with pytest.raises(TypeError):
        getattr(lamina, name)(2, foo=1)
    with pytest.raises(TypeError, match="multiple values for argument 'size'"):
        getattr(lamina, name)(2, size=(3,))
    with pytest.raises(TypeError, match="missing 1 required"):
        getattr(lamina, name)()


def test_full_and_out_forms():
    assert lamina.full(size=(2,), fill_value=3).dtype == lamina.int64
    assert lamina.full((2, 2), 1.5, dtype=lamina.float64).dtype == lamina.float64
    o = lamina.empty(0, dtype=lamina.int64)
    r = lamina.zeros(2, 3, out=o)
    assert r is o and o.shape == (2, 3) and o.dtype == lamina.int64
    assert lamina.zeros(2, layout=lamina.strided).shape == (2,)
    assert lamina.empty(2, 3, pin_memory=False).shape == (2, 3)


def test_scalar_tensor_range_asarray_frombuffer(tmp_path):
    assert lamina.scalar_tensor(3).dtype == torch_name(torch.scalar_tensor(3).dtype)
    with pytest.warns(UserWarning, match="deprecated"):
        np.testing.assert_array_equal(lamina.range(1, 4, 0.5).numpy(), torch.range(1, 4, 0.5).numpy())
    a = np.arange(6, dtype=np.float32)
    t = lamina.asarray(a)
    a[0] = 9.0
    assert t[0].item() == 9.0                                   # shares memory
    assert lamina.asarray([1, 2]).dtype == lamina.int64
    assert lamina.asarray(a, dtype=lamina.float64, copy=None).dtype == lamina.float64
    buf = bytearray(np.arange(4, dtype=np.int32).tobytes())
    fb = lamina.frombuffer(buf, dtype=lamina.int32, count=2, offset=4)
    assert fb.tolist() == torch.frombuffer(bytearray(buf), dtype=torch.int32, count=2, offset=4).tolist()
    p = tmp_path / "f.bin"
    np.arange(5, dtype=np.float32).tofile(p)
    assert lamina.from_file(str(p), size=5, dtype=lamina.float32).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def torch_name(d):
    return getattr(lamina, str(d).rsplit(".", 1)[-1])


SAMPLERS = [("exponential_", (2.0,)), ("geometric_", (0.3,)), ("cauchy_", (1.0, 2.0)), ("log_normal_", (0.5, 0.25)),
            ("random_", (3, 9)), ("uniform_", (-1.0, 1.0)), ("normal_", (1.0, 3.0)), ("bernoulli_", (0.3,))]


@pytest.mark.parametrize("name, args", SAMPLERS)
def test_inplace_samplers_follow_generator(name, args):
    draw = lambda: getattr(lamina.empty(1000, dtype=lamina.float64), name)(  # noqa: E731
        *args, generator=lamina.Generator().manual_seed(3))
    a, b = draw(), draw()
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    lamina.manual_seed(5)
    c = getattr(lamina.empty(1000, dtype=lamina.float64), name)(*args)
    lamina.manual_seed(5)
    d = getattr(lamina.empty(1000, dtype=lamina.float64), name)(*args)
    np.testing.assert_array_equal(c.numpy(), d.numpy())


def test_sampler_moments_and_supports():
    g = lamina.Generator().manual_seed(0)
    n = 20000
    e = lamina.empty(n, dtype=lamina.float64).exponential_(2.0, generator=g)
    assert abs(e.mean().item() - 0.5) < 0.02 and e.min().item() >= 0
    geo = lamina.empty(n).geometric_(0.25, generator=g)
    assert geo.min().item() >= 1 and abs(geo.mean().item() - 4.0) < 0.15
    r = lamina.empty(n, dtype=lamina.int64).random_(3, 9, generator=g)
    assert r.min().item() == 3 and r.max().item() == 8
    r2 = lamina.empty(n).random_(5, generator=g)
    assert r2.min().item() == 0 and r2.max().item() == 4
    u8 = lamina.empty(n, dtype=lamina.uint8).random_(generator=g)
    assert u8.max().item() == 255
    ln = lamina.empty(n, dtype=lamina.float64).log_normal_(0.0, 0.5, generator=g)
    assert abs(ln.log().mean().item()) < 0.02
    p = lamina.poisson(lamina.full((n,), 3.0), generator=g)
    assert p.dtype == lamina.float32 and abs(p.mean().item() - 3.0) < 0.1
    b = lamina.binomial(lamina.full((n,), 10.0), lamina.full((n,), 0.3), generator=g)
    assert abs(b.mean().item() - 3.0) < 0.1 and b.max().item() <= 10
    m = lamina.tensor([0.0, 1.0, 3.0]).multinomial(4000, True, generator=g)
    assert m.min().item() >= 1 and abs((m == 2).float().mean().item() - 0.75) < 0.03
    bern = lamina.full((n,), 0.2).bernoulli(generator=g)
    assert abs(bern.mean().item() - 0.2) < 0.02


@pytest.mark.parametrize("call, msg", [
    (lambda: lamina.empty(3).geometric_(0), "geometric_ expects p to be in"),
    (lambda: lamina.empty(3).exponential_(-1), "exponential_ expects lambda > 0.0"),
    (lambda: lamina.empty(3).random_(5, 2), "random_ expects 'from' to be less than 'to'"),
    (lambda: lamina.empty(3).bernoulli_(1.5), "bernoulli_ expects p to be in"),
    (lambda: lamina.empty(3).cauchy_(0, -1), "cauchy_ expects sigma > 0.0"),
    (lambda: lamina.empty(3, dtype=lamina.int64).exponential_(), "dtype must be a floating point"),
    (lambda: lamina.empty(3).log_normal_(1, 0), "log_normal_ expects std > 0.0"),
])
def test_sampler_errors_as_torch(call, msg):
    with pytest.raises(RuntimeError, match=msg):
        call()


def test_random_sampler_with_replacement_is_lazy():
    from lamina.utils.data import BatchSampler, RandomSampler

    s = RandomSampler(range(10), replacement=True, num_samples=10**10)
    it = iter(s)
    first = [next(it) for _ in range(40)]
    assert len(s) == 10**10 and all(0 <= i < 10 for i in first)
    assert len(next(iter(BatchSampler(s, 7, False)))) == 7
    g = lamina.Generator().manual_seed(1)
    ref = lamina.Generator().manual_seed(1)
    drawn = list(RandomSampler(range(10), replacement=True, num_samples=70, generator=g))
    expect = sum((lamina.randint(0, 10, (k,), generator=ref).tolist() for k in (32, 32, 6)), [])
    assert drawn == expect                                     # torch's order: 32 at a time, then the rest
