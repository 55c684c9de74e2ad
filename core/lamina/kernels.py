"""``lamina.kernels``: the kernel registry (``lamina.backends.kernels``) and ``explain``.

Kernels register for an op class, or by the op's name with a factory (the op's plugin need not be
imported: the kernel is ``pending`` until the op exists); see ``lamina.backends.kernels``.
"""

from .backends._device import explain as explain
from .backends.kernels import Kernel as Kernel
from .backends.kernels import candidates as candidates
from .backends.kernels import find_op as find_op
from .backends.kernels import kernel_ops as kernel_ops
from .backends.kernels import pending as pending
from .backends.kernels import register as register
from .backends.kernels import registry as registry
from .backends.kernels import select as select
from .backends.kernels import unregister as unregister
