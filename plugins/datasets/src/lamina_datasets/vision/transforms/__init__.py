"""``torchvision.transforms``: transforms on PIL images and tensor images ``(..., C, H, W)``.

Random transforms draw from lamina's default generator (``lamina.manual_seed`` makes them
reproducible), in the order torchvision draws from torch's.
"""

from . import functional
from ._modes import InterpolationMode
from .color import ColorJitter, Grayscale, RandomGrayscale
from .conversion import (
    Compose,
    ConvertImageDtype,
    Lambda,
    Normalize,
    PILToTensor,
    RandomApply,
    RandomChoice,
    RandomOrder,
    ToPILImage,
    ToTensor,
)
from .geometry import (
    CenterCrop,
    Pad,
    RandomCrop,
    RandomHorizontalFlip,
    RandomResizedCrop,
    RandomRotation,
    RandomVerticalFlip,
    Resize,
)

__all__ = ["functional", "InterpolationMode", "Compose", "Lambda", "RandomApply", "RandomChoice", "RandomOrder",
           "ToTensor", "PILToTensor", "ToPILImage", "ConvertImageDtype", "Normalize", "Resize", "CenterCrop",
           "Pad", "RandomCrop", "RandomResizedCrop", "RandomHorizontalFlip", "RandomVerticalFlip",
           "RandomRotation", "ColorJitter", "Grayscale", "RandomGrayscale"]
