"""The API reference: one page per public namespace of the core and one per first-party plugin, made at
build time. The core's names come from introspecting its public modules (``__all__`` where a module
has one, else its public attributes defined in lamina); the plugins' names come from their entry
points, so a new plugin, or a new name in one, appears without an edit to the docs. mkdocstrings
renders each name's signature and docstring (``:::`` blocks); every documented name is also returned
as an ``Item`` for the compatibility table.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import types
from dataclasses import dataclass
from pathlib import Path

from docs_entry_points import (
    BACKEND_PREFIX,
    COMPONENT_GROUPS,
    GROUP_TITLES,
    Entry,
    first_party_entries,
    slug,
    summary,
)
from docs_readme import Page
from docs_runtime import entry as entry_markdown
from docs_runtime import method_table, static_kind
from griffe_shape import ROLE

# The core's public namespaces, in torch's order of importance (module, what the page is about).
# lamina.Tensor has a page of its own; lamina.nn and friends list only what the core defines (their
# plugin-served names are on the plugins' pages).
CORE_NAMESPACES: tuple[tuple[str, str], ...] = (
    ("lamina", "tensor creation, math, reductions, shapes, dtypes, random numbers, devices, grad modes, "
               "save/load"),
    ("lamina.autograd", "Function, backward, grad, grad modes, anomaly detection"),
    ("lamina.nn", "Module, Parameter, Buffer and the containers"),
    ("lamina.nn.functional", "the functional forms the core defines"),
    ("lamina.nn.init", "initialisation functions the core defines"),
    ("lamina.nn.utils", "gradient clipping, parameter vectors"),
    ("lamina.optim", "the Optimizer base class"),
    ("lamina.optim.lr_scheduler", "the LRScheduler base class"),
    ("lamina.backends", "the backend protocol, devices, backend choice"),
    ("lamina.cuda", "CUDA device queries, seeds, memory statistics"),
    ("lamina.kernels", "the kernel registry: faster implementations of an op on one device type"),
    ("lamina.hooks", "pluggy hook specifications and registration"),
    ("lamina.plugins", "the plugin index: resolve, list and register entry points"),
    ("lamina.errors", "lamina's exception types"),
    ("lamina.return_types", "named result tuples"),
)
ROOT = Path(__file__).resolve().parents[2]
TENSOR_PAGE = "api/core/lamina-tensor.md"
OBJECT_OPTIONS = "    options:\n      heading: \"{heading}\"\n      heading_level: {level}\n"
MODULE_OPTIONS = OBJECT_OPTIONS + "      show_submodules: false\n      toc_label: \"{heading}\"\n"


@dataclass(frozen=True)
class Item:
    """A documented public name: ``namespace.name``, the distribution that provides it, and where."""

    namespace: str
    name: str
    distribution: str
    page: str
    anchor: str


def _directive(identifier: str, heading: str, level: int, module: bool = False) -> str:
    options = MODULE_OPTIONS if module else OBJECT_OPTIONS
    return f"::: {identifier}\n" + options.format(heading=heading.replace('"', '\\"'), level=level)


def _is_core(obj: object) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module == "lamina" or module.startswith("lamina.")


def core_names(module: types.ModuleType) -> list[str]:
    """The public names a core module defines: its ``__all__``, else its public attributes defined in
    lamina (a plugin-served name, a typing helper or a submodule is left out)."""
    declared = getattr(module, "__all__", None)
    # vars(), not dir(): a namespace's dir() lists its plugin-served names, and getattr would load them
    names = list(declared) if declared is not None else [n for n in vars(module) if not n.startswith("_")]
    out = []
    for name in names:
        obj = getattr(module, name, None)
        if obj is None or isinstance(obj, types.ModuleType) or not _is_core(obj):
            continue
        out.append(name)
    return sorted(out, key=str.lower)


def _documentable(path: str) -> bool:
    return static_kind(path) in ("function", "class", "module")


def identifier(module: types.ModuleType, name: str) -> str | None:
    """The path mkdocstrings is given for ``module.name``: the module's own path where its source binds the
    name to a function or class, else where the object is defined; None when static reading finds no
    function or class at either, or the object is bound under another name (``concat = cat``): those
    are written from the running object instead."""
    own = f"{module.__name__}.{name}"
    if _documentable(own):
        return own
    obj = getattr(module, name)
    qualname = getattr(obj, "__qualname__", name)
    if qualname.rsplit(".", 1)[-1] != name:  # a second name (concat = cat): its signature should say concat
        return None
    defined = f"{getattr(obj, '__module__', '')}.{qualname}"
    return defined if "<locals>" not in defined and _documentable(defined) else None


def _family(obj: object) -> str:
    """``lamina.ops.elementwise`` -> ``elementwise``: the op family a top-level function comes from."""
    module = getattr(obj, "__module__", "") or ""
    return module.rsplit(".", 1)[-1].lstrip("_") if module != "lamina" else "lamina"


def _block(module: types.ModuleType, path: str, name: str, level: int) -> tuple[str, str]:
    """(Markdown entry, anchor) for the callable ``path.name``: mkdocstrings' where it can read it."""
    public = f"{path}.{name}"
    target = identifier(module, name)
    if target:
        return _directive(target, public, level), target
    return entry_markdown(public, public, getattr(module, name), level), public


def core_page(path: str, about: str) -> tuple[Page | None, list[Item]]:
    """One core namespace's page; None when the core defines nothing there (all its names are plugins')."""
    module = importlib.import_module(path)
    uri = f"api/core/{slug(path)}.md"
    names = [n for n in core_names(module) if not (path == "lamina" and n == "Tensor")]
    if not names:
        return None, []
    constants = [n for n in names if not callable(getattr(module, n))]
    by_family: dict[str, list[str]] = {}
    for name in names:
        if name not in constants:
            by_family.setdefault(_family(getattr(module, name)), []).append(name)
    many_families = len(by_family) > 1
    doc = inspect.getdoc(module) or ""
    parts = [f"# `{path}`\n", f"{about[0].upper()}{about[1:]}. Provided by the core distribution `lamina`.\n"]
    if doc:
        parts.append(ROLE.sub(r"`\1`", doc) + "\n")
    if path == "lamina":
        parts.append(f"The tensor class and its methods: [`lamina.Tensor`]({TENSOR_PAGE.split('/')[-1]}).\n")
    items = []
    for family, family_names in sorted(by_family.items()):
        if many_families:
            parts.append(f"## {family}\n")
        for name in family_names:
            text, anchor = _block(module, path, name, 3 if many_families else 2)
            parts.append(text)
            items.append(Item(path, name, "lamina", uri, anchor))
    if constants:
        parts.append("## Constants\n\n| name | value |\n|---|---|")
        for name in constants:
            parts.append(f"| <span id=\"{path}.{name}\"></span>`{path}.{name}` | `{getattr(module, name)!r}` |")
            items.append(Item(path, name, "lamina", uri, f"{path}.{name}"))
    return Page(uri, path, "\n".join(parts) + "\n"), items


def tensor_page(same_as: dict[int, dict[str, str]]) -> tuple[Page, list[Item]]:
    """``lamina.Tensor``: the class, then a table of every public method and property (inherited from the
    op families' mixins); ``same_as``: ``id(function)`` -> link to the same function's full entry."""
    import lamina

    names, table = method_table(lamina.Tensor, "lamina.Tensor", same_as)
    text = (
        "# `lamina.Tensor`\n\nThe tensor: one class over the op families' method mixins (see the "
        "[floor plan](../../architecture.md)). Provided by the core distribution `lamina`.\n\n"
        "::: lamina.Tensor\n    options:\n      heading: \"lamina.Tensor\"\n      heading_level: 2\n"
        "      members: false\n\n"
        f"## Methods and properties\n\n{len(names)} public names; a method that is also a function "
        "links to the function's entry.\n\n" + table
    )
    items = [Item("lamina.Tensor", n, "lamina", TENSOR_PAGE, f"lamina.Tensor.{n}") for n in names]
    return Page(TENSOR_PAGE, "lamina.Tensor", text), [Item("lamina", "Tensor", "lamina", TENSOR_PAGE,
                                                           "lamina.Tensor"), *items]


def _entry_block(entry: Entry) -> tuple[str, str]:
    """(Markdown entry, anchor) for one entry point's object."""
    if entry.group == "lamina.cli":
        help_text = getattr(_load(entry), "help", "") or ""
        anchor = f"cli-{slug(entry.name)}"
        return f"- <span id=\"{anchor}\"></span>`{entry.public_name}`: {help_text} (`{entry.value}`)\n", anchor
    if _documentable(entry.target):
        module = entry.group == "lamina.namespaces" or not entry.attr
        return _directive(entry.target, entry.public_name, 3, module=module), entry.target
    return entry_markdown(entry.public_name, entry.public_name, _load(entry), 3), entry.public_name


def source_folder(package: str) -> str | None:
    """``plugins/layers_basic`` for a package installed from this checkout (editable), else None."""
    spec = importlib.util.find_spec(package)
    origin = Path(spec.origin).resolve() if spec and spec.origin else None
    if origin is None or not origin.is_relative_to(ROOT):
        return None
    relative = origin.relative_to(ROOT).parts
    return "/".join(relative[:2]) if relative[0] == "plugins" else None


def _load(entry: Entry) -> object:
    module = importlib.import_module(entry.module)
    return getattr(module, entry.attr) if entry.attr else module


def _group_rank(group: str) -> int:
    """Sections in the order users meet them: components, then namespaces, backends, subcommands."""
    order = [*GROUP_TITLES, BACKEND_PREFIX]
    return next((i for i, g in enumerate(order) if group == g or group.startswith(BACKEND_PREFIX) and
                 g == BACKEND_PREFIX), len(order))


def _section_title(group: str) -> str:
    if group.startswith(BACKEND_PREFIX):
        return f"Backend for device `{group[len(BACKEND_PREFIX):]}`"
    title = GROUP_TITLES.get(group, f"Group `{group}`")
    where = COMPONENT_GROUPS.get(group)
    return f"{title} (`{where}`)" if where else title


def plugin_page(distribution: str, entries: list[Entry]) -> tuple[Page, list[Item]]:
    """A plugin's page: one section per entry-point group, one rendered entry per name."""
    uri = f"api/plugins/{slug(distribution)}.md"
    parts = [f"# `{distribution}`\n"]
    about = summary(distribution)
    if about:
        parts.append(f"{about}\n")
    folder = source_folder(entries[0].module.split(".")[0])
    parts.append(f"Install: `pip install {distribution}`" + (f" (in a checkout: `pip install -e {folder}`)" if folder
                                                            else "") + ".\n")
    items = []
    groups: dict[str, list[Entry]] = {}
    for entry in sorted(entries, key=lambda e: (_group_rank(e.group), e.group)):
        groups.setdefault(entry.group, []).append(entry)
    collections = [e for e in entries if not e.documented]
    for group, group_entries in groups.items():
        shown = [e for e in group_entries if e.documented]
        if not shown:
            continue
        parts.append(f"## {_section_title(group)}\n")
        for entry in shown:
            text, anchor = _entry_block(entry)
            parts.append(text)
            namespace, _, name = entry.public_name.rpartition(".")
            if entry.group in COMPONENT_GROUPS:
                items.append(Item(namespace, name, distribution, uri, anchor))
            elif entry.group == "lamina.namespaces":
                items.append(Item("lamina.namespaces", entry.public_name, distribution, uri, anchor))
    if collections:
        parts.append("## Contributions to collections\n\nEntries of groups whose every entry is used "
                     "(conformance-kit records, hooks, kernel packs):\n")
        parts.extend(f"- `{e.group}`: `{e.name}` = `{e.value}`" for e in collections)
    return Page(uri, distribution, "\n".join(parts) + "\n"), items


def api_pages() -> tuple[list[Page], list[Page], list[Item]]:
    """(core pages, plugin pages, every documented item)."""
    core, items = [], []
    for path, about in CORE_NAMESPACES:
        page, page_items = core_page(path, about)
        if page is not None:
            core.append(page)
            items.extend(page_items)
        if path == "lamina":
            top = importlib.import_module("lamina")
            same_as: dict[int, dict[str, str]] = {}
            for i in page_items:
                same_as.setdefault(id(getattr(top, i.name)), {})[i.name] = f"[`lamina.{i.name}`](lamina.md#{i.anchor})"
            page, page_items = tensor_page(same_as)
            core.append(page)
            items.extend(page_items)
    plugins = []
    for distribution, entries in first_party_entries().items():
        page, page_items = plugin_page(distribution, entries)
        plugins.append(page)
        items.extend(page_items)
    return core, plugins, items


def api_index(core: list[Page], plugins: list[Page]) -> Page:
    """The reference's front page: the core's namespaces and the installed first-party plugins."""
    about = dict(CORE_NAMESPACES)
    lines = ["# API reference\n", "Signatures and docstrings of every public name, generated at build time: "
             "the core's namespaces by introspection, the plugins' names from their entry points.\n",
             "## The core (`lamina`)\n"]
    for page in core:
        lines.append(f"- [`{page.title}`]({page.src_uri.removeprefix('api/')})"
                     + (f": {about[page.title]}" if page.title in about else ""))
    lines.append("\n## First-party plugins\n")
    for page in plugins:
        text = summary(page.title)
        lines.append(f"- [`{page.title}`]({page.src_uri.removeprefix('api/')})" + (f": {text}" if text else ""))
    return Page("api/index.md", "Overview", "\n".join(lines) + "\n")
