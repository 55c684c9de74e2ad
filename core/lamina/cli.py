"""The ``lamina`` command line (also ``python -m lamina``).

Subcommands are registered in ``COMMANDS`` with the ``@command`` decorator. To add one from
another module (``lamina check <dist>``, for instance), decorate its function there and add the
module's name to ``COMMAND_MODULES``; it is imported only when the parser is built::

    @lamina.cli.command("check", help="run the conformance kit on a distribution",
                        configure=lambda p: p.add_argument("distribution"))
    def _check(args: argparse.Namespace) -> int:
        ...
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from .errors import PluginError


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {}

# Modules that define more subcommands with @command; imported when the parser is built.
COMMAND_MODULES: tuple[str, ...] = ("lamina.testing.cli_check",)


def command(name: str, *, help: str, configure: Callable[[argparse.ArgumentParser], None] | None = None):
    """Register the decorated ``run(args) -> int`` as the subcommand ``name``."""
    def decorate(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        COMMANDS[name] = Command(name, help, configure or (lambda parser: None), run)
        return run

    return decorate


def build_parser() -> argparse.ArgumentParser:
    for module in COMMAND_MODULES:
        try:
            importlib.import_module(module)
        except Exception as exc:  # one broken subcommand must not take the whole CLI down
            print(f"lamina: could not load subcommands from {module}: {type(exc).__name__}: {exc}",
                  file=sys.stderr)
    parser = argparse.ArgumentParser(prog="lamina", description="lamina command line")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in COMMANDS.values():
        cmd.configure(sub.add_parser(cmd.name, help=cmd.help, description=cmd.help))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command].run(args)
    except PluginError as exc:
        print(f"lamina {args.command}: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


# --- lamina plugins -------------------------------------------------------------------------------

_PROBLEM_STATES = ("failed", "conflicting", "blocked", "ignored", "shadowed")


def _core_version() -> str:
    import importlib_metadata

    try:
        return importlib_metadata.version("lamina")
    except importlib_metadata.PackageNotFoundError:
        return "(not installed; running from source)"


def _wrap(words: list[str], indent: str) -> list[str]:
    return textwrap.wrap(" ".join(words), width=100, initial_indent=indent, subsequent_indent=indent)


def _format_dist(d) -> list[str]:
    kind = "first party" if d.first_party else ("in-process" if d.location is None else "third party")
    lines = [f"{d.name} {d.version}".rstrip() + f"  [{kind}]"]
    if d.location is not None:
        where = f"  location: {d.location}"
        if d.editable:
            where += f"  (editable: {d.source})"
        elif d.source:
            where += f"  (from {d.source})"
        lines.append(where)
        lines.append(f"  plugin API: {d.plugin_api}")
    if d.blocked_by:
        lines.append(f"  BLOCKED by {d.blocked_by}")
    lines += [f"  note: {n}" for n in d.notes]
    groups: dict[str, list] = {}
    for n in d.names:
        groups.setdefault(n.group, []).append(n)
    for group, names in groups.items():
        lines.append(f"  {group}:")
        for state in ("loaded", "available"):
            plain = [n.name for n in names if n.state == state]
            if plain:
                lines += _wrap([f"{state} ({len(plain)}):"] + plain, "    ")
        for n in names:
            if n.state in _PROBLEM_STATES:
                lines.append(f"    {n.name}: {n.state.upper()}: {n.reason}")
            elif n.reason:
                lines.append(f"    {n.name}: warning: {n.reason}")
    return lines


def _backend_lines(records) -> list[str]:
    rows = []
    for d in records:
        for n in d.names:
            if not n.group.startswith("lamina.backends."):
                continue
            device = n.group.removeprefix("lamina.backends.")
            if n.probe is not None:
                verdict = ("ok" if n.probe[0] else "unavailable") + (f": {n.probe[1]}" if n.probe[1] else "")
            else:
                verdict = f"{n.state}" + (f": {n.reason}" if n.reason else "")
            rows.append(f"  {device:<6} {n.name:<10} {d.name} {d.version}".rstrip() + f"  {verdict}")
    return rows or ["  (none installed)"]


def _configure_plugins(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--no-load", dest="load", action="store_false",
                        help="read metadata only (backends are still loaded to be probed)")


@command("plugins", help="list installed plugins, their names and states, backends and failures",
         configure=_configure_plugins)
def _plugins_command(args: argparse.Namespace) -> int:
    from . import plugins
    from .plugins import _registry

    records = plugins.status(load=args.load)
    problems = plugins.problems()
    settings = _registry.settings()
    failed = sum(n.state == "failed" for d in records for n in d.names)
    if args.json:
        payload = {
            "lamina": {"version": _core_version(), "plugin_api": plugins.PLUGIN_API_VERSION},
            "settings": settings.as_dict(),
            "distributions": [dataclasses.asdict(d) for d in records],
            "problems": problems,
        }
        print(json.dumps(payload, indent=2))
    else:
        lines = [f"lamina {_core_version()} (plugin API {plugins.PLUGIN_API_VERSION})",
                 "settings: " + ", ".join(f"{k}={v}" for k, v in settings.as_dict().items()), ""]
        if not records:
            lines.append("no plugin distributions found")
        for d in records:
            lines += _format_dist(d) + [""]
        lines += ["backends:"] + _backend_lines(records)
        if problems or failed:
            lines += ["", f"problems: {failed} name(s) failed to load, {len(problems)} other problem(s)"]
            lines += [f"  - {p}" for p in problems]
        print("\n".join(lines))
    return 1 if settings.strict and (failed or problems) else 0
