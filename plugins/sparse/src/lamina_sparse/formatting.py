"""``repr`` of sparse tensors in torch's layout::

    tensor(indices=tensor([[0, 1],
                           [2, 0]]),
           values=tensor([1., 2.]),
           size=(2, 3), nnz=2, layout=lamina.sparse_coo)

The inner arrays are lamina's own tensor reprs, re-indented; the suffixes follow torch's rule (COO:
on a new line; then each on the same line while it fits in 80 columns). The inner wrap width is a
top-level tensor's, so very long value rows may wrap at other points than torch's.
"""

from __future__ import annotations

import lamina
from lamina import Tensor

_PREFIX = "tensor("
_LINE_WIDTH = 80


def _array_text(t: Tensor, label: str) -> str:
    """``label=tensor([...])`` for the inner tensor, continuation lines aligned under its first element."""
    r = repr(t.detach())
    body = r[len(_PREFIX):]
    body = body[:body.rfind("]") + 1]
    if t.numel() == 0:
        body += f", size={tuple(t.shape)}"
    pad = " " * (len(label) + 1)
    return f"{label}={_PREFIX}" + body.replace("\n", "\n" + pad) + ")"


def _suffixes(t: Tensor, size: tuple[int, ...], nnz: int, layout: object) -> list[str]:
    out = []
    if t.device.type != "cpu":
        out.append(f"device='{t.device}'")
    out += [f"size={tuple(size)}", f"nnz={nnz}"]
    if t.dtype not in (lamina.get_default_dtype(), lamina.int64, lamina.bool):
        out.append(f"dtype={t.dtype!r}")
    out.append(f"layout={layout!r}")
    if t.grad_fn is not None:
        out.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        out.append("requires_grad=True")
    return out


def _join(text: str, suffixes: list[str], force_newline: bool) -> str:
    indent = len(_PREFIX)
    parts = [text]
    last = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        if force_newline or last + len(s) + 2 > _LINE_WIDTH:
            parts.append(",\n" + " " * indent + s)
            last = indent + len(s)
            force_newline = False
        else:
            parts.append(", " + s)
            last += len(s) + 2
    return "".join(parts) + ")"


def _block(items: list[tuple[str, Tensor]]) -> str:
    pad = " " * len(_PREFIX)
    lines = [_array_text(t, label).replace("\n", "\n" + pad) for label, t in items]
    text = _PREFIX + (",\n" + pad).join(lines)
    return "\n".join(line if line.strip() else "" for line in text.split("\n"))   # blank lines stay empty


def coo_repr(t: Tensor) -> str:
    text = _block([("indices", t._indices()), ("values", t._vals)])
    return _join(text, _suffixes(t, t._size, t._nnz(), lamina.sparse_coo), force_newline=True)


def compressed_repr(t: Tensor) -> str:
    """CSR/CSC/BSR/BSC: the compressed and plain indices under their layout's names, then the values."""
    from .compressed import LAYOUTS

    _, _, cname, pname, _ = LAYOUTS[t._layout_key]
    text = _block([(cname, lamina.as_tensor(t._cidx, device=t.device)),
                   (pname, lamina.as_tensor(t._pidx, device=t.device)), ("values", t._vals)])
    return _join(text, _suffixes(t, t._size, t._nnz(), t.layout), force_newline=False)
