"""``lamina.func``: torch.func's function transforms on lamina's autograd engine.

``vmap`` maps a per-example function over a batch (one call per entry, results stacked);
``grad``/``grad_and_value``/``vjp``/``jvp``/``jacrev``/``jacfwd``/``hessian`` differentiate
functions and compose with each other and with ``vmap``; ``functional_call`` runs a module with
other parameters. ``lamina.vmap`` is served from here through the ``lamina.functions`` entry point.
"""

from __future__ import annotations

__lamina_plugin_api__ = "1.0"

from .functional_call import functional_call, stack_module_state  # noqa: E402
from .transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp  # noqa: E402
from .vmap import vmap  # noqa: E402

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "stack_module_state",
           "vjp", "vmap"]
