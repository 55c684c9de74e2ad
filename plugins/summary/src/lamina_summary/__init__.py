"""``lamina.summary(model, input_size)``: a torchinfo-style table of a model's layers (lamina-summary).

One forward pass on generated inputs (under ``no_grad``, in eval mode; every module's training
flag and the global RNG are left as they were) is watched through forward hooks. Each module call
is a row in call order: the layer with its nesting, its output shape and its parameter count.
Then the totals (total, trainable and non-trainable parameters, each shared parameter counted
once) and size estimates in MB (1 MB = 1e6 bytes): the inputs, the forward/backward pass (every
leaf layer's outputs, twice: activations and their gradients), the parameters, and their sum.

Decisions: a container whose children are shown has ``--`` in the parameter column unless it owns
parameters itself; rows deeper than ``depth`` are folded into their ancestor, which then shows
the parameter count of its whole subtree. A module called twice gets a row per call; the second
and later rows of a module with parameters say ``(recursive)`` (counted once in the totals).
"""

from __future__ import annotations

__lamina_plugin_api__ = "1.0"

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lamina import Generator, Tensor, float32, no_grad

__all__ = ["summary", "ModelSummary", "LayerRow"]

COLUMNS = {"input_size": "Input Shape", "output_size": "Output Shape", "num_params": "Param #",
           "trainable": "Trainable"}


@dataclass
class LayerRow:
    """One module call: ``depth`` 0 is the model itself."""

    name: str                 # qualified name ("" for the model, "features.0", ...)
    type: str                 # class name
    depth: int
    input_shape: list
    output_shape: list
    num_params: int           # parameters of the whole subtree (each counted once)
    own_params: int           # parameters registered on this module itself
    trainable: bool
    repeated: bool = False    # this module was already called earlier in the pass
    is_leaf: bool = True
    out_bytes: int = 0        # bytes of the tensors this call returned


@dataclass
class ModelSummary:
    """What ``summary`` measured; ``str()`` is the table."""

    rows: list[LayerRow]
    total_params: int
    trainable_params: int
    input_bytes: int
    forward_backward_bytes: int
    params_bytes: int
    depth: int = 3
    col_names: tuple[str, ...] = ("output_size", "num_params")

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    @property
    def total_bytes(self) -> int:
        return self.input_bytes + self.forward_backward_bytes + self.params_bytes

    def __str__(self) -> str:
        return _format(self)

    __repr__ = __str__


def _shapes(obj: Any) -> list:
    """Shapes of the tensors in ``obj``: ``[N, C]`` for one tensor, a list of shapes for several."""
    found: list[list[int]] = []

    def walk(x: Any) -> None:
        if isinstance(x, Tensor):
            found.append(list(x.shape))
        elif isinstance(x, (list, tuple)):
            for item in x:
                walk(item)
        elif isinstance(x, dict):
            for item in x.values():
                walk(item)

    walk(obj)
    return found[0] if len(found) == 1 else found


def _nbytes(obj: Any) -> int:
    if isinstance(obj, Tensor):
        return obj.numel() * obj.element_size()
    if isinstance(obj, (list, tuple)):
        return builtins.sum(_nbytes(x) for x in obj)
    if isinstance(obj, dict):
        return builtins.sum(_nbytes(x) for x in obj.values())
    return 0


def _make_inputs(input_size: Any, dtypes: Sequence[Any] | None, device: Any, batch_dim: int | None) -> list:
    sizes = [input_size] if input_size and isinstance(input_size[0], int) else list(input_size)
    dtypes = list(dtypes) if dtypes is not None else [float32] * len(sizes)
    if len(dtypes) != len(sizes):
        raise ValueError(f"summary: expected one dtype per input, got {len(dtypes)} dtypes for {len(sizes)} inputs")
    gen = Generator().manual_seed(0)  # never touches the global RNG
    from lamina import randn, zeros

    inputs = []
    for size, dtype in zip(sizes, dtypes):
        size = list(size)
        if batch_dim is not None:
            size.insert(batch_dim, 1)
        if any(not isinstance(s, int) or s < 0 for s in size):
            raise ValueError(f"summary: expected input_size of non-negative ints, got {tuple(size)}")
        floating = dtype.is_floating_point
        inputs.append(randn(*size, dtype=dtype, device=device, generator=gen) if floating
                      else zeros(*size, dtype=dtype, device=device))
    return inputs


def summary(model: Any, input_size: Sequence[int] | Sequence[Sequence[int]] | None = None,
            input_data: Any = None, batch_dim: int | None = None, depth: int = 3, device: Any = None,
            dtypes: Sequence[Any] | None = None, col_names: Sequence[str] = ("output_size", "num_params"),
            verbose: int = 1, **kwargs: Any) -> ModelSummary:
    """Run ``model`` once on inputs of ``input_size`` (or on ``input_data``) and tabulate its layers.

    ``input_size`` includes the batch dimension (``(32, 1, 28, 28)``), or is a list of such tuples
    for a model with several inputs; ``dtypes`` gives one dtype per input (default float32; integer
    inputs are zeros). ``kwargs`` are passed to ``model.forward``. ``verbose=1`` also prints the table.
    """
    for c in col_names:
        if c not in COLUMNS:
            raise ValueError(f"summary: col_names must be among {list(COLUMNS)}, got {c!r}")
    if input_data is None and input_size is None:
        raise ValueError("summary: expected input_size or input_data, got neither")
    if device is None:
        first = next(iter(model.parameters()), None)
        device = first.device if first is not None else None
    if input_data is not None:
        inputs = list(input_data) if isinstance(input_data, (list, tuple)) else [input_data]
    else:
        inputs = _make_inputs(input_size, dtypes, device, batch_dim)

    names = {id(m): name for name, m in model.named_modules()}
    subtree = {id(m): {id(p): p for p in m.parameters()} for m in model.modules()}
    rows: list[LayerRow] = []
    seen: set[int] = set()
    stack: list[LayerRow] = []

    def pre_hook(module: Any, args: tuple) -> None:
        name = names.get(id(module), "?")
        params = subtree.get(id(module), {}).values()
        row = LayerRow(name=name, type=type(module).__name__, depth=0 if name == "" else name.count(".") + 1,
                       input_shape=_shapes(args), output_shape=[],
                       num_params=builtins.sum(p.numel() for p in params),
                       own_params=builtins.sum(p.numel() for p in module.parameters(recurse=False)),
                       trainable=builtins.any(p.requires_grad for p in params), repeated=id(module) in seen)
        seen.add(id(module))
        if stack:
            stack[-1].is_leaf = False
        rows.append(row)
        stack.append(row)

    def post_hook(module: Any, args: tuple, output: Any) -> None:
        row = stack.pop()
        row.output_shape = _shapes(output)
        row.out_bytes = _nbytes(output)

    modes = {id(m): m.training for m in model.modules()}
    handles = []
    try:
        for m in model.modules():
            handles.append(m.register_forward_pre_hook(pre_hook))
            handles.append(m.register_forward_hook(post_hook))
        model.eval()
        with no_grad():
            model(*inputs, **kwargs)
    finally:
        for h in handles:
            h.remove()
        for m in model.modules():
            m.training = modes[id(m)]

    unique = {id(p): p for p in model.parameters()}.values()
    result = ModelSummary(
        rows=rows,
        total_params=builtins.sum(p.numel() for p in unique),
        trainable_params=builtins.sum(p.numel() for p in unique if p.requires_grad),
        input_bytes=_nbytes(inputs),
        forward_backward_bytes=2 * builtins.sum(r.out_bytes for r in rows if r.is_leaf),
        params_bytes=builtins.sum(p.numel() * p.element_size() for p in unique),
        depth=depth, col_names=tuple(col_names))
    if verbose:
        print(result)
    return result


def _param_cell(row: LayerRow, folded: bool) -> str:
    count = row.num_params if (row.is_leaf or folded) else row.own_params
    if row.repeated and count:
        return "(recursive)"
    return f"{count:,}" if count else "--"


def _format(s: ModelSummary) -> str:
    header = ["Layer (type (var_name))"] + [COLUMNS[c] for c in s.col_names]
    table = []
    for r in s.rows:
        if r.depth > s.depth:
            continue
        folded = r.depth == s.depth
        label = r.type if r.depth == 0 else "│    " * (r.depth - 1) + f"├─{r.type} ({r.name.rsplit('.', 1)[-1]})"
        cells = {"input_size": str(r.input_shape), "output_size": str(r.output_shape),
                 "num_params": _param_cell(r, folded), "trainable": str(r.trainable) if r.num_params else "--"}
        table.append([label] + [cells[c] for c in s.col_names])
    widths = [builtins.max(len(row[i]) for row in [header] + table) + 3 for i in range(len(header))]
    line = "=" * builtins.sum(widths)

    def fmt(cells: list[str]) -> str:
        return "".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    mb = lambda n: f"{n / 1e6:.2f}"  # noqa: E731
    out = [line, fmt(header), line, *(fmt(row) for row in table), line,
           f"Total params: {s.total_params:,}", f"Trainable params: {s.trainable_params:,}",
           f"Non-trainable params: {s.non_trainable_params:,}", line,
           f"Input size (MB): {mb(s.input_bytes)}", f"Forward/backward pass size (MB): {mb(s.forward_backward_bytes)}",
           f"Params size (MB): {mb(s.params_bytes)}", f"Estimated Total Size (MB): {mb(s.total_bytes)}", line]
    return "\n".join(out)
