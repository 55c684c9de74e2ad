"""``torchvision.io``: not provided. Importing works; every attribute raises ``NotImplementedError``."""

from ._unprovided import refuse

__getattr__ = refuse("torchvision.io", "torchvision's image/video I/O (decoders, read_image, ...); use Pillow")
