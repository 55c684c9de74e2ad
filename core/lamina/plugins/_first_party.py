"""Which first-party distribution provides which name (used for "not installed" messages and to
stop third-party packages from taking bare names).

Kept as whitespace-separated strings so that the table reads like the DESIGN.md list.
"""

from __future__ import annotations

_TABLE: dict[str, dict[str, str]] = {
    "lamina-layers-basic": {
        "lamina.layers": """
            Linear Bilinear Identity Flatten Unflatten LazyLinear Conv1d Conv2d Conv3d
            ConvTranspose1d ConvTranspose2d ConvTranspose3d MaxPool1d MaxPool2d MaxPool3d
            MaxUnpool2d AvgPool1d AvgPool2d AvgPool3d AdaptiveAvgPool1d AdaptiveAvgPool2d
            AdaptiveAvgPool3d AdaptiveMaxPool1d AdaptiveMaxPool2d LPPool2d ReLU ReLU6 LeakyReLU
            PReLU RReLU ELU SELU CELU GELU SiLU Mish Sigmoid Tanh Hardtanh Hardswish Hardsigmoid
            Softplus Softsign Softshrink Hardshrink Tanhshrink Threshold LogSigmoid GLU Softmax
            LogSoftmax Softmin Softmax2d Dropout Dropout1d Dropout2d Dropout3d AlphaDropout
            Embedding EmbeddingBag Upsample PixelShuffle PixelUnshuffle ZeroPad2d ConstantPad1d
            ConstantPad2d ReflectionPad2d ReplicationPad2d ChannelShuffle CosineSimilarity
            PairwiseDistance
        """,
        "lamina.functional": """
            linear bilinear conv1d conv2d conv3d conv_transpose1d conv_transpose2d
            conv_transpose3d max_pool1d max_pool2d max_pool3d max_unpool2d avg_pool1d avg_pool2d
            avg_pool3d adaptive_avg_pool1d adaptive_avg_pool2d adaptive_avg_pool3d
            adaptive_max_pool1d adaptive_max_pool2d lp_pool2d relu6 leaky_relu prelu rrelu elu
            selu celu gelu silu mish hardtanh hardswish hardsigmoid softplus softsign softshrink
            hardshrink tanhshrink threshold logsigmoid glu softmin dropout dropout1d dropout2d
            dropout3d alpha_dropout embedding embedding_bag interpolate upsample pixel_shuffle
            pixel_unshuffle pad unfold fold cosine_similarity pairwise_distance one_hot
        """,
    },
    "lamina-norms": {
        "lamina.layers": """
            BatchNorm1d BatchNorm2d BatchNorm3d LazyBatchNorm2d SyncBatchNorm LayerNorm GroupNorm
            InstanceNorm1d InstanceNorm2d InstanceNorm3d LocalResponseNorm RMSNorm
        """,
        "lamina.functional": """
            batch_norm layer_norm group_norm instance_norm rms_norm normalize local_response_norm
        """,
    },
    "lamina-layers-recurrent": {
        "lamina.layers": "RNN LSTM GRU RNNCell LSTMCell GRUCell",
    },
    "lamina-layers-attention": {
        "lamina.layers": """
            MultiheadAttention TransformerEncoderLayer TransformerEncoder TransformerDecoderLayer
            TransformerDecoder Transformer
        """,
        "lamina.functional": "scaled_dot_product_attention multi_head_attention_forward",
    },
    "lamina-losses": {
        "lamina.losses": """
            L1Loss MSELoss CrossEntropyLoss NLLLoss BCELoss BCEWithLogitsLoss SmoothL1Loss
            HuberLoss KLDivLoss PoissonNLLLoss GaussianNLLLoss CosineEmbeddingLoss
            MarginRankingLoss HingeEmbeddingLoss SoftMarginLoss MultiLabelSoftMarginLoss
            MultiLabelMarginLoss MultiMarginLoss TripletMarginLoss TripletMarginWithDistanceLoss
            CTCLoss
        """,
        "lamina.functional": """
            l1_loss mse_loss cross_entropy nll_loss binary_cross_entropy
            binary_cross_entropy_with_logits smooth_l1_loss huber_loss kl_div poisson_nll_loss
            gaussian_nll_loss cosine_embedding_loss margin_ranking_loss hinge_embedding_loss
            soft_margin_loss multilabel_soft_margin_loss multilabel_margin_loss multi_margin_loss
            triplet_margin_loss triplet_margin_with_distance_loss ctc_loss
        """,
    },
    "lamina-init": {
        "lamina.init": """
            calculate_gain uniform_ normal_ trunc_normal_ constant_ ones_ zeros_ eye_ dirac_
            xavier_uniform_ xavier_normal_ kaiming_uniform_ kaiming_normal_ orthogonal_ sparse_
        """,
    },
    "lamina-optim": {
        "lamina.optim": "SGD Adam AdamW Adamax NAdam RAdam RMSprop Adagrad Adadelta ASGD Rprop LBFGS",
        "lamina.lr_scheduler": """
            LambdaLR MultiplicativeLR StepLR MultiStepLR ConstantLR LinearLR ExponentialLR
            PolynomialLR CosineAnnealingLR CosineAnnealingWarmRestarts CyclicLR OneCycleLR
            SequentialLR ChainedScheduler ReduceLROnPlateau
        """,
    },
    "lamina-backend-cpu": {"lamina.backends.cpu": "numpy"},
    "lamina-backend-cuda": {"lamina.backends.cuda": "cupy"},
}

# group -> name -> distribution
FIRST_PARTY: dict[str, dict[str, str]] = {}
for _dist, _groups in _TABLE.items():
    for _group, _names in _groups.items():
        for _name in _names.split():
            FIRST_PARTY.setdefault(_group, {})[_name] = _dist
del _dist, _groups, _group, _names, _name

ALL_NAMES: frozenset[str] = frozenset(n for names in FIRST_PARTY.values() for n in names)


def provider(groups: tuple[str, ...], name: str) -> str | None:
    """The first-party distribution that provides ``name`` in one of ``groups``, if any."""
    for group in groups:
        dist = FIRST_PARTY.get(group, {}).get(name)
        if dist is not None:
            return dist
    return None


def table_names(groups: tuple[str, ...]) -> set[str]:
    """Every first-party name of ``groups`` (installed or not)."""
    return {n for g in groups for n in FIRST_PARTY.get(g, {})}


def checkout_path(distribution: str) -> str:
    """Where a first-party distribution lives in a checkout: lamina-layers-basic -> plugins/layers_basic."""
    return "plugins/" + distribution.removeprefix("lamina-").replace("-", "_")


def install_hint(distribution: str) -> str:
    return (f"pip install {distribution} "
            f"(from a lamina checkout: pip install -e {checkout_path(distribution)})")


def provider_any(name: str) -> str | None:
    """The first-party distribution providing ``name`` in any group."""
    return next((names[name] for names in FIRST_PARTY.values() if name in names), None)
