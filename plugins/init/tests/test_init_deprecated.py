"""The deprecated init names (nn.init.uniform, ...): torch's FutureWarning, the same values as the
in-place scheme under the same seed, and the same tensor returned."""

from __future__ import annotations

import warnings

import lamina
import lamina.nn.init as init
import pytest

torch = pytest.importorskip("torch")

CASES = [("uniform", {"a": -1.0, "b": 2.0}, (5, 4)), ("normal", {"mean": 1.0, "std": 0.5}, (5, 4)),
         ("constant", {"val": 0.3}, (5, 4)), ("eye", {}, (3, 5)), ("dirac", {}, (4, 2, 3)),
         ("xavier_uniform", {"gain": 2.0}, (6, 3)), ("xavier_normal", {}, (6, 3, 2)),
         ("kaiming_uniform", {"a": 0.1}, (6, 3)), ("kaiming_normal", {"mode": "fan_out"}, (6, 3)),
         ("orthogonal", {"gain": 1.5}, (4, 6)), ("sparse", {"sparsity": 0.5}, (6, 4))]


def _call_warns(mod, name, t, kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = getattr(mod, name)(t, **kw)
    assert len(caught) == 1 and caught[0].category is FutureWarning
    return out, str(caught[0].message)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("name", "kw", "shape"), CASES, ids=[c[0] for c in CASES])
def test_deprecated_alias_matches_scheme_and_warns_as_torch(name, kw, shape, dtype):
    t = lamina.empty(shape, dtype=getattr(lamina, dtype))
    lamina.manual_seed(3)
    out, msg = _call_warns(init, name, t, kw)
    assert out is t
    ref = lamina.empty(shape, dtype=getattr(lamina, dtype))
    lamina.manual_seed(3)
    getattr(init, name + "_")(ref, **kw)
    assert lamina.equal(t, ref)
    assert t.dtype == ref.dtype
    _, torch_msg = _call_warns(torch.nn.init, name, torch.empty(shape, dtype=getattr(torch, dtype)), kw)
    assert msg == torch_msg == f"`nn.init.{name}` is now deprecated in favor of `nn.init.{name}_`."


def test_deprecated_alias_names_and_errors():
    assert init.uniform.__name__ == "uniform"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with pytest.raises(ValueError, match="eye_: only tensors with 2 dimensions"):
            init.eye(lamina.empty(2, 2, 2))


def test_deprecated_alias_is_seeded_like_torch_for_constant_and_eye():
    """The deterministic ones equal torch's results exactly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        a = init.eye(lamina.empty(3, 4))
        b = torch.nn.init.eye(torch.empty(3, 4))
        assert a.tolist() == b.tolist()
        a = init.dirac(lamina.empty(4, 2, 3, 3), groups=2)
        b = torch.nn.init.dirac(torch.empty(4, 2, 3, 3), groups=2)
        assert a.tolist() == b.tolist()
