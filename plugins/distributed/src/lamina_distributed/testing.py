"""Conformance records for lamina-distributed's layer entries: ``nn.DataParallel`` (one device) wrapping a
Linear, checked as a layer (forward, gradients, state_dict with torch's ``module.`` prefix). The process-group
API and DDP are tested by the plugin's own multi-process tests (tests/test_ddp.py, test_collectives.py)."""

from __future__ import annotations

from lamina import nn

from .parallel.dp import DataParallel

__lamina_plugin_api__ = "1.0"


class DataParallelLinear(DataParallel):
    """DataParallel(Linear(3, 4)): a fresh wrapped layer per construction (the record's class)."""

    def __init__(self) -> None:
        super().__init__(nn.Linear(3, 4))


def _samples(xp, dtype, rng):
    from lamina.testing import Sample

    return [Sample((xp.asarray(rng.standard_normal((5, 3)), dtype=dtype),), name="(5, 3)"),
            Sample((xp.asarray(rng.standard_normal((2, 4, 3)), dtype=dtype),), name="(2, 4, 3)")]


def _linear_ref(params, x):
    return x @ params["module.weight"].T + params["module.bias"]


def records() -> list:
    from lamina.testing import ModuleInfo

    return [ModuleInfo(cls=DataParallelLinear, name="DataParallel[Linear(3, 4)]", covers=(DataParallel,),
                       sample_inputs=_samples, reference=_linear_ref, tags=frozenset({"double_backward"}),
                       expected_failures={"factory_kwargs": "torch's DataParallel takes no dtype=/device= either: "
                                                            "it wraps a module built elsewhere"})]
