"""lamina-norms: normalisation layers and their functional forms (one fused kernel in ``_kernel``).

Nothing is imported here: the plugin index imports only the module that provides a requested name.
"""

__lamina_plugin_api__ = "1.0"
