"""lamina-datasets: datasets and image transforms for lamina (what torchvision is to torch).

    from lamina_datasets import datasets, transforms

    train = datasets.FashionMNIST(train=True, transform=transforms.Compose([
        transforms.ToTensor(), transforms.Normalize((0.2860,), (0.3530,))]))

Nothing here downloads: the readers take files that are already on disk (see ``datasets``).

``lamina_datasets.vision`` is torchvision's own surface (``datasets``, ``transforms``, ``utils``, on PIL
images and tensors); under ``lamina run``, ``import torchvision`` gives it.
"""

from __future__ import annotations

from . import datasets, transforms, vision
from .datasets import IDXFormatError

__version__ = "0.1.0"
__all__ = ["datasets", "transforms", "vision", "IDXFormatError"]
