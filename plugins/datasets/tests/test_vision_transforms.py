"""lamina_datasets.vision.transforms classes: torchvision's reprs and errors, randomness drawn from lamina's
generator in torchvision's order (replayed here draw by draw), statistics of the random transforms."""

from __future__ import annotations

import math

import lamina
import numpy as np
import pytest
from lamina_datasets.vision import transforms as T
from lamina_datasets.vision.transforms import functional as F
from PIL import Image


def _u8(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _rgb(h=12, w=16, seed=0):
    return Image.fromarray(_u8((h, w, 3), seed))


@pytest.mark.parametrize("t,text", [
    (T.ToTensor(), "ToTensor()"), (T.PILToTensor(), "PILToTensor()"), (T.ToPILImage(), "ToPILImage()"),
    (T.ToPILImage("RGB"), "ToPILImage(mode=RGB)"),
    (T.Normalize((0.5,), (0.25,)), "Normalize(mean=(0.5,), std=(0.25,))"),
    (T.Normalize([0.1, 0.2], [1, 2]), "Normalize(mean=[0.1, 0.2], std=[1, 2])"),
    (T.Resize(32), "Resize(size=32, interpolation=bilinear, max_size=None, antialias=True)"),
    (T.Resize((4, 5), T.InterpolationMode.NEAREST, antialias=False),
     "Resize(size=(4, 5), interpolation=nearest, max_size=None, antialias=False)"),
    (T.Resize(8, interpolation=3), "Resize(size=8, interpolation=bicubic, max_size=None, antialias=True)"),
    (T.CenterCrop(10), "CenterCrop(size=(10, 10))"), (T.CenterCrop([3, 4]), "CenterCrop(size=[3, 4])"),
    (T.RandomCrop(32, padding=4), "RandomCrop(size=(32, 32), padding=4)"),
    (T.RandomHorizontalFlip(), "RandomHorizontalFlip(p=0.5)"), (T.RandomVerticalFlip(0.2),
                                                                 "RandomVerticalFlip(p=0.2)"),
    (T.RandomResizedCrop(224), "RandomResizedCrop(size=(224, 224), scale=(0.08, 1.0), ratio=(0.75, 1.3333), "
                               "interpolation=bilinear, antialias=True)"),
    (T.ColorJitter(0.4, 0.3, 0.2, 0.1), "ColorJitter(brightness=[0.6, 1.4], contrast=[0.7, 1.3], "
                                        "saturation=[0.8, 1.2], hue=[-0.1, 0.1])"),
    (T.ColorJitter(), "ColorJitter(brightness=None, contrast=None, saturation=None, hue=None)"),
    (T.ColorJitter(brightness=2), "ColorJitter(brightness=[0.0, 3.0], contrast=None, saturation=None, hue=None)"),
    (T.Grayscale(3), "Grayscale(num_output_channels=3)"), (T.RandomGrayscale(), "RandomGrayscale(p=0.1)"),
    (T.Pad(2), "Pad(padding=2, fill=0, padding_mode=constant)"), (T.Lambda(abs), "Lambda()"),
    (T.RandomRotation(30), "RandomRotation(degrees=[-30.0, 30.0], interpolation=nearest, expand=False, fill=0)"),
    (T.RandomRotation((0, 90), center=(1, 2)),
     "RandomRotation(degrees=[0.0, 90.0], interpolation=nearest, expand=False, center=(1, 2), fill=0)"),
    (T.ConvertImageDtype(lamina.float32), "ConvertImageDtype()"),
    (T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))]),
     "Compose(\n    ToTensor()\n    Normalize(mean=(0.5,), std=(0.5,))\n)"),
    (T.RandomApply([T.Grayscale()], p=0.3), "RandomApply(\n    p=0.3\n    Grayscale(num_output_channels=1)\n)"),
])
def test_reprs(t, text):
    assert repr(t) == text


def test_module_transforms_are_lamina_modules():
    assert isinstance(T.Normalize((0.5,), (0.5,)), lamina.nn.Module)
    seq = lamina.nn.Sequential(T.RandomHorizontalFlip(1.0), T.ConvertImageDtype(lamina.float64))
    x = lamina.from_numpy(_u8((3, 2, 3)))
    np.testing.assert_array_equal(seq(x).numpy(), x.numpy()[:, :, ::-1] / 255.0)


@pytest.mark.parametrize("make,err,match", [
    (lambda: T.Lambda(3), TypeError, r"Argument lambd should be callable, got 'int'"),
    (lambda: T.Resize(2.5), TypeError, r"Size should be int or sequence"),
    (lambda: T.Resize([1, 2, 3]), ValueError, r"If size is a sequence, it should have 1 or 2 values"),
    (lambda: T.CenterCrop((1, 2, 3)), ValueError, r"Please provide only two dimensions \(h, w\) for size."),
    (lambda: T.Pad(1, padding_mode="wrap"), ValueError, r"Padding mode should be either constant, edge"),
    (lambda: T.Pad((1, 2, 3)), ValueError, r"Padding must be an int or a 1, 2, or 4 element tuple"),
    (lambda: T.ColorJitter(brightness=-1), ValueError, r"If brightness is a single number, it must be non negative."),
    (lambda: T.ColorJitter(hue=0.7), ValueError, r"hue values should be between \(-0.5, 0.5\), but got"),
    (lambda: T.ColorJitter(contrast=(1, 2, 3)), TypeError, r"contrast should be a single number or a list/tuple"),
    (lambda: T.RandomRotation(-5), ValueError, r"If degrees is a single number, it must be positive."),
    (lambda: T.RandomResizedCrop(4, scale=0.5), TypeError, r"Scale should be a sequence"),
])
def test_construction_errors(make, err, match):
    with pytest.raises(err, match=match):
        make()


def test_random_resized_crop_warns_on_reversed_ranges():
    with pytest.warns(UserWarning, match=r"Scale and ratio should be of kind \(min, max\)"):
        T.RandomResizedCrop(4, scale=(1.0, 0.5))


def test_compose_pipeline_on_pil_to_normalized_tensor():
    img = _rgb()
    out = T.Compose([T.CenterCrop(8), T.ToTensor(), T.Normalize((0.5,) * 3, (0.5,) * 3)])(img)
    a = np.asarray(img)[2:10, 4:12].transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    np.testing.assert_allclose(out.numpy(), (a - 0.5) / 0.5, rtol=1e-6, atol=1e-7)


# --- randomness: replay of the draws ------------------------------------------------------------
def test_random_crop_draws_top_then_left_from_lamina():
    x = lamina.arange(80.0).reshape(1, 8, 10)
    lamina.manual_seed(11)
    y = T.RandomCrop((3, 4), padding=1, padding_mode="edge")(x)
    lamina.manual_seed(11)
    i = int(lamina.randint(0, 10 - 3 + 1, size=(1,)).item())
    j = int(lamina.randint(0, 12 - 4 + 1, size=(1,)).item())
    padded = np.pad(x.numpy(), ((0, 0), (1, 1), (1, 1)), mode="edge")
    np.testing.assert_array_equal(y.numpy(), padded[:, i:i + 3, j:j + 4])


def test_random_crop_same_size_draws_nothing_and_pad_if_needed():
    x = lamina.rand(1, 4, 4)
    lamina.manual_seed(0)
    assert T.RandomCrop(4)(x) is not None
    after = lamina.rand(1).item()
    lamina.manual_seed(0)
    assert after == lamina.rand(1).item()  # no draw consumed
    img = Image.fromarray(_u8((3, 5)) | 1)
    out = T.RandomCrop((6, 7), pad_if_needed=True, fill=0)(img)
    arr = np.asarray(out)
    assert out.size == (7, 6)
    # padded on both sides by the missing amount, then a random 6x7 window of the 9x9 result
    assert np.count_nonzero(arr) == sum(np.count_nonzero(np.asarray(img)[r]) for r in range(3))
    with pytest.raises(ValueError, match=r"Required crop size \(6, 7\) is larger than input image size \(3, 5\)"):
        T.RandomCrop((6, 7))(img)


def test_flips_follow_one_uniform_draw():
    x = lamina.from_numpy(_u8((3, 4, 5)))
    for seed in range(20):
        lamina.manual_seed(seed)
        y = T.RandomHorizontalFlip(0.5)(x)
        lamina.manual_seed(seed)
        flipped = lamina.rand(1).item() < 0.5
        np.testing.assert_array_equal(y.numpy(), x.numpy()[..., ::-1] if flipped else x.numpy())
        lamina.manual_seed(seed)
        z = T.RandomVerticalFlip(0.5)(x)
        np.testing.assert_array_equal(z.numpy(), x.numpy()[:, ::-1] if flipped else x.numpy())


def test_random_resized_crop_replay_and_bounds():
    img = _rgb(20, 30)
    t = T.RandomResizedCrop((5, 6), scale=(0.2, 0.9), ratio=(0.5, 2.0))
    for seed in range(10):
        lamina.manual_seed(seed)
        i, j, h, w = t.get_params(img, t.scale, t.ratio)
        lamina.manual_seed(seed)
        area = 600 * float(lamina.empty(1).uniform_(0.2, 0.9).item())
        lo, hi = (float(np.log(np.float32(r))) for r in (0.5, 2.0))  # float32 bounds and exp, as torchvision
        aspect = float(np.exp(np.float32(lamina.empty(1).uniform_(lo, hi).item())))
        ew, eh = int(round(math.sqrt(area * aspect))), int(round(math.sqrt(area / aspect)))
        if 0 < ew <= 30 and 0 < eh <= 20:
            assert (h, w) == (eh, ew)
            assert i == int(lamina.randint(0, 20 - eh + 1, size=(1,)).item())
            assert j == int(lamina.randint(0, 30 - ew + 1, size=(1,)).item())
        assert 0 <= i <= 20 - h and 0 <= j <= 30 - w
        lamina.manual_seed(seed)
        out = t(img)
        np.testing.assert_array_equal(np.asarray(out), np.asarray(
            img.crop((j, i, j + w, i + h)).resize((6, 5), Image.Resampling.BILINEAR)))


def test_random_resized_crop_fallback_is_central_with_clamped_ratio():
    img = _rgb(4, 40)  # ratio 10, no scale in (0.99, 1) at ratio <= 4/3 fits: the fallback
    lamina.manual_seed(0)
    i, j, h, w = T.RandomResizedCrop.get_params(img, (0.99, 1.0), (3 / 4, 4 / 3))
    assert (i, j, h, w) == (0, (40 - 5) // 2, 4, 5)


def test_color_jitter_replay():
    x = lamina.rand(3, 5, 6, dtype=lamina.float64)
    jitter = T.ColorJitter(brightness=0.5, contrast=0.5, saturation=0.5, hue=0.2)
    lamina.manual_seed(5)
    y = jitter(x)
    lamina.manual_seed(5)
    order = lamina.randperm(4).tolist()
    factors = [float(lamina.empty(1).uniform_(lo, hi).item()) for lo, hi in ((0.5, 1.5), (0.5, 1.5), (0.5, 1.5),
                                                                               (-0.2, 0.2))]
    fns = [F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue]
    ref = x
    for k in order:
        ref = fns[k](ref, factors[k])
    np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-12)


def test_color_jitter_skips_disabled_draws():
    jitter = T.ColorJitter(contrast=(0.2, 0.3))
    lamina.manual_seed(1)
    order, b, c, s, h = jitter.get_params(jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue)
    assert b is None and s is None and h is None and 0.2 <= c <= 0.3
    lamina.manual_seed(1)
    lamina.randperm(4)
    assert c == float(lamina.empty(1).uniform_(0.2, 0.3).item())


def test_random_grayscale_keeps_channels_and_rotation_draws_angle():
    img = _rgb()
    out = T.RandomGrayscale(p=1.0)(img)
    assert out.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(out)[..., 0], np.asarray(img.convert("L")))
    assert T.RandomGrayscale(p=0.0)(img) is img
    lamina.manual_seed(3)
    rotated = T.RandomRotation((10, 20))(img)
    lamina.manual_seed(3)
    angle = float(lamina.empty(1).uniform_(10.0, 20.0).item())
    np.testing.assert_array_equal(np.asarray(rotated), np.asarray(img.rotate(angle, Image.Resampling.NEAREST)))


def test_random_rotation_on_tensors_fills_every_channel():
    x = lamina.rand(3, 6, 6, dtype=lamina.float64)
    lamina.manual_seed(8)
    y = T.RandomRotation(40, interpolation=T.InterpolationMode.BILINEAR, fill=0.5)(x)
    lamina.manual_seed(8)
    angle = float(lamina.empty(1).uniform_(-40.0, 40.0).item())
    ref = F.rotate(x, angle, T.InterpolationMode.BILINEAR, fill=[0.5, 0.5, 0.5])
    np.testing.assert_array_equal(y.numpy(), ref.numpy())
    assert not np.array_equal(y.numpy(), F.rotate(x, angle, T.InterpolationMode.BILINEAR).numpy())


# --- seeding and statistics -------------------------------------------------------------------
def test_pipeline_reproducible_under_manual_seed():
    pipeline = T.Compose([T.RandomResizedCrop(8), T.RandomHorizontalFlip(), T.ColorJitter(0.4, 0.4, 0.4, 0.1),
                          T.RandomGrayscale(), T.ToTensor()])
    img = _rgb()
    lamina.manual_seed(42)
    a = [pipeline(img).numpy() for _ in range(5)]
    lamina.manual_seed(42)
    b = [pipeline(img).numpy() for _ in range(5)]
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert len({u.tobytes() for u in a}) == 5


def test_flip_rate_and_crop_offsets_are_uniform():
    lamina.manual_seed(0)
    x = lamina.zeros(1, 1, 2)
    x[0, 0, 1] = 1.0
    flips = sum(float(T.RandomHorizontalFlip(0.3)(x)[0, 0, 0]) for _ in range(2000))
    assert abs(flips / 2000 - 0.3) < 0.035  # binomial sd ~0.010
    counts = np.zeros(5)
    grid = lamina.arange(5.0).reshape(1, 1, 5)
    for _ in range(2000):
        counts[int(T.RandomCrop((1, 1))(grid).item())] += 1
    assert np.all(np.abs(counts / 2000 - 0.2) < 0.035)


def test_random_resized_crop_area_fraction_stays_in_scale():
    lamina.manual_seed(1)
    img = _rgb(50, 50)
    fractions = []
    for _ in range(300):
        _, _, h, w = T.RandomResizedCrop.get_params(img, (0.3, 0.6), (3 / 4, 4 / 3))
        fractions.append(h * w / 2500)
        assert 3 / 4 - 0.1 <= w / h <= 4 / 3 + 0.1
    assert 0.27 <= min(fractions) and max(fractions) <= 0.64
    assert abs(np.mean(fractions) - 0.45) < 0.03
