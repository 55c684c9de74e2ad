"""nn.Container (deprecated) against PyTorch: the warning, children from keyword arguments, repr, no forward."""

from __future__ import annotations

import lamina
import lamina.nn as nn
import pytest

torch = pytest.importorskip("torch")


def test_container_warns_and_holds_modules_as_torch():
    with pytest.warns(FutureWarning, match="`nn.Container` is deprecated. All of its functionality is now "
                                           "implemented in `nn.Module`. Subclass that instead."):
        lm = nn.Container(a=nn.ReLU(), b=nn.Linear(2, 3))
    with pytest.warns(FutureWarning):
        tm = torch.nn.Container(a=torch.nn.ReLU(), b=torch.nn.Linear(2, 3))
    assert repr(lm) == repr(tm) and list(lm.state_dict()) == list(tm.state_dict()) == ["b.weight", "b.bias"]
    with pytest.raises(NotImplementedError):
        lm(lamina.zeros(2))
