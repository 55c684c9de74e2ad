"""Datasets: ``MNIST``, ``FashionMNIST`` (IDX files on disk), ``Digits`` (scikit-learn's 8x8 digits).

Every dataset is map-style (``len``, ``dataset[i] -> (image, label)``) and exposes the whole split
as tensors: ``.data`` (images) and ``.targets`` (int64 labels).
"""

from ._idx import IDXFormatError, parse_idx, read_idx
from .digits import Digits
from .mnist import MNIST, FashionMNIST

__all__ = ["MNIST", "FashionMNIST", "Digits", "IDXFormatError", "read_idx", "parse_idx"]
