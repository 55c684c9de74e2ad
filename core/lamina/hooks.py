"""``lamina.hooks``: the pluggy events' public path (they live in the plugin-index layer)."""

import sys

from .plugins import hooks as _hooks

sys.modules[__name__] = _hooks
