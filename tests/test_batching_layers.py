import numpy as np
import pytest

from mlstc import batching


def test_batches_cover_every_index_once_and_group_similar_lengths():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 500, size=1037)
    for shuffle in (False, True):
        groups = batching.batches(lengths, 32, shuffle=shuffle, seed=1, chunk_batches=4)
        flat = np.concatenate(groups)
        assert sorted(flat.tolist()) == list(range(len(lengths)))
        assert max(len(g) for g in groups) == 32
    sorted_groups = batching.batches(lengths, 32)
    assert batching.padded_fraction(lengths, sorted_groups) < 0.05
    assert batching.padded_fraction(lengths, sorted_groups, cap=512) > 0.4
    a = batching.batches(lengths, 32, shuffle=True, seed=1)
    b = batching.batches(lengths, 32, shuffle=True, seed=2)
    assert not all(np.array_equal(x, y) for x, y in zip(a, b))


def test_pad_loses_no_token_below_the_cap():
    seqs = [[5, 6, 7], [8], [9, 10, 11, 12, 13]]
    ids, mask = batching.pad(seqs)
    assert [row[m].tolist() for row, m in zip(ids, mask)] == seqs
    ids, mask = batching.pad(seqs, max_length=4)
    assert ids.shape == (3, 4) and ids[2].tolist() == [9, 10, 11, 12]


def test_predictions_come_back_in_input_order():
    lengths = [7, 1, 5, 3, 9, 2]
    out = batching.predict_in_order(lambda idx: np.stack([idx * 10, idx]).T, lengths, batch_size=4)
    assert out[:, 1].tolist() == list(range(6)) and out[:, 0].tolist() == [i * 10 for i in range(6)]


def test_batch_size_must_be_positive():
    with pytest.raises(ValueError):
        batching.batches([1, 2], 0)


def test_attention_pooling_respects_the_mask_and_weights_sum_to_one():
    from mlstc.layers import AttentionPooling

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

    from mlstc.layers import AttentionPooling

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


def test_micro_f1_callback_logs_for_early_stopping():
    import keras

    from mlstc.callbacks import MicroF1

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6)).astype("float32")
    y = np.stack([x[:, 0] > 0, x[:, 1] > 0.5], axis=1).astype("float32")
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    callback = MicroF1(x[150:], y[150:], verbose=False)
    stop = keras.callbacks.EarlyStopping(monitor="val_micro_f1", mode="max", patience=2, restore_best_weights=True)
    history = model.fit(x[:150], y[:150], epochs=8, verbose=0, callbacks=[callback, stop])
    assert history.history["val_micro_f1"] == callback.history
    assert callback.history[-1] > 0.8 and all(0 <= s <= 1 for s in callback.history)
