"""Info records: how a plugin describes its components to the conformance kit (TESTKIT.md).

A plugin exposes a callable through the entry-point group ``lamina.testing`` that returns a list
of these records. The kit derives every check from them, so checks added later reach every
existing plugin. ``sample_inputs(xp, dtype, rng)`` returns a list of :class:`Sample` built with the
backend's array namespace ``xp`` (arrays, not tensors: the kit wraps them), the NumPy dtype to use
for floating inputs and a seeded ``numpy.random.Generator``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: capability tags a record may carry
TAGS = frozenset({
    "double_backward",      # gradgradcheck applies
    "train_eval_differ",    # forward differs between train() and eval() (Dropout, BatchNorm)
    "random",               # forward draws random numbers (seeded comparisons only)
    "batch_independent",    # row i of the output depends only on row i of the input
    "no_zero_batch",        # a batch of size 0 is not accepted
    "nondeterministic",     # backward is not bitwise reproducible
    "softmax_based",        # (losses) shift invariance of the logits applies
    "no_float64_reference", # reference only meaningful at float32
    "inplace",              # mutates its input by design (e.g. ReLU(inplace=True))
    "unused_parameters",    # some parameters don't take part in forward (their grad stays None)
})


@dataclass
class Sample:
    """One call: ``args`` and ``kwargs`` (arrays are wrapped into tensors by the kit)."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    name: str = ""
    #: positional indices of args that are differentiable inputs (default: every floating array)
    grad_args: tuple[int, ...] | None = None


@dataclass
class ErrorInput:
    """A call that must fail with ``error_type`` and a message matching the regex ``match``.

    With ``init_kwargs`` the module is built from them instead of the record's, then called on
    ``sample``: the error may come from the constructor or, as PyTorch does for some arguments
    (MaxPool's padding, ConvTranspose's output_padding), from the call.
    """

    sample: Sample
    error_type: type[BaseException]
    match: str
    init_kwargs: dict | None = None


SampleFn = Callable[[Any, Any, Any], Sequence[Sample]]


@dataclass(kw_only=True)
class _Common:
    sample_inputs: SampleFn | None = None
    reference: Callable | None = None
    error_inputs: Callable[[Any, Any, Any], Sequence[ErrorInput]] | Sequence[ErrorInput] = ()
    dtypes: tuple[str, ...] = ("float32", "float64")
    tags: frozenset[str] = frozenset()
    name: str = ""
    #: check name -> reason; in strict mode an expected failure that passes is reported
    expected_failures: dict[str, str] = field(default_factory=dict)
    rtol: float | None = None
    atol: float | None = None
    #: registered components this record certifies besides its ``fn``/``cls``: a function transform
    #: (``vmap``) is checked through a record that applies it to a fixed function
    covers: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        unknown = set(self.tags) - TAGS
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown tags {sorted(unknown)}; valid tags: {sorted(TAGS)}")
        self.tags = frozenset(self.tags)


@dataclass(kw_only=True)
class ModuleInfo(_Common):
    """A layer (any ``Module`` plugin).

    ``reference(params, *args, **kwargs)`` gets the module's parameters and buffers as a dict of
    float64 NumPy arrays (state_dict names) and float64 inputs, and returns the expected output(s).
    ``output_shape(*input_shapes, **kwargs)`` optionally declares the output shape.
    """

    cls: type | None = None
    init_kwargs: dict = field(default_factory=dict)
    output_shape: Callable | None = None


@dataclass(kw_only=True)
class LossInfo(ModuleInfo):
    """A loss module.

    ``reference(params, *args, reduction=..., **init_kwargs, **sample_kwargs)``: unlike a layer's
    reference (whose hyperparameters the record binds itself), a loss reference also receives the
    constructor arguments (margin, log_target, ...) except ``reduction``, which is passed per check.
    """

    reductions: tuple[str, ...] = ("none", "mean", "sum")
    #: 'mean' is a weighted or length-normalised mean (class weights, CTC): mean != mean(none)
    mean_is_weighted: bool = False
    #: the functional form (``F.cross_entropy``) when there is one
    functional: Callable | None = None
    #: index of the class-index target in the sample args, for the out-of-range check
    class_target_arg: int | None = None


@dataclass(kw_only=True)
class FunctionInfo(_Common):
    """An ``F.*`` function or an ``autograd.Function`` (called as ``fn(*args, **kwargs)``)."""

    fn: Callable | None = None


@dataclass(kw_only=True)
class InitInfo(_Common):
    """An init scheme ``fn(tensor, **kwargs)``.

    ``cdf(x, shape, **kwargs)`` is the expected distribution for the KS test (or None);
    ``bounds(shape, **kwargs) -> (lo, hi)`` and ``moments(shape, **kwargs) -> (mean, std)`` where
    they are defined. ``shapes`` lists the tensor shapes to test; ``configs`` the kwargs variants.
    A deterministic scheme (``eye_``, ``dirac_``, ``constant_``) declares ``reference(shape, **kwargs)
    -> np.ndarray``: the initialised tensor must equal it exactly (check ``init_reference``).
    """

    fn: Callable | None = None
    shapes: tuple[tuple[int, ...], ...] = ((64, 32),)
    configs: tuple[dict, ...] = ({},)
    cdf: Callable | None = None
    bounds: Callable | None = None
    moments: Callable | None = None


@dataclass(kw_only=True)
class OptimizerInfo(_Common):
    """An optimizer class and its hyperparameter grid.

    ``reference_step(params, grads, state, **config) -> params`` is a NumPy float64 implementation
    of one update (``state`` a dict it may keep per parameter index). ``configs`` lists kwargs
    variants; ``error_configs`` lists (kwargs, error_type, match) for hyperparameter validation.
    """

    cls: type | None = None
    configs: tuple[dict, ...] = ({},)
    reference_step: Callable | None = None
    error_configs: tuple[tuple[dict, type, str], ...] = ()
    needs_closure: bool = False


@dataclass(kw_only=True)
class BackendInfo(_Common):
    """A backend class (``lamina.backends.Backend`` subclass)."""

    cls: type | None = None


@dataclass(kw_only=True)
class KernelInfo(_Common):
    """A registered kernel: ``op`` (Function class), ``impl`` (its subclass), ``device_type``."""

    op: type | None = None
    impl: type | None = None
    device_type: str = "cpu"
