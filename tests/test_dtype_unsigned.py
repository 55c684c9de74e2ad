"""torch's limited-support unsigned dtypes (uint16/32/64) and hash_tensor (a uint64 reduction), against torch."""

from __future__ import annotations

import lamina
import numpy as np
import pytest

torch = pytest.importorskip("torch")

WIDE = ["uint16", "uint32", "uint64"]


@pytest.mark.parametrize("name", WIDE)
def test_creation_conversion_and_limits(name):
    ld, td = getattr(lamina, name), getattr(torch, name)
    x, t = lamina.tensor([1, 2, 7], dtype=ld), torch.tensor([1, 2, 7], dtype=td)
    assert x.tolist() == t.tolist() and str(x.dtype).split(".")[-1] == name
    assert x.to(lamina.float32).tolist() == t.to(torch.float32).tolist()
    assert lamina.zeros(2, dtype=ld).dtype is ld
    assert (lamina.iinfo(ld).min, lamina.iinfo(ld).max) == (torch.iinfo(td).min, torch.iinfo(td).max)
    assert not ld.is_signed and not ld.is_floating_point
    assert repr(x) == repr(t).replace("torch", "lamina")


@pytest.mark.parametrize("name", WIDE)
@pytest.mark.parametrize("other", ["uint8", "int8", "int64", "bool", "float32", "float64", "same"])
def test_promotion_matches_torch(name, other):
    o = name if other == "same" else other
    try:
        expected = str(torch.promote_types(getattr(torch, name), getattr(torch, o))).split(".")[-1]
    except RuntimeError as e:
        with pytest.raises(RuntimeError, match=str(e).replace("(", r"\(").replace(")", r"\)")):
            lamina.promote_types(getattr(lamina, name), getattr(lamina, o))
        return
    assert str(lamina.promote_types(getattr(lamina, name), getattr(lamina, o))).split(".")[-1] == expected


HASH_CASES = {
    "int32_dim1": lambda m: m.hash_tensor(m.tensor([[1, 2], [3, 4]], dtype=m.int32), dim=1),
    "bool": lambda m: m.hash_tensor(m.tensor([True, False, True])),
    "float16": lambda m: m.hash_tensor(m.tensor([1.5, -2.25], dtype=m.float16)),
    "float32_method": lambda m: m.tensor([1.0, 2.0, 3.0]).hash_tensor(),
    "dims_keepdim": lambda m: m.hash_tensor(m.arange(6.0).reshape(2, 3), dim=(0, 1), keepdim=True),
    "negative_int8": lambda m: m.hash_tensor(m.tensor([-1, 5], dtype=m.int8)),
    "zero_dim": lambda m: m.hash_tensor(m.tensor(2.5, dtype=m.float64)),
    "random_rows": lambda m: m.hash_tensor(m.tensor(np.random.default_rng(0).standard_normal((3, 4))), dim=-1),
    "empty": lambda m: m.hash_tensor(m.zeros(0)),
    "empty_dim": lambda m: m.hash_tensor(m.zeros(2, 0), dim=1),
    "complex": lambda m: m.hash_tensor(m.tensor([1 + 1j])),
    "mode": lambda m: m.hash_tensor(m.tensor([1.0]), mode=1),
}


@pytest.mark.parametrize("case", sorted(HASH_CASES))
def test_hash_tensor_matches_torch(case):
    try:
        expected = HASH_CASES[case](torch)
    except Exception as e:  # noqa: BLE001  (torch's exception is the oracle)
        with pytest.raises(type(e), match=str(e).split(":")[0].replace("(", r"\(").replace(")", r"\)")):
            HASH_CASES[case](lamina)
        return
    got = HASH_CASES[case](lamina)
    assert got.dtype is lamina.uint64 and tuple(got.shape) == tuple(expected.shape)
    assert got.tolist() == expected.tolist()
