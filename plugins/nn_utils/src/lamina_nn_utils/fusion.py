__lamina_plugin_api__ = "1.0"
