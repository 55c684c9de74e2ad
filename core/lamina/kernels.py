"""``lamina.kernels``: the kernel registry (``lamina.backends.kernels``) and ``explain``."""

from .backends._device import explain as explain
from .backends.kernels import Kernel as Kernel
from .backends.kernels import candidates as candidates
from .backends.kernels import kernel_ops as kernel_ops
from .backends.kernels import register as register
from .backends.kernels import registry as registry
from .backends.kernels import select as select
from .backends.kernels import unregister as unregister
