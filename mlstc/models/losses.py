"""Multi-label losses on logits, for every Keras model of the book (chapter 06).

Each loss is a ``keras.losses.Loss`` written with ``keras.ops`` that takes the targets
and the model's *logits*, so the LSTM, BERT and hierarchical models can use any of
them: ``model.compile(loss=losses.make("db", y_train), ...)``. Losses that need label
frequencies take them from the training targets given to :func:`make` (never from
validation or test). Each is registered for Keras serialisation, so a saved model that
was compiled with one loads again.

=================  ==============================================================
name               loss (paper; defaults from it)
=================  ==============================================================
``bce``            binary cross-entropy (Keras' own)
``weighted-bce``   BCE with positive weight (N - n_j) / n_j per label
``focal``          focal loss, Lin et al. ICCV 2017 (Keras' BinaryFocalCrossentropy)
``cb``             class-balanced focal, Cui et al. CVPR 2019
``r-fl``           rebalanced focal, Wu et al. ECCV 2020
``ntr-fl``         negative-tolerant focal, Wu et al. ECCV 2020
``db``             distribution-balanced (R-FL + NTR), Wu et al. ECCV 2020
``cb-ntr``         class-balanced + NTR focal, Huang et al. EMNLP 2021
``asl``            asymmetric loss, Ridnik et al. ICCV 2021
``zlpr``           ZLPR / multi-label categorical cross-entropy, Su et al. 2022
``sigmoid-f1``     sigmoidF1, Bénédict et al. 2022
``lsep``           log-sum-exp pairwise ranking, Li et al. CVPR 2017
``softmax-ce``     softmax cross-entropy over targets normalised to sum 1
=================  ==============================================================

The focal family (``cb``, ``r-fl``, ``ntr-fl``, ``db``, ``cb-ntr``) uses the settings
with which Huang et al. compared them on Reuters-21578 ModApte-90: focal alpha 0.5 and
gamma 2, class-balanced beta 0.9 (with their scale 10), rebalancing map alpha 0.1,
beta 10, mu 0.9, and negative-tolerant kappa 0.05, lambda 2.

Each loss also says how its logits become scores in [0, 1] (:meth:`scores`): the
sigmoid for all but ``softmax-ce`` (softmax). ZLPR's natural decision rule, a logit
above 0, is a score above 0.5.

**Adding a loss** takes this module and the loss's reference test, nothing else: put
:func:`register` on its class (or on a function that builds it), in the table's order.
:data:`NAMES`, :func:`make`, the chapters' choices, the claim a loss feeds
(``claim=``, read by chapter 06's sweep) and the parametrized tests all come from
:data:`REGISTRY`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from mlstc.core import system
from mlstc.evaluation import thresholds

system.import_backend()
import keras  # noqa: E402
from keras import ops  # noqa: E402

_NEG = -1e9  # "minus infinity" for masked log-sum-exp terms


@dataclass(frozen=True)
class Entry:
    """How :func:`make` builds a registered loss. ``build()`` makes it, or
    ``build(positives, n_train)`` where ``frequencies`` (it needs the training
    targets); ``claim`` names the article claim its comparison with BCE is evidence
    for (:data:`mlstc.results.claims.CLAIMS`), for the losses that couple labels."""

    build: Callable[..., keras.losses.Loss]
    frequencies: bool = False
    claim: str = ""


REGISTRY: dict[str, Entry] = {}  # name -> its entry, in the order of the module's table


def register(name: str, *, frequencies: bool = False, claim: str = ""):
    """Register the decorated class or builder as the loss ``name``."""
    def add(build):
        if name in REGISTRY:
            raise ValueError(f"the loss {name!r} is registered twice")
        REGISTRY[name] = Entry(build, frequencies, claim)
        return build
    return add


def label_counts(y_train) -> tuple[np.ndarray, int]:
    """Training documents per label and the number of training documents."""
    y = np.asarray(y_train)
    return y.sum(axis=0).astype("float64"), int(len(y))


class MultiLabelLoss(keras.losses.Loss):
    """Base class: ``call(y_true, logits)`` returns one value per example; the batch
    mean is taken by Keras."""

    activation = "sigmoid"

    def scores(self, logits) -> np.ndarray:
        return _activate(logits, self.activation)

    def get_config(self):
        return {"name": self.name}


def _frequencies(positives, n_train):
    """Counts clipped to [1, N - 1] so that log-odds and inverses stay finite for
    labels with no (or only) training positives."""
    positives = np.clip(np.asarray(positives, dtype="float64"), 1.0, max(float(n_train) - 1.0, 1.0))
    return positives, float(n_train)


@register("bce")
def _bce() -> keras.losses.Loss:
    return keras.losses.BinaryCrossentropy(from_logits=True, name="bce")


@register("weighted-bce", frequencies=True)
@keras.saving.register_keras_serializable(package="mlstc")
class WeightedBCE(MultiLabelLoss):
    """Binary cross-entropy with each label's positive terms weighted by
    ``(N - n_j) / n_j`` (the ratio of negatives to positives in training), the
    ``pos_weight`` of ``tf.nn.weighted_cross_entropy_with_logits``."""

    def __init__(self, positives, n_train, name: str = "weighted_bce", **kwargs):
        super().__init__(name=name, **kwargs)
        self.positives, self.n_train = list(map(float, positives)), int(n_train)
        n, total = _frequencies(positives, n_train)
        self.pos_weight = ((total - n) / n).astype("float32")

    def call(self, y_true, y_pred):
        y = ops.cast(y_true, y_pred.dtype)
        terms = self.pos_weight * y * ops.softplus(-y_pred) + (1 - y) * ops.softplus(y_pred)
        return ops.mean(terms, axis=-1)

    def get_config(self):
        return {"name": self.name, "positives": self.positives, "n_train": self.n_train}


@register("focal")
def _focal() -> keras.losses.Loss:  # Lin et al.: alpha 0.25 on positives, gamma 2
    return keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.25, gamma=2.0,
                                                from_logits=True, name="focal")


@keras.saving.register_keras_serializable(package="mlstc")
class BalancedFocal(MultiLabelLoss):
    """The focal family of Wu et al. (ECCV 2020) and Huang et al. (EMNLP 2021).

    With ``z`` the logit, ``y`` the target, ``p_j = n_j / N`` the training prior:

    - negative-tolerant regularisation (``ntr``): ``z' = z + kappa * log(p / (1 - p))``;
      a negative's term is ``(1 / lambda) * log(1 + exp(lambda * z'))``;
    - focal term: ``alpha_t * (1 - p_t) ** gamma`` times the cross-entropy ``-log p_t``
      of ``z'`` (``p_t`` the probability of the true value);
    - weights (``reweight``): ``"rebalance"`` (R-FL): with ``r = (1 / n_j) /
      sum_{k in Y} (1 / n_k)`` for the example's positive labels ``Y``, every term of
      the example is weighted ``map_alpha + sigmoid(map_beta * (r - map_mu))``;
      ``"cb"`` (Cui et al. CVPR 2019): label ``j`` weighted ``(1 - beta) / (1 - beta ** n_j)``.
    - ``scale`` multiplies the whole (Huang et al. use 10 with class-balanced weights).

    The mean over labels is the example's loss.
    """

    def __init__(self, positives, n_train, *, reweight: str | None = None, ntr: bool = False, focal: bool = True,
                 alpha: float = 0.5, gamma: float = 2.0, cb_beta: float = 0.9, map_alpha: float = 0.1,
                 map_beta: float = 10.0, map_mu: float = 0.9, kappa: float = 0.05, lam: float = 2.0,
                 scale: float = 1.0, name: str = "balanced_focal", **kwargs):
        super().__init__(name=name, **kwargs)
        if reweight not in (None, "rebalance", "cb"):
            raise ValueError(f"reweight must be None, 'rebalance' or 'cb', not {reweight!r}")
        self.options = dict(reweight=reweight, ntr=ntr, focal=focal, alpha=alpha, gamma=gamma, cb_beta=cb_beta,
                            map_alpha=map_alpha, map_beta=map_beta, map_mu=map_mu, kappa=kappa, lam=lam, scale=scale)
        self.positives, self.n_train = list(map(float, positives)), int(n_train)
        n, total = _frequencies(positives, n_train)
        self.inverse = (1 / n).astype("float32")
        self.log_prior = np.log(n / (total - n)).astype("float32")
        self.cb_weight = ((1 - cb_beta) / (1 - cb_beta ** n)).astype("float32")

    def weights(self, y):
        o = self.options
        if o["reweight"] == "cb":
            return ops.broadcast_to(self.cb_weight, ops.shape(y))
        if o["reweight"] == "rebalance":
            repeat = ops.sum(y * self.inverse, axis=-1, keepdims=True)
            ratio = self.inverse / ops.maximum(repeat, 1e-12)  # no positives -> large ratio -> weight ~1 + alpha
            return o["map_alpha"] + ops.sigmoid(o["map_beta"] * (ratio - o["map_mu"]))
        return ops.ones_like(y)

    def call(self, y_true, y_pred):
        o = self.options
        y = ops.cast(y_true, y_pred.dtype)
        z, weight = y_pred, self.weights(y)
        if o["ntr"]:
            z = z + o["kappa"] * self.log_prior
            z = y * z + (1 - y) * o["lam"] * z
            weight = weight * (y + (1 - y) / o["lam"])
        cross_entropy = y * ops.softplus(-z) + (1 - y) * ops.softplus(z)  # -log p_t
        terms = weight * cross_entropy
        if o["focal"]:
            alpha_t = y * o["alpha"] + (1 - y) * (1 - o["alpha"])
            terms = alpha_t * (1 - ops.exp(-cross_entropy)) ** o["gamma"] * terms
        return o["scale"] * ops.mean(terms, axis=-1)

    def get_config(self):
        return {"name": self.name, "positives": self.positives, "n_train": self.n_train, **self.options}


def _focal_family(name: str, **settings) -> None:
    """Register ``name`` as :class:`BalancedFocal` with Huang et al.'s ``settings``."""
    register(name, frequencies=True)(
        lambda positives, n_train: BalancedFocal(positives, n_train, name=name.replace("-", "_"), **settings))


_focal_family("cb", reweight="cb", scale=10.0)
_focal_family("r-fl", reweight="rebalance")
_focal_family("ntr-fl", ntr=True)
_focal_family("db", reweight="rebalance", ntr=True)
_focal_family("cb-ntr", reweight="cb", ntr=True, scale=10.0)


@register("asl")
@keras.saving.register_keras_serializable(package="mlstc")
class AsymmetricLoss(MultiLabelLoss):
    """ASL (Ridnik et al. ICCV 2021): ``-y (1 - p) ** gamma_pos log p
    - (1 - y) p_m ** gamma_neg log(1 - p_m)`` with ``p_m = max(p - clip, 0)``;
    the paper's defaults gamma_neg 4, gamma_pos 0, clip 0.05. Mean over labels."""

    def __init__(self, gamma_neg: float = 4.0, gamma_pos: float = 0.0, clip: float = 0.05, name: str = "asl",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.gamma_neg, self.gamma_pos, self.clip = gamma_neg, gamma_pos, clip

    def call(self, y_true, y_pred):
        y = ops.cast(y_true, y_pred.dtype)
        p = ops.sigmoid(y_pred)
        shifted = ops.maximum(p - self.clip, 0.0)
        positive = y * _power(1 - p, self.gamma_pos) * ops.softplus(-y_pred)  # -log p = softplus(-z)
        negative = (1 - y) * _power(shifted, self.gamma_neg) * -ops.log(ops.maximum(1 - shifted, 1e-8))
        return ops.mean(positive + negative, axis=-1)

    def get_config(self):
        return {"name": self.name, "gamma_neg": self.gamma_neg, "gamma_pos": self.gamma_pos, "clip": self.clip}


def _power(base, exponent: float):
    """``base ** exponent`` with a finite gradient at ``base = 0`` (``x ** 0`` is 1)."""
    return ops.ones_like(base) if exponent == 0 else base ** exponent


def _log1p_sum_exp(scores, mask):
    """``log(1 + sum_{mask} exp(scores))`` row-wise, stably."""
    masked = ops.where(mask > 0, scores, _NEG)
    zeros = ops.zeros_like(scores[..., :1])
    return ops.logsumexp(ops.concatenate([zeros, masked], axis=-1), axis=-1)


@register("zlpr", claim="dependencies")
@keras.saving.register_keras_serializable(package="mlstc")
class ZLPR(MultiLabelLoss):
    """ZLPR, the multi-label categorical cross-entropy (Su et al. 2022, arXiv
    2208.02955): ``log(1 + sum_{j not in Y} e^{s_j}) + log(1 + sum_{i in Y} e^{-s_i})``.
    Its decision threshold is 0 on the logits: every positive above every negative
    and above 0."""

    def __init__(self, name: str = "zlpr", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        y = ops.cast(y_true, y_pred.dtype)
        return _log1p_sum_exp(y_pred, 1 - y) + _log1p_sum_exp(-y_pred, y)


@register("sigmoid-f1")
@keras.saving.register_keras_serializable(package="mlstc")
class SigmoidF1(MultiLabelLoss):
    """sigmoidF1 (Bénédict et al. 2022, arXiv 2108.10566): with ``S = sigmoid(beta * (z +
    eta))``, soft counts over the batch per label ``tp = sum S y``, ``fp = sum S (1 - y)``,
    ``fn = sum (1 - S) y``; the loss is ``1 - mean_j 2 tp / (2 tp + fn + fp)``. A batch
    loss: every example of the batch gets its value. ``beta`` 1 and ``eta`` 0 give the
    plain sigmoid."""

    def __init__(self, beta: float = 1.0, eta: float = 0.0, name: str = "sigmoid_f1", **kwargs):
        super().__init__(name=name, **kwargs)
        self.beta, self.eta = beta, eta

    def call(self, y_true, y_pred):
        y = ops.cast(y_true, y_pred.dtype)
        s = ops.sigmoid(self.beta * (y_pred + self.eta))
        tp, fp, fn = ops.sum(s * y, axis=0), ops.sum(s * (1 - y), axis=0), ops.sum((1 - s) * y, axis=0)
        f1 = 2 * tp / (2 * tp + fn + fp + 1e-16)
        return ops.ones_like(y_pred[:, 0]) * (1 - ops.mean(f1))

    def get_config(self):
        return {"name": self.name, "beta": self.beta, "eta": self.eta}


@register("lsep", claim="dependencies")
@keras.saving.register_keras_serializable(package="mlstc")
class LSEP(MultiLabelLoss):
    """LSEP (Li et al. CVPR 2017): ``log(1 + sum_{v not in Y} sum_{u in Y} exp(f_v -
    f_u))``, a smooth pairwise ranking loss; 0 for an example with no positives."""

    def __init__(self, name: str = "lsep", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        y = ops.cast(y_true, y_pred.dtype)
        differences = y_pred[:, None, :] - y_pred[:, :, None]  # [b, u, v] = f_v - f_u
        pairs = y[:, :, None] * (1 - y)[:, None, :]  # u positive, v negative
        flat = ops.reshape(differences, (ops.shape(y_pred)[0], -1))
        return _log1p_sum_exp(flat, ops.reshape(pairs, ops.shape(flat)))


@register("softmax-ce", claim="cross_entropy")
@keras.saving.register_keras_serializable(package="mlstc")
class SoftmaxCE(MultiLabelLoss):
    """Softmax cross-entropy against the targets divided by their sum (the
    "standard cross-entropy" of multi-class training applied to several labels);
    an example with no labels contributes 0. Scores are the softmax."""

    activation = "softmax"

    def __init__(self, name: str = "softmax_ce", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        y = ops.cast(y_true, y_pred.dtype)
        target = y / ops.maximum(ops.sum(y, axis=-1, keepdims=True), 1.0)
        return -ops.sum(target * ops.log_softmax(y_pred, axis=-1), axis=-1)


def make(name: str, y_train=None) -> keras.losses.Loss:
    """The loss called ``name`` (see the module's table); ``y_train`` (the training
    targets) for the losses that need label frequencies."""
    if name not in REGISTRY:
        raise ValueError(f"unknown loss {name!r}; known: {', '.join(NAMES)}")
    entry = REGISTRY[name]
    if not entry.frequencies:
        return entry.build()
    if y_train is None:
        raise ValueError(f"the {name!r} loss needs the training targets: make({name!r}, y_train)")
    return entry.build(*label_counts(y_train))


NAMES = tuple(REGISTRY)
COUPLED = tuple(name for name, entry in REGISTRY.items() if entry.claim)  # the losses that couple labels


def scores(loss, logits) -> np.ndarray:
    """Scores in [0, 1] from ``logits`` of a model trained with ``loss`` (softmax for
    the softmax cross-entropy, the sigmoid otherwise)."""
    return _activate(logits, getattr(loss, "activation", "sigmoid"))


def _activate(logits, activation: str) -> np.ndarray:
    logits = np.asarray(logits, dtype="float64")
    if activation == "softmax":
        shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
        return shifted / shifted.sum(axis=-1, keepdims=True)
    return thresholds.sigmoid(logits)
