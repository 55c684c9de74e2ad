"""``torchvision.ops``: not provided. Importing works; every attribute raises ``NotImplementedError``."""

from ._unprovided import refuse

__getattr__ = refuse("torchvision.ops", "torchvision's C++ ops (nms, roi_align, ...)")
