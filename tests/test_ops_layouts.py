"""The core's hook for tensors of plugin layouts (lamina.ops.layouts): lamina.mm / matmul / addmm and the
Tensor methods hand a call to an operand class's ``__lamina_function__``; ``NotImplemented`` lets the
dense body run; init_layout_tensor makes an instance whose storage is a stand-in."""

from __future__ import annotations

import lamina
import pytest
from lamina.ops.layouts import call_layout_hook, init_layout_tensor, layout_hook


class _Storage:
    def __init__(self, shape):
        self.shape, self.dtype, self.ndim = tuple(shape), lamina.ones(1).array.dtype, len(shape)
        self.size = 1
        for s in shape:
            self.size *= s


class Toy(lamina.Tensor):
    """A layout that answers mm/matmul with a constant (2, 2) matrix and declines addmm."""

    __slots__ = ()
    calls: list = []

    @classmethod
    def __lamina_function__(cls, func, args, kwargs):
        cls.calls.append((func.__name__, len(args), sorted(kwargs)))
        if func.__name__ == "addmm":
            return NotImplemented
        return lamina.full((2, 2), 7.0)


def _toy(shape=(2, 2)):
    t = object.__new__(Toy)
    init_layout_tensor(t, _Storage(shape), lamina.device("cpu"))
    return t


def test_init_layout_tensor_sets_the_core_state():
    t = _toy((2, 3))
    assert isinstance(t, lamina.Tensor) and tuple(t.shape) == (2, 3) and t.ndim == 2
    assert t.requires_grad is False and t.grad is None and t.grad_fn is None and t.device.type == "cpu"


@pytest.mark.parametrize("call", [lambda t, d: lamina.mm(t, d), lambda t, d: lamina.matmul(t, d),
                                  lambda t, d: d.mm(t), lambda t, d: d.matmul(t)])
def test_products_are_handed_to_the_layout(call):
    Toy.calls.clear()
    assert call(_toy(), lamina.ones(2, 2)).tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert Toy.calls[0][0] in ("mm", "matmul")


def test_not_implemented_runs_the_dense_body():
    Toy.calls.clear()
    out = lamina.addmm(lamina.ones(2, 2), _toy(), lamina.ones(2, 2), beta=2)   # declined; its mm is served
    assert out.tolist() == [[9.0, 9.0], [9.0, 9.0]]
    assert Toy.calls == [("addmm", 3, ["alpha", "beta", "out"]), ("mm", 2, [])]


def test_dense_operands_have_no_hook():
    a = lamina.ones(2, 3)
    assert layout_hook(a, a) is None and layout_hook(1.0, None) is None
    assert call_layout_hook(lamina.mm, (a, a.t())) is NotImplemented
    assert lamina.mm(a, a.t()).tolist() == [[3.0, 3.0], [3.0, 3.0]]
