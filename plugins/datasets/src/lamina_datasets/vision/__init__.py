"""torchvision's everyday surface on lamina: ``datasets``, ``transforms`` (and ``transforms.functional``),
``utils``. Under ``lamina run`` (the ``lamina.aliases`` entry point) ``import torchvision`` gives this package.

``ops``, ``models`` and ``io`` import, but every name in them raises ``NotImplementedError``:
lamina-datasets has no C++ ops, model zoo or image/video decoders.
"""

from __future__ import annotations

from . import datasets, io, models, ops, transforms, utils

__version__ = "0.28.0+lamina"
__all__ = ["datasets", "io", "models", "ops", "transforms", "utils", "get_image_backend", "set_image_backend",
           "get_video_backend", "set_video_backend"]

_image_backend = "PIL"


def get_image_backend() -> str:
    """The image loader of ``ImageFolder``: always ``"PIL"``."""
    return _image_backend


def set_image_backend(backend: str) -> None:
    """Only ``"PIL"`` is available (torchvision's other choice, accimage, is not supported)."""
    if backend not in ("PIL", "accimage"):
        raise ValueError(f"Invalid backend '{backend}'. Options are 'PIL' and 'accimage'")
    if backend == "accimage":
        raise NotImplementedError("torchvision.set_image_backend('accimage'): lamina-datasets loads images with "
                                  "Pillow only")


def get_video_backend() -> str:
    return "pyav"


def set_video_backend(backend: str) -> None:
    raise NotImplementedError(f"torchvision.set_video_backend({backend!r}): lamina-datasets has no video I/O")
