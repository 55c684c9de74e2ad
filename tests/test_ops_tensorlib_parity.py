"""The shape/indexing/reduction/linear-algebra families added for torch 2.13: values and gradients
against torch, float64 gradcheck and gradgradcheck (tables in _optable_tensorlib.py)."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _optable import cases
from _optable_tensorlib import ALL
from _oracle import lamina_input, sample
from lamina.testing import gradcheck, gradgradcheck
from test_ops_parity import run_parity

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")


@pytest.mark.parametrize("op, shapes, dt, layout", cases(ALL))
def test_parity(op, shapes, dt, layout, rng):
    run_parity(op, shapes, dt, layout, rng)


def _grad_cases(gradgrad: bool):
    out = []
    for op in ALL:
        if not op.grad or (gradgrad and not op.gradgrad) or "no_gradcheck" in op.tags:
            continue
        for shapes in op.shapes[:2] if gradgrad else op.shapes:
            if any(0 in s for s in shapes):
                continue
            sid = "&".join("x".join(map(str, s)) or "0d" for s in shapes)
            out.append(pytest.param(op, shapes, id=f"{op.name}-{sid}"))
    return out


@pytest.mark.parametrize("op, shapes", _grad_cases(False))
def test_gradcheck(op, shapes, rng):
    xs = [lamina_input(sample(rng, s, d), np.float64, "contig", True) for s, d in zip(shapes, op.domains())]
    assert gradcheck(lambda *a: op.fn(lamina, *a), xs)


@pytest.mark.parametrize("op, shapes", _grad_cases(True))
def test_gradgradcheck(op, shapes, rng):
    xs = [lamina_input(sample(rng, s, d), np.float64, "contig", True) for s, d in zip(shapes, op.domains())]
    assert gradgradcheck(lambda *a: op.fn(lamina, *a), xs)
