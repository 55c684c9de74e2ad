"""Optimizers: the ``Optimizer`` base here, the algorithms (``SGD``, ``Adam``, ...) from plugins.

Plugin optimizers are entry points of group ``lamina.optim`` and appear lazily as attributes
(``lamina.optim.Adam``); learning-rate schedulers live in ``lamina.optim.lr_scheduler``.
"""

from __future__ import annotations

from .. import plugins as _plugins
from . import lr_scheduler as lr_scheduler
from .optimizer import Optimizer

__all__ = ["Optimizer", "lr_scheduler"]

__getattr__, __dir__ = _plugins.namespace(("lamina.optim",), __name__)
