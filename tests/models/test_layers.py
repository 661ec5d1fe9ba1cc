import numpy as np
import pytest


def test_attention_pooling_respects_the_mask_and_weights_sum_to_one():
    from mlstc.models.layers import AttentionPooling

    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], dtype=bool)
    layer = AttentionPooling(8, return_weights=True)
    pooled, weights = (np.asarray(t) for t in layer(x, mask=mask))
    assert pooled.shape == (3, 4) and weights.shape == (3, 5)
    assert np.allclose(weights[:2].sum(1), 1, atol=1e-6)
    assert np.all(weights[0, 3:] == 0) and np.all(weights[2] == 0) and np.allclose(pooled[2], 0)
    assert np.allclose(pooled[0], (x[0] * weights[0][:, None]).sum(0), atol=1e-5)
    # padded steps cannot change the result, whatever they hold
    x2 = x.copy()
    x2[0, 3:] = 1000
    assert np.allclose(np.asarray(layer(x2, mask=mask)[0])[0], pooled[0], atol=1e-5)


def test_attention_pooling_in_a_model_with_embedding_mask_and_serialisation(tmp_path):
    import keras

    from mlstc.models.layers import AttentionPooling

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = keras.layers.Embedding(20, 6, mask_zero=True)(inputs)
    x = AttentionPooling(4)(x)
    model = keras.Model(inputs, keras.layers.Dense(2)(x))
    ids = np.array([[3, 4, 0, 0], [5, 6, 7, 8]])
    before = np.asarray(model(ids))
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    assert np.allclose(np.asarray(again(ids)), before, atol=1e-6)
    assert np.allclose(np.asarray(model(np.array([[3, 4, 0, 0, 0, 0]])))[0], before[0], atol=1e-6)


@pytest.mark.slow
def test_micro_f1_callback_logs_for_early_stopping():
    import keras

    from mlstc.models.callbacks import MicroF1

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6)).astype("float32")
    y = np.stack([x[:, 0] > 0, x[:, 1] > 0.5], axis=1).astype("float32")
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    callback = MicroF1(lambda m: m.predict(x[150:], verbose=0), y[150:])
    stop = keras.callbacks.EarlyStopping(monitor="val_micro_f1", mode="max", patience=2, restore_best_weights=True)
    history = model.fit(x[:150], y[:150], epochs=8, verbose=0, callbacks=[callback, stop])
    assert history.history["val_micro_f1"] == callback.history
    assert callback.history[-1] > 0.8 and all(0 <= s <= 1 for s in callback.history)


@pytest.mark.parametrize("kind", ["mean", "max"])
def test_mean_and_max_pooling_ignore_padding(kind):
    from mlstc.models import layers

    x = np.array([[[1.0, -2.0], [3.0, 4.0], [100.0, 100.0]], [[5.0, 6.0], [0.0, 0.0], [0.0, 0.0]]], "float32")
    mask = np.array([[1, 1, 0], [0, 0, 0]], dtype=bool)
    out = np.asarray(layers.pooling(kind)(x, mask=mask))
    expected = [2.0, 1.0] if kind == "mean" else [3.0, 4.0]
    assert out[0].tolist() == expected and out[1].tolist() == [0.0, 0.0]  # all-padding row -> zeros
    with pytest.raises(ValueError, match="unknown pooling 'sum'"):
        layers.pooling("sum")
