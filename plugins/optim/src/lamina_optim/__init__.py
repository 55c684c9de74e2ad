"""lamina-optim: PyTorch's optimizers and learning-rate schedulers for lamina.

Served lazily through entry points: ``lamina.optim.Adam``, ``lamina.optim.lr_scheduler.StepLR``.
``SparseAdam`` (and SGD's and Adagrad's sparse paths) take the sparse COO gradients of
``nn.Embedding(sparse=True)``.
"""

__lamina_plugin_api__ = "1.0"
