import numpy as np
import pytest

from mlstc.evaluation import metrics
from mlstc.models import fitcache, linear
from mlstc.text import checkpoints, embeddings, wordpieces

TEXTS = ["Oil prices fell sharply on oversupply.", "Crude oil slumps as supply glut grows.",
         "The central bank raised interest rates.", "Apple reports record quarterly profit."]


@pytest.fixture(scope="module")
def vectors():
    return embeddings.embed(TEXTS, dataset="t", cache=False, progress=False, batch_size=3)


def test_keras_hub_backbone_loads_the_offline_checkpoint():
    model = checkpoints.backbone("")
    assert (model.num_layers, model.hidden_dim) == (6, 384)
    inputs = wordpieces.inputs(wordpieces.encode(TEXTS[:2], checkpoints.tokenizer(""), 16).ids)
    out = model(inputs)
    assert tuple(out["sequence_output"].shape) == (2, inputs["token_ids"].shape[1], 384)
    assert inputs["token_ids"].shape[1] <= 16


def test_embeddings_are_deterministic_normalised_and_meaningful(vectors):
    assert vectors.shape == (4, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    again = embeddings.embed(list(reversed(TEXTS)), dataset="t", cache=False, progress=False, batch_size=2)
    assert np.allclose(again[::-1], vectors, atol=1e-5)  # batch composition and order do not matter
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] and similarity[0, 1] > similarity[0, 3]


def test_embedding_cache_hits_same_content_and_misses_changed_content_or_settings(vectors):
    first = embeddings.embed(TEXTS, dataset="c", progress=False)
    assert np.allclose(first, vectors, atol=1e-5)
    path = embeddings.cache_file("c", "", 256, TEXTS)
    assert path.is_file() and np.array_equal(embeddings.embed(TEXTS, dataset="c", progress=False), first)
    assert embeddings.cache_file("c", "", 256, TEXTS[:3] + ["changed"]) != path
    assert embeddings.cache_file("c", "", 128, TEXTS) != path


def test_mean_pool_ignores_padding():
    sequence = np.array([[[1.0], [3.0], [100.0]]])
    assert embeddings.mean_pool(sequence, np.array([[1, 1, 0]])).tolist() == [[2.0]]


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 10))
    y = np.stack([X[:, 0] > 0.5, X[:, 1] + X[:, 2] > 0, X[:, 3] > 1.2], axis=1).astype(int)
    return X[:200], y[:200], X[200:], y[200:]


@pytest.mark.parametrize("model", ["svm", "logreg"])
def test_linear_models_pick_a_strength_on_validation(toy, model):
    X_train, y_train, X_val, y_val = toy
    fitted = linear.fit(model, X_train, y_train, X_val, y_val)
    assert fitted.params in linear.GRIDS[model]
    assert set(fitted.validation) == {linear.describe(p) for p in linear.GRIDS[model]}
    assert fitted.best_validation == max(fitted.validation.values())
    s = fitted.scores(X_val)
    assert s.shape == y_val.shape and s.min() >= 0 and s.max() <= 1
    assert metrics.evaluate(y_val, s >= 0.5)["micro_f1"] > 0.8


def test_naive_bayes_and_unknown_model(toy):
    X_train, y_train, X_val, y_val = toy
    outcome = linear.run("nb", "nb", (np.abs(X_train), np.abs(X_val), np.abs(X_val)), y_train, y_val)
    assert outcome.y_pred.shape == y_val.shape and outcome.thresholds.shape == (3,)
    with pytest.raises(ValueError, match="Unknown linear model 'tree'"):
        linear.make("tree", {})
    assert linear.describe({"C": 3.0, "class_weight": None}) == "C=3"
    assert linear.describe({"C": 0.3, "class_weight": "balanced"}) == "C=0.3, class_weight=balanced"


def test_a_fitted_grid_is_restored_on_the_same_data_and_refitted_on_changed_data_or_settings(toy, capsys,
                                                                                             monkeypatch):
    from scipy import sparse


    X_train, y_train, X_val, y_val = toy
    X_sparse = sparse.csr_matrix(np.where(np.abs(X_train) > 1, X_train, 0))
    first = linear.fit("svm", X_sparse, y_train, X_val, y_val)
    assert fitcache.RESTORED not in capsys.readouterr().out
    again = linear.fit("svm", X_sparse.copy(), y_train, X_val, y_val)
    assert capsys.readouterr().out.startswith(fitcache.RESTORED)
    assert again.params == first.params and again.validation == first.validation
    assert np.array_equal(again.scores(X_val), first.scores(X_val))
    changed = X_sparse.copy()
    changed.data[0] += 1.0
    for args, grid, seed in [((changed, y_train), None, 0), ((X_sparse, 1 - y_train), None, 0),
                             ((X_sparse, y_train), linear.GRIDS["svm"][:2], 0), ((X_sparse, y_train), None, 1)]:
        linear.fit("svm", *args, X_val, y_val, grid=grid, seed=seed)
        assert fitcache.RESTORED not in capsys.readouterr().out
    monkeypatch.setenv(fitcache.ENV, "0")  # switched off: fits again
    linear.fit("svm", X_sparse, y_train, X_val, y_val)
    assert fitcache.RESTORED not in capsys.readouterr().out
