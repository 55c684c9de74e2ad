"""README.md, examples/README.md and the example third-party plugin's files as site pages, read at build
time so they never go stale.

The README's text before its first ``## `` heading becomes the home page; each ``## `` section becomes
a page of its own (its ``###`` headings move up one level). Links are rewritten for the site: a link to
another section goes to that section's page, a link to a file the site has (``docs/*.md``) to that
page, and a link to any other file of the repository becomes its text plus the path in code (the
site does not carry source files, and strict mode fails on a link to a missing page).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from docs_entry_points import slug
from markdown.extensions.toc import slugify as toc_slug

FENCE = re.compile(r"^\s*(```|~~~)")
LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]+)\]\((?P<target>[^)\s]+)\)")


@dataclass(frozen=True)
class Page:
    """A generated page: where it lives in the site (``src_uri``), its nav title and its Markdown."""

    src_uri: str
    title: str
    markdown: str


def split_sections(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Markdown -> (text before the first ``## ``, [(heading, body), ...]); fenced code is not split."""
    intro: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    in_fence = False
    for line in text.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        if not in_fence and line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif sections:
            sections[-1][1].append(line)
        else:
            intro.append(line)
    return "\n".join(intro), [(title, "\n".join(body).strip("\n")) for title, body in sections]


def promote_headings(body: str) -> str:
    """``### x`` -> ``## x`` (and deeper likewise) outside fenced code: the section title is the h1."""
    out, in_fence = [], False
    for line in body.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        if not in_fence and re.match(r"^#{3,6} ", line):
            line = line[1:]
        out.append(line)
    return "\n".join(out)


def rewrite_links(body: str, page_uri: str, anchors: dict[str, str], site_files: dict[str, str],
                  base: str = "") -> str:
    """Point a section's links at site pages (see the module docstring); external links are kept.

    ``anchors``: heading slug -> page uri; ``site_files``: repository path -> page uri; ``base``: the
    repository folder the text's relative links start from.
    """
    depth = page_uri.count("/")

    def relative(uri: str) -> str:
        return "../" * depth + uri

    def replace(match: re.Match[str]) -> str:
        text, target = match["text"], match["target"]
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            return match[0]
        path, _, fragment = target.partition("#")
        if not path:
            uri = anchors.get(_anchor_key(fragment))
            return f"[{text}]({relative(uri)})" if uri else text
        path = posixpath.normpath(posixpath.join(base, path))
        if path in site_files:
            return f"[{text}]({relative(site_files[path])}{'#' + fragment if fragment else ''})"
        return text if f"`{path}`" in text else f"{text} (`{path}`)"

    out, in_fence = [], False
    for line in body.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        out.append(line if in_fence else LINK.sub(replace, line))
    return "\n".join(out)


def _anchor_key(text: str) -> str:
    """A heading or a link's fragment -> one key (GitHub's and Python-Markdown's slugs agree on it)."""
    return re.sub(r"-+", "-", toc_slug(text, "-"))


def _subheadings(body: str) -> list[str]:
    """The ``###``.. headings of a section, outside fenced code."""
    found, in_fence = [], False
    for line in body.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (match := re.match(r"^#{3,6} (.+?)\s*#*$", line)):
            found.append(match[1])
    return found


def readme_pages(root: Path, site_files: dict[str, str]) -> tuple[Page, list[Page]]:
    """The home page and one page per ``## `` section of README.md, under ``guide/``."""
    intro, sections = split_sections((root / "README.md").read_text(encoding="utf-8"))
    uris: list[str] = []
    for title, _ in sections:  # a second section of the same slug gets -2, a third -3, ...
        base = slug(title) or "section"
        uri, n = f"guide/{base}.md", 1
        while uri in uris:
            n += 1
            uri = f"guide/{base}-{n}.md"
        uris.append(uri)
    anchors: dict[str, str] = {}
    for (title, body), uri in reversed(list(zip(sections, uris))):  # the first of two equal slugs wins
        anchors[_anchor_key(title)] = uri
        anchors.update({_anchor_key(h): f"{uri}#{toc_slug(h, '-')}" for h in _subheadings(body)})
    pages = []
    for (title, body), uri in zip(sections, uris):
        text = rewrite_links(promote_headings(body), uri, anchors, site_files)
        pages.append(Page(uri, title, f"# {title}\n\n{text}\n"))
    home_text = rewrite_links(intro, "index.md", anchors, site_files)
    contents = "\n".join(f"- [{page.title}]({page.src_uri})" for page in pages)
    home = Page("index.md", "Home", f"{home_text.strip()}\n\n## Contents\n\n{contents}\n\n"
                "Also: the [compatibility table](compatibility.md) (which torch names lamina provides, "
                "and from which distribution) and the [API reference](api/index.md).\n")
    return home, pages


def examples_page(root: Path, site_files: dict[str, str]) -> Page | None:
    """examples/README.md as one page (its first heading is the title), or None if there is none."""
    path = root / "examples" / "README.md"
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    first = re.search(r"^# (.+)$", text, flags=re.MULTILINE)
    title = first[1].strip() if first else "Examples"
    body = text[first.end():] if first else text
    uri = "guide/examples.md"
    return Page(uri, title, f"# {title}\n{rewrite_links(body, uri, {}, site_files, base='examples')}\n")


EXAMPLE_PLUGIN = Path("examples") / "third_party_plugin"
LANGUAGES = {".py": "python", ".toml": "toml", ".md": "markdown", ".cfg": "ini"}


def example_plugin_page(root: Path, guide: Page | None) -> Page | None:
    """The worked example of the plugin guide (``guide``, a page under guide/): every source file of
    examples/third_party_plugin (its pyproject.toml first), shown whole; None if the folder is missing."""
    folder = root / EXAMPLE_PLUGIN
    if not (folder / "pyproject.toml").is_file():
        return None
    files = sorted((p for p in folder.rglob("*") if p.is_file() and p.suffix in LANGUAGES
                    and not any(part.startswith((".", "__")) or part.endswith(".egg-info")
                                for part in p.relative_to(folder).parts)),
                   key=lambda p: (p.name != "pyproject.toml", p.relative_to(folder).as_posix()))
    walked = f"the plugin that [{guide.title}]({guide.src_uri.removeprefix('guide/')}) walks through" if guide \
        else "a plugin outside lamina's tree"
    parts = ["# Worked example: a third-party plugin\n",
             f"The files of `{EXAMPLE_PLUGIN.as_posix()}`, {walked}: its entry points, its components, their "
             "info records for the conformance kit and its own tests.\n"]
    for path in files:
        relative = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8").rstrip("\n")
        fence = "````" if "```" in text else "```"
        parts.append(f"## `{path.relative_to(folder).as_posix()}`\n\n"
                     f"{fence}{LANGUAGES[path.suffix]} title=\"{relative}\"\n{text}\n{fence}\n")
    return Page("guide/example-plugin.md", "Worked example", "\n".join(parts))
