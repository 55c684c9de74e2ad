"""``torchvision.models``: not provided. Importing works; every attribute raises ``NotImplementedError``."""

from ._unprovided import refuse

__getattr__ = refuse("torchvision.models", "torchvision's model zoo (architectures and pretrained weights)")
