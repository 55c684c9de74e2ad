"""The compatibility table: which torch names lamina provides, and which distribution provides each.

Made at build time from the same items as the API reference (the core's public namespaces and the
first-party plugins' entry points), so it lists exactly what is installed and documented; every name
links to its API entry (strict builds check those anchors).
"""

from __future__ import annotations

from docs_api import Item
from docs_readme import Page

# lamina namespaces that mirror a torch namespace of the same path (lamina.nn <-> torch.nn, ...)
MIRRORED = ("lamina", "lamina.Tensor", "lamina.autograd", "lamina.nn", "lamina.nn.functional", "lamina.nn.init",
            "lamina.nn.utils", "lamina.optim", "lamina.optim.lr_scheduler", "lamina.cuda", "lamina.return_types")
URI = "compatibility.md"


def _torch_name(namespace: str) -> str:
    return "torch" + namespace[len("lamina"):]


def _link(item: Item, label: str) -> str:
    return f"[`{label}`]({item.page}#{item.anchor})"


def _rows(namespace: str, items: list[Item], mirrored: bool = True) -> list[str]:
    """One row per name (a row each keeps Markdown's inline pass short: one long row is quadratic)."""
    label = _torch_name(namespace) if mirrored else namespace
    rows = [f"| {'torch' if mirrored else 'lamina'} name | API entry | provided by |", "|---|---|---|"]
    for item in sorted(items, key=lambda i: (i.distribution != "lamina", i.distribution, i.name.lower())):
        dist = "`lamina` (core)" if item.distribution == "lamina" else f"`{item.distribution}`"
        rows.append(f"| `{label}.{item.name}` | {_link(item, item.name)} | {dist} |")
    return rows


def compat_page(items: list[Item], decisions_uri: str | None = None) -> Page:
    """The page: a summary, one table per torch namespace, then lamina's own namespaces and modules.

    ``decisions_uri``: the page that lists lamina's deliberate differences from PyTorch, if any.
    """
    by_ns: dict[str, list[Item]] = {}
    for item in items:
        by_ns.setdefault(item.namespace, []).append(item)
    mirrored = [ns for ns in MIRRORED if ns in by_ns] + sorted(
        ns for ns in by_ns if ns not in MIRRORED and ns != "lamina.namespaces" and _plugin_only(by_ns[ns]))
    own = sorted(ns for ns in by_ns if ns not in mirrored and ns != "lamina.namespaces")
    lines = [
        "# Compatibility with PyTorch\n",
        "lamina mirrors PyTorch 2.13's public API (`import lamina as torch`): each lamina name below "
        "answers to the torch name of the same path. The tables are generated at build time from the core's "
        "public namespaces and the installed first-party plugins' entry points; each name links to its "
        "API entry."
        + (f" Where lamina deliberately differs, see [the decisions]({decisions_uri})." if decisions_uri else "")
        + "\n",
        "| torch namespace | names lamina provides | provided by |",
        "|---|---|---|",
    ]
    for ns in mirrored:
        dists = sorted({i.distribution for i in by_ns[ns]}, key=lambda d: (d != "lamina", d))
        anchor = ns.replace(".", "-").lower()
        lines.append(f"| [`{_torch_name(ns)}`](#{anchor}) | {len(by_ns[ns])} | "
                     + ", ".join(f"`{d}`" for d in dists) + " |")
    for ns in mirrored:
        lines += ["", f"## `{_torch_name(ns)}` {{ #{ns.replace('.', '-').lower()} }}", "",
                  f"As `{ns}`.", "", *_rows(ns, by_ns[ns])]
    if own:
        lines += ["", "## lamina's own namespaces", "",
                  "No torch counterpart of the same path (lamina's plugin index, kernels, hooks, errors, "
                  "backends).", ""]
        for ns in own:
            lines += [f"### `{ns}`", "", *_rows(ns, by_ns[ns], mirrored=False), ""]
    modules = by_ns.get("lamina.namespaces", [])
    if modules:
        lines += ["", "## Modules served by plugins", "",
                  "Whole modules a plugin serves under lamina's name (entry-point group `lamina.namespaces`):",
                  "", "| module | distribution |", "|---|---|"]
        lines += [f"| {_link(i, i.name)} | `{i.distribution}` |" for i in sorted(modules, key=lambda i: i.name)]
    return Page(URI, "Compatibility table", "\n".join(lines) + "\n")


def _plugin_only(items: list[Item]) -> bool:
    """A namespace only plugins fill (none of the core's): it still mirrors torch's, by lamina's rule."""
    return all(i.distribution != "lamina" for i in items)
