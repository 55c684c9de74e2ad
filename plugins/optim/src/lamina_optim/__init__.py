"""lamina-optim: PyTorch's optimizers and learning-rate schedulers for lamina.

Served lazily through entry points: ``lamina.optim.Adam``, ``lamina.optim.lr_scheduler.StepLR``.
SparseAdam is not provided (lamina has no sparse gradients).
"""

__lamina_plugin_api__ = "1.0"
