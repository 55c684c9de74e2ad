"""``lamina.errors``: the exception types (defined in the base layer, ``lamina._base.errors``)."""

from ._base.errors import *  # noqa: F403
from ._base.errors import __all__ as __all__
