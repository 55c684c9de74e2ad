"""F.fold / F.unfold and nn.Fold / nn.Unfold against PyTorch (batched and unbatched), gradchecks, errors."""

from __future__ import annotations

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest
from _layers_basic_torch_parity import compare
from lamina.errors import ShapeError
from lamina.testing import gradcheck


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=(2, 3), dilation=(2, 1), padding=1, stride=2),
                                dict(kernel_size=3, padding=(0, 1), stride=(1, 2))])
@pytest.mark.parametrize("batched", [True, False])
def test_fold_unfold_match_torch(kw, batched):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    shape = (2, 3, 7, 8) if batched else (3, 7, 8)
    lu, tu = nn.Unfold(**kw), torch.nn.Unfold(**kw)
    assert repr(lu) == repr(tu)
    compare(tu, lu, [rng.standard_normal(shape)], rng)
    cols = tu(torch.tensor(rng.standard_normal(shape))).numpy()
    lf, tf = nn.Fold((7, 8), **kw), torch.nn.Fold((7, 8), **kw)
    assert repr(lf) == repr(tf)
    compare(tf, lf, [cols], rng)


def test_fold_unfold_gradcheck_and_errors():
    rng = np.random.default_rng(4)
    x = lamina.tensor(rng.standard_normal((1, 2, 4, 5)), requires_grad=True)
    assert gradcheck(lambda x: F.unfold(x, 2, padding=1, stride=(1, 2)), (x,))
    c = lamina.tensor(rng.standard_normal((1, 8, 12)), requires_grad=True)
    assert gradcheck(lambda c: F.fold(c, (4, 5), 2), (c,))
    with pytest.raises(ShapeError, match=r"fold: expected input.size\(2\) to match the number of sliding blocks "
                                         r"3 \* 4 = 12 for output_size=\(4, 5\), got 11"):
        F.fold(lamina.randn(1, 8, 11), (4, 5), 2)
    with pytest.raises(ShapeError, match=r"fold: expected input.size\(1\) divisible by the product of kernel_size"):
        F.fold(lamina.randn(1, 7, 12), (4, 5), 2)
