"""The BERT fine-tune path (chapter 03) on the offline all-MiniLM-L6-v2 checkpoint."""

import json

import numpy as np
import pytest

from mlstc.book.cli import main
from mlstc.evaluation import thresholds
from mlstc.models import bert
from mlstc.saved import networks
from mlstc.text import checkpoints, wordpieces

LONG = " ".join(f"word{i}" for i in range(120)) + " the end of the story"
TEXTS = ["Crude oil prices fell on oversupply", "Oil output slumps again in the Gulf",
         "Central bank raises interest rates", "Bank of England cuts rates", "Oil and rates both move", LONG] * 2
Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [1, 1], [0, 0]] * 2, dtype="float32")


@pytest.fixture(scope="module")
def tokenizer():
    return checkpoints.tokenizer("")


@pytest.fixture(scope="module")
def trained(tokenizer):
    import keras

    keras.utils.set_random_seed(0)
    model = bert.classifier("", 2, prior=Y.mean(0))
    bert.compile(model, learning_rate=1e-4, total_steps=6, warmup_fraction=0.2)
    encoded = wordpieces.encode(TEXTS, tokenizer, 32)
    history = bert.fit(model, encoded, Y, encoded, Y, epochs=2, batch_size=4, patience=5, verbose=0)
    return model, history


def test_encode_head_head_tail_and_chunks(tokenizer):
    pieces = tokenizer(LONG, add_special_tokens=False)["input_ids"]
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    head = wordpieces.encode([LONG, "short"], tokenizer, 16, "head")
    assert head.ids[0] == [cls, *pieces[:14], sep] and head.n_docs == 2 and len(head.ids) == 2
    assert head.full_lengths[0] == len(pieces)
    tail = wordpieces.encode([LONG], tokenizer, 16, "head_tail", head_fraction=0.25).ids[0]
    assert tail == [cls, *pieces[:4], *pieces[-10:], sep]
    chunks = wordpieces.encode([LONG, "short"], tokenizer, 16, "chunks")
    assert all(len(s) <= 16 and s[0] == cls and s[-1] == sep for s in chunks.ids)
    assert [p for s, d in zip(chunks.ids, chunks.doc) if d == 0 for p in s[1:-1]] == pieces  # no piece lost
    assert chunks.doc.tolist().count(1) == 1 and chunks.doc[-1] == 1
    with pytest.raises(ValueError, match="unknown truncation strategy 'tail'"):
        wordpieces.encode([LONG], tokenizer, 16, "tail")


def test_cut_texts_are_what_the_model_reads(tokenizer):
    head = wordpieces.cut_texts([LONG], tokenizer, 16, "head")[0]
    both = wordpieces.cut_texts([LONG], tokenizer, 16, "head_tail")[0]
    assert LONG.startswith(head) and len(tokenizer(head, add_special_tokens=False)["input_ids"]) == 14
    assert both.endswith("the end of the story") and both.startswith(head[:10])
    assert wordpieces.cut_texts(["short text"], tokenizer, 16) == ["short text"]


def test_inputs_pad_to_the_batch_or_to_a_cap():
    bucketed = wordpieces.inputs([[1, 5, 2], [1, 2]])
    assert bucketed["token_ids"].shape == (2, 3) and bucketed["padding_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert wordpieces.inputs([[1, 5, 2], [1, 2]], width=8)["token_ids"].shape == (2, 8)
    assert not bucketed["segment_ids"].any()


def test_warmup_then_linear_decay():
    schedule = bert.WarmupLinearDecay(1e-3, total_steps=100, warmup_steps=10)
    values = [float(schedule(s)) for s in (0, 5, 10, 55, 100, 150)]
    assert np.allclose(values, [0, 5e-4, 1e-3, 5e-4, 0, 0], atol=1e-9)


@pytest.mark.slow
def test_classifier_outputs_logits_that_ignore_padding(tokenizer):
    model = bert.classifier("", 3, prior=[0.5, 0.1, 0.01])
    assert np.allclose(model.get_layer("logits").bias.numpy(), np.log([1, 0.1 / 0.9, 0.01 / 0.99]), atol=1e-6)
    ids = wordpieces.encode(["Oil prices fell"], tokenizer, 32).ids
    tight, padded = wordpieces.inputs(ids), wordpieces.inputs(ids, width=24)
    a = np.asarray(model(tight, training=False))
    b = np.asarray(model(padded, training=False))
    assert a.shape == (1, 3) and np.allclose(a, b, atol=1e-4)  # padding changes nothing


@pytest.mark.slow
def test_fine_tuning_learns_is_deterministic_and_predicts_in_order(trained, tokenizer):
    model, history = trained
    assert len(history.history["val_micro_f1"]) == 2 and history.history["loss"][-1] < history.history["loss"][0]
    encoded = wordpieces.encode(TEXTS, tokenizer, 32)
    logits = bert.predict_logits(model, encoded, batch_size=3)
    one_by_one = np.concatenate([np.asarray(model(wordpieces.inputs([ids]), training=False)) for ids in encoded.ids])
    assert np.allclose(logits, one_by_one, atol=1e-4)  # length-sorted batches, input order restored

    import keras

    keras.utils.set_random_seed(0)
    again = bert.classifier("", 2, prior=Y.mean(0))
    bert.compile(again, learning_rate=1e-4, total_steps=6, warmup_fraction=0.2)
    bert.fit(again, encoded, Y, encoded, Y, epochs=2, batch_size=4, patience=5, verbose=0)
    assert np.allclose(bert.predict_logits(again, encoded), logits, atol=1e-5)


def test_chunk_logits_are_pooled_per_document(tokenizer):
    encoded = wordpieces.encode([LONG, "short"], tokenizer, 16, "chunks")
    fake = lambda batch: np.asarray(batch["padding_mask"].sum(1, keepdims=True), dtype="float32")  # noqa: E731
    top = bert.predict_logits(None, encoded, fn=fake)
    mean = bert.predict_logits(None, encoded, fn=fake, pool="mean")
    assert top.shape == (2, 1) and top[0, 0] == 16 and top[1, 0] == len(encoded.ids[-1])
    assert mean[0, 0] == pytest.approx(np.mean([len(s) for s, d in zip(encoded.ids, encoded.doc) if d == 0]))


@pytest.mark.slow
def test_training_throughput_counts_real_word_pieces(tokenizer):
    model = bert.compile(bert.classifier("", 2), learning_rate=1e-5, total_steps=10)
    encoded = wordpieces.encode(TEXTS, tokenizer, 32)
    padded = bert.train_throughput(model, encoded, Y, batch_size=2, max_length=32, padded=True, steps=2,
                                   warmup_steps=1)
    assert padded["padding_share"] > 0.3 and padded["word_pieces_per_s"] > 0 and padded["steps"] == 2


@pytest.mark.slow
def test_save_load_predict_round_trip(trained, tokenizer, tmp_path, capsys):
    model, _ = trained
    networks.save(tmp_path / "m", model, ["oil", "rates"], [0.5, 0.4], tokenizer=tokenizer,
               encoding={"max_length": 32, "strategy": "head"}, dataset="toy")
    weights = sum(w.nbytes for w in model.get_weights())
    assert (tmp_path / "m" / "model.keras").stat().st_size < 1.2 * weights  # no optimizer state
    predictor = networks.Predictor(tmp_path / "m")
    assert predictor.encoding == {"max_length": 32, "strategy": "head"}
    expected = thresholds.sigmoid(bert.predict_logits(model, wordpieces.encode(TEXTS[:3], tokenizer, 32)))
    assert np.allclose(predictor.probabilities(TEXTS[:3]), expected, atol=1e-5)
    assert main(["predict", "--model", str(tmp_path / "m"), "--top-k", "2", "Oil prices slump"]) == 0
    out = capsys.readouterr().out
    assert "oil" in out and "rates" in out


@pytest.mark.slow
def test_a_bert_model_without_its_tokenizer_or_with_other_labels_is_refused(trained, tokenizer, tmp_path):
    model, _ = trained
    networks.save(tmp_path / "m", model, ["oil", "rates"], 0.5, tokenizer=tokenizer,
               encoding={"max_length": 32, "strategy": "head"})
    meta = json.loads((tmp_path / "m" / "labels.json").read_text())
    meta["label_names"] = ["oil"]
    (tmp_path / "m" / "labels.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="2 outputs but labels.json lists 1 labels"):
        networks.Predictor(tmp_path / "m")
    import shutil

    shutil.rmtree(tmp_path / "m" / "tokenizer")
    with pytest.raises(FileNotFoundError, match="tokenizer/ is missing"):
        networks.Predictor(tmp_path / "m")


def test_checkpoints_resolve_local_offline_and_hub_names(tmp_path, monkeypatch):
    assert checkpoints.resolve("") == checkpoints.resolve(checkpoints.DEFAULT) == str(checkpoints.default_dir())
    with pytest.raises(FileNotFoundError, match="not a Hugging Face checkpoint directory"):
        checkpoints.resolve(tmp_path)
    import huggingface_hub

    def offline(name, allow_patterns):
        assert "config.json" in allow_patterns and "*.safetensors" in allow_patterns
        raise OSError("no network")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    checkpoints.download.cache_clear()
    with pytest.raises(FileNotFoundError, match="'org/finbert' is neither a local directory nor downloadable"):
        checkpoints.resolve("org/finbert")
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda name, allow_patterns: str(tmp_path / name))
    checkpoints.download.cache_clear()
    assert checkpoints.resolve("bert-base-uncased") == str(tmp_path / "bert-base-uncased")
    checkpoints.download.cache_clear()


def test_dtype_policy_applies_inside_and_is_restored_even_after_an_error():
    import keras

    with pytest.raises(RuntimeError), bert.dtype_policy("mixed_bfloat16"):
        assert keras.layers.Dense(2).compute_dtype == "bfloat16"
        raise RuntimeError("training failed")
    assert keras.mixed_precision.global_policy().name == "float32"
    assert keras.layers.Dense(2).compute_dtype == "float32"


def test_the_fastest_precision_is_bfloat16_only_where_the_cpu_computes_it_natively():
    import keras

    tf = {"backend": "tensorflow"}
    assert bert.fastest_precision(gpus=True, cpu_flags=set(), **tf) == "mixed_float16"
    assert bert.fastest_precision(gpus=False, cpu_flags={"avx2", "avx512f"}, **tf) == "float32"  # emulated: slower
    assert bert.fastest_precision(gpus=False, cpu_flags={"avx512f", "avx512_bf16"}, **tf) == "mixed_bfloat16"
    assert bert.fastest_precision(gpus=False, cpu_flags={"amx_bf16"}, **tf) == "mixed_bfloat16"
    # JAX: bfloat16 on a GPU (no loss scaling), float32 on any CPU (XLA's bfloat16 there is not measured)
    assert bert.fastest_precision(gpus=True, cpu_flags=set(), backend="jax") == "mixed_bfloat16"
    assert bert.fastest_precision(gpus=False, cpu_flags={"amx_bf16"}, backend="jax") == "float32"
    try:
        assert bert.use_precision("mixed_bfloat16") == "mixed_bfloat16"
        assert keras.layers.Dense(2).compute_dtype == "bfloat16"
        assert bert.use_precision("auto") == bert.fastest_precision()
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx512_bf16 amx_tile\n\nprocessor\t: 1\nflags\t: fpu\n")
    assert bert._cpu_flags(str(info)) == {"fpu", "avx512_bf16", "amx_tile"}
    assert bert._cpu_flags(str(tmp_path / "absent")) == set()
