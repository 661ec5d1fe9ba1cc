import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlstc.book.cli import main
from mlstc.evaluation import metrics
from mlstc.models import lstm as models
from mlstc.models import training
from mlstc.models.training import as_text_input
from mlstc.saved import networks

TEXTS = ["oil prices fell on oversupply", "crude oil slumps again", "bank raises interest rates",
         "central bank cuts rates", "oil and rates both move", "wheat harvest is strong"] * 5
Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [1, 1], [0, 0]] * 5, dtype="float32")


@pytest.fixture(scope="module")
def trained():
    import keras

    keras.utils.set_random_seed(0)
    vectorizer = models.text_vectorizer(TEXTS, max_tokens=100, max_length=8)
    model = models.lstm_classifier(vectorizer, 2, embedding_dim=8, units=4, attention_units=4, learning_rate=0.05)
    model.fit(as_text_input(TEXTS), Y, epochs=15, batch_size=6, verbose=0)
    return model


@pytest.mark.slow
def test_lstm_takes_raw_text_and_outputs_logits(trained):
    logits = np.asarray(trained.predict(as_text_input(["oil slumps", "rates rise"]), verbose=0))
    assert logits.shape == (2, 2)
    assert logits.min() < 0 < logits.max()  # logits, not probabilities


@pytest.mark.slow
def test_save_load_predict_round_trip(trained, tmp_path, capsys):
    networks.save(tmp_path / "m", trained, ["oil", "rates"], [0.5, 0.4], dataset="toy")
    predictor = networks.Predictor(tmp_path / "m")
    expected = 1 / (1 + np.exp(-np.asarray(trained.predict(as_text_input(TEXTS[:3]), verbose=0))))
    assert np.allclose(predictor.probabilities(TEXTS[:3]), expected, atol=1e-5)
    assert predictor.info == {"dataset": "toy"} and predictor.thresholds.tolist() == [0.5, 0.4]
    best = predictor.predict(["crude oil prices fell"], top_k=1)[0]
    assert best[0][0] == "oil" and best[0][2]
    assert main(["predict", "--model", str(tmp_path / "m"), "crude oil prices fell"]) == 0
    assert "* oil" in capsys.readouterr().out


@pytest.mark.slow
def test_the_cli_loads_a_saved_lstm_in_a_fresh_process(trained, tmp_path):
    """``python -m mlstc predict`` runs in a new interpreter, where no chapter has
    imported the module that registers the LSTM's layers with Keras."""
    networks.save(tmp_path / "m", trained, ["oil", "rates"], [0.5, 0.4])
    root = Path(__file__).resolve().parents[2]
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "mlstc", "predict", "--model", str(tmp_path / "m"),
                           "crude oil prices fell"], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "* oil" in done.stdout


def test_missing_or_mismatched_model_directories(trained, tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="not a saved mlstc model: model.keras, labels.json missing"):
        networks.Predictor(tmp_path)
    networks.save(tmp_path / "m", trained, ["oil", "rates"], 0.5)
    meta = json.loads((tmp_path / "m" / "labels.json").read_text())
    meta["label_names"].append("wheat")
    (tmp_path / "m" / "labels.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="2 outputs but labels.json lists 3 labels"):
        networks.Predictor(tmp_path / "m")
    assert main(["predict", "--model", str(tmp_path / "nothing"), "text"]) == 1
    assert "not a saved mlstc model" in capsys.readouterr().err


def test_article_example1_accuracy_is_categorical_accuracy_in_keras3():
    with pytest.warns(UserWarning, match="input_length"):  # runs as written, with a deprecation warning
        model = models.article_example1(vocab_size=50, embedding_dim=4, max_length=6, num_labels=90)
    x = np.zeros((4, 6), dtype="int32")
    y = np.zeros((4, 90), dtype="float32")
    y[:, 0] = 1
    result = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(result) == {"loss", "accuracy"}
    probs = model.predict(x, verbose=0)
    # Keras 3 resolves "accuracy" by output shape, not by loss: a 90-wide output gets
    # CategoricalAccuracy (does the top-scored label equal argmax of y_true?), where
    # tf.keras 2 gave binary accuracy. Neither is a multi-label metric.
    assert result["accuracy"] == pytest.approx(metrics.keras3_accuracy(y, probs), abs=1e-6)
    assert metrics.keras3_accuracy(y, probs) == pytest.approx(np.mean(probs.argmax(1) == 0))
    assert metrics.binary_accuracy(y, np.zeros_like(y)) == pytest.approx(89 / 90)


@pytest.mark.slow
def test_bucketed_training_learns_and_predictions_keep_input_order():
    import keras

    keras.utils.set_random_seed(1)
    texts = [("oil " * (i % 7 + 1)) + "fell" if i % 2 else ("rates " * (i % 5 + 1)) + "rose" for i in range(120)]
    y = np.array([[i % 2, 1 - i % 2] for i in range(120)], dtype="float32")
    vectorizer = models.text_vectorizer(texts, max_tokens=20, max_length=16)
    model = models.lstm_classifier(vectorizer, 2, embedding_dim=8, units=4, attention_units=4, learning_rate=0.05)
    history = training.fit_texts(model, texts[:90], y[:90], texts[90:], y[90:], epochs=4, batch_size=16)
    assert max(history.history["val_micro_f1"]) > 0.9
    logits = training.predict_text_logits(model, texts[90:], batch_size=7)
    direct = np.asarray(model.predict(as_text_input(texts[90:]), verbose=0))
    assert np.allclose(logits, direct, atol=1e-5)


def test_attention_weights_for_real_words(trained):
    words, weights = models.attention_weights(trained, ["crude oil prices fell", "rates"])
    assert words[0] == ["crude", "oil", "prices", "fell"] and words[1] == ["rates"]
    assert np.isclose(weights[0].sum(), 1, atol=1e-5) and len(weights[0]) == 4 and weights[1].tolist() == [1.0]


@pytest.mark.parametrize("pooling, cell", [("mean", "gru"), ("max", "lstm")])
def test_pooling_and_cell_variants_and_given_embeddings(pooling, cell):
    vectorizer = models.text_vectorizer(TEXTS, max_tokens=100, max_length=8)
    vectors = np.random.default_rng(0).normal(size=(vectorizer.vocabulary_size(), 5)).astype("float32")
    model = models.lstm_classifier(vectorizer, 2, units=4, pooling=pooling, cell=cell, embeddings=vectors)
    assert np.allclose(model.get_layer("embedding").get_weights()[0], vectors)
    assert np.asarray(model(as_text_input(TEXTS[:3]))).shape == (3, 2)
    with pytest.raises(ValueError, match="rows for a vocabulary"):
        models.lstm_classifier(vectorizer, 2, embeddings=vectors[:3])
