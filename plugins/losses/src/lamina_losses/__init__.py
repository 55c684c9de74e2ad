"""lamina-losses: every loss module of ``lamina.nn`` and its ``lamina.nn.functional`` form."""

__lamina_plugin_api__ = "1.0"
