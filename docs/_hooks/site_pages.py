"""mkdocs hook: generates the site's pages at build time and builds the navigation from them.

Nothing generated is written into the checkout: the pages are virtual files (``File.generated``). What
the site holds:

- the home page and the guide: README.md cut at its ``## `` headings (``docs_readme``), and
  examples/README.md;
- the plugin-authoring guide: the README's "Writing a plugin" section and the example plugin's files;
- the compatibility table (``docs_compat``) and the API reference (``docs_api``), from the core's
  public namespaces and the installed first-party plugins' entry points;
- the hand-written pages under docs/ (architecture.md), as they are.

mkdocs.yml names this file under ``hooks:``; ``mkdocs build --strict`` alone does everything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docs_api import api_index, api_pages
from docs_compat import compat_page
from docs_readme import Page, example_plugin_page, examples_page, readme_pages
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
# README sections that the nav files under "Plugin authoring" rather than "Guide" (matched by prefix)
PLUGIN_GUIDE_PREFIXES = ("writing a plugin",)
DECISIONS_PREFIX = "decisions"

_pages: list[Page] = []


def _site_files(docs_dir: Path) -> dict[str, str]:
    """repository path -> site page, for the hand-written pages under docs/."""
    return {f"docs/{p.relative_to(docs_dir).as_posix()}": p.relative_to(docs_dir).as_posix()
            for p in docs_dir.rglob("*.md") if not p.relative_to(docs_dir).as_posix().startswith("_")}


def _title(path: Path) -> str:
    """A hand-written page's nav title: its first heading, without a leading "lamina's"."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            title = line[2:].strip()
            return title.removeprefix("lamina's ").strip().capitalize()
    return path.stem.replace("-", " ").capitalize()


def _nav_entry(page: Page) -> dict[str, str]:
    return {page.title: page.src_uri}


def on_config(config: MkDocsConfig, **kwargs: Any) -> MkDocsConfig:
    """Make every page once per build and set the nav (mkdocs.yml holds none)."""
    docs_dir = Path(config.docs_dir)
    site_files = _site_files(docs_dir)
    home, sections = readme_pages(ROOT, site_files)
    examples = examples_page(ROOT, site_files)
    core, plugins, items = api_pages()
    decisions = next((p.src_uri for p in sections if p.title.lower().startswith(DECISIONS_PREFIX)), None)
    compat = compat_page(items, decisions)
    index = api_index(core, plugins)

    authoring = [p for p in sections if p.title.lower().startswith(PLUGIN_GUIDE_PREFIXES)]
    example_plugin = example_plugin_page(ROOT, authoring[0] if authoring else None)
    guide = [p for p in sections if p not in authoring]
    hand_written = [{_title(docs_dir / uri): uri} for uri in sorted(site_files.values())]
    extra = [p for p in (examples, example_plugin) if p is not None]
    _pages[:] = [home, *sections, *extra, compat, index, *core, *plugins]
    config.nav = [
        _nav_entry(home),
        {"Guide": [_nav_entry(p) for p in guide] + ([_nav_entry(examples)] if examples else [])},
        {"Plugin authoring": [_nav_entry(p) for p in authoring] + ([_nav_entry(example_plugin)] if example_plugin
                                                                  else []) + hand_written},
        _nav_entry(compat),
        {"API reference": [_nav_entry(index), {"Core": [_nav_entry(p) for p in core]},
                           {"Plugins": [_nav_entry(p) for p in plugins]}]},
    ]
    return config


def on_files(files: Files, config: MkDocsConfig, **kwargs: Any) -> Files:
    """Add the generated pages as virtual files."""
    for page in _pages:
        existing = files.get_file_from_path(page.src_uri)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, page.src_uri, content=page.markdown))
    return files
