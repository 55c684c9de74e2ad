"""acme-lamina-layers: an example third-party plugin for lamina."""

__lamina_plugin_api__ = "1.0"
