"""The benchmark workloads: each is written once against the shared PyTorch-style API and built
for lamina and for PyTorch CPU with identical weights and inputs (see ``_bench_util``).

A workload's ``build(fw)`` returns a ``Bench``; one call of ``bench.step`` is one measured unit.
``needs`` names what lamina must resolve (``nn.LSTM``); a workload whose plugin is not usable yet
is skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pipeline
import wl_conv
import wl_dense
import wl_distributions
import wl_fft
import wl_linalg
import wl_models
import wl_seq
import wl_tensorlib
from _bench_util import Bench


@dataclass(frozen=True)
class Workload:
    name: str
    unit: str
    build: Callable[[str], Bench]
    target: float | None = None  # the ratio lamina/torch to stay under
    needs: tuple[str, ...] = ()
    flops: float | None = None  # per step, for the achieved GFLOP/s


_MLP = ("nn.Linear", "nn.ReLU", "nn.CrossEntropyLoss", "optim.Adam")
_CONV = ("nn.Conv2d", "nn.MaxPool2d", "nn.Flatten", "nn.Dropout", *_MLP)

# targets: issue #22's ratios (lamina / PyTorch per step, at 1 and at 2 threads); the strided/grouped row keeps
# the earlier 2.0 (the issue sets none for it)
WORKLOADS = [
    Workload("op overhead: 1000x (a*b+c).relu().sum().backward() 8x8", "ms/1000 it",
             wl_dense.op_overhead, 1.0),
    Workload("MLP 784-128-64-10 train step, batch 64 (Adam)", "ms/step",
             lambda fw: wl_dense.mlp_train(fw, 64), 0.9, _MLP),
    Workload("MLP 784-128-64-10 train step, batch 1024 (Adam)", "ms/step",
             lambda fw: wl_dense.mlp_train(fw, 1024), 1.05, _MLP, flops=6.0 * 1024 * wl_dense.mlp_weights()),
    Workload("ConvNet (MNIST tutorial) train step, batch 64", "ms/step",
             wl_conv.convnet_train, 1.15, _CONV),
    Workload("CIFAR conv+BatchNorm net train step, batch 32 (SGD)", "ms/step",
             wl_conv.cifar_train, 1.25, (*_CONV, "nn.BatchNorm2d", "optim.SGD")),
    Workload("Strided/grouped/depthwise conv net train step, batch 32 (SGD)", "ms/step",
             wl_conv.strided_grouped_train, 2.0, ("nn.Conv2d", "nn.Flatten", "nn.Linear", "nn.ReLU",
                                                 "nn.CrossEntropyLoss", "optim.SGD")),
    Workload("LSTM(100,128,2) train step on (32,50,100)", "ms/step",
             wl_seq.lstm_train, 1.15, ("nn.LSTM", "nn.ModuleDict", *_MLP)),
    Workload("MultiheadAttention(256,8) fwd+bwd on (16,64,256)", "ms/step",
             wl_seq.mha_train, 1.0, ("nn.MultiheadAttention", "optim.Adam")),
    Workload("TransformerEncoderLayer(256,8,1024) train on (16,64,256)", "ms/step",
             wl_seq.encoder_train, 1.0, ("nn.TransformerEncoderLayer", "optim.Adam")),
    Workload("small GPT 4x128, context 64, train step, batch 32 (AdamW)", "ms/step",
             wl_models.gpt_train, 1.2, ("nn.Embedding", "nn.LayerNorm", "nn.GELU", "nn.ModuleList",
                                        "nn.functional.scaled_dot_product_attention", "optim.AdamW")),
    Workload("ResNet-18 (CIFAR) train step, batch 32 (SGD momentum)", "ms/step",
             wl_models.resnet18_train, 1.3, ("nn.Conv2d", "nn.BatchNorm2d", "nn.AdaptiveAvgPool2d", "nn.Linear",
                                             "nn.CrossEntropyLoss", "optim.SGD")),
    Workload("word LSTM LM 2x200 step, bptt 35, batch 20 (SGD, clip)", "ms/step",
             wl_models.word_lm_train, 1.2, ("nn.Embedding", "nn.LSTM", "nn.Dropout", "nn.Linear",
                                            "nn.utils.clip_grad_norm_", "optim.SGD")),
    # target 1.0 = lamina's epoch no slower than PyTorch's; the speedup over 0 workers is in pipeline.summary
    Workload(pipeline.NAME.format(w=0), "ms/epoch", lambda fw: pipeline.loader_bench(fw, 0), None,
             ("utils.data.DataLoader",)),
    Workload(pipeline.NAME.format(w=2), "ms/epoch", lambda fw: pipeline.loader_bench(fw, 2), 1.0,
             ("utils.data.DataLoader",)),
    # issue #20's tensor library: new ops' overhead <= 1.0x, cdist <= 1.2x
    Workload("new-op overhead: 100x 12 newer ops (tril, logaddexp, median, cdist, erf, det, rfft, ...) 8x8",
             "ms/100 it", wl_tensorlib.new_op_overhead, 1.0, wl_tensorlib.NEW_OP_NEEDS),
    Workload("cdist 1024x1024 points, 64 dims (fwd)", "ms/call", wl_tensorlib.cdist, 1.2, ("cdist",)),
    # issue #20's linalg (<= 1.2x) and fft (rfft <= 1.5x) rows; the fwd+bwd rows have no target
    Workload("linalg.solve 256x256 float32, 256 right-hand sides", "ms/call", wl_linalg.solve, 1.2, ("linalg.solve",)),
    Workload("linalg.inv 256x256 float32", "ms/call", wl_linalg.inv, 1.2, ("linalg.inv",)),
    Workload("linalg.cholesky 256x256 float32 (SPD)", "ms/call", wl_linalg.cholesky, 1.2, ("linalg.cholesky",)),
    Workload("linalg.svd 256x256 float32 (full_matrices=False)", "ms/call", wl_linalg.svd, 1.2, ("linalg.svd",)),
    Workload("linalg.solve 256x256 float32 fwd+bwd", "ms/step", wl_linalg.solve_train, None, ("linalg.solve",)),
    Workload("rfft 2^20 float32 samples (fwd)", "ms/call", wl_fft.rfft_forward, 1.5, ("fft.rfft",)),
    Workload("rfft 2^20 float32 fwd+bwd (|X|.sum())", "ms/step", wl_fft.rfft_train, None, ("fft.rfft",)),
    Workload("stft+istft 2^16 samples, n_fft 512, hann, fwd+bwd", "ms/step", wl_fft.stft_roundtrip, None,
             ("stft", "istft", "hann_window")),
    Workload("distributions.Normal(loc, scale).log_prob(x), 10^6 float32", "ms/call",
             wl_distributions.normal_log_prob, 1.2, ("distributions.Normal",)),
    Workload("MLP inference (eval, no_grad), batch 1024", "ms/step",
             lambda fw: wl_dense.mlp_infer(fw, 1024), None, _MLP),
    Workload("ConvNet inference (eval, no_grad), batch 64", "ms/step",
             wl_conv.convnet_infer, None, _CONV),
]


def missing(w: Workload) -> str | None:
    """Why lamina cannot run ``w`` yet (the first name that fails to resolve), or None.

    A need is a dotted name under ``lamina`` (``nn.LSTM``, ``utils.data.DataLoader``) or a top-level one
    (``cdist``).
    """
    import importlib

    for dotted in w.needs:
        mod_name, _, attr = dotted.rpartition(".")
        try:
            getattr(importlib.import_module(f"lamina.{mod_name}" if mod_name else "lamina"), attr)
        except Exception as e:  # a plugin not installed or failing to load: report, don't crash the run
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            return f"lamina.{dotted} unavailable ({type(e).__name__}: {first[:140]})"
    return None
