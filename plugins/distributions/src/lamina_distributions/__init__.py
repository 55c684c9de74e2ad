"""``lamina.distributions``: torch.distributions: every distribution, transform and constraint,
kl_divergence and its registry."""

from __future__ import annotations

__lamina_plugin_api__ = "1.0"

from . import constraints, transforms  # noqa: E402
from .composite import Independent, MixtureSameFamily, TransformedDistribution  # noqa: E402
from .constraint_registry import biject_to, transform_to  # noqa: E402
from .continuous_location import Cauchy, Laplace, Normal, StudentT, Uniform  # noqa: E402
from .continuous_other import (  # noqa: E402
    ContinuousBernoulli,
    FisherSnedecor,
    GeneralizedPareto,
    Kumaraswamy,
    VonMises,
)
from .continuous_positive import Beta, Chi2, Exponential, Gamma  # noqa: E402
from .discrete import Bernoulli, Binomial, Categorical, Geometric, NegativeBinomial, Poisson  # noqa: E402
from .discrete_vector import Multinomial, OneHotCategorical, OneHotCategoricalStraightThrough  # noqa: E402
from .distribution import Distribution  # noqa: E402
from .exp_family import ExponentialFamily  # noqa: E402
from .kl import kl_divergence, register_kl  # noqa: E402
from .multivariate import Dirichlet, MultivariateNormal  # noqa: E402
from .multivariate_matrix import LKJCholesky, LowRankMultivariateNormal, Wishart  # noqa: E402
from .relaxed import RelaxedBernoulli, RelaxedOneHotCategorical  # noqa: E402
from .transformed import (  # noqa: E402
    Gumbel,
    HalfCauchy,
    HalfNormal,
    InverseGamma,
    LogisticNormal,
    LogNormal,
    Pareto,
    Weibull,
)
from .transforms import (  # noqa: E402
    AbsTransform,
    AffineTransform,
    CatTransform,
    ComposeTransform,
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    ReshapeTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StackTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    identity_transform,
)

__all__ = [
    "Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "ContinuousBernoulli", "Dirichlet",
    "Distribution", "Exponential", "ExponentialFamily", "FisherSnedecor", "Gamma", "GeneralizedPareto",
    "Geometric", "Gumbel", "HalfCauchy", "HalfNormal", "Independent", "InverseGamma", "Kumaraswamy",
    "LKJCholesky", "Laplace", "LogNormal", "LogisticNormal", "LowRankMultivariateNormal", "MixtureSameFamily",
    "Multinomial", "MultivariateNormal", "NegativeBinomial", "Normal", "OneHotCategorical",
    "OneHotCategoricalStraightThrough", "Pareto", "RelaxedBernoulli", "RelaxedOneHotCategorical", "StudentT",
    "Poisson", "Uniform", "VonMises", "Weibull", "Wishart", "TransformedDistribution", "biject_to",
    "kl_divergence", "register_kl", "transform_to", "AbsTransform", "AffineTransform", "CatTransform",
    "ComposeTransform", "CorrCholeskyTransform", "CumulativeDistributionTransform", "ExpTransform",
    "IndependentTransform", "LowerCholeskyTransform", "PositiveDefiniteTransform", "PowerTransform",
    "ReshapeTransform", "SigmoidTransform", "SoftplusTransform", "TanhTransform", "SoftmaxTransform",
    "StackTransform", "StickBreakingTransform", "Transform", "identity_transform",
]
