"""AdaptiveLogSoftmaxWithLoss: a head over the frequent classes plus one cluster token per tail cluster, each
tail cluster a two-layer projection (in_features -> in_features // div_value ** (i + 1) -> cluster size).

log p(c | x) is the head's log-softmax for a shortlist class; for a class of cluster i it is the head's
log-probability of cluster token i plus the cluster's own log-softmax.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import lamina
import lamina.nn.functional as F
from lamina import Tensor
from lamina.nn import Module, ModuleList, Sequential

from . import __lamina_plugin_api__  # noqa: F401

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Efficient softmax approximation for many classes (Grave et al., 2016).

    Shape:
        - input: (N, in_features) or (in_features,)
        - target: (N,) or () class indices in [0, n_classes)
        - forward -> (output (N,) or (): the target's log-probability, loss (): mean of -output)
        - log_prob(input) -> (N, n_classes); predict(input) -> (N,)
    """

    def __init__(self, in_features: int, n_classes: int, cutoffs: Any, div_value: float = 4.0, head_bias: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in an increasing "
                             "order, where each value is between 1 and n_classes-1")
        linear = lamina.nn.Linear
        factory = {"device": device, "dtype": dtype}
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = linear(in_features, self.head_size, bias=head_bias, **factory)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(linear(in_features, hidden, bias=False, **factory),
                                        linear(hidden, size, bias=False, **factory)))

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_: Tensor, target_: Tensor) -> _ASMoutput:
        if target_.ndim == 1:
            if input_.shape[0] != target_.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch dimension.")
            if input_.ndim != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with size "
                                   f"{tuple(input_.shape)}")
        elif target_.ndim == 0:
            if input_.ndim != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with size "
                                   f"{tuple(input_.shape)}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = target_.ndim > 0
        x = input_ if batched else input_.unsqueeze(0)
        target = target_ if batched else target_.unsqueeze(0)
        if target.numel() and (int(target.min()) < 0 or int(target.max()) >= self.n_classes):
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                               f"[{int(target.min())}, {int(target.max())}] were found. ")
        # the head's column for each row: its class in the shortlist, else its cluster's token
        column = target
        out = lamina.zeros(target.shape[0], dtype=x.dtype, device=x.device)
        for i in range(self.n_clusters):
            low, high = self.cutoffs[i], self.cutoffs[i + 1]
            in_cluster = (target >= low) & (target < high)
            rows = in_cluster.nonzero().reshape(-1)
            if rows.numel() == 0:
                continue
            column = lamina.where(in_cluster, self.shortlist_size + i, column)
            # row indexing rather than index_select / gather: its gradient differentiates again (create_graph)
            local = F.log_softmax(self.tail[i](x[rows]), dim=1)
            picked = local[lamina.arange(rows.shape[0], device=x.device), target[rows] - low]
            out = out.index_add(0, rows, picked)
        head = F.log_softmax(self.head(x), dim=1)
        out = out + head[lamina.arange(head.shape[0], device=x.device), column]
        # an empty batch: NaN as PyTorch's mean of nothing (lamina's mean would warn on the empty array)
        loss = (-out).mean() if out.numel() else out.sum() + float("nan")
        return _ASMoutput(out if batched else out.squeeze(0), loss)

    def _full_log_prob(self, x: Tensor, head_output: Tensor) -> Tensor:
        head = F.log_softmax(head_output, dim=1)
        parts = [head[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            parts.append(F.log_softmax(self.tail[i](x), dim=1) + head[:, self.shortlist_size + i].unsqueeze(1))
        return lamina.cat(parts, dim=1)

    def log_prob(self, input: Tensor) -> Tensor:
        """log p(c | x) for every class. Shape: (N, in_features) or (in_features,) -> (N, n_classes)."""
        x = input if input.ndim > 1 else input.unsqueeze(0)
        out = self._full_log_prob(x, self.head(x))
        return out if input.ndim > 1 else out.squeeze(0)

    def predict(self, input: Tensor) -> Tensor:
        """The most likely class per row (the full distribution only where the head picks a cluster).

        Shape: (N, in_features) or (in_features,) -> (N,) or ()
        """
        x = input if input.ndim > 1 else input.unsqueeze(0)
        head_output = self.head(x)
        pred = head_output.argmax(dim=1)
        tail_rows = pred >= self.shortlist_size
        if bool(tail_rows.any()):
            rows = tail_rows.nonzero().reshape(-1)
            full = self._full_log_prob(x.index_select(0, rows), head_output.index_select(0, rows))
            pred = pred.index_copy(0, rows, full.argmax(dim=1))
        return pred if input.ndim > 1 else pred.squeeze(0)
