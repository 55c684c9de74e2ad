"""The core computes only through ``ctx.xp``: every op, run on a test-only backend whose arrays are
a distinct type (TaggedArray), returns that type, and so do gradients (DESIGN.md §4)."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _optable import ALL
from _oracle import TaggedArray, lamina_input, sample


def _check(obj, what: str) -> None:
    if isinstance(obj, (tuple, list)):
        for k, o in enumerate(obj):
            _check(o, f"{what}[{k}]")
        return
    assert isinstance(obj, lamina.Tensor), what
    assert type(obj.array) is TaggedArray, f"{what}: array is {type(obj.array).__name__}, not TaggedArray"


def _cases():
    out = []
    for op in ALL:
        for layout in op.layouts:
            out.append(pytest.param(op, layout, id=f"{op.name}-{layout}"))
    return out


@pytest.mark.parametrize("op, layout", _cases())
def test_op_stays_on_the_backend_array_type(op, layout, tagged):
    rng = np.random.default_rng(0)
    shapes = op.shapes[0]
    xs = [lamina_input(sample(rng, s, d), np.float32, layout, op.grad) for s, d in zip(shapes, op.domains())]
    for x in xs:
        _check(x, "input")
    out = op.fn(lamina, *xs)
    _check(out, f"{op.name} output")
    if op.grad:
        outs = [o for o in (out if isinstance(out, (tuple, list)) else (out,)) if o.is_floating_point()]
        loss = sum((o * lamina.ones_like(o)).sum() for o in outs)
        loss.backward()
        for i, x in enumerate(xs):
            if x.grad is not None:
                _check(x.grad, f"{op.name} grad of input {i}")


@pytest.mark.parametrize("op", [op for op in ALL if op.gradgrad][:40], ids=lambda op: op.name)
def test_double_backward_stays_on_the_backend_array_type(op, tagged):
    rng = np.random.default_rng(0)
    xs = [lamina_input(sample(rng, s, d), np.float64, "contig", True) for s, d in zip(op.shapes[0], op.domains())]
    y = op.fn(lamina, *xs)
    grads = lamina.autograd.grad(y.sum(), xs, create_graph=True, allow_unused=True)
    _check([g for g in grads if g is not None], "first derivative")
    second = [g.sum() for g in grads if g is not None and g.requires_grad]
    if second:  # linear ops have a zero (graph-free) second derivative
        sum(second).backward()
        _check([x.grad for x in xs if x.grad is not None], "second derivative")


FACTORIES = {
    "tensor": lambda: lamina.tensor([[1.0, 2.0]]),
    "tensor_int": lambda: lamina.tensor(3),
    "as_tensor": lambda: lamina.as_tensor([1, 2]),
    "from_numpy": lambda: lamina.from_numpy(np.ones(3)),
    "zeros": lambda: lamina.zeros(2, 3),
    "ones_like": lambda: lamina.ones_like(lamina.zeros(2)),
    "empty": lambda: lamina.empty(2),
    "full": lambda: lamina.full((2,), 1.5),
    "full_like": lambda: lamina.full_like(lamina.zeros(2), 7),
    "arange": lambda: lamina.arange(5),
    "arange_float": lambda: lamina.arange(0, 1, 0.25),
    "linspace": lambda: lamina.linspace(0, 1, 5),
    "logspace": lambda: lamina.logspace(0, 1, 3),
    "eye": lambda: lamina.eye(3),
    "rand": lambda: lamina.rand(2, 2),
    "randn": lambda: lamina.randn(3),
    "randint": lambda: lamina.randint(0, 5, (3,)),
    "randperm": lambda: lamina.randperm(4),
    "rand_like": lambda: lamina.rand_like(lamina.zeros(2)),
    "randn_like": lambda: lamina.randn_like(lamina.zeros(2)),
    "randint_like": lambda: lamina.randint_like(lamina.zeros(2), 3),
    "bernoulli": lambda: lamina.bernoulli(lamina.full((3,), 0.5)),
    "multinomial": lambda: lamina.multinomial(lamina.tensor([0.2, 0.8]), 2),
    "normal": lambda: lamina.normal(0.0, 1.0, (2,)),
    "clone": lambda: lamina.zeros(2).clone(),
    "to_double": lambda: lamina.zeros(2).double(),
    "cmp": lambda: lamina.zeros(2) == 0,
    "cmp_scalar": lambda: lamina.zeros(2) < 1.0,
    "logical_not": lambda: (lamina.zeros(2) > 0).logical_not(),
    "isnan": lambda: lamina.zeros(2).isnan(),
    "isclose": lambda: lamina.isclose(lamina.zeros(2), lamina.zeros(2)),
    "argmax": lambda: lamina.tensor([1.0, 3.0]).argmax(),
    "argmax_dim": lambda: lamina.ones(2, 3).argmax(1),
    "all": lambda: lamina.ones(2).all(),
    "count_nonzero": lambda: lamina.ones(2).count_nonzero(),
    "nonzero": lambda: lamina.tensor([0, 1, 1]).nonzero(),
    "nonzero_tuple": lambda: lamina.nonzero(lamina.tensor([0, 1, 1]), as_tuple=True),
    "where_cond": lambda: lamina.where(lamina.tensor([0, 1])),
    "sort_indices": lambda: lamina.tensor([2.0, 1.0]).sort().indices,
    "topk_indices": lambda: lamina.tensor([2.0, 1.0]).topk(1).indices,
    "max_indices": lambda: lamina.ones(2, 2).max(1).indices,
    "max_0d": lambda: lamina.tensor(1.0).max(0),
    "bitwise": lambda: lamina.tensor([1, 2]) & lamina.tensor([3, 3]),
    "invert": lambda: ~lamina.tensor([True, False]),
    "index_fill": lambda: lamina.zeros(2, 3).index_fill(1, lamina.tensor([0, 2]), 1.0),
    "one_hot_like": lambda: lamina.tensor([0, 2]).to(lamina.float32).long(),
    "sum_int": lambda: lamina.tensor([1, 2]).sum(),
    "mean_dtype": lambda: lamina.tensor([1, 2]).mean(dtype=lamina.float64),
    "floor_int": lambda: lamina.tensor([1, 2]).floor(),
    "setitem": lambda: _setitem(),
    "inplace": lambda: lamina.zeros(3).add_(1).mul_(2).clamp_(0, 1),
    "uniform_": lambda: lamina.zeros(3).uniform_(),
    "normal_": lambda: lamina.zeros(3).normal_(),
    "new_zeros": lambda: lamina.zeros(3).new_zeros(2),
    "new_tensor": lambda: lamina.zeros(3).new_tensor([1.0]),
    "stack_int": lambda: lamina.stack([lamina.tensor([1]), lamina.tensor([2])]),
    "cat_mixed": lambda: lamina.cat([lamina.tensor([1]), lamina.tensor([2.0])]),
    "repeat_interleave": lambda: lamina.tensor([1, 2]).repeat_interleave(2),
    "broadcast_tensors": lambda: lamina.broadcast_tensors(lamina.zeros(2, 1), lamina.zeros(3)),
    "cumsum_int": lambda: lamina.tensor([1, 2]).cumsum(0),
    "softmax_int": lambda: lamina.tensor([1, 2]).softmax(0),
}


def _setitem():
    x = lamina.zeros(3, 4)
    x[0] = 1.0
    x[:, 1] = lamina.ones(3)
    x[lamina.tensor([0, 2])] = 2.0
    x[x > 1] = 0.5
    return x


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_factories_and_non_differentiable_ops(name, tagged):
    _check(FACTORIES[name](), name)


def test_backward_of_a_graph_with_accumulation_and_hooks(tagged):
    x = lamina.randn(3, 4, requires_grad=True)
    y = x * 2
    y.retain_grad()
    h = y.register_hook(lambda g: g * 1.5)
    z = (y.exp() + y[0] + y.sum(0)).sum()
    z.backward(retain_graph=True)
    z.backward()
    h.remove()
    _check([x.grad, y.grad], "grads")
    g = lamina.autograd.grad((x * x).sum(), x)
    _check(g, "autograd.grad")


def test_the_tagged_backend_is_really_in_use(tagged):
    """The purity checks are only meaningful if the tagged backend serves cpu, and detects escapes."""
    assert type(lamina.device("cpu").backend).__name__ == "TaggedBackend"
    assert type(lamina.ones(2).array) is TaggedArray
    lamina.device("cpu").backend.xp.concatenate([np.ones(1), np.ones(1)])
    assert tagged.ESCAPES, "a plain ndarray handed to xp must be recorded"
    del tagged.ESCAPES[:]
