"""lamina-train-utils: torch's training utilities on lamina's public API.

* ``lamina.utils.checkpoint`` (:mod:`lamina_train_utils.checkpoint`): ``checkpoint`` and
  ``checkpoint_sequential``, activation checkpointing that recomputes a region in backward.
* ``lamina.optim.swa_utils`` (:mod:`lamina_train_utils.swa_utils`): ``AveragedModel``, ``SWALR``,
  ``update_bn`` and the SWA/EMA averaging functions.
"""

__lamina_plugin_api__ = "1.0"
