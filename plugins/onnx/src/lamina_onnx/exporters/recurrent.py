"""Exporters for lamina-layers-recurrent's RNN, LSTM and GRU: one ONNX RNN/LSTM/GRU node per layer.

ONNX's recurrent ops take the sequence as (T, N, I) and both directions in one node; their gate
order differs from PyTorch's, so the weights are re-laid out in NumPy at export time:
LSTM i, f, g, o -> i, o, f, c; GRU r, z, n -> z, r, h (``linear_before_reset=1`` is PyTorch's GRU,
the reset gate applied after the hidden projection and its bias). A layer's output
Y (T, D, N, H) becomes the next layer's input (T, N, D * H); the final states of the layers are
concatenated along dim 0, as h_n / c_n (num_layers * D, N, H).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from lamina import Tensor

from lamina_onnx import Call, GraphBuilder

__lamina_plugin_api__ = "1.0"

_MODULE = "lamina_layers_recurrent.rnn"
# rows of PyTorch's weights, per gate block, in ONNX's order
_GATE_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN_TANH": (0,), "RNN_RELU": (0,)}
_OP_TYPE = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}


def _host(t: Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _gates(w: np.ndarray, order: tuple[int, ...]) -> np.ndarray:
    """(G * H, ...) rows regrouped gate by gate in ``order``."""
    blocks = w.reshape((len(order), w.shape[0] // len(order)) + w.shape[1:])
    return blocks[list(order)].reshape(w.shape)


def _layer_weights(g: GraphBuilder, call: Call, m: Any, k: int, D: int) -> list[str]:
    """W (D, G*H, I), R (D, G*H, H) and B (D, 2*G*H) (or "" without bias) of layer ``k``, as initializers."""
    order = _GATE_ORDER[m.mode]
    ws, rs, bs = [], [], []
    for d in range(D):
        w_ih, w_hh, b_ih, b_hh, _ = m._weights(k * D + d)
        ws.append(_gates(_host(w_ih), order))
        rs.append(_gates(_host(w_hh), order))
        if b_ih is not None:
            bs.append(np.concatenate([_gates(_host(b_ih), order), _gates(_host(b_hh), order)]))
    prefix = f"{call.path}." if call.path else ""
    names = [g.add_initializer(f"{prefix}onnx_W_l{k}", np.stack(ws)),
             g.add_initializer(f"{prefix}onnx_R_l{k}", np.stack(rs))]
    names.append(g.add_initializer(f"{prefix}onnx_B_l{k}", np.stack(bs)) if bs else "")
    return names


def _node(g: GraphBuilder, op_type: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
    return g.add_node(op_type, inputs, [output] if output else 1, **attrs)[0]


def _axes(g: GraphBuilder, *axes: int) -> str:
    return g.constant(list(axes), "int64")


def _emit(g: GraphBuilder, name: str, output: str, squeeze: int | None) -> None:
    """Write ``name`` to the call's output ``output``, squeezing dim ``squeeze`` (unbatched input)."""
    if squeeze is None:
        _node(g, "Identity", [name], output)
    else:
        _node(g, "Squeeze", [name, _axes(g, squeeze)], output)


def _bind(call: Call) -> tuple[Any, Any]:
    """(input, hx) of ``forward(input, hx=None)``."""
    bound = inspect.signature(type(call.module).forward).bind(call.module, *call.args, **call.kwargs)
    return bound.arguments.get("input"), bound.arguments.get("hx")


def export_rnn(g: GraphBuilder, call: Call) -> None:
    """RNN / LSTM / GRU (padded input, batched or unbatched, optional initial states) as ONNX nodes.

    Shape: input (L, N, H_in), (N, L, H_in) with batch_first or (L, H_in); h_0, c_0 (num_layers * D, N, H)
           -> output (L, N, D * H) (input's layout), h_n (num_layers * D, N, H) [, c_n]
    """
    m = call.module
    x, hx = _bind(call)
    if not isinstance(x, Tensor):
        call.fail(f"only a padded Tensor input is exported, got {type(x).__name__} (a PackedSequence has "
                  "data-dependent batch sizes, which one ONNX graph cannot express)")
    if m.proj_size > 0:
        call.fail(f"proj_size={m.proj_size}: ONNX's LSTM op has no projection of the hidden state")
    lstm = m.mode == "LSTM"
    D = 2 if m.bidirectional else 1
    H = m.hidden_size
    unbatched = x.ndim == 2
    seq = call.value(x).name
    if unbatched:
        seq = _node(g, "Unsqueeze", [seq, _axes(g, 1)])
    elif m.batch_first:
        seq = _node(g, "Transpose", [seq], perm=[1, 0, 2])
    states: list[str] = []
    if hx is not None:
        for s in (hx if lstm else (hx,)):
            name = call.value(s).name
            states.append(_node(g, "Unsqueeze", [name, _axes(g, 1)]) if unbatched else name)
    attrs: dict[str, Any] = {"hidden_size": H, "direction": "bidirectional" if D == 2 else "forward"}
    if m.mode == "GRU":
        attrs["linear_before_reset"] = 1
    elif not lstm:
        attrs["activations"] = ["Tanh" if m.mode == "RNN_TANH" else "Relu"] * D
    finals: list[list[str]] = [[], []]
    for k in range(m.num_layers):
        inputs = [seq, *_layer_weights(g, call, m, k, D), ""]          # "" = sequence_lens: every step
        for s in states:
            if m.num_layers == 1:
                inputs.append(s)
            else:
                inputs.append(_node(g, "Slice", [s, g.constant([k * D]), g.constant([(k + 1) * D]), _axes(g, 0)]))
        while inputs[-1] == "":
            inputs.pop()
        outs = g.add_node(_OP_TYPE[m.mode], inputs, 3 if lstm else 2, **attrs)
        y = outs[0]                                                    # (T, D, N, H)
        if D == 1:
            seq = _node(g, "Squeeze", [y, _axes(g, 1)])
        else:
            y = _node(g, "Transpose", [y], perm=[0, 2, 1, 3])
            seq = _node(g, "Reshape", [y, g.constant([0, 0, D * H])])
        for j, name in enumerate(outs[1:]):
            finals[j].append(name)
    result = call.output_names
    if unbatched:
        _emit(g, seq, result[0], 1)
    elif m.batch_first:
        _node(g, "Transpose", [seq], result[0], perm=[1, 0, 2])
    else:
        _emit(g, seq, result[0], None)
    for j, out_name in enumerate(result[1:]):
        parts = finals[j]
        state = parts[0] if len(parts) == 1 else _node(g, "Concat", parts, axis=0)
        _emit(g, state, out_name, 1 if unbatched else None)


EXPORTERS = {f"{_MODULE}.{name}": export_rnn for name in ("RNN", "LSTM", "GRU")}
