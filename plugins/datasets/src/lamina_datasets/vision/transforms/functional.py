"""``torchvision.transforms.functional``: each function takes a PIL image or a tensor ``(..., C, H, W)``.

Arguments are checked here (with torchvision's messages and exception types); the work is done by
``_pil`` (Pillow) or ``_tensor`` (lamina ops). NumPy arrays are accepted only where torchvision
accepts them (``to_tensor``, ``to_pil_image``).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import lamina
import numpy as np
from lamina import Tensor
from PIL import Image

from . import _pil, _rotate, _tensor
from ._modes import InterpolationMode, as_mode, pil_filter

__all__ = ["InterpolationMode", "get_dimensions", "get_image_size", "get_image_num_channels", "to_tensor",
           "pil_to_tensor", "to_pil_image", "convert_image_dtype", "normalize", "resize", "pad", "crop",
           "center_crop", "resized_crop", "hflip", "vflip", "rgb_to_grayscale", "to_grayscale",
           "adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue", "adjust_gamma", "rotate"]

ImageLike = Any  # PIL.Image.Image or Tensor (..., C, H, W)


def _pil_only(img: Any) -> Image.Image:
    if not _pil.is_pil(img):
        raise TypeError(f"img should be PIL Image. Got {type(img)}")
    return img


def get_dimensions(img: ImageLike) -> list[int]:
    """``[channels, height, width]``."""
    if isinstance(img, Tensor):
        return _tensor.dimensions(img)
    if _pil.is_pil(img):
        return _pil.dimensions(img)
    raise TypeError(f"Unexpected type {type(img)}")


def get_image_size(img: ImageLike) -> list[int]:
    """``[width, height]``."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img: ImageLike) -> int:
    return get_dimensions(img)[0]


# --- conversions ----------------------------------------------------------------------------
_PIL_NP_TYPES = {"I": np.int32, "I;16": np.int16, "F": np.float32}


def to_tensor(pic: Image.Image | np.ndarray) -> Tensor:
    """PIL image or ndarray ``(H, W[, C])`` -> tensor ``(C, H, W)``; uint8 becomes float in [0, 1]."""
    if not (_pil.is_pil(pic) or isinstance(pic, np.ndarray)):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        hwc = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        hwc = np.array(pic, _PIL_NP_TYPES.get(pic.mode, np.uint8), copy=True)
        if pic.mode == "1":
            hwc = hwc * np.uint8(255)
        hwc = hwc.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    img = lamina.from_numpy(np.ascontiguousarray(hwc.transpose(2, 0, 1)))
    if img.dtype == lamina.uint8:
        return img.to(lamina.get_default_dtype()).div(255)
    return img


def pil_to_tensor(pic: Image.Image) -> Tensor:
    """PIL image -> tensor ``(C, H, W)`` of the image's own dtype (no scaling)."""
    if not _pil.is_pil(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    hwc = np.array(pic, copy=True).reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    return lamina.from_numpy(np.ascontiguousarray(hwc.transpose(2, 0, 1)))


_SINGLE_BAND = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16", np.dtype(np.int32): "I",
                np.dtype(np.float32): "F"}
_MULTI_BAND = {2: ["LA"], 3: ["RGB", "YCbCr", "HSV"], 4: ["RGBA", "CMYK", "RGBX"]}


def to_pil_image(pic: Tensor | np.ndarray, mode: str | None = None) -> Image.Image:
    """Tensor ``(C, H, W)`` / ``(H, W)`` or ndarray ``(H, W[, C])`` -> PIL image; floats are scaled by 255."""
    if isinstance(pic, Tensor):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        if pic.is_floating_point() and mode != "F":
            pic = pic.mul(255).byte()
        arr = (pic.permute(1, 2, 0) if pic.ndim == 3 else pic).detach().cpu().numpy()
    elif isinstance(pic, np.ndarray):
        arr = pic
        if arr.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {arr.ndim} dimensions.")
        if np.issubdtype(arr.dtype, np.floating) and mode != "F":
            arr = (arr * 255).astype(np.uint8)
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    channels = arr.shape[-1]
    if channels > 4:
        raise ValueError(f"pic should not have > 4 channels. Got {channels} channels.")
    if channels == 1:
        arr = arr[:, :, 0]
        expected = _SINGLE_BAND.get(arr.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {arr.dtype}. Should be {expected}")
        mode = expected
    else:
        permitted = _MULTI_BAND[channels]
        if mode is not None and mode not in permitted:
            raise ValueError(f"Only modes {permitted} are supported for {channels}D inputs")
        if mode is None and arr.dtype == np.uint8:
            mode = permitted[0]
        if arr.dtype != np.uint8:
            raise TypeError(f"Input type {arr.dtype} is not supported")
    if mode is None:
        raise TypeError(f"Input type {arr.dtype} is not supported")
    return Image.frombytes(mode, (arr.shape[1], arr.shape[0]), np.ascontiguousarray(arr).tobytes())


def convert_image_dtype(image: Tensor, dtype: lamina.dtype = lamina.float) -> Tensor:
    """Convert ``image`` to ``dtype``, rescaling intensities between the two dtypes' ranges."""
    if not isinstance(image, Tensor):
        raise TypeError("Input img should be Tensor Image")
    return _tensor.convert_image_dtype(image, dtype)


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> Tensor:
    """``(x - mean[c]) / std[c]`` per channel. Shape: (..., C, H, W) -> same."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
                         f"{tensor.size()}")
    if not inplace:
        tensor = tensor.clone()
    mean_t = lamina.as_tensor(mean, dtype=tensor.dtype, device=tensor.device)
    std_t = lamina.as_tensor(std, dtype=tensor.dtype, device=tensor.device)
    if bool((std_t == 0).any()):
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by zero.")
    if mean_t.ndim == 1:
        mean_t = mean_t.view(-1, 1, 1)
    if std_t.ndim == 1:
        std_t = std_t.view(-1, 1, 1)
    return tensor.sub_(mean_t).div_(std_t)


# --- geometry -------------------------------------------------------------------------------
def _output_size(height: int, width: int, size: Sequence[int], max_size: int | None) -> list[int]:
    if len(size) == 2:
        return [int(size[0]), int(size[1])]
    short, long = (width, height) if width <= height else (height, width)
    new_short = int(size[0])
    new_long = int(new_short * long / short)
    if max_size is not None:
        if max_size <= new_short:
            raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size for the "
                             f"smaller edge size = {list(size)}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    return [new_long, new_short] if width <= height else [new_short, new_long]


def resize(img: ImageLike, size: int | Sequence[int], interpolation: InterpolationMode | int =
           InterpolationMode.BILINEAR, max_size: int | None = None, antialias: bool | None = True) -> ImageLike:
    """Resize to ``(h, w)``, or the shorter edge to ``size`` (aspect ratio kept, ``max_size`` caps the longer)."""
    mode = as_mode(interpolation)
    if isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError(f"Size must be an int or a 1 or 2 element tuple/list, not a {len(size)} element "
                             "tuple/list")
        if max_size is not None and len(size) != 1:
            raise ValueError("max_size should only be passed if size specifies the length of the smaller edge, "
                             "i.e. size should be an int or a sequence of length 1 in torchscript mode.")
    elif not isinstance(size, int):
        raise TypeError(f"Size should be int or sequence. Got {type(size)}")
    _, h, w = get_dimensions(img)
    out = _output_size(h, w, [size] if isinstance(size, int) else size, max_size)
    if [h, w] == out:
        return img
    if isinstance(img, Tensor):
        return _tensor.resize(img, out, mode.value, bool(antialias))
    if antialias is False:
        warnings.warn("Anti-alias option is always applied for PIL Image input. Argument antialias is ignored.",
                      stacklevel=2)
    return _pil.resize(img, out, pil_filter(mode))


def _ltrb(padding: int | Sequence[int]) -> tuple[int, int, int, int]:
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if isinstance(padding, (tuple, list)):
        if len(padding) not in (1, 2, 4):
            raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} "
                             "element tuple")
        if len(padding) == 1:
            padding = padding[0]
        elif len(padding) == 2:
            return int(padding[0]), int(padding[1]), int(padding[0]), int(padding[1])
        else:
            return int(padding[0]), int(padding[1]), int(padding[2]), int(padding[3])
    p = int(padding)  # type: ignore[arg-type]
    return p, p, p, p


def pad(img: ImageLike, padding: int | Sequence[int], fill: float | Sequence[float] = 0,
        padding_mode: str = "constant") -> ImageLike:
    """Pad the borders: ``padding`` is an int, ``(left/right, top/bottom)`` or ``(left, top, right, bottom)``.

    ``padding_mode``: constant (``fill``), edge, reflect (no edge repeat) or symmetric (edge repeated).
    """
    left, top, right, bottom = _ltrb(padding)
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    if isinstance(img, Tensor):
        fill = 0 if fill is None else fill
        if not isinstance(fill, (int, float)):
            raise TypeError("Got inappropriate fill arg")
        return _tensor.pad(img, left, top, right, bottom, fill, padding_mode)
    if not isinstance(fill, (numbers.Number, tuple, list)) and fill is not None:
        raise TypeError("Got inappropriate fill arg")
    return _pil.pad(_pil_only(img), left, top, right, bottom, fill, padding_mode)


def crop(img: ImageLike, top: int, left: int, height: int, width: int) -> ImageLike:
    """The window at ``(top, left)`` of size ``(height, width)``; outside the image it is zeros."""
    if isinstance(img, Tensor):
        return _tensor.crop(img, top, left, height, width)
    return _pil.crop(_pil_only(img), top, left, height, width)


def _pair(size: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(size, numbers.Number):
        return int(size), int(size)  # type: ignore[call-overload]
    if isinstance(size, (tuple, list)) and len(size) == 1:
        return int(size[0]), int(size[0])
    return int(size[0]), int(size[1])  # type: ignore[index]


def center_crop(img: ImageLike, output_size: int | Sequence[int]) -> ImageLike:
    """The central ``output_size`` window; an image smaller than it is zero-padded first."""
    crop_h, crop_w = _pair(output_size)
    _, h, w = get_dimensions(img)
    if crop_w > w or crop_h > h:
        ltrb = [(crop_w - w) // 2 if crop_w > w else 0, (crop_h - h) // 2 if crop_h > h else 0,
                (crop_w - w + 1) // 2 if crop_w > w else 0, (crop_h - h + 1) // 2 if crop_h > h else 0]
        img = pad(img, ltrb, fill=0)
        _, h, w = get_dimensions(img)
        if crop_w == w and crop_h == h:
            return img
    return crop(img, int(round((h - crop_h) / 2.0)), int(round((w - crop_w) / 2.0)), crop_h, crop_w)


def resized_crop(img: ImageLike, top: int, left: int, height: int, width: int, size: Sequence[int],
                 interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
                 antialias: bool | None = True) -> ImageLike:
    """``resize(crop(img, top, left, height, width), size, interpolation)``."""
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def hflip(img: ImageLike) -> ImageLike:
    return _tensor.hflip(img) if isinstance(img, Tensor) else _pil.hflip(_pil_only(img))


def vflip(img: ImageLike) -> ImageLike:
    return _tensor.vflip(img) if isinstance(img, Tensor) else _pil.vflip(_pil_only(img))


def rotate(img: ImageLike, angle: float, interpolation: InterpolationMode | int = InterpolationMode.NEAREST,
           expand: bool = False, center: Sequence[int] | None = None,
           fill: float | Sequence[float] | None = None) -> ImageLike:
    """Rotate counter-clockwise by ``angle`` degrees about ``center`` (default: the image centre).

    ``expand`` grows the output to hold the whole rotated image; ``fill`` colours the area outside it.
    """
    mode = as_mode(interpolation)
    if center is not None and (not isinstance(center, (list, tuple)) or len(center) != 2):
        raise ValueError("center should be a sequence of length 2.")
    if isinstance(img, Tensor):
        return _rotate.rotate(img, float(angle), mode.value, expand, center, fill)
    return _pil.rotate(_pil_only(img), angle, pil_filter(mode), expand, center, fill)


# --- colour ---------------------------------------------------------------------------------
def _check_channels_out(num_output_channels: int) -> None:
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")


def rgb_to_grayscale(img: ImageLike, num_output_channels: int = 1) -> ImageLike:
    """Luma ``0.2989 R + 0.587 G + 0.114 B``, repeated to ``num_output_channels`` (1 or 3)."""
    _check_channels_out(num_output_channels)
    if isinstance(img, Tensor):
        return _tensor.rgb_to_grayscale(img, num_output_channels)
    return _pil.to_grayscale(_pil_only(img), num_output_channels)


def to_grayscale(img: Image.Image, num_output_channels: int = 1) -> Image.Image:
    """PIL-only form of ``rgb_to_grayscale``."""
    if not _pil.is_pil(img):
        raise TypeError("Input should be PIL Image")
    _check_channels_out(num_output_channels)
    return _pil.to_grayscale(img, num_output_channels)


def _non_negative(value: float, name: str) -> None:
    if value < 0:
        raise ValueError(f"{name} ({value}) is not non-negative.")


def adjust_brightness(img: ImageLike, brightness_factor: float) -> ImageLike:
    """Blend with black: 0 gives black, 1 the image, 2 twice as bright (clipped)."""
    _non_negative(brightness_factor, "brightness_factor")
    if isinstance(img, Tensor):
        return _tensor.adjust_brightness(img, float(brightness_factor))
    return _pil.adjust_brightness(_pil_only(img), brightness_factor)


def adjust_contrast(img: ImageLike, contrast_factor: float) -> ImageLike:
    """Blend with the mean grey level of the image."""
    _non_negative(contrast_factor, "contrast_factor")
    if isinstance(img, Tensor):
        return _tensor.adjust_contrast(img, float(contrast_factor))
    return _pil.adjust_contrast(_pil_only(img), contrast_factor)


def adjust_saturation(img: ImageLike, saturation_factor: float) -> ImageLike:
    """Blend with the grayscale image: 0 gives grey, 1 the image."""
    _non_negative(saturation_factor, "saturation_factor")
    if isinstance(img, Tensor):
        return _tensor.adjust_saturation(img, float(saturation_factor))
    return _pil.adjust_saturation(_pil_only(img), saturation_factor)


def adjust_hue(img: ImageLike, hue_factor: float) -> ImageLike:
    """Shift the hue by ``hue_factor`` turns, in [-0.5, 0.5]."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if isinstance(img, Tensor):
        return _tensor.adjust_hue(img, float(hue_factor))
    return _pil.adjust_hue(_pil_only(img), hue_factor)


def adjust_gamma(img: ImageLike, gamma: float, gain: float = 1.0) -> ImageLike:
    """``gain * img ** gamma`` on intensities in [0, 1]."""
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    if isinstance(img, Tensor):
        return _tensor.adjust_gamma(img, gamma, gain)
    return _pil.adjust_gamma(_pil_only(img), gamma, gain)
