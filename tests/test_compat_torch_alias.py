"""lamina.compat.install_torch_alias in a fresh interpreter (the test process imports the real torch as the
oracle): torch and its submodules are lamina's very objects, a program's numbers equal lamina's, missing torch
modules raise naming the torch module, and the real torch already imported makes it refuse."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300)


def test_torch_imports_resolve_to_lamina():
    r = _run("""
        import lamina
        lamina.compat.install_torch_alias()
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from torch.utils.data import DataLoader, TensorDataset
        from torch.optim.lr_scheduler import StepLR
        assert torch is lamina and nn is lamina.nn and F is lamina.nn.functional
        assert nn.Linear is lamina.nn.Linear and DataLoader is lamina.utils.data.DataLoader
        assert StepLR is lamina.optim.lr_scheduler.StepLR and lamina.compat.torch_alias_installed()
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
        loader = DataLoader(TensorDataset(torch.randn(8, 3), torch.randn(8, 1)), batch_size=4)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for x, y in loader:
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
        print(type(loss).__module__, float(loss) > 0)
        try:
            import torch.nested
        except ModuleNotFoundError as e:
            print("missing:", e.name)
        lamina.compat.uninstall_torch_alias()
        import sys
        print("torch" in sys.modules, lamina.compat.torch_alias_installed())
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:3] == ["lamina.ops.tensor True", "missing: torch.nested", "False False"]


def test_refuses_when_the_real_torch_is_imported():
    r = _run("""
        import torch, lamina
        try:
            lamina.compat.install_torch_alias()
        except RuntimeError as e:
            print("refused:", "already imported" in str(e))
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "refused: True"
