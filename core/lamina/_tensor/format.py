"""``repr(tensor)`` in PyTorch's layout: ``tensor([[ 0.1000, -2.0000]], requires_grad=True)``."""

from __future__ import annotations

import math

import numpy as np

from .._base import dtype as _dtype

#: the print options (``lamina.set_printoptions``); ``sci_mode`` None chooses from the values, as torch
OPTIONS: dict = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, math.inf, 3, 80)}


def set_printoptions(precision: int | None = None, threshold: float | None = None, edgeitems: int | None = None,
                     linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Set how tensors print: digits, the element count that triggers summarising, the items kept at
    each end when summarising, the line width, a profile ("default", "short", "full") and sci_mode."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {list(_PROFILES)}, got {profile!r}")
        OPTIONS.update(zip(("precision", "threshold", "edgeitems", "linewidth"), _PROFILES[profile]))
    for key, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                       ("linewidth", linewidth)):
        if value is not None:
            OPTIONS[key] = value
    OPTIONS["sci_mode"] = sci_mode


def _formatter(a: np.ndarray):
    """A function formatting one element, chosen from the values as PyTorch chooses (fixed/sci/int)."""
    kind = a.dtype.kind
    if kind == "b":
        return lambda v: "True" if v else "False"
    if kind in "iu":
        return lambda v: str(int(v))
    finite = a[np.isfinite(a)].astype(np.float64)
    nonzero = np.abs(finite[finite != 0])
    p, forced = OPTIONS["precision"], OPTIONS["sci_mode"]
    if finite.size and np.all(finite == np.round(finite)):
        auto = bool(nonzero.size and (nonzero.max() / nonzero.min() > 1000.0 or nonzero.max() > 1e8))
        if (auto if forced is None else forced):
            return lambda v: _sci(v, p)
        return lambda v: (f"{v:.0f}." if math.isfinite(v) else _special(v))
    auto = bool(nonzero.size and (nonzero.max() / nonzero.min() > 1000.0 or nonzero.max() > 1e8
                                  or nonzero.min() < 1e-4))
    if (auto if forced is None else forced):
        return lambda v: _sci(v, p)
    return lambda v: (f"{v:.{p}f}" if math.isfinite(v) else _special(v))


def _sci(v: float, precision: int) -> str:
    return f"{v:.{precision}e}" if math.isfinite(v) else _special(v)


def _special(v: float) -> str:
    return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def _summarize(a: np.ndarray) -> np.ndarray:
    e = OPTIONS["edgeitems"]
    if a.ndim == 0:
        return a
    if a.shape[0] > 2 * e:
        a = np.concatenate([a[:e], a[-e:]])
    return np.stack([_summarize(x) for x in a]) if a.ndim > 1 else a


def _complex_formatter(a: np.ndarray):
    """PyTorch's complex elements: the real and imaginary parts formatted each on its own (as a real
    tensor of those values), padded to their widths, joined with the sign: ``1.+2.0000j``, ``-0.-0.5000j``."""
    parts = []
    for p in (a.real, a.imag):
        f = _formatter(p)
        shown = p[np.isfinite(p) & (p != 0)].tolist()
        parts.append((f, max([len(f(v)) for v in shown], default=1)))
    (fr, wr), (fi, wi) = parts

    def fmt(v: complex) -> str:
        im = (fi(v.imag).rjust(wi) + "j").lstrip()
        return fr(v.real).rjust(wr) + ("" if im[0] in "+-" else "+") + im

    return fmt, wr + wi + 1


def _fmt(a: np.ndarray, fmt, width: int, indent: int, summarize: bool) -> str:
    if a.dtype.kind == "c":  # complex elements are padded part by part, not as a whole
        width, pad = 0, width
    else:
        pad = width
    if a.ndim == 0:
        return fmt(a.item()).rjust(width)
    n, e = a.shape[0], OPTIONS["edgeitems"]
    cut = summarize and n > 2 * e
    idx = list(range(e)) + [None] + list(range(n - e, n)) if cut else list(range(n))
    if a.ndim == 1:
        items = [" ..." if i is None else fmt(a[i].item()).rjust(width) for i in idx]  # PyTorch pads it
        per_line = max(1, (OPTIONS["linewidth"] - indent) // (pad + 2))
        lines = [", ".join(items[k:k + per_line]) for k in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    sep = "," + "\n" * (a.ndim - 1) + " " * (indent + 1)
    parts = ["..." if i is None else _fmt(a[i], fmt, pad, indent + 1, summarize) for i in idx]
    return "[" + sep.join(parts) + "]"


def format_array(a: np.ndarray, indent: int) -> str:
    summarize = a.size > OPTIONS["threshold"]
    if a.size == 0:
        return "[]" if a.ndim == 1 or a.ndim == 0 else "[]"
    shown = _summarize(a) if summarize else a
    if a.dtype.kind == "c":
        fmt, width = _complex_formatter(shown)
        return _fmt(a, fmt, width, indent, summarize)
    fmt = _formatter(shown)
    width = max(len(fmt(v)) for v in shown.reshape(-1).tolist()) if shown.size else 0
    return _fmt(a, fmt, width, indent, summarize)


def tensor_repr(t) -> str:
    prefix = "tensor("
    host = np.asarray(t._device.backend.to_host(t._data))
    body = format_array(host, len(prefix))
    suffix = []
    if t._device.type != "cpu":
        suffix.append(f"device='{t._device}'")
    dt = t.dtype
    default_ok = dt is _dtype.get_default_dtype() or dt is _dtype.int64 or dt is _dtype.bool_ or \
        dt is _dtype.get_default_complex_dtype()
    if host.size == 0 and host.ndim != 1:
        suffix.append(f"size={tuple(host.shape)}")
        default_ok = default_ok and True
    if not default_ok or (host.size == 0 and dt is not _dtype.get_default_dtype()):
        suffix.append(f"dtype={dt!r}")
    if t._node is not None:
        suffix.append(f"grad_fn=<{t._node.name()}>")
    elif t._requires_grad:
        suffix.append("requires_grad=True")
    for s in suffix:  # a suffix that would overflow the last line goes on a line of its own, as torch's
        last = len(body) - body.rfind("\n") + 1
        body += (",\n" + " " * len(prefix) if last + len(s) + 2 > OPTIONS["linewidth"] else ", ") + s
    return prefix + body + ")"
