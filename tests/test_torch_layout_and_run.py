"""torch's module layout (nn.modules.*, nn.common_types), the alias's torch-named errors, ``lamina run``'s alias
and ``--report``, and the backends/accelerator pass-throughs -- each checked against real torch where it has
an answer. Alias checks run in a fresh interpreter (the alias and the real torch cannot share one)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap

import lamina
import pytest
import torch
from lamina.nn.modules import LAYOUT


def _py(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("sub", sorted(LAYOUT))
def test_layout_matches_torch_and_serves_lamina_names(sub):
    ours = importlib.import_module(f"lamina.nn.modules.{sub}")
    theirs = importlib.import_module(f"torch.nn.modules.{sub}")
    public = [n for n in LAYOUT[sub].split() if not n.startswith("_")]
    assert sorted(public) == sorted(theirs.__all__)
    for name in LAYOUT[sub].split():
        assert hasattr(theirs, name), f"torch.nn.modules.{sub} has no {name}"
        value = getattr(ours, name)
        if not name.startswith(("_", "register_module_")) and name != "LazyModuleMixin":
            assert value is getattr(lamina.nn, name)
        if isinstance(value, type) and name.startswith("_") and name != "_LazyNormBase":  # lamina's is a mixin
            assert issubclass(value, lamina.nn.Module)
    with pytest.raises(AttributeError, match=f"lamina.nn.modules.{sub}"):
        ours.NoSuchThing  # noqa: B018


def test_private_bases_are_what_the_layers_subclass():
    from lamina.nn.modules.batchnorm import _BatchNorm, _NormBase
    from lamina.nn.modules.conv import _ConvNd, _ConvTransposeNd
    from lamina.nn.modules.loss import _Loss, _WeightedLoss
    from lamina.nn.modules.pooling import _MaxPoolNd

    assert issubclass(lamina.nn.Conv2d, _ConvNd) and issubclass(lamina.nn.ConvTranspose2d, _ConvTransposeNd)
    assert issubclass(lamina.nn.BatchNorm2d, _BatchNorm) and issubclass(_BatchNorm, _NormBase)
    assert issubclass(lamina.nn.CrossEntropyLoss, _WeightedLoss) and issubclass(lamina.nn.L1Loss, _Loss)
    assert issubclass(lamina.nn.MaxPool2d, _MaxPoolNd)
    assert "_ConvNd" not in dir(lamina.nn)


def test_batchnorm_subclass_matches_torch():
    """A program's own norm layer built on ``_BatchNorm`` (as public repositories do) trains as torch's does."""
    from lamina.nn.modules.batchnorm import _BatchNorm as LBN
    from torch.nn.modules.batchnorm import _BatchNorm as TBN

    def make(base):
        class MyBatchNorm(base):
            def _check_input_dim(self, input):
                if input.dim() != 4:
                    raise ValueError(f"expected 4D input (got {input.dim()}D input)")
        return MyBatchNorm

    x = torch.randn(4, 3, 5, 5, generator=torch.Generator().manual_seed(0))
    t, m = make(TBN)(3, momentum=0.3), make(LBN)(3, momentum=0.3)
    assert repr(m) == repr(t)
    for _ in range(2):
        yt, ym = t(x), m(lamina.tensor(x.numpy()))
        assert ym.shape == tuple(yt.shape)
        assert abs(ym.detach().numpy() - yt.detach().numpy()).max() < 1e-5
    assert abs(m.running_var.numpy() - t.running_var.numpy()).max() < 1e-6
    with pytest.raises(ValueError, match="4D"):
        m(lamina.zeros(2, 3))


@pytest.mark.parametrize("value", [3, (1, 2), [4, 5, 6], (7,)])
def test_ntuple_helpers_match_torch(value):
    from lamina.nn.modules import utils as lu
    from torch.nn.modules import utils as tu

    for name in ("_single", "_pair", "_triple", "_quadruple"):
        assert getattr(lu, name)(value) == getattr(tu, name)(value)
    assert lu._reverse_repeat_tuple((1, 2, 3), 2) == tu._reverse_repeat_tuple((1, 2, 3), 2)
    assert lu._ntuple(5)(2) == tu._ntuple(5)(2)


def test_consume_prefix_matches_torch():
    from lamina.nn.modules.utils import consume_prefix_in_state_dict_if_present as lc
    from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present as tc

    a = {"module.w": 1, "module.b": 2, "other": 3}
    b = dict(a)
    tc(a, "module.")
    lc(b, "module.")
    assert a == b == {"w": 1, "b": 2, "other": 3}


def test_common_types_names_match_torch():
    import lamina.nn.common_types as lct
    import torch.nn.common_types as tct

    theirs = {n for n in vars(tct) if n.startswith("_") and not n.startswith("__") and n != "_TypeAlias"}
    assert theirs <= set(vars(lct))


def test_backends_flags_and_availability_match_torch_cpu():
    b = lamina.backends
    for mod in ("mps", "mkldnn", "cudnn"):
        assert getattr(b, mod).is_available() is False
    assert b.cudnn.enabled is torch.backends.cudnn.enabled and b.cudnn.benchmark is torch.backends.cudnn.benchmark
    assert b.cuda.matmul.allow_tf32 is torch.backends.cuda.matmul.allow_tf32
    b.cudnn.benchmark = True
    try:
        with b.cudnn.flags(enabled=False, benchmark=False):
            assert b.cudnn.enabled is False and b.cudnn.benchmark is False
        assert b.cudnn.enabled is True and b.cudnn.benchmark is True
    finally:
        b.cudnn.benchmark = False
    with b.cuda.sdp_kernel(enable_flash=False):
        assert b.cuda.flash_sdp_enabled() is False and b.cuda.math_sdp_enabled() is True
    assert b.cuda.flash_sdp_enabled() is True
    import lamina.backends.cudnn as cudnn  # importable as torch's is

    assert cudnn is b.cudnn


def test_accelerator_and_cuda_queries_on_a_cpu_machine():
    if lamina.cuda.is_available():
        assert lamina.accelerator.current_accelerator() == lamina.device("cuda")
        return
    assert lamina.accelerator.is_available() is False and lamina.accelerator.current_accelerator() is None
    assert lamina.accelerator.device_count() == 0 and lamina.cuda.is_bf16_supported() is False
    assert lamina.cuda.memory_allocated() == 0
    with pytest.raises(RuntimeError, match="no accelerator"):
        lamina.accelerator.set_device_index(0)
    lamina.accelerator.synchronize()


def test_assert_is_torch_assert():
    lamina._assert(lamina.tensor(True), "unused")
    with pytest.raises(AssertionError, match="^shape mismatch$"):
        lamina._assert(False, "shape mismatch")
    with pytest.raises(AssertionError, match="^shape mismatch$"):
        torch._assert(False, "shape mismatch")


def test_missing_torch_names_are_named_as_torch_names():
    r = _py("""
        import json, lamina.compat
        lamina.compat.install_torch_alias()
        import torch, torch.nn.functional as F
        out = {}
        for expr in ["torch.no_such_fn", "torch.nn.NoSuchLayer", "F.no_such_fn", "torch.linalg.no_such",
                     "torch.randn(2).no_such_method", "torch.nn.modules.conv.NoSuch", "torch.optim.lr_scheduler.No"]:
            try:
                eval(expr)
                out[expr] = "resolved"
            except AttributeError as exc:
                out[expr] = str(exc)
        out["hasattr"] = [hasattr(torch, "no_such_fn"), hasattr(torch.randn(1), "no_such")]
        x = torch.zeros(2, 3, dtype=torch.float64)
        out["reprs"] = [repr(x.shape), repr(x.dtype), repr(torch.strided), repr(x).split("dtype=")[1]]
        lamina.compat.uninstall_torch_alias()
        import lamina
        try:
            lamina.no_such_fn
        except AttributeError as exc:
            out["after"] = str(exc)
        out["reprs_after"] = [repr(x.shape), repr(x.dtype)]
        print(json.dumps(out))
    """)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["torch.no_such_fn"].startswith("torch.no_such_fn: lamina does not provide it")
    assert out["torch.nn.NoSuchLayer"].startswith("torch.nn.NoSuchLayer: lamina does not provide it")
    assert out["F.no_such_fn"].startswith("torch.nn.functional.no_such_fn: lamina does not provide it")
    assert out["torch.linalg.no_such"].startswith("torch.linalg.no_such: lamina does not provide it")
    assert out["torch.randn(2).no_such_method"].startswith("torch.Tensor.no_such_method: lamina does not provide")
    assert out["torch.nn.modules.conv.NoSuch"].startswith("torch.nn.modules.conv.NoSuch:")
    assert out["torch.optim.lr_scheduler.No"].startswith("torch.optim.lr_scheduler.No:")
    assert out["hasattr"] == [False, False]
    assert out["after"] == "module 'lamina' has no attribute 'no_such_fn'"
    assert out["reprs"] == [repr(torch.Size([2, 3])), repr(torch.float64), repr(torch.strided), "torch.float64)"]
    assert out["reprs_after"] == ["lamina.Size([2, 3])", "lamina.float64"]


PROGRAM = '''
import sys
import helper_lib
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm
print(torch.__name__, helper_lib.torch_name(), nn.Linear.__module__.split(".")[0], sys.argv[1:], __name__)
if sys.argv[1:] == ["fail"]:
    raise ValueError("from the program")
sys.exit(int(sys.argv[1]) if sys.argv[1:] else 0)
'''


@pytest.fixture()
def program(tmp_path):
    (tmp_path / "helper_lib.py").write_text("import torch\n\ndef torch_name():\n    return torch.__name__\n")
    path = tmp_path / "prog.py"
    path.write_text(PROGRAM)
    return path


def _lamina_run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lamina", "run", *args], capture_output=True, text=True, timeout=300)


def test_lamina_run_serves_torch_to_the_program_and_its_libraries(program):
    r = _lamina_run(str(program), "7")
    assert r.returncode == 7, r.stderr
    assert r.stdout.split() == ["lamina", "lamina", "lamina_layers_basic", "['7']", "__main__"]
    r = _lamina_run(str(program), "fail")
    assert r.returncode == 1
    assert r.stderr.startswith("Traceback (most recent call last):") and "ValueError: from the program" in r.stderr
    assert str(program) in r.stderr


def test_lamina_run_without_the_alias_imports_the_real_torch(program):
    r = _lamina_run("--no-torch-alias", str(program))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:2] == ["torch", "torch"]


def test_lamina_run_report_lists_missing_names_then_runs(tmp_path):
    path = tmp_path / "uses_missing.py"
    path.write_text(textwrap.dedent("""
        import torch
        import torch.nn as nn
        from torch.nn import functional as F
        x = torch.randn(2, 3)
        y = F.relu(nn.Linear(3, 2)(x))
        if False:
            torch.no_such_function(x)
            nn.NoSuchLayer()
        print("ran", tuple(y.shape))
    """))
    r = _lamina_run("--report", str(path))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ran (2, 2)"
    lines = r.stderr.splitlines()
    assert lines[0].endswith("uses 2 torch names lamina does not provide:")
    assert lines[1].startswith("  line 8: torch.no_such_function: lamina does not provide it")
    assert lines[2].startswith("  line 9: torch.nn.NoSuchLayer: lamina does not provide it")
    ok = tmp_path / "ok.py"
    ok.write_text("import torch\nprint(torch.zeros(1).shape)\n")
    r = _lamina_run("--report", str(ok))
    assert r.returncode == 0 and "provides every torch name" in r.stderr


def test_missing_names_reads_imports_and_chains(tmp_path):
    src = tmp_path / "src.py"
    src.write_text("import torch.nn.functional as F\nfrom torch import nn, no_such_top\n"
                   "import torch.backends.cudnn as cudnn\nF.relu(nn.Conv2d(1, 1, 1).weight)\nF.no_such_f(1)\n"
                   "cudnn.benchmark = True\n")
    r = _py("""
        import json, sys
        from lamina_distributed.report import missing_names
        print(json.dumps(missing_names(open(sys.argv[1]).read())))
    """, str(src))
    assert r.returncode == 0, r.stderr
    found = {name: line for name, line, _ in json.loads(r.stdout)}
    assert found == {"torch.no_such_top": 2, "torch.nn.functional.no_such_f": 5}


@pytest.mark.parametrize("size_average", [None, True, False])
@pytest.mark.parametrize("reduce", [None, True, False])
def test_nn_reduction_legacy_flags_match_torch(size_average, reduce):
    import warnings

    import torch.nn._reduction as tr

    lr = lamina.nn._reduction
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        got = lr.legacy_get_string(size_average, reduce)
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        want = tr.legacy_get_string(size_average, reduce)
    assert got == want and [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    assert lr.legacy_get_enum(size_average, reduce, False) == tr.legacy_get_enum(size_average, reduce, False)
    for name in ("none", "mean", "sum"):
        assert lr.get_enum(name) == tr.get_enum(name)
    with pytest.raises(ValueError, match="bogus is not a valid value for reduction"):
        lr.get_enum("bogus")


def test_nn_utils_functions_come_from_their_submodules():
    import lamina_nn_utils.fusion as fusion
    from lamina.nn.utils import fuse_conv_bn_eval

    assert fuse_conv_bn_eval is fusion.fuse_conv_bn_eval
    assert "weight_norm" in dir(lamina.nn.utils) and "skip_init" in dir(lamina.nn.utils)
