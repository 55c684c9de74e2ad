"""The `lamina` command line."""

from __future__ import annotations

import json

import pytest
from lamina import cli, plugins
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


def test_core_subcommands_are_declared(monkeypatch, capsys):
    monkeypatch.setattr(cli, "COMMANDS", dict(cli.COMMANDS))

    def _echo(args):
        print(args.word.upper())
        return 3

    cli.COMMANDS["echo"] = cli.Command("echo", "print a word", lambda p: p.add_argument("word"), _echo)
    assert cli.main(["echo", "hi"]) == 3
    assert capsys.readouterr().out == "HI\n"


COMMAND_MODULE = """\
__lamina_plugin_api__ = "1.0"
from lamina.cli import Command

def _run(args):
    print("hello", args.who, "loud" if args.loud else "")
    return 5

command = Command("hello", help="say hello", configure=lambda p: (p.add_argument("who"),
                  p.add_argument("--loud", action="store_true")), run=_run)
"""


def test_plugin_subcommand_from_the_entry_point_group(sandbox, capsys):
    sandbox.dist("lamina-hello", entry_points={"lamina.cli": {"hello": "lamina_hello:command",
                                                              "other": "lamina_hello_other:command"}},
                 modules={"lamina_hello": COMMAND_MODULE, "lamina_hello_other": "raise ImportError('never')\n"})
    assert cli.main(["hello", "--loud", "world"]) == 5
    assert capsys.readouterr().out.split() == ["hello", "world", "loud"]
    assert sandbox.imported("lamina_hello") and not sandbox.imported("lamina_hello_other")


def test_help_lists_plugin_subcommands_without_importing_them(sandbox, capsys):
    sandbox.dist("lamina-hello", entry_points={"lamina.cli": {"hello": "lamina_hello:command"}},
                 modules={"lamina_hello": COMMAND_MODULE})
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert "hello" in out and "from lamina-hello" in out and "plugins" in out
    assert not sandbox.imported("lamina_hello")


def test_broken_plugin_subcommand_fails_alone_with_the_kept_error(sandbox, capsys):
    sandbox.dist("lamina-hello", entry_points={"lamina.cli": {"hello": "lamina_hello:command"}},
                 modules={"lamina_hello": "raise ValueError('cannot load hello')\n"})
    assert cli.main(["hello", "x"]) == 1
    err = capsys.readouterr().err
    assert "lamina hello: error: PluginLoadError" in err and "ValueError: cannot load hello" in err
    assert cli.main(["plugins", "--no-load"]) == 0  # the core's own commands still work


def test_a_plugin_cannot_replace_a_core_subcommand(sandbox, capsys):
    sandbox.dist("lamina-hello", entry_points={"lamina.cli": {"plugins": "lamina_hello:command"}},
                 modules={"lamina_hello": COMMAND_MODULE})
    assert cli.main(["plugins", "--no-load"]) == 0
    assert "lamina-hello" in capsys.readouterr().out
    assert not sandbox.imported("lamina_hello")


def test_check_without_the_testkit_names_the_distribution_to_install(sandbox, capsys):
    # the sandbox hides every installed distribution: lamina-testkit is "not installed" here
    assert cli.main(["check", "--strict", "lamina-layers-basic"]) == 1
    err = capsys.readouterr().err
    assert "lamina check: error: PluginNotFoundError" in err
    assert "provided by the first-party distribution lamina-testkit, which is not installed" in err
    assert "pip install lamina-testkit" in err


KIT_LAYER = """\
__lamina_plugin_api__ = "1.0"
import lamina
from lamina import nn

FACTOR = {factor}


class _ScaleFn(lamina.autograd.Function):
    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x * w

    @staticmethod
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        return dy * w, dy * x * FACTOR


class Scale(nn.Module):
    def __init__(self, channels=4, device=None, dtype=None):
        super().__init__()
        self.weight = nn.Parameter(lamina.rand(channels, device=device, dtype=dtype) + 0.5)

    def forward(self, x):
        return _ScaleFn.apply(x, self.weight)


def records():
    from lamina.testing import ModuleInfo, Sample

    def samples(xp, dtype, rng):
        return [Sample((xp.asarray(rng.standard_normal((3, 4)).astype(dtype)),))]

    return [ModuleInfo(cls=Scale, sample_inputs=samples, reference=lambda p, x: x * p["weight"],
                       tags={{"batch_independent"}})]
"""


@pytest.mark.parametrize(("factor", "code", "needle"), [(1, 0, "kitbox: PASS"), (2, 1, "FAILED kitbox::Scale")],
                         ids=["correct", "wrong-backward"])
def test_lamina_check_certifies_and_fails_an_installed_plugin(sandbox, monkeypatch, capsys, factor, code, needle):
    from lamina.plugins import _scan

    sandbox.dist("kitbox", entry_points={"lamina.layers": {"kitbox.Scale": "kitbox:Scale"},
                                         "lamina.testing": {"kitbox": "kitbox:records"}},
                 modules={"kitbox": KIT_LAYER.format(factor=factor)})
    monkeypatch.setattr(_scan, "restrict_to_paths", None)  # the real lamina-testkit and CPU backend, plus kitbox
    plugins.refresh()
    assert cli.main(["check", "--strict", "--quiet", "kitbox"]) == code
    out = capsys.readouterr().out
    assert needle in out, out
    if code:
        assert "kitbox::Scale[cpu-float64]::gradcheck" in out and "Jacobian mismatch" in out


def test_python_dash_m(sandbox):
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-m", "lamina", "plugins", "--json"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["lamina"]["plugin_api"] == "1.0"
