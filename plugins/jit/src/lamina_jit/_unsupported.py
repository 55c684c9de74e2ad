"""What needs a compiled TorchScript program, which lamina never builds: saving and loading TorchScript
archives, freezing, inference optimisation, and the ``ScriptModule`` family of classes.

The classes exist so that ``isinstance(m, lamina.jit.ScriptModule)`` works (it is always False, since
``script`` returns the module itself); creating one raises ``NotImplementedError``. The functions raise
``NotImplementedError`` naming the torch function and what to use instead.
"""

from __future__ import annotations

from typing import Any, NoReturn

import lamina

__all__ = ["CompilationUnit", "RecursiveScriptClass", "RecursiveScriptModule", "ScriptFunction", "ScriptModule",
           "ScriptWarning", "TopLevelTracedModule", "TracedModule", "export_opnames", "freeze",
           "jit_module_from_flatbuffer", "last_executed_optimized_graph", "load", "optimize_for_inference",
           "run_frozen_optimizations", "save", "save_jit_module_to_flatbuffer"]

_WEIGHTS = ("save the weights with lamina.save(model.state_dict(), path) and load them with "
            "model.load_state_dict(lamina.load(path))")


def _refuse(what: str, instead: str) -> NoReturn:
    raise NotImplementedError(f"{what}: lamina has no TorchScript compiler (lamina.jit.script and lamina.jit.trace "
                              f"return the function or module itself), so there is no compiled program; {instead}")


class ScriptWarning(Warning):
    """torch.jit.ScriptWarning (never emitted: nothing is compiled)."""


class _NeverCompiled:
    """A TorchScript object type: ``isinstance`` checks against it are always False, constructing it raises."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        _refuse(f"lamina.jit.{cls.__name__} (torch.jit.{cls.__name__})",
                "write an ordinary lamina.nn.Module (or function) and call it directly")


class ScriptModule(_NeverCompiled, lamina.nn.Module):
    """torch.jit.ScriptModule, for ``isinstance`` checks only."""


class RecursiveScriptModule(ScriptModule):
    """torch.jit.RecursiveScriptModule (what torch's script returns for a module), for ``isinstance`` only."""


class TracedModule(ScriptModule):
    """torch.jit.TracedModule, for ``isinstance`` checks only."""


class TopLevelTracedModule(TracedModule):
    """torch.jit.TopLevelTracedModule (what torch's trace returns for a module), for ``isinstance`` only."""


class ScriptFunction(_NeverCompiled):
    """torch.jit.ScriptFunction (what torch's script and trace return for a function), for ``isinstance`` only."""


class RecursiveScriptClass(_NeverCompiled):
    """torch.jit.RecursiveScriptClass, for ``isinstance`` checks only."""


class CompilationUnit(_NeverCompiled):
    """torch.jit.CompilationUnit (TorchScript source compiled from a string): cannot be created."""


def save(m: Any, f: Any, _extra_files: Any = None) -> NoReturn:
    _refuse("lamina.jit.save (torch.jit.save)", _WEIGHTS)


def load(f: Any, map_location: Any = None, _extra_files: Any = None, _restore_shapes: bool = False) -> NoReturn:
    _refuse("lamina.jit.load (torch.jit.load) reads a TorchScript archive, which lamina cannot run",
            "build the model in Python and " + _WEIGHTS.replace("save the weights with", "save its weights with"))


def freeze(mod: Any, preserved_attrs: list[str] | None = None, optimize_numerics: bool = True) -> NoReturn:
    _refuse("lamina.jit.freeze (torch.jit.freeze)", "use the module itself in eval mode (model.eval())")


def optimize_for_inference(mod: Any, other_methods: list[str] | None = None) -> NoReturn:
    _refuse("lamina.jit.optimize_for_inference (torch.jit.optimize_for_inference)",
            "use the module itself in eval mode under lamina.inference_mode()")


def run_frozen_optimizations(mod: Any, optimize_numerics: bool = True, preserved_methods: Any = None) -> NoReturn:
    _refuse("lamina.jit.run_frozen_optimizations (torch.jit.run_frozen_optimizations)",
            "use the module itself in eval mode")


def export_opnames(m: Any) -> NoReturn:
    _refuse("lamina.jit.export_opnames (torch.jit.export_opnames)",
            "list the ops a program runs with lamina.autograd.observe_ops")


def save_jit_module_to_flatbuffer(m: Any, f: Any, _extra_files: Any = None) -> NoReturn:
    _refuse("lamina.jit.save_jit_module_to_flatbuffer (torch.jit.save_jit_module_to_flatbuffer)", _WEIGHTS)


def jit_module_from_flatbuffer(f: Any) -> NoReturn:
    _refuse("lamina.jit.jit_module_from_flatbuffer (torch.jit.jit_module_from_flatbuffer)", _WEIGHTS)


def last_executed_optimized_graph() -> NoReturn:
    _refuse("lamina.jit.last_executed_optimized_graph (torch.jit.last_executed_optimized_graph)",
            "there is no graph to show")
