"""Keras layers shared by the neural chapters (introduced in chapter 02).

Three ways to turn a sequence of vectors into one, all mask-aware (padded steps
never count): :class:`AttentionPooling`, a learned weighted average (additive
attention with a single learned query, as in Yang et al. 2016) that can return its
weights so a notebook can show which words a prediction leaned on;
:class:`MaskedMeanPooling` and :class:`MaskedMaxPooling`, the parameter-free
alternatives that chapter 02 measures attention against (and mean pooling is how
all-MiniLM-L6-v2 was trained, so chapter 03 uses it on BERT's token vectors).
"""

from __future__ import annotations

from mlstc.core import system

system.import_backend()
import keras  # noqa: E402
from keras import ops  # noqa: E402


@keras.saving.register_keras_serializable(package="mlstc")
class AttentionPooling(keras.layers.Layer):
    """``(batch, time, features) -> (batch, features)``; padded steps get weight 0.

    ``return_weights=True`` makes the layer return ``(pooled, weights)`` with
    ``weights`` of shape ``(batch, time)`` summing to one over unmasked steps.
    """

    def __init__(self, units: int = 64, return_weights: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.return_weights = return_weights
        self.supports_masking = True

    def build(self, input_shape):
        features = input_shape[-1]
        self.projection = self.add_weight(name="projection", shape=(features, self.units),
                                          initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        self.query = self.add_weight(name="query", shape=(self.units, 1), initializer="glorot_uniform")

    def call(self, inputs, mask=None):
        scores = ops.squeeze(ops.matmul(ops.tanh(ops.matmul(inputs, self.projection) + self.bias), self.query), -1)
        if mask is not None:
            scores = ops.where(ops.cast(mask, "bool"), scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1)
        if mask is not None:  # an all-padding row gets zero weights, not a uniform average
            weights = weights * ops.cast(mask, weights.dtype)
        pooled = ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)
        return (pooled, weights) if self.return_weights else pooled

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return super().get_config() | {"units": self.units, "return_weights": self.return_weights}


def _mask(inputs, mask):
    if mask is None:
        return ops.ones(ops.shape(inputs)[:2], dtype=inputs.dtype)
    return ops.cast(mask, inputs.dtype)


@keras.saving.register_keras_serializable(package="mlstc")
class MaskedMeanPooling(keras.layers.Layer):
    """Mean over the unmasked steps: ``(b, t, d) -> (b, d)``. The mask is Keras's own
    (from ``mask_zero``) or given: ``layer(sequence, mask=padding_mask)``."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        m = ops.expand_dims(_mask(inputs, mask), -1)
        return ops.sum(inputs * m, axis=1) / ops.maximum(ops.sum(m, axis=1), ops.cast(1.0, inputs.dtype))

    def compute_mask(self, inputs, mask=None):
        return None


@keras.saving.register_keras_serializable(package="mlstc")
class MaskedMaxPooling(keras.layers.Layer):
    """Maximum over the unmasked steps: ``(b, t, d) -> (b, d)`` (0 for an all-padding row)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        m = ops.expand_dims(_mask(inputs, mask), -1)
        pooled = ops.max(ops.where(m > 0, inputs, ops.full_like(inputs, -1e9)), axis=1)
        return ops.where(ops.sum(m, axis=1) > 0, pooled, ops.zeros_like(pooled))

    def compute_mask(self, inputs, mask=None):
        return None


POOLINGS = ("attention", "mean", "max")


def pooling(kind: str, attention_units: int = 64) -> keras.layers.Layer:
    """The pooling layer ``kind`` (one of :data:`POOLINGS`), named after it."""
    if kind == "attention":
        return AttentionPooling(attention_units, name="attention")
    if kind == "mean":
        return MaskedMeanPooling(name="mean_pool")
    if kind == "max":
        return MaskedMaxPooling(name="max_pool")
    raise ValueError(f"unknown pooling {kind!r}; use one of {', '.join(POOLINGS)}")
