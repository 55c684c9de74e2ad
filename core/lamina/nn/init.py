"""``lamina.nn.init``: weight-initialisation schemes, all provided by plugins (group ``lamina.init``)."""

from __future__ import annotations

from .. import plugins as _plugins

__getattr__, __dir__ = _plugins.namespace(("lamina.init",), __name__)
