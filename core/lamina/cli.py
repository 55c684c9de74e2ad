"""The ``lamina`` command line (also ``python -m lamina``).

The core's subcommands are declared in ``COMMANDS`` (``lamina plugins``). Plugins add more through
the entry-point group ``lamina.cli``: the entry's name is the subcommand, its value a
:class:`Command` (the test-kit's ``check = "lamina_testkit.cli_check:command"`` gives
``lamina check <dist>``)::

    command = lamina.cli.Command("hello", help="say hello", configure=lambda p: p.add_argument("who"),
                                 run=lambda args: print("hello", args.who) or 0)

The group is read when the command line runs, from metadata: only the module of the subcommand
being run is imported. A plugin subcommand that fails to load, conflicts with another, or is known
to the first-party table but not installed (``lamina check`` without lamina-testkit) fails when it
is run, with the plugin index's error (which distribution to install, the kept import error);
the core's own subcommands always win over a plugin's of the same name.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .errors import PluginError, PluginLoadError

GROUP = "lamina.cli"


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _unavailable(name: str, help: str, error: PluginError | None = None) -> Command:
    """A plugin subcommand that is listed but not loaded (not the one being run), or that cannot be:
    running it raises ``error`` or the plugin index's error for the name (not installed, broken)."""

    def run(args: argparse.Namespace) -> int:
        if error is not None:
            raise error
        return _load(name).run(args)

    return Command(name, help, _take_anything, run)


def _take_anything(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("args", nargs=argparse.REMAINDER)  # main() passes unknown options through too


def _load(name: str) -> Command:
    from . import plugins

    cmd = plugins.resolve(GROUP, name)  # PluginNotFoundError names the distribution to install
    if not (hasattr(cmd, "help") and callable(getattr(cmd, "configure", None)) and callable(getattr(cmd, "run", None))):
        raise PluginLoadError(f"subcommand {name!r} (group {GROUP}) is {cmd!r}, not a lamina.cli.Command")
    return Command(name, str(cmd.help), cmd.configure, cmd.run)


def _plugin_commands(wanted: str | None) -> dict[str, Command]:
    """The subcommands of group ``lamina.cli`` and the first-party ones not installed; only ``wanted``
    is loaded. The core's own commands win over a plugin's of the same name."""
    from . import plugins
    from .plugins import _first_party

    try:
        found = plugins.entries(GROUP)
    except PluginError as exc:  # LAMINA_STRICT_PLUGINS=1 with a broken plugin: the core's commands still run
        return {} if wanted is None or wanted in COMMANDS else {wanted: _unavailable(wanted, "", exc)}
    offered: dict[str, list[str]] = {}
    for info in found:
        offered.setdefault(info.name, []).append(info.distribution)
    out: dict[str, Command] = {}
    for name in sorted((set(offered) | _first_party.table_names((GROUP,))) - set(COMMANDS)):
        where = ", ".join(offered.get(name, ()))
        if not where:
            out[name] = _unavailable(name, f"(not installed: pip install {_first_party.provider((GROUP,), name)})")
        elif name != wanted:
            out[name] = _unavailable(name, f"(from {where}; `lamina {name} --help` for its options)")
        else:
            try:
                out[name] = _load(name)
            except PluginError:
                out[name] = _unavailable(name, f"(from {where}; could not be loaded)")
    return out


def _wanted(argv: Sequence[str]) -> str | None:
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand; plugin subcommands other than the one ``argv`` asks for are
    listed but not imported."""
    argv = sys.argv[1:] if argv is None else argv
    commands = {**COMMANDS, **_plugin_commands(_wanted(argv))}
    parser = argparse.ArgumentParser(prog="lamina", description="lamina command line")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in commands.values():
        cmd.configure(sub.add_parser(cmd.name, help=cmd.help, description=cmd.help))
    parser.set_defaults(_commands=commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args, unknown = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    cmd = args._commands[args.command]
    if unknown and cmd.configure is not _take_anything:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return cmd.run(args)
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


#: the core's own subcommands (plugins add theirs through the entry-point group lamina.cli)
COMMANDS: dict[str, Command] = {
    "plugins": Command("plugins", "list installed plugins, their names and states, backends and failures",
                       _configure_plugins, _plugins_command),
}
