"""``lamina.nn.modules``: torch's module layout (``torch.nn.modules.conv._ConvNd``, ``...batchnorm._BatchNorm``).

Real programs import layers from torch's submodules and subclass its base classes. Each submodule here
is a thin module object that serves the names torch 2.13 defines there, resolved lazily through the
plugin index exactly as ``lamina.nn.<name>`` is (so ``lamina.nn.modules.conv.Conv2d is lamina.nn.Conv2d``).
The base classes torch keeps private (``_ConvNd``, ``_BatchNorm``, ``_Loss``, ...) and ``LazyModuleMixin``
are registered by the plugins that define them under those names in ``lamina.layers``/``lamina.losses``; they are served
only here (``lamina.nn`` serves no underscore name). ``utils`` (``_pair`` & co.) is a real module of the core.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

from . import utils

_NN_GROUPS = ("lamina.layers", "lamina.losses")

#: torch.nn.modules.<submodule>: the names torch 2.13 defines there (public, then the private bases)
LAYOUT: dict[str, str] = {
    "activation": "Threshold ReLU RReLU Hardtanh ReLU6 Sigmoid Hardsigmoid Tanh SiLU Mish Hardswish ELU CELU SELU "
                  "GLU GELU Hardshrink LeakyReLU LogSigmoid Softplus Softshrink MultiheadAttention PReLU Softsign "
                  "Tanhshrink Softmin Softmax Softmax2d LogSoftmax",
    "adaptive": "AdaptiveLogSoftmaxWithLoss",
    "batchnorm": "BatchNorm1d LazyBatchNorm1d BatchNorm2d LazyBatchNorm2d BatchNorm3d LazyBatchNorm3d SyncBatchNorm "
                 "_NormBase _BatchNorm _LazyNormBase",
    "channelshuffle": "ChannelShuffle",
    "container": "Container Sequential ModuleList ModuleDict ParameterList ParameterDict",
    "conv": "Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d ConvTranspose3d LazyConv1d LazyConv2d LazyConv3d "
            "LazyConvTranspose1d LazyConvTranspose2d LazyConvTranspose3d _ConvNd _ConvTransposeNd",
    "distance": "PairwiseDistance CosineSimilarity",
    "dropout": "Dropout Dropout1d Dropout2d Dropout3d AlphaDropout FeatureAlphaDropout _DropoutNd",
    "flatten": "Flatten Unflatten",
    "fold": "Fold Unfold",
    "instancenorm": "InstanceNorm1d InstanceNorm2d InstanceNorm3d LazyInstanceNorm1d LazyInstanceNorm2d "
                    "LazyInstanceNorm3d _InstanceNorm",
    "lazy": "LazyModuleMixin",
    "linear": "Bilinear Identity LazyLinear Linear",
    "loss": "L1Loss NLLLoss NLLLoss2d PoissonNLLLoss GaussianNLLLoss KLDivLoss MSELoss BCELoss BCEWithLogitsLoss "
            "HingeEmbeddingLoss MultiLabelMarginLoss SmoothL1Loss HuberLoss SoftMarginLoss CrossEntropyLoss "
            "LinearCrossEntropyLoss MultiLabelSoftMarginLoss CosineEmbeddingLoss MarginRankingLoss MultiMarginLoss "
            "TripletMarginLoss TripletMarginWithDistanceLoss CTCLoss _Loss _WeightedLoss",
    "module": "register_module_forward_pre_hook register_module_forward_hook register_module_full_backward_pre_hook "
              "register_module_backward_hook register_module_full_backward_hook "
              "register_module_buffer_registration_hook register_module_module_registration_hook "
              "register_module_parameter_registration_hook Module",
    "normalization": "LocalResponseNorm CrossMapLRN2d LayerNorm GroupNorm RMSNorm",
    "padding": "CircularPad1d CircularPad2d CircularPad3d ConstantPad1d ConstantPad2d ConstantPad3d ReflectionPad1d "
               "ReflectionPad2d ReflectionPad3d ReplicationPad1d ReplicationPad2d ReplicationPad3d ZeroPad1d "
               "ZeroPad2d ZeroPad3d",
    "pixelshuffle": "PixelShuffle PixelUnshuffle",
    "pooling": "MaxPool1d MaxPool2d MaxPool3d MaxUnpool1d MaxUnpool2d MaxUnpool3d AvgPool1d AvgPool2d AvgPool3d "
               "FractionalMaxPool2d FractionalMaxPool3d LPPool1d LPPool2d LPPool3d AdaptiveMaxPool1d "
               "AdaptiveMaxPool2d AdaptiveMaxPool3d AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveAvgPool3d "
               "_MaxPoolNd _AvgPoolNd _LPPoolNd _MaxUnpoolNd",
    "rnn": "RNNBase RNN LSTM GRU RNNCellBase RNNCell LSTMCell GRUCell",
    "sparse": "Embedding EmbeddingBag",
    "transformer": "Transformer TransformerEncoder TransformerDecoder TransformerEncoderLayer TransformerDecoderLayer",
    "upsampling": "Upsample UpsamplingNearest2d UpsamplingBilinear2d",
}


def _resolve(where: str, name: str) -> Any:
    import lamina.nn as nn

    if name.startswith("register_module_"):
        from .. import _module_hooks

        return getattr(_module_hooks, name, None) or _not_provided(f"torch.nn.modules.module.{name}")
    if not name.startswith("_") and name != "LazyModuleMixin":
        return getattr(nn, name)   # the plugin index, or the core's own (Module, Sequential, ...)
    from ...plugins import _registry

    return _registry.lookup(_NN_GROUPS, name, where, module=True)


def _not_provided(torch_name: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{torch_name}: lamina does not provide this global hook (its Modules run the "
                                  "forward and full-backward global hooks only)")

    refuse.__name__ = torch_name.rsplit(".", 1)[1]
    return refuse


def _submodule(sub: str, names: list[str]) -> ModuleType:
    full = f"{__name__}.{sub}"
    mod = ModuleType(full, f"torch.nn.modules.{sub}'s names, served by lamina's plugins.")
    known = frozenset(names)

    def __getattr__(name: str) -> Any:
        if name not in known:
            raise AttributeError(f"module {full!r} has no attribute {name!r} (torch.nn.modules.{sub} has no such "
                                 f"name either, or lamina does not provide it)")
        value = _resolve(full, name)
        setattr(mod, name, value)
        return value

    mod.__getattr__ = __getattr__  # type: ignore[attr-defined]
    mod.__all__ = [n for n in names if not n.startswith("_")]  # type: ignore[attr-defined]
    mod.__dir__ = lambda: sorted(set(vars(mod)) | known)  # type: ignore[attr-defined]
    return mod


for _sub, _names in LAYOUT.items():
    _m = _submodule(_sub, _names.split())
    sys.modules.setdefault(_m.__name__, _m)
    globals()[_sub] = sys.modules[_m.__name__]
del _sub, _names, _m

__all__ = sorted({n for names in LAYOUT.values() for n in names.split() if not n.startswith("_")}) + ["utils"]


def __getattr__(name: str) -> Any:
    """``from torch.nn.modules import Conv2d``: torch's package re-exports every submodule's public names."""
    if name in __all__:
        import lamina.nn as nn

        return getattr(nn, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
