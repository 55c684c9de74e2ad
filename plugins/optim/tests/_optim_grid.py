"""The option grid shared by the optimizer tests: (class name, kwargs) for every documented option."""

from __future__ import annotations

import itertools


def _grid(**axes):
    keys = list(axes)
    return [dict(zip(keys, values)) for values in itertools.product(*axes.values())]


GRID: list[tuple[str, dict]] = []
GRID += [("SGD", c) for c in _grid(lr=[0.1], momentum=[0.0, 0.9], weight_decay=[0.0, 0.1], maximize=[False, True])]
GRID += [("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)), ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
         ("SGD", dict(lr=0.05, momentum=0.5, nesterov=True, weight_decay=0.1, maximize=True))]
GRID += [("Adam", c) for c in _grid(lr=[0.01], amsgrad=[False, True], weight_decay=[0.0, 0.1], maximize=[False, True])]
GRID += [("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, decoupled_weight_decay=True))]
GRID += [("AdamW", c) for c in _grid(lr=[0.01], amsgrad=[False, True], maximize=[False, True])]
GRID += [("AdamW", dict(lr=0.01, weight_decay=0.0)), ("AdamW", dict(lr=0.02, weight_decay=0.3, betas=(0.5, 0.9)))]
GRID += [("Adamax", c) for c in _grid(lr=[0.01], weight_decay=[0.0, 0.1], maximize=[False, True])]
GRID += [("NAdam", c) for c in _grid(lr=[0.01], weight_decay=[0.0, 0.1], decoupled_weight_decay=[False, True],
                                     maximize=[False, True])]
GRID += [("NAdam", dict(lr=0.01, momentum_decay=0.01))]
GRID += [("RAdam", c) for c in _grid(lr=[0.01], weight_decay=[0.0, 0.1], decoupled_weight_decay=[False, True],
                                     maximize=[False, True])]
GRID += [("RMSprop", c) for c in _grid(lr=[0.01], centered=[False, True], momentum=[0.0, 0.9],
                                       weight_decay=[0.0, 0.1], maximize=[False, True])]
GRID += [("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-4))]
GRID += [("Adagrad", c) for c in _grid(lr=[0.1], lr_decay=[0.0, 0.01], weight_decay=[0.0, 0.1],
                                       maximize=[False, True])]
GRID += [("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6))]
GRID += [("Adadelta", c) for c in _grid(lr=[1.0, 0.5], weight_decay=[0.0, 0.1], maximize=[False, True])]
GRID += [("Adadelta", dict(rho=0.5, eps=1e-4))]
GRID += [("ASGD", c) for c in _grid(lr=[0.05], weight_decay=[0.0, 0.1], maximize=[False, True])]
GRID += [("ASGD", dict(lr=0.05, lambd=1e-2, alpha=0.5, t0=5.0)), ("ASGD", dict(lr=0.05, t0=0.0))]
GRID += [("Rprop", c) for c in _grid(lr=[0.01], maximize=[False, True])]
GRID += [("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.06)))]


def grid_id(entry: tuple[str, dict]) -> str:
    name, kw = entry
    return name + "(" + ",".join(f"{k}={v}" for k, v in kw.items()) + ")"
