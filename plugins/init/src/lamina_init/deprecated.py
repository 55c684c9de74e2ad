"""The deprecated names without the trailing underscore (``nn.init.uniform``, ...).

Each forwards to its in-place scheme after a ``FutureWarning`` worded as PyTorch's
("`nn.init.uniform` is now deprecated in favor of `nn.init.uniform_`.").
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from . import basic, scaled, structured

__lamina_plugin_api__ = "1.0"


def _deprecated(new: Callable[..., Any]) -> Callable[..., Any]:
    new_name = new.__name__
    old_name = new_name[:-1]

    @functools.wraps(new)
    def old(*args: Any, **kwargs: Any) -> Any:
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.",
                      FutureWarning, stacklevel=2)
        return new(*args, **kwargs)

    old.__name__ = old.__qualname__ = old_name
    old.__doc__ = f"{old_name}(...): deprecated; use :func:`lamina.nn.init.{new_name}`."
    return old


uniform = _deprecated(basic.uniform_)
normal = _deprecated(basic.normal_)
constant = _deprecated(basic.constant_)
eye = _deprecated(structured.eye_)
dirac = _deprecated(structured.dirac_)
xavier_uniform = _deprecated(scaled.xavier_uniform_)
xavier_normal = _deprecated(scaled.xavier_normal_)
kaiming_uniform = _deprecated(scaled.kaiming_uniform_)
kaiming_normal = _deprecated(scaled.kaiming_normal_)
orthogonal = _deprecated(structured.orthogonal_)
sparse = _deprecated(structured.sparse_)

DEPRECATED = {"uniform": uniform, "normal": normal, "constant": constant, "eye": eye, "dirac": dirac,
              "xavier_uniform": xavier_uniform, "xavier_normal": xavier_normal, "kaiming_uniform": kaiming_uniform,
              "kaiming_normal": kaiming_normal, "orthogonal": orthogonal, "sparse": sparse}
