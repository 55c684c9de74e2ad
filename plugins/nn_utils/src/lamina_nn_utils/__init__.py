"""lamina-nn-utils: torch.nn.utils' model-surgery modules, served as ``lamina.nn.utils.parametrize``,
``lamina.nn.utils.parametrizations``, ``lamina.nn.utils.prune`` and ``lamina.nn.utils.fusion``."""

__lamina_plugin_api__ = "1.0"
