"""The engine with sparse COO gradients (issue #19): a Function's backward may return, for an input, a
sparse tensor made with ``lamina.sparse_coo_tensor``; it reaches a leaf's ``.grad`` sparse and
unconformed, several are summed as torch sums them (sparse + sparse: entries concatenated, uncoalesced;
sparse + dense: dense), into ``.grad`` (None, sparse, dense), through hooks, ``autograd.grad``,
``backward(inputs=)``, ``retain_graph`` and ``create_graph``. Checked against PyTorch, whose
``F.embedding(sparse=True)`` gives the same gradient layout as ``RowGather`` below."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from lamina.autograd import Function

torch = pytest.importorskip("torch")
pytest.importorskip("lamina_sparse")

IDX = np.array([[0, 1, 2], [2, 4, 0]])


class RowGather(Function):
    """y = w[idx] (w (V, D), idx (*) int -> (*, D)); dw: a COO tensor with one entry per looked-up row."""

    @staticmethod
    def forward(ctx, w, idx):
        ctx.idx, ctx.shape = idx, w.shape
        return w[idx]

    @staticmethod
    def backward(ctx, dy):
        flat = ctx.idx.reshape(-1)
        vals = dy.reshape(flat.shape[0], ctx.shape[1])
        vals = vals if isinstance(vals, lamina.Tensor) else lamina.as_tensor(vals.copy(order="K"))  # (layout kept)
        return lamina.sparse_coo_tensor(lamina.as_tensor(flat[None]), vals, ctx.shape), None


def _weights(dtype="float32", seed=0):
    w = np.random.default_rng(seed).standard_normal((5, 3)).astype(dtype)
    return lamina.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)


def _lookups(lw, tw, idx=IDX):
    return RowGather.apply(lw, idx), torch.nn.functional.embedding(torch.tensor(idx), tw, sparse=True)


def _same_sparse(lg, tg, rtol=1e-6):
    assert lg.is_sparse and tg.is_sparse
    assert tuple(lg.shape) == tuple(tg.shape) and str(lg.dtype).split(".")[-1] == str(tg.dtype).split(".")[-1]
    assert lg.is_coalesced() == tg.is_coalesced()
    # (clones of torch's: a NumPy view would pin its storage, which a later accumulation resizes)
    np.testing.assert_array_equal(lg._indices().numpy(), tg._indices().clone().numpy())
    np.testing.assert_allclose(lg._values().detach().numpy(), tg._values().detach().clone().numpy(), rtol=rtol,
                               atol=1e-7)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_sparse_gradient_reaches_the_leaf_as_returned(dtype):
    lw, tw = _weights(dtype)
    ly, ty = _lookups(lw, tw)
    c = np.arange(18, dtype=dtype).reshape(2, 3, 3)
    (ly * lamina.tensor(c)).sum().backward()
    (ty * torch.tensor(c)).sum().backward()
    _same_sparse(lw.grad, tw.grad)
    assert not lw.grad.is_coalesced() and lw.grad.layout == lamina.sparse_coo
    np.testing.assert_allclose(lw.grad.to_dense().numpy(), tw.grad.to_dense().numpy())


def test_one_entry_is_coalesced_and_empty_lookups_give_nnz_zero():
    for idx in (np.array([3]), np.zeros((0,), dtype=np.int64)):
        lw, tw = _weights()
        ly, ty = _lookups(lw, tw, idx)
        ly.sum().backward()
        ty.sum().backward()
        _same_sparse(lw.grad, tw.grad)
        assert lw.grad._nnz() == tw.grad._nnz()


def test_two_uses_in_one_graph_merge():
    """Buffered for one leaf: new + old (torch's input buffer), merged by the layout's sum. (torch concatenates
    when a values tensor is not contiguous, as for a transposed lookup: the same values, in another order.)"""
    for transpose in (True, False):
        lw, tw = _weights()
        ys = [_lookups(lw, tw, np.array(i)) for i in ([4, 0, 2], [3, 1])]
        for k in range(2):
            a, b = (y.t() if transpose else y for y in (ys[0][k], ys[1][k]))
            ((a * 2).sum() + (b * 3).sum()).backward()
        _same_sparse(lw.grad.coalesce(), tw.grad.coalesce())
        assert lw.grad._indices().numpy().tolist() == [[3, 1, 4, 0, 2]]
        if not transpose:
            _same_sparse(lw.grad, tw.grad)


def test_sparse_plus_dense_in_one_graph_is_dense():
    lw, tw = _weights()
    ly, ty = _lookups(lw, tw)
    (ly.sum() + (lw * 2).sum()).backward()
    (ty.sum() + (tw * 2).sum()).backward()
    assert not lw.grad.is_sparse and tw.grad.layout == torch.strided
    np.testing.assert_allclose(lw.grad.numpy(), tw.grad.numpy())


@pytest.mark.parametrize("transpose", [False, True])
def test_accumulation_over_two_backward_calls(transpose):
    """.grad sparse, then more sparse gradients: old + new, merged (torch concatenates instead for the transposed
    lookup, whose gradient is a transposed view: the same values)."""
    lw, tw = _weights()
    for i, idx in enumerate(([4, 0, 2], [3, 1], [2, 2, 0])):
        for y in _lookups(lw, tw, np.array(idx)):
            (((y.t() if transpose else y) * (i + 2)).sum()).backward()
    if not transpose:
        _same_sparse(lw.grad, tw.grad)
    assert lw.grad._nnz() == 8 and not lw.grad.is_coalesced()
    _same_sparse(lw.grad.coalesce(), tw.grad.coalesce())


def test_accumulation_into_a_dense_grad_and_a_dense_into_a_sparse_grad():
    lw, tw = _weights()
    lw.grad, tw.grad = lamina.ones(5, 3), torch.ones(5, 3)
    before, tbefore = lw.grad, tw.grad
    ly, ty = _lookups(lw, tw)
    ly.sum().backward()
    ty.sum().backward()
    assert not lw.grad.is_sparse and (lw.grad is before) == (tw.grad is tbefore)  # in place, as torch
    np.testing.assert_allclose(lw.grad.numpy(), tw.grad.numpy())
    lw, tw = _weights()
    ly, ty = _lookups(lw, tw)
    ly.sum().backward()
    ty.sum().backward()
    (lw * 3).sum().backward()
    (tw * 3).sum().backward()
    assert not lw.grad.is_sparse and tw.grad.layout == torch.strided
    np.testing.assert_allclose(lw.grad.numpy(), tw.grad.numpy())


def test_hooks_see_the_sparse_gradient_and_may_replace_it():
    seen = []
    lw, tw = _weights()
    lw.register_hook(lambda g: seen.append(g.is_sparse))
    lw.register_hook(lambda g: g * 2)
    tw.register_hook(lambda g: g * 2)
    ly, ty = _lookups(lw, tw)
    ly.sum().backward()
    ty.sum().backward()
    assert seen == [True]
    _same_sparse(lw.grad, tw.grad)


def test_autograd_grad_and_backward_inputs_and_retain_graph():
    lw, tw = _weights()
    ly, ty = _lookups(lw, tw)
    (lg,) = lamina.autograd.grad(ly.sum(), lw, retain_graph=True)
    (tg,) = torch.autograd.grad(ty.sum(), tw, retain_graph=True)
    _same_sparse(lg, tg)
    assert lw.grad is None
    (ly ** 2).sum().backward(inputs=[lw], retain_graph=True)
    (ty ** 2).sum().backward(inputs=[tw], retain_graph=True)
    _same_sparse(lw.grad, tw.grad)
    ly.sum().backward()
    ty.sum().backward()
    _same_sparse(lw.grad.coalesce(), tw.grad.coalesce())


def test_create_graph_gives_a_differentiable_sparse_gradient():
    lw, tw = _weights(seed=3)
    ly, ty = _lookups(lw, tw)
    (lg,) = lamina.autograd.grad((ly ** 3).sum(), lw, create_graph=True)
    (tg,) = torch.autograd.grad((ty ** 3).sum(), tw, create_graph=True)
    assert lg.is_sparse and lg.requires_grad and tg.requires_grad
    _same_sparse(lg, tg, rtol=1e-5)
    (lg.to_dense() ** 2).sum().backward()
    (tg.to_dense() ** 2).sum().backward()
    np.testing.assert_allclose(lw.grad.to_dense().numpy(), tw.grad.to_dense().numpy(), rtol=1e-5)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_backward_create_graph_accumulates_sparse():
    lw, tw = _weights()
    ly, ty = _lookups(lw, tw)
    (ly ** 2).sum().backward(create_graph=True)
    (ty ** 2).sum().backward(create_graph=True)
    assert lw.grad.is_sparse and lw.grad.requires_grad == tw.grad.requires_grad
    _same_sparse(lw.grad, tw.grad)


def test_a_sparse_gradient_into_a_non_leaf_is_made_dense():
    """lamina's backward formulas compute on strided arrays, so a non-leaf gets the dense form (torch keeps
    some ops sparse); the leaf's values are torch's."""
    lw, tw = _weights()
    RowGather.apply(lw * 2, IDX).sum().backward()
    torch.nn.functional.embedding(torch.tensor(IDX), tw * 2, sparse=True).sum().backward()
    assert not lw.grad.is_sparse
    np.testing.assert_allclose(lw.grad.numpy(), tw.grad.to_dense().numpy())


def test_zero_grad_keeps_an_empty_sparse_grad_then_accumulates():
    lw, tw = _weights()
    for y in _lookups(lw, tw):
        y.sum().backward()
    g, tg = lw.grad, tw.grad
    lamina.optim.Optimizer([lw], {}).zero_grad(set_to_none=False)
    torch.optim.SGD([tw]).zero_grad(set_to_none=False)
    assert lw.grad is g and tw.grad is tg
    _same_sparse(lw.grad, tw.grad)
    assert lw.grad._nnz() == 0
    ly, ty = _lookups(lw, tw, np.array([1, 2]))
    c = np.ones((2, 3), dtype=np.float32)
    (ly * lamina.tensor(c)).sum().backward()
    (ty * torch.tensor(c)).sum().backward()
    _same_sparse(lw.grad, tw.grad)


def test_dense_gradients_are_unchanged():
    """The dense path: arrays in, dense .grad accumulated in place (a control for the sparse branches)."""
    lw, tw = _weights()
    for _ in range(2):
        (lw[IDX] * 2).sum().backward()
        (tw[torch.tensor(IDX)] * 2).sum().backward()
    assert not lw.grad.is_sparse
    np.testing.assert_allclose(lw.grad.numpy(), tw.grad.numpy())


@pytest.mark.parametrize("bad", [False, True])
def test_grad_scaler_unscales_a_sparse_gradients_values(bad):
    """GradScaler.step: the sparse gradient stays sparse (values unscaled in place); an inf skips the step."""
    out = []
    for lib in (lamina, torch):
        w = lib.tensor(np.ones((5, 3), dtype=np.float32), requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1)
        scaler = lib.amp.GradScaler("cpu", init_scale=4.0)
        c = lib.tensor(np.full((3, 3), np.inf if bad else 3.0, dtype=np.float32))
        y = lib.nn.functional.embedding(lib.tensor([0, 2, 2]), w, sparse=True)
        scaler.scale((y * c).sum()).backward()
        scaler.step(opt)
        scaler.update()
        out.append((w.detach().numpy().copy(), w.grad.is_sparse, w.grad._values().detach().clone().numpy(),
                    scaler.get_scale()))
    np.testing.assert_allclose(out[0][0], out[1][0])
    np.testing.assert_allclose(out[0][2], out[1][2])
    assert out[0][1] and out[1][1] and out[0][3] == out[1][3]
