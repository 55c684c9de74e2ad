"""Transforms: values against NumPy (and torch's nearest interpolation), seeding, errors, reprs."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from lamina_datasets import transforms as T


def _img(shape, dtype=np.uint8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, shape).astype(dtype)


@pytest.mark.parametrize("shape,chw", [((5, 7), (1, 5, 7)), ((5, 7, 3), (3, 5, 7)), ((4, 4, 1), (1, 4, 4))])
def test_to_tensor_uint8(shape, chw):
    a = _img(shape)
    t = T.ToTensor()(a)
    assert t.dtype == lamina.float32 and tuple(t.shape) == chw
    expected = (a[None] if a.ndim == 2 else a.transpose(2, 0, 1)).astype(np.float32) / np.float32(255)
    np.testing.assert_array_equal(t.numpy(), expected)
    assert t.numpy().min() >= 0 and t.numpy().max() <= 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_to_tensor_keeps_other_dtypes(dtype):
    a = _img((3, 4, 2), dtype)
    t = T.ToTensor()(a)
    assert t.numpy().dtype == np.dtype(dtype)
    np.testing.assert_array_equal(t.numpy(), a.transpose(2, 0, 1))


@pytest.mark.parametrize("bad,err,match", [
    (lamina.zeros(1, 2, 2), TypeError, r"ToTensor: expected a NumPy array \(H, W\) or \(H, W, C\), got Tensor"),
    ([[1, 2]], TypeError, r"ToTensor: expected a NumPy array .* got list"),
    (np.zeros(3, np.uint8), ValueError, r"ToTensor: expected an array \(H, W\) or \(H, W, C\), got shape \(3,\)"),
    (np.zeros((1, 2, 2, 2), np.uint8), ValueError, r"got shape \(1, 2, 2, 2\)"),
])
def test_to_tensor_errors(bad, err, match):
    with pytest.raises(err, match=match):
        T.ToTensor()(bad)


@pytest.mark.parametrize("shape,mean,std", [
    ((1, 4, 4), (0.1307,), (0.3081,)), ((3, 2, 5), (0.1, 0.2, 0.3), (0.5, 2.0, 0.25)),
    ((6, 3, 2, 2), (0.5,), (0.1,)), ((2, 3, 2, 2), (0.1, 0.2, 0.3), (1.0, 2.0, 3.0)),
])
@pytest.mark.parametrize("dtype", [lamina.float32, lamina.float64])
def test_normalize_values_and_dtype(shape, mean, std, dtype):
    x = lamina.rand(*shape, dtype=dtype)
    y = T.Normalize(mean, std)(x)
    ref = (x.numpy().astype(np.float64) - np.array(mean).reshape(-1, 1, 1)) / np.array(std).reshape(-1, 1, 1)
    assert y.dtype == dtype
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-6 if dtype == lamina.float32 else 1e-12, atol=1e-6)


def test_normalize_inplace():
    x = lamina.rand(1, 3, 3)
    before = x.numpy().copy()
    out = T.Normalize((0.5,), (0.5,), inplace=True)(x)
    assert out is x
    np.testing.assert_allclose(x.numpy(), (before - 0.5) / 0.5, rtol=1e-6)
    y = lamina.rand(1, 3, 3)
    keep = y.numpy().copy()
    T.Normalize((0.5,), (0.5,))(y)
    np.testing.assert_array_equal(y.numpy(), keep)


@pytest.mark.parametrize("mean,std,x,err,match", [
    ((0.5,), (0.5,), lamina.zeros(1, 2, 2, dtype=lamina.uint8), TypeError,
     r"Normalize: expected a float tensor, got lamina.uint8"),
    ((0.5,), (0.5,), lamina.zeros(2, 2), ValueError,
     r"Normalize: expected a tensor image \(\.\.\., C, H, W\), got shape \(2, 2\)"),
    ((0.5, 0.5), (0.5, 0.5), lamina.zeros(3, 2, 2), ValueError,
     r"Normalize: expected mean/std with 1 or C=3 values, got 2"),
    ((0.5,), (0.5,), np.zeros((1, 2, 2), np.float32), TypeError, r"Normalize: expected a tensor .* got ndarray"),
])
def test_normalize_call_errors(mean, std, x, err, match):
    with pytest.raises(err, match=match):
        T.Normalize(mean, std)(x)


@pytest.mark.parametrize("mean,std,match", [
    ((0.5,), (0.0,), r"Normalize: expected std without zeros \(division by zero\), got \(0\.0,\)"),
    ((0.5, 0.1), (0.2,), r"Normalize: expected mean and std of equal length, got 2 and 1"),
])
def test_normalize_construction_errors(mean, std, match):
    with pytest.raises(ValueError, match=match):
        T.Normalize(mean, std)


def test_compose_order_and_repr():
    c = T.Compose([T.Lambda(lambda v: v + 1), T.Lambda(lambda v: v * 10)])
    assert c(1) == 20
    assert repr(T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.25,))])) == \
        "Compose(\n    ToTensor()\n    Normalize(mean=[0.5], std=[0.25])\n)"


def test_lambda_rejects_non_callable():
    with pytest.raises(TypeError, match=r"Argument lambd should be callable, got 'int'"):
        T.Lambda(3)


@pytest.mark.parametrize("size,padding,shape", [
    (4, None, (2, 6, 7)), ((3, 5), 1, (1, 4, 4)), (8, (2, 1), (3, 6, 4)), ((5, 6), (1, 2, 3, 0), (1, 4, 4)),
    (6, 0, (2, 3, 6, 6)),
])
def test_random_crop_is_a_window_of_the_padded_image(size, padding, shape):
    x = lamina.rand(*shape) + 1.0  # strictly positive: the padding (fill 0) is recognisable
    crop = T.RandomCrop(size, padding=padding)
    th, tw = crop.size
    left, top, right, bottom = crop._pad
    padded = np.pad(x.numpy(), [(0, 0)] * (len(shape) - 2) + [(top, bottom), (left, right)])
    lamina.manual_seed(3)
    for _ in range(5):
        y = crop(x).numpy()
        assert y.shape == shape[:-2] + (th, tw)
        hits = [(i, j) for i in range(padded.shape[-2] - th + 1) for j in range(padded.shape[-1] - tw + 1)
                if np.array_equal(padded[..., i:i + th, j:j + tw], y)]
        assert hits


def test_random_crop_seeded_and_covers_offsets():
    x = lamina.arange(36.0).reshape(1, 6, 6)
    crop = T.RandomCrop(4, padding=1)
    lamina.manual_seed(0)
    a = [crop(x).numpy() for _ in range(30)]
    lamina.manual_seed(0)
    b = [crop(x).numpy() for _ in range(30)]
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert len({u.tobytes() for u in a}) > 5  # several offsets drawn
    g1, g2 = lamina.Generator().manual_seed(7), lamina.Generator().manual_seed(7)
    np.testing.assert_array_equal(T.RandomCrop(4, 1, generator=g1)(x).numpy(),
                                  T.RandomCrop(4, 1, generator=g2)(x).numpy())


def test_random_crop_numpy_fill_and_pad_if_needed():
    a = _img((3, 2, 2)) | 1  # no zeros
    lamina.manual_seed(0)
    y = T.RandomCrop(5, pad_if_needed=True, fill=0)(a)
    assert y.shape == (5, 5, 2) and y.dtype == np.uint8
    assert (y == 0).sum() == 5 * 5 * 2 - a.size  # everything but the image is fill


@pytest.mark.parametrize("kwargs,img,err,match", [
    ({"size": 5}, lamina.zeros(1, 4, 4), ValueError,
     r"RandomCrop: expected an image of at least 5x5 after padding, got 4x4"),
    ({"size": 2, "padding": (1, 2, 3)}, None, ValueError, r"RandomCrop: expected padding as an int or 2 or 4 ints"),
    ({"size": 2, "padding": -1}, None, ValueError, r"RandomCrop: expected non-negative padding, got -1"),
    ({"size": (1, 2, 3)}, None, ValueError, r"RandomCrop: expected size as an int or \(h, w\)"),
    ({"size": 2}, [[1, 2]], TypeError, r"RandomCrop: expected a lamina Tensor or a NumPy array, got list"),
    ({"size": 2}, lamina.zeros(4), ValueError, r"RandomCrop: expected a tensor image \(\.\.\., H, W\), got shape"),
])
def test_random_crop_errors(kwargs, img, err, match):
    with pytest.raises(err, match=match):
        T.RandomCrop(**kwargs)(img)


def test_random_horizontal_flip():
    x = lamina.arange(12.0).reshape(1, 3, 4)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(x).numpy(), x.numpy()[..., ::-1])
    assert T.RandomHorizontalFlip(p=0.0)(x) is x
    a = _img((3, 4, 2))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(a), a[:, ::-1])
    flip = T.RandomHorizontalFlip()
    lamina.manual_seed(1)
    first = [bool((flip(x).numpy() != x.numpy()).any()) for _ in range(200)]
    lamina.manual_seed(1)
    assert first == [bool((flip(x).numpy() != x.numpy()).any()) for _ in range(200)]
    assert 70 < sum(first) < 130  # about half
    with pytest.raises(ValueError, match=r"RandomHorizontalFlip: expected 0 <= p <= 1, got 1.5"):
        T.RandomHorizontalFlip(1.5)


@pytest.mark.parametrize("size,shape,out", [
    ((4, 6), (1, 8, 12), (4, 6)), (5, (2, 10, 20), (5, 10)), (5, (1, 20, 10), (10, 5)), ([7], (1, 3, 3), (7, 7)),
    ((6, 5), (1, 4, 3), (6, 5)),
])
def test_resize_nearest_shapes_and_values(size, shape, out):
    x = lamina.rand(*shape)
    y = T.Resize(size)(x)
    assert tuple(y.shape) == shape[:-2] + out
    rows = np.floor(np.arange(out[0]) * shape[-2] / out[0]).astype(int)
    cols = np.floor(np.arange(out[1]) * shape[-1] / out[1]).astype(int)
    np.testing.assert_array_equal(y.numpy(), x.numpy()[..., rows[:, None], cols])
    a = _img(shape[1:] + (2,))
    np.testing.assert_array_equal(T.Resize(size)(a), a[rows[:, None], cols])


@pytest.mark.parametrize("shape,out", [((1, 1, 8, 8), (28, 28)), ((2, 3, 28, 28), (8, 8)), ((1, 2, 7, 9), (5, 13))])
def test_resize_matches_torch_nearest(shape, out):
    torch = pytest.importorskip("torch")
    x = lamina.rand(*shape)
    ref = torch.nn.functional.interpolate(torch.from_numpy(x.numpy()), size=out, mode="nearest").numpy()
    np.testing.assert_array_equal(T.Resize(out)(x).numpy(), ref)


def test_resize_errors_and_repr():
    with pytest.raises(ValueError, match=r"Resize: interpolation must be one of \['nearest'\], got 'bilinear'"):
        T.Resize(4, interpolation="bilinear")
    with pytest.raises(ValueError, match=r"Resize: expected size as an int or \(h, w\)"):
        T.Resize((1, 2, 3))
    assert repr(T.Resize((4, 5))) == "Resize(size=(4, 5), interpolation=nearest)"
    assert repr(T.RandomCrop(4, padding=2)) == "RandomCrop(size=(4, 4), padding=2)"
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
