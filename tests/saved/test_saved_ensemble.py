"""Saved pipelines and ensembles (chapter 05): what is saved predicts new text exactly
as the fitted models did, through ``python -m mlstc predict``."""

import numpy as np
import pytest
from sklearn.decomposition import TruncatedSVD
from sklearn.pipeline import make_pipeline

from mlstc import data, ensembles, saved
from mlstc.book.cli import main
from mlstc.data import synthetic
from mlstc.models import boosting, linear, training
from mlstc.saved import ensembles as saved_ensembles
from mlstc.saved import pipelines
from mlstc.text import features


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """Four members of different kinds on a generated data set, and their probabilities."""
    ds = data.load(str(synthetic.write_headlines(tmp_path_factory.mktemp("own") / "news.csv", rows=240, seed=0)))
    train, val, test = (ds.split(s) for s in ("train", "validation", "test"))
    vectorizer, (x_train, x_val) = features.tfidf(train.texts, val.texts)
    dense = make_pipeline(vectorizer, TruncatedSVD(8, random_state=0)).fit(train.texts)
    keras = training.keras
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8,))
    head = keras.Model(inputs, keras.layers.Dense(ds.num_labels)(inputs))
    head.compile("adam", keras.losses.BinaryCrossentropy(from_logits=True))
    head.fit(dense.transform(train.texts), train.y.astype("float32"), epochs=3, verbose=0)
    members = {
        "svm-tf-idf": pipelines.TextPipeline(vectorizer, pipelines.LinearScores(
            linear.make("svm", {"C": 1.0}).fit(x_train, train.y))),
        "lightgbm-tf-idf": pipelines.TextPipeline(vectorizer, boosting.fit(x_train, train.y, x_val, val.y,
                                                                          params={"n_estimators": 20})),
        "classifier-chains": pipelines.TextPipeline(vectorizer, linear.fit_chains(x_train, train.y, orders=2)),
        "head": pipelines.TextPipeline(dense, pipelines.KerasHead(head)),
    }
    probs = {n: {s: m.probabilities(p.texts) for s, p in (("validation", val), ("test", test))}
             for n, m in members.items()}
    calibration = {"svm-tf-idf": ensembles.platt(probs["svm-tf-idf"]["validation"], val.y)}
    probs["svm-tf-idf"] = {s: calibration["svm-tf-idf"].apply(p) for s, p in probs["svm-tf-idf"].items()}
    return ds, members, probs, calibration


def test_a_saved_pipeline_predicts_what_it_predicted_before(fitted, tmp_path):
    ds, members, _, _ = fitted
    texts = ds.split("test").texts
    assert members and texts
    for name, pipeline in members.items():
        folder = pipelines.save(tmp_path / name, pipeline, ds.label_names, 0.4, dataset=ds.key)
        loaded = saved.load(folder)
        assert isinstance(loaded, pipelines.PipelinePredictor) and loaded.label_names == ds.label_names
        np.testing.assert_allclose(loaded.probabilities(texts), pipeline.probabilities(texts), rtol=0, atol=1e-6)


def test_boosting_and_chains_as_objects_give_what_the_functions_give(fitted):
    ds, _, _, _ = fitted
    train, val, test = (ds.split(s) for s in ("train", "validation", "test"))
    _, (x_train, x_val, x_test) = features.tfidf(train.texts, val.texts, test.texts)
    out, rounds = boosting.fit_per_label(x_train, train.y, x_val, val.y, x_test, params={"n_estimators": 20})
    model = boosting.fit(x_train, train.y, x_val, val.y, params={"n_estimators": 20})
    assert np.array_equal(model.probabilities(x_test), out["test"]) and model.rounds == rounds
    chains = linear.chain_ensemble(x_train, train.y, x_val, x_test, orders=2)
    assert np.array_equal(linear.fit_chains(x_train, train.y, orders=2).probabilities(x_test), chains["test"])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ensemble-selection", "stacking-logreg", "rank-mean"])
def test_a_saved_ensemble_predicts_new_text_as_the_ensemble_predicted_test(fitted, tmp_path, name, capsys):
    ds, members, probs, calibration = fitted
    val = ds.split("validation")
    fit = ensembles.fit(name, probs, val.y, ds.split("train").y.mean(0), rounds=6)
    folder = saved_ensembles.save(tmp_path / "ensemble", {n: members[n] for n in fit.combiner.members}, fit,
                                   ds.label_names, 0.35, calibration=calibration, dataset=ds.key)
    loaded = saved.load(folder)
    assert isinstance(loaded, saved_ensembles.EnsemblePredictor) and list(loaded.members) == fit.combiner.members
    np.testing.assert_allclose(loaded.probabilities(ds.split("test").texts), fit.probs["test"], rtol=0, atol=1e-6)
    assert main(["predict", "--model", str(folder), "Crude oil prices fell as OPEC raised output"]) == 0
    assert "0." in capsys.readouterr().out


def test_an_ensemble_needs_every_member_and_never_overwrites_a_users_folder(fitted, tmp_path):
    ds, members, probs, calibration = fitted
    fit = ensembles.fit("mean", probs, ds.split("validation").y, None)
    with pytest.raises(KeyError, match="head"):
        saved_ensembles.save(tmp_path / "e", {n: m for n, m in members.items() if n != "head"}, fit,
                              ds.label_names, 0.5)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a saved mlstc model"):
        saved_ensembles.save(mine, members, fit, ds.label_names, 0.5, calibration=calibration)
    assert (mine / "notes.txt").read_text() == "keep me"


def test_a_saved_linear_pipeline_loads_and_predicts_without_tensorflow(fitted, tmp_path):
    """Chapter 01 saves linear pipelines and ``mlstc predict`` reads them: neither
    needs TensorFlow (a quarter of a GiB and seconds to import)."""
    import subprocess
    import sys

    ds, members, _, _ = fitted
    folder = pipelines.save(tmp_path / "svm", members["svm-tf-idf"], ds.label_names, 0.4, dataset=ds.key)
    script = ("import sys; from mlstc import saved; p = saved.load(sys.argv[1]); p.predict(['Oil prices fell']); "
              "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script, str(folder)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
