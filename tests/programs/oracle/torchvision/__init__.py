"""Oracle-only stand-in for torchvision (see ../README.md): ``datasets.MNIST`` and three transforms."""

from . import datasets, transforms

__all__ = ["datasets", "transforms"]
__version__ = "0.0-oracle"
