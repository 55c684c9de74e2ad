"""lamina-nn-utils: torch.nn.utils' model-surgery modules, served as ``lamina.nn.utils.parametrize``,
``.parametrizations``, ``.prune``, ``.fusion``, the legacy ``.weight_norm`` and ``.spectral_norm``, ``.init``,
``.stateless`` and ``.memory_format``."""

__lamina_plugin_api__ = "1.0"
