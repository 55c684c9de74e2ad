"""``functional_call`` (a module run with other parameters and buffers) and ``stack_module_state``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import lamina
from lamina import nn


def _owner(module: nn.Module, name: str) -> tuple[nn.Module, str, str]:
    """The submodule holding ``name``, the attribute name, and the dict (``_parameters``/``_buffers``) it is in."""
    *path, attr = name.split(".")
    sub = module
    for p in path:
        if p not in sub._modules or sub._modules[p] is None:
            raise AttributeError(f"functional_call: {type(module).__name__} has no submodule {'.'.join(path)!r} "
                                 f"(from the key {name!r})")
        sub = sub._modules[p]
    for slot in ("_parameters", "_buffers"):
        if attr in getattr(sub, slot):
            return sub, attr, slot
    return sub, attr, ""


def _merge(dicts: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    if isinstance(dicts, Mapping):
        return dict(dicts)
    merged: dict[str, Any] = {}
    for d in dicts:
        clash = sorted(set(d) & set(merged))
        if clash:
            raise ValueError(f"{clash[0]} appeared in multiple dictionaries; behavior of functional call is "
                             "ambiguous")
        merged.update(d)
    return merged


@contextmanager
def _swapped(module: nn.Module, values: dict[str, Any], tie_weights: bool, strict: bool) -> Iterator[None]:
    names = dict(module.named_parameters(remove_duplicate=False))
    names.update(dict(module.named_buffers(remove_duplicate=False)))
    if strict:
        missing = sorted(set(names) - set(values))
        unexpected = sorted(set(values) - set(names))
        if missing or unexpected:
            parts = []
            if unexpected:
                parts.append("Unexpected key(s): " + ", ".join(repr(k) for k in unexpected) + ".")
            if missing:
                parts.append("Missing key(s): " + ", ".join(repr(k) for k in missing) + ".")
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t" + "\n\t".join(parts))
    if tie_weights:
        by_id: dict[int, list[str]] = {}
        for n, t in names.items():
            if t is not None:
                by_id.setdefault(id(t), []).append(n)
        for group in by_id.values():
            given = [n for n in group if n in values]
            if len(given) > 1 and any(values[g] is not values[given[0]] for g in given[1:]):
                raise ValueError(f"functional_call got multiple values for keys {given}, which are tied. "
                                 "Consider using tie_weights=False")
            if given:
                for n in group:
                    values.setdefault(n, values[given[0]])
    saved = []
    try:
        for name, value in values.items():
            sub, attr, slot = _owner(module, name)
            if slot:
                saved.append((sub, attr, slot, getattr(sub, slot)[attr]))
                getattr(sub, slot)[attr] = value
            else:
                saved.append((sub, attr, "", sub.__dict__.get(attr, _ABSENT)))
                object.__setattr__(sub, attr, value)
        yield
    finally:
        for sub, attr, slot, old in reversed(saved):
            if slot:
                getattr(sub, slot)[attr] = old
            elif old is _ABSENT:
                sub.__dict__.pop(attr, None)
            else:
                object.__setattr__(sub, attr, old)


_ABSENT = object()


def functional_call(module: nn.Module, parameter_and_buffer_dicts: Mapping[str, Any] | Sequence[Mapping[str, Any]],
                    args: Any = None, kwargs: dict[str, Any] | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """``module(*args, **kwargs)`` with the parameters and buffers named in the dicts replaced for the call.

    The module is restored afterwards (also when the call raises); a name the module lacks is set
    as an attribute for the call. ``tie_weights``: a value given for one of several tied names is
    used for all of them. ``strict``: every parameter and buffer must be given, and nothing else.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"functional_call: expected a lamina.nn.Module, got {type(module).__name__}")
    values = _merge(parameter_and_buffer_dicts)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _swapped(module, values, tie_weights, strict):
        return module(*args, **(kwargs or {}))


def stack_module_state(models: Sequence[nn.Module]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(params, buffers)``: each name's tensors of ``models`` stacked along a new leading dimension.

    The stacked parameters are new leaves (requiring grad as the originals do), for ``vmap`` over
    ``functional_call`` of an ensemble.
    """
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    kinds = {type(m) for m in models}
    if len(kinds) > 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    params = {n: lamina.stack([dict(m.named_parameters())[n].detach() for m in models])
              .requires_grad_(p.requires_grad) for n, p in models[0].named_parameters()}
    buffers = {n: lamina.stack([dict(m.named_buffers())[n] for m in models]) for n, _ in models[0].named_buffers()}
    return params, buffers
