"""lamina_datasets.vision.transforms.functional vs independent references: NumPy, Pillow, torch ops, colorsys."""

from __future__ import annotations

import colorsys

import lamina
import numpy as np
import pytest
from lamina_datasets.vision.transforms import InterpolationMode
from lamina_datasets.vision.transforms import functional as F
from PIL import Image

torch = pytest.importorskip("torch")


def _u8(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _rgb(h=6, w=9, seed=0):
    return Image.fromarray(_u8((h, w, 3), seed))


# --- conversions ----------------------------------------------------------------------------
@pytest.mark.parametrize("mode,shape", [("RGB", (5, 7, 3)), ("L", (5, 7)), ("RGBA", (4, 3, 4)), ("LA", (3, 2, 2))])
def test_to_tensor_pil_is_asarray_over_255_transposed(mode, shape):
    a = _u8(shape)
    img = Image.frombytes(mode, (shape[1], shape[0]), a.tobytes())
    t = F.to_tensor(img)
    hwc = a if a.ndim == 3 else a[:, :, None]
    assert t.dtype == lamina.float32
    np.testing.assert_array_equal(t.numpy(), hwc.transpose(2, 0, 1).astype(np.float32) / np.float32(255))
    p = F.pil_to_tensor(img)
    assert p.dtype == lamina.uint8
    np.testing.assert_array_equal(p.numpy(), hwc.transpose(2, 0, 1))


def test_to_tensor_other_pil_modes_keep_values():
    a = np.arange(12, dtype=np.int32).reshape(3, 4) * 1000
    t = F.to_tensor(Image.frombytes("I", (4, 3), a.tobytes()))
    assert t.dtype == lamina.int32
    np.testing.assert_array_equal(t.numpy()[0], a)
    f = np.linspace(-1, 2, 12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(F.to_tensor(Image.frombytes("F", (4, 3), f.tobytes())).numpy()[0], f)
    bits = Image.fromarray(np.array([[0, 255], [255, 0]], np.uint8)).convert("1")
    np.testing.assert_array_equal(F.to_tensor(bits).numpy()[0], [[0.0, 1.0], [1.0, 0.0]])


def test_to_tensor_ndarray_and_errors():
    a = _u8((4, 5, 2))
    np.testing.assert_array_equal(F.to_tensor(a).numpy(), a.transpose(2, 0, 1) / np.float32(255))
    f = np.random.default_rng(1).random((4, 5)).astype(np.float64)
    out = F.to_tensor(f)
    assert out.dtype == lamina.float64 and tuple(out.shape) == (1, 4, 5)
    with pytest.raises(TypeError, match=r"pic should be PIL Image or ndarray. Got <class 'list'>"):
        F.to_tensor([[1]])
    with pytest.raises(ValueError, match=r"pic should be 2/3 dimensional. Got 1 dimensions."):
        F.to_tensor(np.zeros(3, np.uint8))
    with pytest.raises(TypeError, match=r"pic should be PIL Image. Got"):
        F.pil_to_tensor(a)


@pytest.mark.parametrize("channels,mode", [(1, "L"), (2, "LA"), (3, "RGB"), (4, "RGBA")])
def test_to_pil_image_from_float_and_uint8_tensors(channels, mode):
    x = lamina.rand(channels, 4, 5, generator=lamina.Generator().manual_seed(channels))
    img = F.to_pil_image(x)
    assert img.mode == mode and img.size == (5, 4)
    expected = (torch.from_numpy(x.numpy()).mul(255).byte()).permute(1, 2, 0).numpy()
    got = np.asarray(img)
    np.testing.assert_array_equal(got if got.ndim == 3 else got[:, :, None], expected)
    u = lamina.from_numpy(_u8((channels, 4, 5)))
    back = F.pil_to_tensor(F.to_pil_image(u))
    np.testing.assert_array_equal(back.numpy(), u.numpy())


def test_to_pil_image_modes_and_errors():
    assert F.to_pil_image(lamina.zeros(3, 3)).mode == "L"
    assert F.to_pil_image(lamina.zeros(1, 2, 2), mode="F").mode == "F"
    assert F.to_pil_image(lamina.rand(1, 2, 2, requires_grad=True), mode="F").mode == "F"  # detached, as force=True
    assert F.to_pil_image(np.zeros((2, 2), np.int32)).mode == "I"
    assert F.to_pil_image(np.zeros((2, 2, 3), np.uint8), mode="HSV").mode == "HSV"
    with pytest.raises(TypeError, match=r"pic should be Tensor or ndarray. Got <class 'list'>."):
        F.to_pil_image([1])
    with pytest.raises(ValueError, match=r"pic should not have > 4 channels. Got 5 channels."):
        F.to_pil_image(lamina.zeros(5, 2, 2))
    with pytest.raises(ValueError, match=r"pic should be 2/3 dimensional. Got 4 dimensions."):
        F.to_pil_image(lamina.zeros(1, 1, 2, 2))
    with pytest.raises(ValueError, match=r"Incorrect mode \(RGB\) supplied for input type uint8. Should be L"):
        F.to_pil_image(np.zeros((2, 2), np.uint8), mode="RGB")


@pytest.mark.parametrize("src,dst", [(lamina.uint8, lamina.float32), (lamina.uint8, lamina.float64),
                                     (lamina.float32, lamina.uint8), (lamina.float64, lamina.int32),
                                     (lamina.uint8, lamina.int16), (lamina.int32, lamina.uint8),
                                     (lamina.float32, lamina.float64)])
def test_convert_image_dtype_against_the_scaling_rule(src, dst):
    if src.is_floating_point:
        x = lamina.tensor([[[0.0, 0.25, 0.5, 0.999, 1.0]]], dtype=src)
    else:
        top = {lamina.uint8: 255, lamina.int32: 2**31 - 1}[src]
        x = lamina.tensor([[[0, 1, top // 3, top - 1, top]]], dtype=src)
    y = F.convert_image_dtype(x, dst)
    assert y.dtype == dst
    src_max = 1.0 if src.is_floating_point else float(lamina.iinfo(src).max)
    dst_max = 1.0 if dst.is_floating_point else float(lamina.iinfo(dst).max)
    xv = x.numpy().astype(np.float64)
    if src.is_floating_point and not dst.is_floating_point:
        ref = np.trunc(xv * (dst_max + 1 - 1e-3))
    elif not src.is_floating_point and not dst.is_floating_point:
        ratio = (src_max + 1) / (dst_max + 1)
        ref = np.floor(xv / ratio) if ratio > 1 else xv * (1 / ratio)
    else:
        ref = xv / src_max * dst_max
    np.testing.assert_allclose(y.numpy().astype(np.float64), ref, rtol=1e-6)


def test_convert_image_dtype_unsafe_casts_raise():
    with pytest.raises(RuntimeError, match=r"cannot be performed safely"):
        F.convert_image_dtype(lamina.zeros(1, 2, 2), lamina.int64)
    with pytest.raises(TypeError, match="Input img should be Tensor Image"):
        F.convert_image_dtype(np.zeros((1, 2, 2)), lamina.float32)


@pytest.mark.parametrize("dtype", [lamina.float32, lamina.float64])
def test_normalize_vs_torch_math(dtype):
    x = lamina.rand(2, 3, 4, 5, dtype=dtype)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    y = F.normalize(x, mean, std)
    tx = torch.from_numpy(x.numpy())
    ref = (tx - torch.tensor(mean, dtype=tx.dtype).view(-1, 1, 1)) / torch.tensor(std, dtype=tx.dtype).view(-1, 1, 1)
    assert y.dtype == dtype and y is not x
    np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-6 if dtype == lamina.float32 else 1e-13)
    assert F.normalize(x, mean, std, inplace=True) is x


def test_normalize_errors():
    with pytest.raises(TypeError, match=r"Input tensor should be a float tensor. Got lamina.uint8."):
        F.normalize(lamina.zeros(1, 2, 2, dtype=lamina.uint8), (0.5,), (0.5,))
    with pytest.raises(ValueError, match=r"Expected tensor to be a tensor image of size \(\.\.\., C, H, W\)"):
        F.normalize(lamina.zeros(2, 2), (0.5,), (0.5,))
    with pytest.raises(ValueError, match=r"std evaluated to zero after conversion to lamina.float32"):
        F.normalize(lamina.zeros(1, 2, 2), (0.5,), (0.0,))
    with pytest.raises(TypeError, match=r"img should be Tensor Image"):
        F.normalize(np.zeros((1, 2, 2), np.float32), (0.5,), (0.5,))


# --- resize -----------------------------------------------------------------------------------
@pytest.mark.parametrize("size,out_hw", [((4, 5), (4, 5)), (3, (3, 4)), ([8], (8, 12)), ((9, 20), (9, 20))])
@pytest.mark.parametrize("interp", [InterpolationMode.BILINEAR, InterpolationMode.BICUBIC, InterpolationMode.NEAREST,
                                    InterpolationMode.LANCZOS, InterpolationMode.BOX])
def test_resize_pil_is_pillow_resize_with_the_same_filter(size, out_hw, interp):
    img = _rgb(6, 9)
    out = F.resize(img, size, interp)
    pil_filter = {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC,
                  "nearest": Image.Resampling.NEAREST, "lanczos": Image.Resampling.LANCZOS,
                  "box": Image.Resampling.BOX}[interp.value]
    assert out.size == (out_hw[1], out_hw[0])
    np.testing.assert_array_equal(np.asarray(out), np.asarray(img.resize(out.size, pil_filter)))


@pytest.mark.parametrize("out_hw", [(4, 5), (13, 20), (6, 3), (2, 17)])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest", "nearest-exact"])
@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("dtype", [lamina.float32, lamina.float64])
def test_resize_tensor_vs_torch_interpolate(out_hw, mode, antialias, dtype):
    x = lamina.rand(2, 3, 7, 9, dtype=dtype, generator=lamina.Generator().manual_seed(4))
    y = F.resize(x, list(out_hw), InterpolationMode(mode), antialias=antialias)
    kw = {"align_corners": False, "antialias": antialias} if mode in ("bilinear", "bicubic") else {}
    ref = torch.nn.functional.interpolate(torch.from_numpy(x.numpy()), size=out_hw, mode=mode, **kw)
    assert y.dtype == dtype and tuple(y.shape) == (2, 3, *out_hw)
    np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6 if dtype == lamina.float32 else 1e-12)


def test_resize_tensor_antialias_matches_pillow_float_images():
    a = np.random.default_rng(3).random((11, 15)).astype(np.float32)
    y = F.resize(lamina.from_numpy(a[None]), [4, 6])
    ref = np.asarray(Image.fromarray(a, "F").resize((6, 4), Image.Resampling.BILINEAR))
    np.testing.assert_allclose(y.numpy()[0], ref, atol=1e-6)


def test_resize_uint8_tensor_rounds_and_keeps_dtype():
    x = lamina.from_numpy(_u8((3, 8, 8)))
    y = F.resize(x, [5, 3])
    ref = torch.nn.functional.interpolate(torch.from_numpy(x.numpy()).float()[None], size=(5, 3), mode="bilinear",
                                          antialias=True)[0]
    assert y.dtype == lamina.uint8
    assert np.abs(y.numpy().astype(int) - ref.round().clamp(0, 255).numpy().astype(int)).max() == 0


def test_resize_output_size_rule_and_errors():
    x = lamina.zeros(1, 10, 20)
    assert tuple(F.resize(x, 5).shape) == (1, 5, 10)
    assert tuple(F.resize(lamina.zeros(1, 21, 10), 4).shape) == (1, 8, 4)  # int(4 * 21 / 10) = 8
    assert tuple(F.resize(x, 5, max_size=8).shape) == (1, 4, 8)
    assert F.resize(x, [10, 20]) is x
    with pytest.raises(ValueError, match=r"max_size = 5 must be strictly greater"):
        F.resize(x, 5, max_size=5)
    with pytest.raises(ValueError, match=r"max_size should only be passed if size specifies the length"):
        F.resize(x, [5, 6], max_size=10)
    with pytest.raises(ValueError, match=r"Size must be an int or a 1 or 2 element tuple/list, not a 3 element"):
        F.resize(x, [1, 2, 3])
    with pytest.raises(TypeError, match="Argument interpolation should be of type InterpolationMode"):
        F.resize(x, 4, interpolation="bilinear")
    with pytest.raises(ValueError, match=r"Interpolation mode 'box' is not supported for tensors"):
        F.resize(x, 4, InterpolationMode.BOX)
    with pytest.warns(UserWarning, match="Anti-alias option is always applied for PIL Image input"):
        F.resize(_rgb(), 3, antialias=False)
    assert F.resize(_rgb(), 3, interpolation=2).size == (4, 3)  # Pillow's BILINEAR constant


# --- pad / crop / flips ---------------------------------------------------------------------
@pytest.mark.parametrize("padding,ltrb", [(2, (2, 2, 2, 2)), ([1, 3], (1, 3, 1, 3)), ((0, 1, 2, 3), (0, 1, 2, 3)),
                                          ([2], (2, 2, 2, 2))])
@pytest.mark.parametrize("mode,torch_mode", [("constant", "constant"), ("edge", "replicate"),
                                             ("reflect", "reflect")])
@pytest.mark.parametrize("dtype", [lamina.float32, lamina.float64])
def test_pad_tensor_vs_torch_pad(padding, ltrb, mode, torch_mode, dtype):
    x = lamina.rand(2, 3, 5, 6, dtype=dtype)
    y = F.pad(x, padding, fill=0.5 if mode == "constant" else 0, padding_mode=mode)
    kw = {"value": 0.5} if mode == "constant" else {}
    left, top, right, bottom = ltrb  # torch's pad order is (left, right, top, bottom)
    ref = torch.nn.functional.pad(torch.from_numpy(x.numpy()), (left, right, top, bottom), mode=torch_mode, **kw)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.numpy(), ref.numpy())


@pytest.mark.parametrize("mode", ["symmetric", "reflect", "edge", "constant"])
def test_pad_symmetric_and_integer_tensors_vs_numpy(mode):
    a = _u8((3, 4, 5))
    y = F.pad(lamina.from_numpy(a), (1, 2, 3, 1), padding_mode=mode)
    ref = np.pad(a, ((0, 0), (2, 1), (1, 3)), mode=mode)
    assert y.dtype == lamina.uint8
    np.testing.assert_array_equal(y.numpy(), ref)


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_pil_vs_numpy(mode):
    for img in (_rgb(4, 5), Image.fromarray(_u8((4, 5)))):
        out = F.pad(img, (2, 1), fill=7, padding_mode=mode)
        arr = np.asarray(img)
        widths = [(1, 1), (2, 2)] + [(0, 0)] * (arr.ndim - 2)
        kw = {"constant_values": 7} if mode == "constant" else {}
        assert out.mode == img.mode
        np.testing.assert_array_equal(np.asarray(out), np.pad(arr, widths, mode=mode, **kw))


def test_pad_negative_crops_and_errors():
    x = lamina.arange(20.0).reshape(1, 4, 5)
    np.testing.assert_array_equal(F.pad(x, [-1, 0, 1, -2]).numpy(), np.pad(x.numpy()[:, :2, 1:], ((0, 0), (0, 0),
                                                                                                    (0, 1))))
    with pytest.raises(ValueError, match=r"Padding must be an int or a 1, 2, or 4 element tuple, not a 3 element"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(ValueError, match="Padding mode should be either constant, edge, reflect or symmetric"):
        F.pad(x, 1, padding_mode="circular")
    with pytest.raises(TypeError, match="Got inappropriate padding arg"):
        F.pad(x, "1")
    with pytest.raises(RuntimeError, match="Padding size should be less than the corresponding input dimension"):
        F.pad(x, 4, padding_mode="reflect")


@pytest.mark.parametrize("box", [(1, 2, 3, 2), (0, 0, 4, 5), (-1, 3, 4, 4), (2, -2, 4, 3), (3, 4, 3, 3)])
def test_crop_tensor_and_pil_vs_zero_padded_slice(box):
    top, left, h, w = box
    a = _u8((4, 5, 3)) | 1
    ref = np.pad(a, ((4, 4), (5, 5), (0, 0)))[top + 4:top + 4 + h, left + 5:left + 5 + w]
    np.testing.assert_array_equal(np.asarray(F.crop(Image.fromarray(a), *box)), ref)
    t = F.crop(lamina.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1))), *box)
    np.testing.assert_array_equal(t.numpy(), ref.transpose(2, 0, 1))


@pytest.mark.parametrize("size,shape", [(3, (6, 9)), ((4, 5), (6, 9)), ((8, 11), (6, 9)), ((7, 4), (6, 9)),
                                        ([2], (5, 5))])
def test_center_crop_tensor_and_pil(size, shape):
    a = _u8(shape) | 1
    ch, cw = (size, size) if isinstance(size, int) else (size[0], size[-1])
    padded = np.pad(a, ((max(ch - shape[0], 0) // 2, max(ch - shape[0] + 1, 0) // 2),
                        (max(cw - shape[1], 0) // 2, max(cw - shape[1] + 1, 0) // 2)))
    top, left = int(round((padded.shape[0] - ch) / 2)), int(round((padded.shape[1] - cw) / 2))
    ref = padded[top:top + ch, left:left + cw]
    np.testing.assert_array_equal(F.center_crop(lamina.from_numpy(a[None]), size).numpy()[0], ref)
    np.testing.assert_array_equal(np.asarray(F.center_crop(Image.fromarray(a), size)), ref)


def test_flips_tensor_and_pil():
    a = _u8((4, 5, 3))
    t = lamina.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))
    np.testing.assert_array_equal(F.hflip(t).numpy(), a.transpose(2, 0, 1)[:, :, ::-1])
    np.testing.assert_array_equal(F.vflip(t).numpy(), a.transpose(2, 0, 1)[:, ::-1])
    np.testing.assert_array_equal(np.asarray(F.hflip(Image.fromarray(a))), a[:, ::-1])
    np.testing.assert_array_equal(np.asarray(F.vflip(Image.fromarray(a))), a[::-1])
    with pytest.raises(TypeError, match=r"img should be PIL Image. Got <class 'numpy.ndarray'>"):
        F.hflip(a)


def test_get_dimensions():
    assert F.get_dimensions(_rgb(6, 9)) == [3, 6, 9]
    assert F.get_dimensions(lamina.zeros(2, 4, 1, 3, 5)) == [1, 3, 5]
    assert F.get_image_size(lamina.zeros(3, 4, 7)) == [7, 4]
    assert F.get_image_num_channels(Image.new("LA", (2, 2))) == 2
    with pytest.raises(TypeError, match="Unexpected type"):
        F.get_dimensions([1])


# --- colour -----------------------------------------------------------------------------------
def _luma(a):
    return 0.2989 * a[0] + 0.587 * a[1] + 0.114 * a[2]


@pytest.mark.parametrize("n", [1, 3])
def test_rgb_to_grayscale_tensor(n):
    x = lamina.rand(2, 3, 4, 5, dtype=lamina.float64)
    y = F.rgb_to_grayscale(x, n)
    ref = _luma(x.numpy().transpose(1, 0, 2, 3))[:, None]
    assert tuple(y.shape) == (2, n, 4, 5)
    np.testing.assert_allclose(y.numpy(), np.repeat(ref, n, axis=1), rtol=1e-12)
    u = lamina.from_numpy(_u8((3, 4, 5)))
    np.testing.assert_array_equal(F.rgb_to_grayscale(u).numpy()[0],
                                  _luma(u.numpy().astype(np.float32)).astype(np.uint8))
    with pytest.raises(TypeError, match=r"permitted channel values are \[1, 3\], but found 2"):
        F.rgb_to_grayscale(lamina.zeros(2, 3, 3))
    with pytest.raises(ValueError, match="num_output_channels should be either 1 or 3"):
        F.rgb_to_grayscale(x, 2)


def test_grayscale_pil_is_pillow_L_and_close_to_tensor():
    img = _rgb(5, 6)
    g = F.to_grayscale(img, 3)
    assert g.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(g)[..., 1], np.asarray(img.convert("L")))
    t = F.rgb_to_grayscale(F.pil_to_tensor(img).float()).numpy()[0]
    assert np.abs(t - np.asarray(img.convert("L"))).max() <= 1.0
    with pytest.raises(TypeError, match="Input should be PIL Image"):
        F.to_grayscale(lamina.zeros(3, 2, 2))


@pytest.mark.parametrize("factor", [0.0, 0.5, 1.0, 1.7])
def test_adjust_brightness_contrast_saturation_tensor(factor):
    x = lamina.rand(3, 4, 5, dtype=lamina.float64)
    a = x.numpy()
    np.testing.assert_allclose(F.adjust_brightness(x, factor).numpy(), np.clip(a * factor, 0, 1), rtol=1e-12)
    mean = _luma(a).mean()
    np.testing.assert_allclose(F.adjust_contrast(x, factor).numpy(),
                               np.clip(factor * a + (1 - factor) * mean, 0, 1), rtol=1e-12, atol=1e-15)
    gray = _luma(a)[None]
    np.testing.assert_allclose(F.adjust_saturation(x, factor).numpy(),
                               np.clip(factor * a + (1 - factor) * gray, 0, 1), rtol=1e-12, atol=1e-15)


def test_adjust_uint8_tensor_truncates_like_a_cast():
    u = _u8((3, 4, 5))
    y = F.adjust_brightness(lamina.from_numpy(u), 1.3)
    assert y.dtype == lamina.uint8
    np.testing.assert_array_equal(y.numpy(), np.clip(np.float32(1.3) * u.astype(np.float32), 0, 255).astype(np.uint8))


@pytest.mark.parametrize("hue", [-0.5, -0.2, 0.0, 0.13, 0.5])
def test_adjust_hue_tensor_vs_colorsys(hue):
    x = lamina.rand(3, 4, 6, dtype=lamina.float64)
    a = x.numpy().copy()
    a[:, 0, 0] = 0.5  # a grey pixel (no hue)
    a[:, 0, 1] = (1.0, 0.0, 0.0)
    y = F.adjust_hue(lamina.from_numpy(a), hue).numpy()
    ref = np.empty_like(a)
    for i in range(a.shape[1]):
        for j in range(a.shape[2]):
            h, s, v = colorsys.rgb_to_hsv(*a[:, i, j])
            ref[:, i, j] = colorsys.hsv_to_rgb((h + hue) % 1.0, s, v)
    np.testing.assert_allclose(y, ref, atol=1e-12)


def test_color_pil_paths_close_to_tensor_paths():
    img = _rgb(6, 7)
    t = F.to_tensor(img)
    for fn, factor in [(F.adjust_brightness, 1.4), (F.adjust_contrast, 0.6), (F.adjust_saturation, 0.3),
                       (F.adjust_hue, 0.2)]:
        from_pil = F.to_tensor(fn(img, factor)).numpy()
        from_tensor = fn(t, factor).numpy()
        assert np.abs(from_pil - from_tensor).max() <= 3.0 / 255 + (0.02 if fn is F.adjust_hue else 0.0), fn


def test_adjust_gamma_tensor():
    x = lamina.rand(3, 2, 2, dtype=lamina.float64)
    np.testing.assert_allclose(F.adjust_gamma(x, 2.2, 0.9).numpy(), np.clip(0.9 * x.numpy() ** 2.2, 0, 1))
    with pytest.raises(ValueError, match="Gamma should be a non-negative real number"):
        F.adjust_gamma(x, -1)


@pytest.mark.parametrize("fn,name", [(F.adjust_brightness, "brightness_factor"),
                                     (F.adjust_contrast, "contrast_factor"),
                                     (F.adjust_saturation, "saturation_factor")])
def test_adjust_factor_errors(fn, name):
    with pytest.raises(ValueError, match=rf"{name} \(-0.1\) is not non-negative."):
        fn(lamina.zeros(3, 2, 2), -0.1)
    with pytest.raises(TypeError, match=r"img should be PIL Image"):
        fn(np.zeros((2, 2, 3)), 1.0)
    with pytest.raises(ValueError, match=r"hue_factor \(0.6\) is not in \[-0.5, 0.5\]."):
        F.adjust_hue(lamina.zeros(3, 2, 2), 0.6)


def test_rotate_pil_is_pillow_rotate():
    img = _rgb(5, 7)
    np.testing.assert_array_equal(np.asarray(F.rotate(img, 30, expand=True, fill=[1, 2, 3])),
                                  np.asarray(img.rotate(30, Image.Resampling.NEAREST, True, fillcolor=(1, 2, 3))))
    with pytest.raises(ValueError, match="center should be a sequence of length 2"):
        F.rotate(img, 10, center=(1,))


@pytest.mark.parametrize("angle", [90, 180, 270, -90, 450])
def test_rotate_tensor_quarter_turns_are_rot90(angle):
    x = lamina.rand(2, 3, 4, 6)
    y = F.rotate(x, angle, expand=True)
    np.testing.assert_array_equal(y.numpy(), torch.rot90(torch.from_numpy(x.numpy()), angle // 90, (-2, -1)).numpy())


@pytest.mark.parametrize("angle", [17, 33.3, -50, 120])
@pytest.mark.parametrize("expand,center", [(False, None), (False, (2, 3)), (True, None)])
def test_rotate_tensor_nearest_equals_pillow(angle, expand, center):
    img = Image.fromarray(_u8((9, 12, 3)) | 1)
    out = F.rotate(F.pil_to_tensor(img), angle, expand=expand, center=center, fill=[5.0, 6.0, 7.0])
    ref = np.asarray(img.rotate(angle, Image.Resampling.NEAREST, expand, center, fillcolor=(5, 6, 7)))
    assert out.dtype == lamina.uint8
    np.testing.assert_array_equal(out.numpy(), ref.transpose(2, 0, 1))


def _grid_sample_rotation(x, angle, mode, center, fill):
    """Reference: torch.nn.functional.grid_sample at the inversely rotated output pixel centres."""
    n, c, h, w = x.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=x.dtype) + 0.5 - h / 2, torch.arange(w, dtype=x.dtype) + 0.5 - w / 2,
                            indexing="ij")
    cx, cy = (0.0, 0.0) if center is None else (center[0] - w / 2, center[1] - h / 2)
    t = np.radians(angle)
    sx = np.cos(t) * (xs - cx) - np.sin(t) * (ys - cy) + cx
    sy = np.sin(t) * (xs - cx) + np.cos(t) * (ys - cy) + cy
    grid = torch.stack((sx / (w / 2), sy / (h / 2)), dim=-1)[None].expand(n, h, w, 2)
    with_mask = torch.cat((x, torch.ones(n, 1, h, w, dtype=x.dtype)), dim=1)
    out = torch.nn.functional.grid_sample(with_mask, grid, mode=mode, padding_mode="zeros", align_corners=False)
    img, mask = out[:, :-1], out[:, -1:]
    fill_t = torch.tensor(fill, dtype=x.dtype).view(1, -1, 1, 1)
    if mode == "nearest":
        return torch.where(mask < 0.5, fill_t.expand_as(img), img)
    return img * mask + (1 - mask) * fill_t


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("angle,center", [(25.0, None), (-71.5, None), (140.0, (1, 5)), (10.0, (0, 0))])
def test_rotate_tensor_vs_torch_grid_sample(mode, angle, center):
    x = lamina.rand(2, 3, 7, 9, dtype=lamina.float64)
    fill = [0.25, 0.5, 0.75]
    y = F.rotate(x, angle, InterpolationMode(mode), center=center, fill=fill)
    ref = _grid_sample_rotation(torch.from_numpy(x.numpy()), angle, mode, center, fill)
    np.testing.assert_allclose(y.numpy(), ref.numpy(), atol=1e-12)


@pytest.mark.parametrize("size", [(6, 4), (7, 5), (10, 3), (9, 9), (1, 1)])
def test_rotate_tensor_expanded_size_is_pillows(size):
    w, h = size
    for angle in (0, 10, 30, 45, 95, 135, 200, -33, 90, 270):
        out = F.rotate(lamina.zeros(1, h, w), angle, expand=True)
        assert (int(out.shape[-1]), int(out.shape[-2])) == Image.new("L", (w, h)).rotate(angle, expand=True).size


def test_rotate_tensor_errors_and_no_fill_is_zeros():
    x = lamina.ones(3, 4, 4)
    y = F.rotate(x, 45)
    assert float(y[0, 0, 0]) == 0.0 and float(y[0, 2, 2]) == 1.0
    with pytest.raises(ValueError, match="Interpolation mode 'bicubic' is not supported for tensor rotation"):
        F.rotate(x, 10, InterpolationMode.BICUBIC)
    with pytest.raises(ValueError, match=r"The number of elements in 'fill' \(2\) does not match"):
        F.rotate(x, 10, fill=[1.0, 2.0])


# --- gradients and non-contiguous inputs ---------------------------------------------------------
@pytest.mark.parametrize("mode,antialias", [("bilinear", True), ("bicubic", False), ("bilinear", False)])
def test_resize_gradient_equals_torch_interpolate_gradient(mode, antialias):
    x = lamina.rand(1, 2, 7, 5, dtype=lamina.float64, requires_grad=True)
    w = np.random.default_rng(0).random((1, 2, 3, 8))
    y = F.resize(x, [3, 8], InterpolationMode(mode), antialias=antialias)
    (y * lamina.from_numpy(w)).sum().backward()
    tx = torch.from_numpy(x.detach().numpy()).requires_grad_()
    ref = torch.nn.functional.interpolate(tx, size=(3, 8), mode=mode, antialias=antialias, align_corners=False)
    (ref * torch.from_numpy(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("fn", [
    lambda t: F.pad(t, [1, 2, 0, 3], padding_mode="symmetric"),
    lambda t: F.pad(t, 2, padding_mode="reflect"),
    lambda t: F.rotate(t, 30, InterpolationMode.BILINEAR, fill=[0.5, 0.2, 0.1]),
    lambda t: F.normalize(t, (0.1, 0.2, 0.3), (0.3, 0.4, 0.5)),
    lambda t: F.adjust_contrast(t, 0.7),
    lambda t: F.adjust_saturation(t, 0.4),
    lambda t: F.center_crop(t, [7, 3]),
])
def test_tensor_functionals_gradcheck(fn):
    x = (lamina.rand(1, 3, 5, 6, dtype=lamina.float64) * 0.8 + 0.1).requires_grad_()
    assert lamina.testing.gradcheck(fn, (x,))


@pytest.mark.parametrize("fn", [
    lambda t: F.resize(t, [4, 3]), lambda t: F.pad(t, [1, 2], padding_mode="edge"), lambda t: F.hflip(t),
    lambda t: F.rotate(t, 20), lambda t: F.adjust_hue(t, 0.2), lambda t: F.rgb_to_grayscale(t),
    lambda t: F.crop(t, -1, 1, 4, 4),
])
def test_non_contiguous_inputs_give_the_contiguous_result(fn):
    base = lamina.rand(3, 6, 5)
    view = base.transpose(-1, -2)  # (3, 5, 6), not contiguous
    assert not view.is_contiguous()
    np.testing.assert_array_equal(fn(view).numpy(), fn(view.contiguous()).numpy())
