"""Checks for layers and any Module plugin (TESTKIT.md "Layers")."""

from __future__ import annotations

import copy
import functools
import subprocess
import sys

import numpy as np

from ._core import (
    KINDS_LAYER,
    TOL_REDUCTION,
    Case,
    check,
    close,
    fail,
    host,
    np64,
    outputs,
    samples,
    skip,
    to_tensors,
)


def build(case: Case, dtype: str | None = None, seed: int = 0, **extra):
    """Construct the record's module seeded, on the case's device and dtype."""
    import lamina

    rec = case.record
    lamina.manual_seed(seed)
    kw = dict(copy.deepcopy(rec.init_kwargs), **extra)  # sub-modules passed as arguments must not be shared
    if hasattr(rec, "reductions") and "reduction" not in kw and "none" in rec.reductions:
        kw["reduction"] = "none"  # layer checks on a loss look at the per-element values
    dt = getattr(lamina, dtype or case.dtype)
    try:
        m = rec.cls(**kw, device=case.device, dtype=dt)
    except TypeError:
        m = rec.cls(**kw).to(case.device)
        m = m.to(dt)
    if "inplace" in rec.tags:
        object.__setattr__(m, "_lamina_kit_clone_inputs", True)
    return m


def vary_constant_parameters(m, seed: int = 0) -> None:
    """Give parameters initialised to one constant (a norm's weight of ones, zero biases) distinct
    seeded values: at those values a wrong affine transform (weight and bias swapped, weight applied
    twice) agrees with the reference, and some gradient errors vanish."""
    import lamina

    rng = np.random.default_rng(seed)
    with lamina.no_grad():
        for p in m.parameters():
            if p.numel() == 0 or not p.is_floating_point():
                continue
            a = host(p)
            if np.all(a == a.reshape(-1)[0]):
                varied = (a + rng.uniform(-0.5, 0.5, a.shape)).astype(a.dtype)
                p.copy_(lamina.tensor(varied, dtype=p.dtype, device=p.device))


def _tol(case: Case, dtype: str | None = None):
    rec = case.record
    rtol, atol = TOL_REDUCTION[dtype or case.dtype]
    return (rec.rtol if rec.rtol is not None else rtol), (rec.atol if rec.atol is not None else atol)


def _forward(m, args, kwargs):
    if getattr(m, "_lamina_kit_clone_inputs", False):  # records tagged 'inplace' write into their input
        args = tuple(a.clone() if hasattr(a, "array") else a for a in args)
    return m(*args, **kwargs)


def _params64(m) -> dict:
    return {k: np.asarray(v, dtype=np.float64) if np.asarray(v).dtype.kind == "f" else np.asarray(v)
            for k, v in ((k, host(t)) for k, t in m.state_dict().items())}


@check("registration", KINDS_LAYER, dtypes="once")
def registration(case: Case) -> None:
    """The component resolves through lamina.nn (a loss's functional form through lamina.nn.functional)
    and subclasses Module."""
    import lamina

    cls = case.record.cls
    if not (isinstance(cls, type) and issubclass(cls, lamina.nn.Module)):
        fail(f"{case.name}: expected a lamina.nn.Module subclass, got {cls!r}")
    try:
        resolved = getattr(lamina.nn, cls.__name__)
    except AttributeError:
        resolved = None
    if resolved is not None and resolved is not cls and case.dist != "<in-process>":
        names = lamina.plugins.names("lamina.layers") + lamina.plugins.names("lamina.losses")
        if cls.__name__ in names:
            fail(f"{case.name}: lamina.nn.{cls.__name__} resolves to {resolved!r}, not the record's class {cls!r}")
    fn = getattr(case.record, "functional", None)  # a loss's F.* form
    if fn is not None and case.dist != "<in-process>" and fn.__name__ in lamina.plugins.names("lamina.functional"):
        resolved = getattr(lamina.nn.functional, fn.__name__)
        if resolved is not fn:
            fail(f"{case.name}: lamina.nn.functional.{fn.__name__} resolves to {resolved!r}, not the record's "
                 f"functional {fn!r}")


@check("import_hygiene", KINDS_LAYER, dtypes="once")
def import_hygiene(case: Case) -> None:
    """Importing the component's module pulls in no CuPy (and no torch)."""
    mod = case.record.cls.__module__
    if mod in ("__main__",) or mod.startswith("test") or "." not in mod and mod not in sys.modules:
        skip("the component is not defined in an importable plugin module")
    returncode, stdout, stderr = _fresh_import(mod)
    if returncode != 0:
        skip(f"module {mod} is not importable in a fresh interpreter: {stderr.strip().splitlines()[-1:]}")
    if stdout.strip():
        fail(f"{case.name}: importing {mod} imports {stdout.strip()} (a plugin must import GPU libraries lazily)")


@functools.cache
def _fresh_import(mod: str) -> tuple[int, str, str]:
    """Import ``mod`` in a fresh interpreter (once per module: records of one module share the answer)."""
    code = (f"import sys, importlib; importlib.import_module({mod!r}); "
            "print(','.join(m for m in ('cupy', 'torch', 'cupyx') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout, r.stderr


@check("seeded_construction", KINDS_LAYER, dtypes="once")
def seeded_construction(case: Case) -> None:
    """Construction under one seed is reproducible, and constructing does not disturb a separate generator."""
    a, b = build(case), build(case)
    for (k, v), (_, w) in zip(a.state_dict().items(), b.state_dict().items()):
        if not np.array_equal(host(v), host(w)):
            fail(f"{case.name}: {k} differs between two constructions under lamina.manual_seed(0)")


@check("factory_kwargs", KINDS_LAYER)
def factory_kwargs(case: Case) -> None:
    """dtype= and device= constructor arguments put every floating parameter where asked."""
    import inspect

    import lamina

    if "dtype" not in inspect.signature(case.record.cls).parameters:
        params = list(build(case).parameters())
        if params:
            fail(f"{case.name}: the constructor does not accept dtype=/device= factory arguments")
        return
    m = case.record.cls(**case.record.init_kwargs, device=case.device, dtype=getattr(lamina, case.dtype))
    for name, p in list(m.named_parameters()) + list(m.named_buffers()):
        if p.is_floating_point() and p.dtype.name != case.dtype:
            fail(f"{case.name}: {name} is {p.dtype}, expected {case.dtype} from dtype=")
        if p.device != lamina.device(case.device):
            fail(f"{case.name}: {name} is on {p.device}, expected {case.device} from device=")


@check("repr", KINDS_LAYER, dtypes="once")
def repr_names_class(case: Case) -> None:
    """repr names the class (and, when constructor arguments are given, shows some hyperparameter)."""
    m = build(case)
    r = repr(m)
    if not r.startswith(type(m).__name__ + "("):
        fail(f"{case.name}: repr should start with '{type(m).__name__}(', got {r!r}")


@check("forward_reference", KINDS_LAYER,
       when=lambda rec, dev: rec.reference is not None and not hasattr(rec, "reductions"))
def forward_reference(case: Case) -> None:
    """Forward output equals the NumPy float64 reference (constant-initialised parameters varied first)."""
    rec = case.record
    if rec.reference is None:
        skip("no reference")
    if hasattr(rec, "reductions"):
        skip("losses are checked per reduction (reference_per_reduction)")
    m = build(case)
    vary_constant_parameters(m)
    if "random" in rec.tags:
        m.eval()  # references describe the deterministic (train-mode) forward; random layers compare in eval
    rtol, atol = _tol(case)
    for s in samples(case):
        args, kwargs = to_tensors(case, s)
        a64, k64 = np64(s)
        got = outputs(_forward(m, args, kwargs))
        params = _params64(m)  # after the call: lazy modules size their parameters on first use
        expected = rec.reference(params, *a64, **k64)
        exp = expected if isinstance(expected, (tuple, list)) else (expected,)
        for i, (g, e) in enumerate(zip(got, exp)):
            close(host(g), e, rtol, atol, f"{case.name} {s.name or ''} output {i}")


@check("output_dtype_shape_device", KINDS_LAYER)
def output_dtype_shape_device(case: Case) -> None:
    """Floating outputs keep the input dtype (no float64 upcast), declared shape, same device."""
    import lamina

    m = build(case)
    for s in samples(case):
        args, kwargs = to_tensors(case, s)
        y = _forward(m, args, kwargs)
        for i, o in enumerate(outputs(y)):
            if o.is_floating_point() and o.dtype.name != case.dtype:
                fail(f"{case.name}: output {i} is {o.dtype} for {case.dtype} input (silent upcast?)")
            if o.device != lamina.device(case.device):
                fail(f"{case.name}: output {i} is on {o.device}, input on {case.device}")
        if case.record.output_shape is not None:
            shapes = [tuple(a.shape) for a in args if isinstance(a, lamina.Tensor)]
            want = tuple(case.record.output_shape(*shapes, **case.record.init_kwargs))
            got = tuple(outputs(y)[0].shape)
            if got != want:
                fail(f"{case.name}: output shape {got}, declared {want}")


@check("inputs_not_mutated", KINDS_LAYER, when=lambda rec, dev: "inplace" not in rec.tags)
def inputs_not_mutated(case: Case) -> None:
    """Forward and backward leave the inputs unchanged (unless tagged inplace)."""
    if "inplace" in case.record.tags:
        skip("tagged inplace")
    m = build(case)
    for s in samples(case):
        for when in ("forward", "backward"):
            args, kwargs = to_tensors(case, s, requires_grad=when == "backward")
            before = [host(a) for a in args if hasattr(a, "array")]
            ys = [o for o in outputs(_forward(m, args, kwargs)) if o.requires_grad]
            if when == "backward" and ys:
                sum((o * o).sum() for o in ys).backward()
            after = [host(a) for a in args if hasattr(a, "array")]
            for i, (b, a) in enumerate(zip(before, after)):
                if not np.array_equal(b, a, equal_nan=True):
                    fail(f"{case.name}: input {i} was modified by {when}")


@check("noncontiguous", KINDS_LAYER)
def noncontiguous(case: Case) -> None:
    """Non-contiguous inputs give the same results as contiguous ones."""
    import lamina

    m = build(case)
    if "random" in case.record.tags or "train_eval_differ" in case.record.tags:
        m.eval()
    for s in samples(case):
        args, kwargs = to_tensors(case, s)
        nc = []
        for a in args:
            if isinstance(a, lamina.Tensor) and a.ndim >= 1 and a.is_floating_point() and a.numel() > 1:
                # a strided copy: same values, every other element of a twice-as-long buffer
                big = lamina.stack([a, a], dim=-1)
                nc.append(big[..., 0])
            else:
                nc.append(a)
        y1 = [host(o) for o in outputs(_forward(m, args, kwargs))]
        y2 = [host(o) for o in outputs(_forward(m, tuple(nc), kwargs))]
        for i, (u, v) in enumerate(zip(y1, y2)):
            close(v, u, *_tol(case), f"{case.name}: output {i} for a non-contiguous input")


def _grad_fn(m, args, kwargs, case):
    def f(*xs):
        return _forward(m, xs[:len(args)], kwargs)
    return f


@check("gradcheck", KINDS_LAYER, dtypes="float64")
def gradcheck_inputs_params(case: Case) -> None:
    """float64 central differences agree with backward for inputs and every parameter (constant-
    initialised ones varied first); a loss under each of its reductions."""
    from .gradcheck import GradcheckError, gradcheck

    reductions = getattr(case.record, "reductions", None) or (None,)
    for red in reductions:
        m = build(case, "float64", **({} if red is None else {"reduction": red}))
        vary_constant_parameters(m)
        if "random" in case.record.tags:
            m.eval()
        params = [p for p in m.parameters() if p.requires_grad]
        where = "" if red is None else f"(reduction={red!r}) "
        for s in samples(case, "float64")[:2]:
            args, kwargs = to_tensors(case, s, requires_grad=True)
            n = len(args)
            try:
                gradcheck(lambda *xs, n=n, kw=kwargs, m=m: _forward(m, xs[:n], kw), tuple(args) + tuple(params),
                          fast_mode=sum(int(p.numel()) for p in params) > 400)
            except GradcheckError as e:
                fail(f"{case.name} {where}{s.name or ''}: {e}")


@check("double_backward", KINDS_LAYER, dtypes="float64", tag="double_backward")
def double_backward(case: Case) -> None:
    """Second derivatives, with respect to the inputs and every parameter, agree with finite
    differences of the first (gradgradcheck)."""
    from .gradcheck import GradcheckError, gradgradcheck

    m = build(case, "float64")
    m.eval()
    params = [p for p in m.parameters() if p.requires_grad]
    for s in samples(case, "float64")[:1]:
        args, kwargs = to_tensors(case, s, requires_grad=True)
        n = len(args)
        try:
            gradgradcheck(lambda *xs, n=n, kw=kwargs: _forward(m, xs[:n], kw), tuple(args) + tuple(params),
                          fast_mode=sum(int(p.numel()) for p in params) > 400)
        except (GradcheckError, NotImplementedError) as e:
            fail(f"{case.name}: {e}")


def _backward_once(m, case, s):
    args, kwargs = to_tensors(case, s, requires_grad=True)
    ys = [o for o in outputs(_forward(m, args, kwargs)) if o.requires_grad]
    if not ys:
        skip("no differentiable output")
    total = None
    for o in ys:
        v = (o * o).sum() if o.numel() else o.sum()
        total = v if total is None else total + v
    total.backward()
    return args


@check("unused_parameters_grad_none", KINDS_LAYER, dtypes="once")
def unused_parameters(case: Case) -> None:
    """Parameters that forward does not use keep grad None; used ones get a gradient."""
    m = build(case)
    if "random" in case.record.tags:
        m.eval()
    _backward_once(m, case, samples(case)[0])
    for name, p in m.named_parameters():
        if p.requires_grad and p.grad is None and "unused_parameters" not in case.record.tags:
            fail(f"{case.name}: parameter {name} got no gradient (tag the record 'unused_parameters' if intended)")


@check("grad_accumulates", KINDS_LAYER, dtypes="float64")
def grad_accumulates(case: Case) -> None:
    """Two backward passes accumulate: grad after two = 2 x grad after one."""
    m = build(case, "float64")
    m.eval()
    s = samples(case, "float64")[0]
    _backward_once(m, case, s)
    first = {k: host(p.grad) for k, p in m.named_parameters() if p.grad is not None}
    _backward_once(m, case, s)
    for k, p in m.named_parameters():
        if k in first:
            close(host(p.grad), 2 * first[k], 1e-7, 1e-7, f"{case.name}: {k}.grad after two backward passes")


@check("backward_deterministic", KINDS_LAYER)
def backward_deterministic(case: Case) -> None:
    """The same backward twice gives bitwise-equal gradients."""
    if "nondeterministic" in case.record.tags:
        skip("tagged nondeterministic")
    grads = []
    for _ in range(2):
        m = build(case)
        m.eval()
        args = _backward_once(m, case, samples(case)[0])
        grads.append([host(p.grad) for p in m.parameters() if p.grad is not None] +
                     [host(a.grad) for a in args if getattr(a, "grad", None) is not None])
    for i, (a, b) in enumerate(zip(*grads)):
        if not np.array_equal(a, b, equal_nan=True):
            fail(f"{case.name}: gradient {i} differs between two identical backward passes")


@check("train_eval", KINDS_LAYER, when=lambda rec, dev: not rec.tags & {"train_eval_differ", "random"})
def train_eval(case: Case) -> None:
    """train() and eval() give the same forward unless the record is tagged train_eval_differ or random."""
    if case.record.tags & {"train_eval_differ", "random"}:
        skip("tagged train_eval_differ/random")
    m = build(case)
    for s in samples(case)[:1]:
        args, kwargs = to_tensors(case, s)
        m.train()
        a = [host(o) for o in outputs(_forward(m, args, kwargs))]
        m.eval()
        b = [host(o) for o in outputs(_forward(m, args, kwargs))]
        for i, (u, v) in enumerate(zip(a, b)):
            if not np.array_equal(u, v, equal_nan=True):
                fail(f"{case.name}: output {i} differs between train() and eval() "
                     "(tag 'train_eval_differ' if intended)")


@check("no_grad_records_no_graph", KINDS_LAYER, dtypes="once")
def no_grad_graph(case: Case) -> None:
    """Under no_grad outputs have no grad_fn and do not require grad."""
    import lamina

    m = build(case)
    args, kwargs = to_tensors(case, samples(case)[0], requires_grad=True)
    with lamina.no_grad():
        for i, o in enumerate(outputs(_forward(m, args, kwargs))):
            if o.requires_grad or o.grad_fn is not None:
                fail(f"{case.name}: output {i} records a graph under no_grad")


#: this family's checks, in the order the runner generates them
CHECKS = (
    registration,
    import_hygiene,
    seeded_construction,
    factory_kwargs,
    repr_names_class,
    forward_reference,
    output_dtype_shape_device,
    inputs_not_mutated,
    noncontiguous,
    gradcheck_inputs_params,
    double_backward,
    unused_parameters,
    grad_accumulates,
    backward_deterministic,
    train_eval,
    no_grad_graph,
)
