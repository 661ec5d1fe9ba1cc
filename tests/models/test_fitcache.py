import numpy as np
import pytest

from mlstc.core import system
from mlstc.models import fitcache, heads, training
from mlstc.text.wordpieces import Encoded

system.import_tensorflow()
import keras  # noqa: E402


def data(seed=0, n=64, d=6, labels=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype("float32")
    y = (x[:, :labels] + 0.3 * rng.normal(size=(n, labels)) > 0).astype("float32")
    return x[:48], y[:48], x[48:], y[48:]


def model(seed=0, d=6, labels=3, units=8):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((d,))
    m = keras.Model(inputs, keras.layers.Dense(labels)(keras.layers.Dense(units, activation="relu")(inputs)))
    m.compile(optimizer=keras.optimizers.Adam(0.01), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    return m


def train(m, parts, **options):
    options = {"epochs": 3, "batch_size": 16, "patience": 2, "seed": 0} | options
    return training.fit_arrays(m, *parts, **options)


def weights_equal(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))


def entries():
    return sorted(p.name for p in fitcache.folder().iterdir()) if fitcache.folder().is_dir() else []


def test_same_content_is_restored_not_trained(capsys):
    parts = data()
    first = model()
    h1 = train(first, parts)
    assert not h1.cached and len(entries()) == 1
    # the same architecture built again: Keras numbers its layers on (dense_2, dense_3), the key does not change
    second = model()
    assert not weights_equal(first, second)
    h2 = train(second, parts)
    # the line the environment page counts (runner.run_times reads executed notebooks, without Keras)
    assert h2.cached and capsys.readouterr().out.startswith(fitcache.RESTORED)
    assert weights_equal(first, second)
    assert h2.history == h1.history and h2.epoch == h1.epoch
    assert h2.train_seconds == pytest.approx(h1.train_seconds)
    assert len(entries()) == 1


@pytest.mark.slow
@pytest.mark.parametrize("change", ["label", "text_epochs", "seed", "learning_rate", "width", "validation"])
def test_changed_content_or_settings_trains_again(change):
    parts = data()
    train(model(), parts)
    x_train, y_train, x_val, y_val = (a.copy() for a in parts)
    options, m = {}, None
    if change == "label":
        y_train[0, 0] = 1 - y_train[0, 0]
    elif change == "text_epochs":
        options["epochs"] = 4
    elif change == "seed":
        m = model(seed=1)
    elif change == "learning_rate":
        m = model()
        m.compile(optimizer=keras.optimizers.Adam(0.02), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    elif change == "width":
        m = model(units=9)
    elif change == "validation":
        x_val[0, 0] += 1
    history = train(m or model(), (x_train, y_train, x_val, y_val), **options)
    assert not history.cached
    assert len(entries()) == 2


@pytest.mark.slow
def test_switched_off_trains_and_stores_nothing(monkeypatch):
    monkeypatch.setenv(fitcache.ENV, "0")
    parts = data()
    assert not train(model(), parts).cached
    assert not train(model(), parts).cached
    assert entries() == []


def test_random_numbers_after_a_restored_run_match_a_trained_one():
    parts = data()
    train(model(), parts)
    after_training = np.random.random(3)
    assert train(model(), parts).cached
    np.testing.assert_array_equal(np.random.random(3), after_training)


@pytest.mark.slow
def test_text_models_are_cached_by_their_texts():
    texts = ["rates rise", "oil falls", "bank profit up", "grain exports", "rates cut", "oil price"] * 4
    y = np.array([[i % 2, (i // 2) % 2] for i in range(len(texts))], dtype="float32")

    def text_model(adapt_on=None):
        keras.utils.set_random_seed(0)
        vectorize = keras.layers.TextVectorization(max_tokens=50, output_mode="multi_hot")
        vectorize.adapt(adapt_on or texts)
        inputs = keras.Input((1,), dtype="string")
        m = keras.Model(inputs, keras.layers.Dense(2)(vectorize(keras.ops.squeeze(inputs, -1))))
        m.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True))
        return m

    run = lambda tr: training.fit_texts(text_model(), tr, y, texts[:6], y[:6], epochs=2, batch_size=8)  # noqa: E731
    assert not run(texts).cached
    assert run(texts).cached
    assert not run(texts[:-1] + ["oil falls again"]).cached
    # a vocabulary is not a weight: two of the same size still differ in the key
    swapped = [t.replace("grain", "wheat") for t in texts]
    assert not training.fit_texts(text_model(swapped), swapped, y, texts[:6], y[:6], epochs=2, batch_size=8).cached


@pytest.mark.slow
def test_train_many_restores_every_head():
    x_train, y_train, x_val, y_val = data()
    options = {"losses": ["bce", "focal"], "epochs": 3, "patience": 2, "seed": 0}
    first = heads.train_many(x_train, y_train, x_val, y_val, **options)
    again = heads.train_many(x_train, y_train, x_val, y_val, **options)
    for (m1, _, h1), (m2, _, h2) in zip(first, again):
        assert weights_equal(m1, m2)
        assert h1 == h2 and h1["train_seconds"] > 0  # the stored joint run's time, also when restored
    assert len(entries()) == 1
    heads.train_many(x_train, y_train, x_val, y_val, **options | {"losses": ["bce", "asl"]})
    assert len(entries()) == 2


def test_digest_of_word_pieces_follows_every_id():
    a = Encoded(ids=[[101, 7, 102], [101, 8, 9, 102]], doc=np.arange(2), n_docs=2, full_lengths=np.array([1, 2]))
    b = Encoded(ids=[[101, 7, 102], [101, 8, 10, 102]], doc=np.arange(2), n_docs=2, full_lengths=np.array([1, 2]))

    def digest(obj):
        import hashlib
        h = hashlib.sha256()
        fitcache._update(h, obj)
        return h.hexdigest()

    assert digest(a) == digest(Encoded(**vars(a)))
    assert digest(a) != digest(b)
    assert digest(["ab", "c"]) != digest(["a", "bc"])
    assert digest([1, 2]) != digest([1.0, 2.0])


def test_digest_of_a_sparse_matrix_follows_its_content_not_its_object():
    import hashlib

    import scipy.sparse as sp

    def digest(obj):
        h = hashlib.sha256()
        fitcache._update(h, obj)
        return h.hexdigest()

    m = sp.csr_matrix(np.array([[0, 1.0, 0], [2.0, 0, 3.0]]))
    moved = m.copy()
    moved.data[1] += 1
    assert digest(m) == digest(m.copy())
    assert digest(m) != digest(moved)
    assert digest(m) != digest(m.toarray())  # dense and sparse are different inputs
    assert digest(m) != digest(sp.csc_matrix(m))


@pytest.mark.slow
def test_prune_removes_least_recently_used(tmp_path):
    parts = data()
    for units in (4, 5, 6):
        train(model(units=units), parts)
    assert len(entries()) == 3
    oldest = min(fitcache.folder().iterdir(), key=lambda p: p.stat().st_mtime)
    one = max(sum(f.stat().st_size for f in p.iterdir()) for p in fitcache.folder().iterdir())
    removed = fitcache.prune(limit=2 * one)
    assert removed[0] == oldest and len(entries()) <= 2


def test_the_key_covers_the_code_of_the_models_own_layers_and_loss(monkeypatch):
    """A changed line in a layer's or loss's module retrains; one elsewhere does not."""
    from mlstc.models import layers, losses

    inputs = keras.Input((4, 6))
    m = keras.Model(inputs, keras.layers.Dense(3)(layers.AttentionPooling()(inputs)))
    m.compile(optimizer="adam", loss=losses.ZLPR())
    assert {"mlstc.models.layers", "mlstc.models.losses"} <= fitcache._modules(m)
    parts = [np.zeros((2, 4, 6), "float32"), np.zeros((2, 3), "float32")]
    before = fitcache.key(m, parts, {}, loop=["mlstc.models.training"])
    keys = {}
    real = fitcache.code.key
    for changed in ("mlstc.models.layers", "mlstc.models.losses", "mlstc.models.boosting"):
        def key(names, exempt=(), changed=changed):
            modules = fitcache.code.closure(names, exempt)
            return real(names, exempt) + ("!" if changed in modules else "")
        monkeypatch.setattr(fitcache.code, "key", key)
        keys[changed] = fitcache.key(m, parts, {}, loop=["mlstc.models.training"])
    assert keys["mlstc.models.layers"] != before and keys["mlstc.models.losses"] != before
    assert keys["mlstc.models.boosting"] == before
