"""Layer checks on state: state_dict keys and round trips, load_state_dict errors, copies."""

from __future__ import annotations

import copy
import io
import pickle

import numpy as np

from ._core import (
    KINDS_LAYER,
    Case,
    check,
    fail,
    host,
    outputs,
    samples,
    skip,
    to_tensors,
)
from .checks_module import build


@check("state_dict_keys", KINDS_LAYER, dtypes="once")
def state_dict_keys(case: Case) -> None:
    """state_dict keys are the named parameters plus persistent buffers."""
    m = build(case)
    keys = list(m.state_dict().keys())
    params = [k for k, _ in m.named_parameters()]
    persistent = []
    for prefix, mod in m.named_modules():
        skip_set = getattr(mod, "_non_persistent_buffers_set", set())
        for name, b in mod._buffers.items():
            if b is not None and name not in skip_set:
                persistent.append(f"{prefix}.{name}" if prefix else name)
    extra = [k for k in keys if k not in params and k not in persistent]
    missing = [k for k in params + persistent if k not in keys]
    if extra or missing:
        fail(f"{case.name}: state_dict keys {keys} differ from the named parameters + persistent buffers "
             f"(missing {missing}, unexpected {extra})")


@check("state_dict_roundtrip", KINDS_LAYER)
def state_dict_roundtrip(case: Case) -> None:
    """state_dict survives lamina.save/load exactly and loads into a fresh module (outputs equal)."""
    import lamina

    a = build(case, seed=0)
    b = build(case, seed=1)
    args, kwargs = to_tensors(case, samples(case)[0])
    with lamina.no_grad():
        a(*args, **kwargs)  # materialise lazy parameters before saving
    buf = io.BytesIO()
    lamina.save(a.state_dict(), buf)
    buf.seek(0)
    sd = lamina.load(buf, map_location=case.device)
    for k, v in a.state_dict().items():
        if not np.array_equal(host(sd[k]), host(v), equal_nan=True) or sd[k].dtype != v.dtype:
            fail(f"{case.name}: {k} changed through lamina.save/load")
    b.load_state_dict(sd)
    a.eval()
    b.eval()
    for i, (u, v) in enumerate(zip(outputs(a(*args, **kwargs)), outputs(b(*args, **kwargs)))):
        if not np.array_equal(host(u), host(v), equal_nan=True):
            fail(f"{case.name}: output {i} differs after loading the state_dict into a fresh module")


def _has_state(rec, device: str) -> bool:
    """Stateless layers (activations, pooling, ...) have nothing for load_state_dict to reject."""
    try:
        return bool(rec.cls(**copy.deepcopy(rec.init_kwargs)).state_dict())
    except Exception:  # noqa: BLE001  (let the check itself report a constructor that fails)
        return True


@check("load_state_dict_rejects", KINDS_LAYER, dtypes="once", when=_has_state)
def load_state_dict_rejects(case: Case) -> None:
    """Wrong shape, missing and unexpected keys are all listed in one error; the module is unchanged."""
    import lamina

    m = build(case)
    sd = m.state_dict()
    if not sd:
        skip("no state")
    before = {k: host(v) for k, v in sd.items()}
    bad = dict(sd)
    first = next(iter(bad))
    bad[first] = lamina.zeros(*(tuple(bad[first].shape) + (2,)), dtype=bad[first].dtype)
    bad["definitely_unexpected.key"] = lamina.zeros(1)
    # drop a parameter (buffers such as num_batches_tracked may legitimately be optional)
    params = [k for k, _ in m.named_parameters() if k != first]
    dropped = params[-1] if params else None
    if dropped is not None:
        del bad[dropped]
    try:
        m.load_state_dict(bad)
    except RuntimeError as e:
        msg = str(e)
        for needle in (first, "definitely_unexpected.key") + ((dropped,) if dropped else ()):
            if needle not in msg:
                fail(f"{case.name}: load_state_dict error does not mention {needle!r}: {msg}")
    else:
        fail(f"{case.name}: load_state_dict accepted a wrong shape, a missing and an unexpected key")
    for k, v in m.state_dict().items():
        if not np.array_equal(host(v), before[k], equal_nan=True):
            fail(f"{case.name}: {k} changed although load_state_dict failed")


@check("deepcopy_pickle", KINDS_LAYER, dtypes="once")
def deepcopy_pickle(case: Case) -> None:
    """deepcopy and in-process pickle give an equal, independent module."""
    m = build(case)
    m.eval()
    for how, c in (("deepcopy", copy.deepcopy(m)), ("pickle", pickle.loads(pickle.dumps(m)))):
        for (k, v), (_, w) in zip(m.state_dict().items(), c.state_dict().items()):
            if not np.array_equal(host(v), host(w), equal_nan=True):
                fail(f"{case.name}: {k} differs after {how}")
        if any(p is q for p, q in zip(m.parameters(), c.parameters())):
            fail(f"{case.name}: {how} shares parameter objects with the original")


#: this family's checks, in the order the runner generates them
CHECKS = (
    state_dict_keys,
    state_dict_roundtrip,
    load_state_dict_rejects,
    deepcopy_pickle,
)
