"""torchvision's ``FakeData``: random images, each a pure function of its index."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lamina

from ..transforms import functional as F
from .vision import VisionDataset

__all__ = ["FakeData"]


class FakeData(VisionDataset):
    """``size`` images ``randn(*image_size)`` (as PIL images) with labels in ``[0, num_classes)``.

    Item ``i`` is drawn under ``lamina.manual_seed(i + random_offset)`` and the global generator's
    state is restored afterwards, torchvision's scheme with lamina's generator: the same index
    gives the same sample every time, and reading it does not disturb other random draws.
    """

    def __init__(self, size: int = 1000, image_size: tuple[int, int, int] = (3, 224, 224), num_classes: int = 10,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 random_offset: int = 0) -> None:
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.random_offset = random_offset

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        if index >= len(self):
            raise IndexError(f"{type(self).__name__} index out of range")
        state = lamina.get_rng_state()
        try:
            lamina.manual_seed(index + self.random_offset)
            img = lamina.randn(*self.image_size)
            target = lamina.randint(0, self.num_classes, size=(1,), dtype=lamina.long)[0]
        finally:
            lamina.set_rng_state(state)
        img = F.to_pil_image(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, int(target.item()) if isinstance(target, lamina.Tensor) else target

    def __len__(self) -> int:
        return self.size
