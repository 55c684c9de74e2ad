"""lamina.func against torch.func: the same functions, inputs and weights; values, shapes, gradients, errors."""

from __future__ import annotations

import warnings

import lamina
import numpy as np
import pytest
from lamina.func import (
    functional_call,
    grad,
    grad_and_value,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    stack_module_state,
    vjp,
    vmap,
)

torch = pytest.importorskip("torch")


def pair(shape, seed=0, dtype=np.float64):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return lamina.tensor(a), torch.tensor(a)


def close(lt, tt, tol=1e-10):
    if isinstance(tt, (tuple, list)):
        assert isinstance(lt, (tuple, list)) and len(lt) == len(tt)
        for a, b in zip(lt, tt):
            close(a, b, tol)
        return
    if isinstance(tt, dict):
        assert set(lt) == set(tt)
        for k in tt:
            close(lt[k], tt[k], tol)
        return
    assert tuple(lt.shape) == tuple(tt.shape), (lt.shape, tt.shape)
    assert str(lt.dtype).split(".")[-1] == str(tt.dtype).split(".")[-1]
    np.testing.assert_allclose(lt.detach().numpy(), tt.detach().numpy(), rtol=tol, atol=tol)


def test_namespace_and_top_level_vmap_are_the_plugin():
    assert lamina.vmap is vmap
    assert lamina.func.grad is grad


@pytest.mark.parametrize("case", ["sum", "mv", "in_dims_none", "neg_dim", "dict", "out_dims", "nested", "kwargs"])
def test_vmap_matches_torch(case):
    (la, ta), (lb, tb) = pair((4, 3, 5)), pair((4, 5), 1)
    if case == "sum":
        fns = [(m.vmap(m.sum), (a,)) for m, a in ((lamina, la), (torch, ta))]
    elif case == "mv":
        fns = [(m.vmap(m.mv), (a, b)) for m, a, b in ((lamina, la, lb), (torch, ta, tb))]
    elif case == "in_dims_none":
        fns = [(m.vmap(lambda a, b, m=m: m.mv(a, b), in_dims=(0, None)), (a, b[0]))
               for m, a, b in ((lamina, la, lb), (torch, ta, tb))]
    elif case == "neg_dim":
        fns = [(m.vmap(lambda v, m=m: v.sum(0) * 2, in_dims=-1), (a,)) for m, a in ((lamina, la), (torch, ta))]
    elif case == "dict":
        fns = [(m.vmap(lambda d: d["w"] @ d["x"], in_dims=({"w": 0, "x": 0},)), ({"w": a, "x": b},))
               for m, a, b in ((lamina, la, lb), (torch, ta, tb))]
    elif case == "out_dims":
        fns = [(m.vmap(lambda v: (v.sum(-1), v.T), out_dims=(0, 2)), (a,)) for m, a in ((lamina, la), (torch, ta))]
    elif case == "nested":
        fns = [(m.vmap(m.vmap(lambda x, y: x * y, in_dims=(0, None)), in_dims=(None, 0)), (a[0, 0], b))
               for m, a, b in ((lamina, la, lb), (torch, ta, tb))]
    else:
        fns = [(m.vmap(lambda v, scale=1.0: v * scale), (a,)) for m, a in ((lamina, la), (torch, ta))]
    (lf, largs), (tf, targs) = fns
    close(lf(*largs), tf(*targs))


def test_vmap_chunk_size_and_gradients_through_it():
    (la, ta), (lb, tb) = pair((6, 3, 4)), pair((6, 4), 1)
    la.requires_grad_(True)
    ta.requires_grad_(True)
    lo = vmap(lamina.mv, chunk_size=4)(la, lb)
    to = torch.vmap(torch.mv, chunk_size=4)(ta, tb)
    close(lo, to)
    (lo.tanh().sum()).backward()
    (to.tanh().sum()).backward()
    close(la.grad, ta.grad)


def test_vmap_randomness_modes():
    x = lamina.zeros(5, 3)
    with pytest.raises(RuntimeError, match="called random operation while in randomness error mode"):
        vmap(lambda v: v + lamina.rand(3))(x)
    lamina.manual_seed(0)
    same = vmap(lambda v: v + lamina.rand(3), randomness="same")(x)
    assert bool((same == same[0]).all())
    diff = vmap(lambda v: v + lamina.rand(3), randomness="different")(x)
    assert not bool((diff == diff[0]).all())
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        vmap(lamina.sum, randomness="other")


def test_vmap_errors_as_torch():
    x = lamina.ones(2, 3)
    with pytest.raises(ValueError, match="same size in the mapped dimension"):
        vmap(lamina.add)(x, lamina.ones(3, 3))
    with pytest.raises(ValueError, match="We cannot vmap over non-Tensor arguments"):
        vmap(lambda a, b: a * b)(x, 2.0)
    with pytest.raises(ValueError, match="expected in_dim to satisfy -2 <= in_dim < 2"):
        vmap(lamina.sum, in_dims=2)(x)
    with pytest.raises(ValueError, match="must only return Tensors"):
        vmap(lambda v: 1.0)(x)
    with pytest.raises(ValueError, match="in_dims is not compatible with the structure"):
        vmap(lamina.add, in_dims=(0,))(x, x)
    with pytest.raises(ValueError, match="chunk_size should be None or greater than 0"):
        vmap(lamina.sum, chunk_size=0)


def tjvp(*args, **kwargs):
    with warnings.catch_warnings():  # torch's forward AD loads its decompositions through torch.jit.script
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.func.jvp(*args, **kwargs)


def _f(m):
    return lambda x, y: (m.sin(x) * y).sum() + (x ** 3).sum()


def test_grad_family_matches_torch():
    (lx, tx), (ly, ty) = pair((3, 2)), pair((3, 2), 1)
    close(grad(_f(lamina))(lx, ly), torch.func.grad(_f(torch))(tx, ty))
    close(grad(_f(lamina), argnums=(0, 1))(lx, ly), torch.func.grad(_f(torch), argnums=(0, 1))(tx, ty))
    close(grad_and_value(_f(lamina), argnums=1)(lx, ly), torch.func.grad_and_value(_f(torch), argnums=1)(tx, ty))
    lg, laux = grad(lambda x: (x.sum() ** 2, x.mean()), has_aux=True)(lx)
    tg, taux = torch.func.grad(lambda x: (x.sum() ** 2, x.mean()), has_aux=True)(tx)
    close((lg, laux), (tg, taux))
    assert not lg.requires_grad and not laux.requires_grad
    # second and third derivatives by nesting
    close(grad(grad(lambda x: x.sin() * x ** 2))(lx[0, 0]), torch.func.grad(torch.func.grad(
        lambda x: x.sin() * x ** 2))(tx[0, 0]))
    close(grad(grad(grad(lambda x: x.exp() * x)))(lx[1, 1]),
          torch.func.grad(torch.func.grad(torch.func.grad(lambda x: x.exp() * x)))(tx[1, 1]))
    # a closure over the outer variable
    close(grad(lambda x: grad(lambda y: (x * y).sin().sum())(ly).sum())(lx),
          torch.func.grad(lambda x: torch.func.grad(lambda y: (x * y).sin().sum())(ty).sum())(tx))


def test_grad_errors_and_connection_to_autograd():
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a scalar Tensor, got tensor with 1 dims"):
        grad(lambda x: x * 2)(lamina.ones(3))
    with pytest.raises(RuntimeError, match="only 1 positional inputs"):
        grad(lambda x: x.sum(), argnums=1)(lamina.ones(3))
    (lx, tx) = pair((4,))
    lx.requires_grad_(True)
    tx.requires_grad_(True)
    grad(lambda v: (v ** 3).sum())(lx).sum().backward()
    torch.func.grad(lambda v: (v ** 3).sum())(tx).sum().backward()
    close(lx.grad, tx.grad)


def test_vjp_and_jvp_match_torch():
    (lx, tx), (lc, tc) = pair((3, 4)), pair((3, 4), 1)
    lo, lfn = vjp(lambda x: x.tanh() * x, lx)
    to, tfn = torch.func.vjp(lambda x: x.tanh() * x, tx)
    close(lo, to)
    close(lfn(lc), tfn(tc))
    lo, lfn = vjp(lambda x, y: (x * y, x.sum()), lx, lc)
    to, tfn = torch.func.vjp(lambda x, y: (x * y, x.sum()), tx, tc)
    close(lfn((lc, lamina.tensor(2.0, dtype=lamina.float64))), tfn((tc, torch.tensor(2.0, dtype=torch.float64))))
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        vjp(lambda x: x * 2, lx)[1](lamina.ones(2))
    close(jvp(lambda x: x.sin() * x.exp(), (lx,), (lc,)), tjvp(lambda x: x.sin() * x.exp(), (tx,), (tc,)))
    close(jvp(lambda x, y: (x * y).sum(0), (lx, lc), (lc, lx)),
          tjvp(lambda x, y: (x * y).sum(0), (tx, tc), (tc, tx)))


def test_jacobians_and_hessian_match_torch():
    (lx, tx), (ly, ty) = pair((4,)), pair((3,), 1)
    fn = lambda m: lambda x, y: m.outer(x.sin(), y) * x.sum()  # noqa: E731
    close(jacrev(fn(lamina))(lx, ly), torch.func.jacrev(fn(torch))(tx, ty))
    close(jacrev(fn(lamina), argnums=(0, 1))(lx, ly), torch.func.jacrev(fn(torch), argnums=(0, 1))(tx, ty))
    close(jacfwd(fn(lamina), argnums=1)(lx, ly), torch.func.jacfwd(fn(torch), argnums=1)(tx, ty))
    h = lambda x: (x ** 3).sum() + x[0] * x[2] * x[3] + (x[0] * x[1]).exp()  # noqa: E731
    close(hessian(h)(lx), torch.func.hessian(h)(tx))
    close(jacrev(lambda d: d["a"] * d["b"].sum())({"a": lx, "b": lx * 2}),
          torch.func.jacrev(lambda d: d["a"] * d["b"].sum())({"a": tx, "b": tx * 2}))


def _models():
    lamina.manual_seed(0)
    nn = lamina.nn
    lm = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 1))
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    tm.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in lm.state_dict().items()})
    return lm.double(), tm.double()


def test_functional_call_matches_torch_and_restores_the_module():
    lm, tm = _models()
    (lx, tx) = pair((5, 3))
    new = {k: v.detach() * 0.5 + 0.1 for k, v in lm.named_parameters()}
    tnew = {k: torch.tensor(v.numpy()) for k, v in new.items()}
    close(functional_call(lm, new, (lx,)), torch.func.functional_call(tm, tnew, (tx,)))
    close(lm.state_dict(), tm.state_dict())  # running stats updated alike, parameters restored
    assert lm[0].weight is dict(lm.named_parameters())["0.weight"]
    with pytest.raises(RuntimeError, match="Missing key"):
        functional_call(lm, {"0.weight": new["0.weight"]}, (lx,), strict=True)
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        functional_call(lm, ({"0.bias": new["0.bias"]}, {"0.bias": new["0.bias"]}), (lx,))
    before = lm[0].weight
    with pytest.raises(RuntimeError):
        functional_call(lm, {"0.weight": lamina.zeros(2, 2, dtype=lamina.float64)}, (lx,))
    assert lm[0].weight is before


def test_per_sample_gradients_and_ensembles_match_torch():
    lm, tm = _models()
    lm.eval()
    tm.eval()
    (lx, tx), (ly, ty) = pair((6, 3)), pair((6, 1), 1)
    lp = {k: v.detach() for k, v in lm.named_parameters()}
    tp = {k: v.detach() for k, v in tm.named_parameters()}

    def loss(m, fc, model):
        return lambda p, x, y: ((fc(model, p, (x[None],)) - y[None]) ** 2).mean()

    lg = vmap(grad(loss(lamina, functional_call, lm)), in_dims=(None, 0, 0))(lp, lx, ly)
    tg = torch.func.vmap(torch.func.grad(loss(torch, torch.func.functional_call, tm)), in_dims=(None, 0, 0))(tp, tx, ty)
    close(lg, tg)
    lms, tms = [_models()[0].eval() for _ in range(3)], []
    for m in lms:
        t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Tanh(),
                                torch.nn.Linear(4, 1)).double().eval()
        t.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in m.state_dict().items()})
        tms.append(t)
    lps, lbs = stack_module_state(lms)
    tps, tbs = torch.func.stack_module_state(tms)
    close(lps, tps)
    assert all(v.requires_grad for v in lps.values())
    lout = vmap(lambda p, b, x: functional_call(lms[0], (p, b), (x,)), in_dims=(0, 0, None))(lps, lbs, lx)
    tout = torch.func.vmap(lambda p, b, x: torch.func.functional_call(tms[0], (p, b), (x,)),
                           in_dims=(0, 0, None))(tps, tbs, tx)
    close(lout, tout)
