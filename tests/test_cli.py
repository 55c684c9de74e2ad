"""The `lamina` command line."""

from __future__ import annotations

import json

import pytest
from lamina import cli
from plugin_factory import Sandbox, backend_module, classes_module


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    box = Sandbox(tmp_path, monkeypatch)
    box.dist("lamina-alpha", "0.3.0", editable=True,
             entry_points={"lamina.layers": {"Alpha": "lamina_alpha:Alpha", "Broken": "lamina_alpha_bad:B"},
                           "lamina.functional": {"alpha": "lamina_alpha:alpha"}},
             modules={"lamina_alpha": classes_module("Alpha", body="def alpha(x):\n    return x\n"),
                      "lamina_alpha_bad": "raise ValueError('cannot load alpha')\n"})
    box.dist("acme-layers", "2.1", entry_points={"lamina.layers": {"acme.Gate": "acme_sandbox_layers:Gate",
                                                                   "Linear": "acme_sandbox_layers:Gate"}},
             modules={"acme_sandbox_layers": classes_module("Gate", api=None)})
    box.dist("lamina-backend-fake", entry_points={"lamina.backends.cpu": {"fakecpu": "lamina_bf:Fake"}},
             modules={"lamina_bf": backend_module("Fake", ok=False, reason="needs AVX-1024")})
    yield box
    box.close()


def test_plugins_text(sandbox, capsys):
    assert cli.main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "plugin API 1.0" in out
    assert "lamina-alpha 0.3.0  [first party]" in out
    assert f"location: {sandbox.base / 'site0'}" in out and "(editable: file://" in out
    assert "loaded (1): Alpha" in out
    assert "Broken: FAILED: " in out and "ValueError: cannot load alpha" in out
    assert "acme-layers 2.1  [third party]" in out
    assert "plugin API: undeclared" in out
    assert "Linear: IGNORED: third-party distribution acme-layers 2.1 offers the bare name 'Linear'" in out
    assert "cpu    fakecpu    lamina-backend-fake 1.0  unavailable: needs AVX-1024" in out
    assert "problems: 1 name(s) failed to load, 1 other problem(s)" in out


def test_plugins_no_load_imports_only_backends(sandbox, capsys):
    import sys

    assert cli.main(["plugins", "--no-load"]) == 0
    out = capsys.readouterr().out
    assert "available (2): Alpha Broken" in out
    assert "lamina_alpha" not in sys.modules and "lamina_bf" in sys.modules


def test_plugins_json(sandbox, capsys):
    assert cli.main(["plugins", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["lamina"]["plugin_api"] == "1.0"
    dists = {d["name"]: d for d in data["distributions"]}
    assert list(dists) == ["lamina-alpha", "lamina-backend-fake", "acme-layers"]
    alpha = dists["lamina-alpha"]
    assert alpha["version"] == "0.3.0" and alpha["editable"] is True and alpha["first_party"] is True
    states = {(n["group"], n["name"]): n["state"] for n in alpha["names"]}
    assert states == {("lamina.functional", "alpha"): "loaded", ("lamina.layers", "Alpha"): "loaded",
                      ("lamina.layers", "Broken"): "failed"}
    (backend,) = dists["lamina-backend-fake"]["names"]
    assert backend["probe"] == [False, "needs AVX-1024"]
    assert any("reserved for first-party" in p for p in data["problems"])
    assert data["settings"]["autoload"] is True


def test_strict_mode_exit_code(sandbox, capsys):
    sandbox.env(LAMINA_STRICT_PLUGINS="1")
    assert cli.main(["plugins"]) == 1
    assert "LAMINA_STRICT_PLUGINS=1" in capsys.readouterr().err


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 2
    assert "plugins" in capsys.readouterr().out


def test_subcommand_registry(monkeypatch, capsys):
    monkeypatch.setattr(cli, "COMMANDS", dict(cli.COMMANDS))

    @cli.command("echo", help="print a word", configure=lambda p: p.add_argument("word"))
    def _echo(args):
        print(args.word.upper())
        return 3

    assert cli.main(["echo", "hi"]) == 3
    assert capsys.readouterr().out == "HI\n"


def test_python_dash_m(sandbox):
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-m", "lamina", "plugins", "--json"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["lamina"]["plugin_api"] == "1.0"
