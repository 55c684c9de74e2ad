"""Environment controls of the plugin index, read at first use (never at import)."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

from .._base.errors import PluginConfigError

ENV_AUTOLOAD = "LAMINA_PLUGIN_AUTOLOAD"
ENV_ALLOW = "LAMINA_PLUGINS"
ENV_BLOCK = "LAMINA_DISABLE_PLUGINS"
ENV_STRICT = "LAMINA_STRICT_PLUGINS"
ENV_TRACE = "LAMINA_TRACE_PLUGINS"
ENV_PREFER = "LAMINA_PREFER"
ENV_BACKENDS = "LAMINA_BACKENDS"
ALL_ENV = (ENV_AUTOLOAD, ENV_ALLOW, ENV_BLOCK, ENV_STRICT, ENV_TRACE, ENV_PREFER, ENV_BACKENDS)

CORE_DISTRIBUTION = "lamina"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def normalize(name: str) -> str:
    """PEP 503 normalisation: ``Lamina_Layers.Basic`` -> ``lamina-layers-basic``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def is_first_party(distribution: str) -> bool:
    key = normalize(distribution)
    return key == CORE_DISTRIBUTION or key.startswith(CORE_DISTRIBUTION + "-")


def _flag(env: Mapping[str, str], var: str, default: bool) -> bool:
    raw = env.get(var, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise PluginConfigError(f"{var} must be one of {_TRUE + _FALSE}, got {raw!r}")


def _dist_list(env: Mapping[str, str], var: str) -> frozenset[str] | None:
    raw = env.get(var, "")
    items = [p.strip() for p in raw.split(",") if p.strip()]
    return frozenset(normalize(p) for p in items) if items else None


def _pairs(env: Mapping[str, str], var: str, example: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (p.strip() for p in env.get(var, "").split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise PluginConfigError(f"{var}: expected comma-separated entries like {example!r}, got {part!r}")
        out[key.strip()] = value.strip()
    return out


@dataclass(frozen=True)
class Settings:
    autoload: bool = True
    allow: frozenset[str] | None = None  # normalised distribution names; None = everything allowed
    block: frozenset[str] = frozenset()
    strict: bool = False
    trace: bool = False
    prefer: dict[str, str] = field(default_factory=dict)  # name -> normalised distribution
    backends: dict[str, str] = field(default_factory=dict)  # device_type -> backend name

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        prefer = _pairs(env, ENV_PREFER, "Linear=lamina-layers-basic")
        return cls(
            autoload=_flag(env, ENV_AUTOLOAD, True),
            allow=_dist_list(env, ENV_ALLOW),
            block=_dist_list(env, ENV_BLOCK) or frozenset(),
            strict=_flag(env, ENV_STRICT, False),
            trace=_flag(env, ENV_TRACE, False),
            prefer={name: normalize(dist) for name, dist in prefer.items()},
            backends=_pairs(env, ENV_BACKENDS, "cpu=numpy"),
        )

    def blocked_by(self, distribution: str) -> str | None:
        """The control that blocks ``distribution``, or None when it may load."""
        key = normalize(distribution)
        if key in self.block:
            return ENV_BLOCK
        if self.allow is not None and key not in self.allow and key != CORE_DISTRIBUTION:
            return ENV_ALLOW
        return None

    def as_dict(self) -> dict[str, object]:
        return {
            "autoload": self.autoload,
            "allow": sorted(self.allow) if self.allow is not None else None,
            "block": sorted(self.block),
            "strict": self.strict,
            "trace": self.trace,
            "prefer": dict(self.prefer),
            "backends": dict(self.backends),
        }


def trace(message: str) -> None:
    print(f"lamina.plugins: {message}", file=sys.stderr, flush=True)
