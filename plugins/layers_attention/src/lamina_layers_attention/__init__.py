"""lamina-layers-attention: scaled_dot_product_attention, MultiheadAttention and the Transformer family.

Importing the package imports nothing else; each module is loaded when one of its names is first
used through ``lamina.nn`` / ``lamina.nn.functional``.
"""

__lamina_plugin_api__ = "1.0"
