"""``lamina.nn.utils.spectral_norm``: the legacy, hook-based spectral normalisation (``w = w_orig / sigma``).

``<name>`` becomes the parameter ``<name>_orig`` and the buffers ``<name>_u`` (H) and ``<name>_v`` (W), the
power-iteration estimates of the leading singular vectors of ``w_orig`` seen as an (H, W) matrix (dimension
``dim`` first, the rest flattened). A forward pre-hook sets ``module.<name> = w_orig / (u @ W_mat @ v)``;
in training mode it first runs ``n_power_iterations`` steps that update ``u`` and ``v`` in place, in eval
mode it uses them as stored. State dicts carry a version (``local_metadata['spectral_norm']``) and load
those of the first version (which saved ``<name>`` and no ``<name>_v``), as torch's do.

Shape: w_orig (H, *) with ``dim=0``; u (H,), v (prod(*),).
"""

from __future__ import annotations

from typing import Any, TypeVar

import lamina
import lamina.nn.functional as F
from lamina.nn import Module, Parameter
from lamina.nn.parameter import UninitializedParameter

__lamina_plugin_api__ = "1.0"

T_module = TypeVar("T_module", bound=Module)


class SpectralNorm:
    """The forward pre-hook of one spectrally normalised weight."""

    _version: int = 1  # 1: ``<name>_v`` is saved; 0 (none recorded): ``<name>`` was saved instead
    name: str
    dim: int
    n_power_iterations: int
    eps: float

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but "
                             f"got n_power_iterations={n_power_iterations}")
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight: Any) -> Any:
        """(H, W): dimension ``dim`` of ``weight`` first, the others flattened."""
        if self.dim != 0:
            weight = weight.permute(self.dim, *[d for d in range(weight.dim()) if d != self.dim])
        return weight.reshape(weight.size(0), -1)

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Any:
        """``<name>_orig / sigma``; with ``do_power_iteration`` u and v are first updated in place."""
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with lamina.no_grad():
                for _ in range(self.n_power_iterations):
                    v.copy_(F.normalize(lamina.mv(mat.t(), u), dim=0, eps=self.eps))
                    u.copy_(F.normalize(lamina.mv(mat, v), dim=0, eps=self.eps))
                # copies, so the next in-place update cannot change what this weight's graph saved
                u = u.clone()
                v = v.clone()
        sigma = lamina.dot(u, lamina.mv(mat, v))
        return weight / sigma

    def remove(self, module: Module) -> None:
        """Put back ``<name>`` as a Parameter (the current normalised weight); drop ``_orig``, ``_u``, ``_v``."""
        with lamina.no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    def _solve_v_and_rescale(self, weight_mat: Any, u: Any, target_sigma: Any) -> Any:
        """The v with ``u @ weight_mat @ v == target_sigma`` (least squares), for a version-0 state dict."""
        v = lamina.linalg.multi_dot([weight_mat.t().mm(weight_mat).pinverse(), weight_mat.t(),
                                     u.unsqueeze(1)]).squeeze(1)
        return v.mul_(target_sigma / lamina.dot(u, lamina.mv(weight_mat, v)))

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int, eps: float) -> SpectralNorm:
        """Replace ``module.<name>`` by ``<name>_orig``, ``<name>_u``, ``<name>_v`` and register the hooks."""
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        if isinstance(weight, UninitializedParameter):
            raise ValueError("The module passed to `SpectralNorm` can't have uninitialized parameters. "
                             "Make sure to run the dummy forward before applying spectral normalization")
        with lamina.no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).size()
            u = F.normalize(weight.new_empty(h).normal_(0, 1), dim=0, eps=fn.eps)
            v = F.normalize(weight.new_empty(w).normal_(0, 1), dim=0, eps=fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        setattr(module, fn.name, weight.data)  # a plain attribute until the first forward
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        module._register_state_dict_hook(SpectralNormStateDictHook(fn))
        module.register_load_state_dict_pre_hook(_ModuleFree(SpectralNormLoadStateDictPreHook(fn)))
        return fn


class SpectralNormLoadStateDictPreHook:
    """Loads a version-0 state dict (``<name>``, ``_orig``, ``_u``; no ``_v``): v solved from sigma = mean(orig/w)."""

    def __init__(self, fn: SpectralNorm) -> None:
        self.fn = fn

    def __call__(self, state_dict: dict, prefix: str, local_metadata: dict, strict: bool, missing_keys: list,
                 unexpected_keys: list, error_msgs: list) -> None:
        fn = self.fn
        version = local_metadata.get("spectral_norm", {}).get(fn.name + ".version", None)
        if version is not None and version >= 1:
            return
        key = prefix + fn.name
        if version is None and key not in state_dict and all(key + s in state_dict for s in ("_orig", "_u", "_v")):
            return  # a current state dict saved without metadata
        missing = [key + s for s in ("_orig", "", "_u") if key + s not in state_dict]
        if missing:
            if strict:
                missing_keys.extend(missing)
            return
        with lamina.no_grad():
            weight_orig = state_dict[key + "_orig"]
            sigma = (weight_orig / state_dict.pop(key)).mean()
            mat = fn.reshape_weight_to_matrix(weight_orig)
            state_dict[key + "_v"] = fn._solve_v_and_rescale(mat, state_dict[key + "_u"], sigma)


class SpectralNormStateDictHook:
    """Records ``local_metadata['spectral_norm']['<name>.version']`` when the module is saved."""

    def __init__(self, fn: SpectralNorm) -> None:
        self.fn = fn

    def __call__(self, module: Module, state_dict: dict, prefix: str, local_metadata: dict) -> None:
        versions = local_metadata.setdefault("spectral_norm", {})
        key = self.fn.name + ".version"
        if key in versions:
            raise RuntimeError(f"Unexpected key in metadata['spectral_norm']: {key}")
        versions[key] = self.fn._version


class _ModuleFree:
    """A load-state-dict pre-hook called without the module (lamina passes the module first)."""

    def __init__(self, hook: SpectralNormLoadStateDictPreHook) -> None:
        self.hook = hook

    def __call__(self, module: Module, *args: Any) -> None:
        self.hook(*args)


def spectral_norm(module: T_module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> T_module:
    """Spectrally normalise ``module.<name>``; ``dim`` defaults to 1 for transposed convolutions, else 0."""
    if dim is None:
        transposed = tuple(c for c in (getattr(lamina.nn, f"ConvTranspose{k}d", None) for k in (1, 2, 3)) if c)
        dim = 1 if isinstance(module, transposed) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module: T_module, name: str = "weight") -> T_module:
    """Undo :func:`spectral_norm` on ``module.<name>`` (ValueError when it has none); returns ``module``.

    Unlike torch 2.13, which leaves its load pre-hook behind (so a strict load of the plain module's own
    state dict then fails on missing ``<name>_orig``/``<name>_u``), this also removes that hook.
    """
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            break
    else:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    for key, hook in module._state_dict_hooks.items():
        if isinstance(hook, SpectralNormStateDictHook) and hook.fn.name == name:
            del module._state_dict_hooks[key]
            break
    for key, hook in module._load_state_dict_pre_hooks.items():
        if isinstance(hook, _ModuleFree) and hook.hook.fn.name == name:
            del module._load_state_dict_pre_hooks[key]
            break
    return module


__all__ = ["SpectralNorm", "SpectralNormLoadStateDictPreHook", "SpectralNormStateDictHook", "spectral_norm",
           "remove_spectral_norm"]
