"""``lamina.return_types``: named result tuples (defined in the base layer)."""

from ._base.return_types import max_min as max_min
