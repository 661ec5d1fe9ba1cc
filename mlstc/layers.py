"""Keras layers shared by the neural chapters (introduced in chapter 02).

:class:`AttentionPooling` turns a sequence of vectors into one vector as a learned,
mask-aware weighted average (Bahdanau-style additive attention with a single learned
query, as in Yang et al. 2016), and can return the weights so a notebook can show
which words a prediction leaned on.
"""

from __future__ import annotations

from mlstc import env

env.import_tensorflow()
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
