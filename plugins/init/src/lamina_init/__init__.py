"""lamina-init: the ``lamina.nn.init`` schemes. Every function works in place under ``no_grad``,
keeps dtype and device, draws through the core's generators and returns the tensor.

Nothing is imported here: the plugin index imports only the module that provides a requested name.
"""

__lamina_plugin_api__ = "1.0"
