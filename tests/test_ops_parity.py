"""Values and gradients of every op against PyTorch CPU (same inputs, random upstream gradient)."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _optable import ALL, BINARY, INDEXING, LINALG, REDUCTIONS, SHAPE, UNARY, cases
from _oracle import DTYPES, assert_close, lamina_input, sample, torch_input

torch = pytest.importorskip("torch")


def _outputs(out) -> list:
    """Differentiable outputs of an op (a tensor, or the float members of a tuple)."""
    if isinstance(out, (tuple, list)):
        return [o for o in out if o.is_floating_point()]
    return [out] if out.is_floating_point() else []


def run_parity(op, shapes, dt, layout, rng):
    dtype = DTYPES[dt]
    arrays = [sample(rng, s, d) for s, d in zip(shapes, op.domains())]
    lx = [lamina_input(a, dtype, layout, op.grad) for a in arrays]
    tx = [torch_input(torch, a, dtype, op.grad) for a in arrays]
    if layout == "noncontig":
        assert any(not x.is_contiguous() for x in lx if x.numel() > 1)
    lo, to = op.fn(lamina, *lx), op.fn(torch, *tx)
    assert_close(lo, to, op.kind, f"{op.name} forward")
    if not op.grad:
        return
    louts, touts = _outputs(lo), _outputs(to)
    lloss, tloss = 0, 0
    for lout, tout in zip(louts, touts):
        g = sample(rng, tuple(tout.shape))
        lloss = lloss + (lout * lamina.tensor(g, dtype=lout.dtype)).sum()
        tloss = tloss + (tout * torch.tensor(g, dtype=tout.dtype)).sum()
    lloss.backward()
    tloss.backward()
    for i, (l, t) in enumerate(zip(lx, tx)):
        if t.grad is None:
            assert l.grad is None or not l.grad.numpy().any(), f"{op.name}: input {i} should get no gradient"
            continue
        assert l.grad is not None, f"{op.name}: input {i} got no gradient"
        assert_close(l.grad, t.grad, op.kind, f"{op.name} grad of input {i}")


@pytest.mark.parametrize("op, shapes, dt, layout", cases(UNARY + BINARY))
def test_elementwise(op, shapes, dt, layout, rng):
    run_parity(op, shapes, dt, layout, rng)


@pytest.mark.parametrize("op, shapes, dt, layout", cases(REDUCTIONS + LINALG))
def test_reductions_and_matmul(op, shapes, dt, layout, rng):
    run_parity(op, shapes, dt, layout, rng)


@pytest.mark.parametrize("op, shapes, dt, layout", cases(SHAPE + INDEXING))
def test_shape_and_indexing(op, shapes, dt, layout, rng):
    run_parity(op, shapes, dt, layout, rng)


def test_table_covers_every_op_once():
    names = [op.name for op in ALL]
    assert len(names) == len(set(names))
    assert len(names) > 200


@pytest.mark.parametrize("dim, keepdim", [(0, False), (1, True), (-1, False)])
@pytest.mark.parametrize("which", ["max", "min"])
def test_max_min_dim_namedtuple(which, dim, keepdim, rng):
    a = sample(rng, (3, 4))
    lr = getattr(lamina.tensor(a, dtype=lamina.float32), which)(dim, keepdim=keepdim)
    tr = getattr(torch.tensor(a, dtype=torch.float32), which)(dim, keepdim=keepdim)
    assert type(lr).__name__ == which and lr._fields == ("values", "indices")
    values, indices = lr
    assert values is lr.values and indices is lr.indices
    assert_close(lr.values, tr.values)
    assert_close(lr.indices, tr.indices)
    assert repr(lr).startswith(f"lamina.return_types.{which}(\nvalues=tensor(")


def test_max_ties_take_the_first_index():
    x = lamina.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    t = torch.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    assert x.max(1).indices.tolist() == t.max(1).indices.tolist()
    assert x.argmax(1).tolist() == t.argmax(1).tolist()


def test_max_all_splits_gradient_between_ties():
    x = lamina.tensor([1.0, 3.0, 3.0], requires_grad=True)
    t = torch.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    t.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_sort_stable_with_ties():
    vals = [3.0, 1.0, 3.0, 2.0, 1.0]
    ls, ts = lamina.tensor(vals).sort(stable=True), torch.tensor(vals).sort(stable=True)
    assert ls.indices.tolist() == ts.indices.tolist()
    ls, ts = lamina.tensor(vals).sort(descending=True, stable=True), torch.tensor(vals).sort(descending=True,
                                                                                           stable=True)
    assert ls.indices.tolist() == ts.indices.tolist()


@pytest.mark.parametrize("x", [[1.5, -2.5, 0.5, 2.5, -0.5], [0.49999997, 1.5000001]])
def test_round_half_to_even(x):
    assert lamina.tensor(x).round().tolist() == torch.tensor(x).round().tolist()
