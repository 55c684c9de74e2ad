"""lamina-layers-basic: linear, convolution, pooling, padding, upsampling, activations, dropout, ...

Light on purpose: the plugin index imports only the submodule that provides a requested name.
"""

__lamina_plugin_api__ = "1.0"
