import numpy as np
import scipy.sparse as sp

from mlstc.evaluation import metrics
from mlstc.models import boosting, fitcache, linear


def toy(n=300, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 20))
    y = np.stack([x[:, 0] > 0.6, (x[:, 0] > 0.6) & (x[:, 1] > 0.5), x[:, 2] > 0.8], 1).astype(int)
    y[:, 2][:] = 0
    y[0, 2] = 1  # a label with a single positive
    return sp.csr_matrix(x), y


def test_lightgbm_per_label_learns_and_falls_back_for_rare_labels():
    x, y = toy()
    out, rounds = boosting.fit_per_label(x[:200], y[:200], x[200:250], y[200:250], x[250:], seed=0)
    assert out["test"].shape == (50, 3) and rounds[2] == 0
    assert np.allclose(out["test"][:, 2], y[:200, 2].mean())
    assert metrics.evaluate(y[250:, :2], out["test"][:, :2] >= 0.5)["micro_f1"] > 0.85


def test_lightgbm_labels_side_by_side_give_the_models_of_one_at_a_time():
    x, y = toy()
    y[:, 2] = (x[:, 3].toarray().ravel() > 0.5)
    alone, side_by_side = (boosting.fit(x[:200], y[:200], x[200:250], y[200:250], seed=0, jobs=jobs)
                           for jobs in (1, 2))
    assert alone.rounds == side_by_side.rounds
    assert np.array_equal(alone.probabilities(x[250:]), side_by_side.probabilities(x[250:]))


def test_classifier_chain_ensemble_is_seeded_and_uses_label_order():
    x, y = toy()
    a = linear.chain_ensemble(x[:200], y[:200], x[200:250], x[250:], orders=2, seed=1)
    b = linear.chain_ensemble(x[:200], y[:200], x[200:250], x[250:], orders=2, seed=1)
    assert np.array_equal(a["test"], b["test"]) and a["validation"].shape == (50, 3)
    assert metrics.evaluate(y[250:, :2], a["test"][:, :2] >= 0.5)["micro_f1"] > 0.8


def test_word2vec_vectors_and_embedding_matrix():
    from mlstc.text import word2vec

    texts = ["Oil prices fell. Crude slumps!", "crude oil output rises", "the bank raised rates"] * 20
    assert word2vec.tokenize(["Oil prices FELL."]) == [["oil", "prices", "fell"]]
    vectors = word2vec.train(texts, dim=8, epochs=2, min_count=1, cache=False)
    matrix, found = word2vec.embedding_matrix(["", "[UNK]", "oil", "nowhere"], vectors)
    assert matrix.shape == (4, 8) and not matrix[0].any() and found == 0.25
    assert np.allclose(matrix[2], vectors["oil"])


def test_lightgbm_and_chains_are_restored_on_the_same_data_and_fitted_again_on_changed_data(capsys, monkeypatch):

    x, y = toy()
    x_train, y_train, x_val, y_val = x[:200], y[:200], x[200:250], y[200:250]
    fits = {"lightgbm": lambda xt, yt, seed=0: boosting.fit(xt, yt, x_val, y_val, seed=seed,
                                                          params={"n_estimators": 20}),
            "classifier-chains": lambda xt, yt, seed=0: linear.fit_chains(xt, yt, orders=2, seed=seed)}
    for kind, fit in fits.items():
        first = fit(x_train, y_train)
        assert fitcache.RESTORED not in capsys.readouterr().out and first.fit_seconds > 0
        again = fit(x_train.copy(), y_train.copy())
        said = capsys.readouterr().out
        assert said.startswith(f"{fitcache.RESTORED}, {kind} restored") and "MLSTC_FIT_CACHE=0" in said
        assert again.fit_seconds == first.fit_seconds  # the stored fit's time
        assert np.array_equal(again.probabilities(x[250:]), first.probabilities(x[250:]))
        changed = x_train.copy()
        changed.data[0] += 0.5
        flipped = y_train.copy()
        flipped[0, 0] = 1 - flipped[0, 0]
        for args, seed in [((changed, y_train), 0), ((x_train, flipped), 0), ((x_train, y_train), 1)]:
            fit(*args, seed=seed)
            assert fitcache.RESTORED not in capsys.readouterr().out, (kind, seed)
        monkeypatch.setenv(fitcache.ENV, "0")
        fit(x_train, y_train)
        assert fitcache.RESTORED not in capsys.readouterr().out
        monkeypatch.delenv(fitcache.ENV)


def test_a_lightgbm_setting_is_part_of_the_key(capsys):

    x, y = toy()
    for rounds in (20, 21):
        boosting.fit(x[:200], y[:200], x[200:250], y[200:250], params={"n_estimators": rounds})
        assert fitcache.RESTORED not in capsys.readouterr().out
