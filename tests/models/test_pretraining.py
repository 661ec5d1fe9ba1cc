"""Domain-adaptive pretraining (chapter 07): masked-LM training on the offline
MiniLM checkpoint, and the adapted checkpoint loaded back like any other."""

import json

import numpy as np
import pytest

from mlstc.models import bert, pretraining
from mlstc.text import checkpoints

TEXTS = ["Crude oil prices fell on oversupply in the Gulf", "The central bank raised interest rates again",
         "Wheat and corn exports rose in the third quarter", "Shares of the oil company slumped after earnings",
         ] * 4


@pytest.fixture(scope="module")
def adapted():
    return pretraining.pretrain("", TEXTS, max_length=32, batch_size=8, learning_rate=3e-4, steps=8, log_every=4,
                                heldout_fraction=0.25, seed=0)


def test_windows_keep_every_word_piece_and_refuse_empty_text():
    tokenizer = checkpoints.tokenizer("")
    long = " ".join(["oil"] * 100)
    encoded = pretraining.sequences([long, "rates"], tokenizer, max_length=32)
    assert max(encoded.lengths()) <= 32
    assert sum(len(s) - 2 for s in encoded.ids) == 100 + 1  # every piece in some window, specials aside
    with pytest.raises(ValueError, match="empty"):
        pretraining.sequences(["", "  "], tokenizer)


def test_masked_batches_feed_bert_masked_lm_with_masks_only_on_real_pieces():
    tokenizer = checkpoints.tokenizer("")
    encoded = pretraining.sequences(TEXTS[:4], tokenizer, max_length=32)
    x, labels, weights = next(iter(pretraining.masked_batches(encoded, tokenizer, 4, seed=0)))
    x, labels, weights = ({k: np.asarray(v) for k, v in x.items()}, np.asarray(labels), np.asarray(weights))
    assert set(x) == {"token_ids", "segment_ids", "padding_mask", "mask_positions"}
    chosen = weights > 0
    assert chosen.any(axis=1).all()
    rows = np.nonzero(chosen)[0]
    at = x["mask_positions"][chosen]
    assert (x["padding_mask"][rows, at] == 1).all()
    assert not np.isin(labels[chosen], pretraining.special_ids(tokenizer)).any()


@pytest.mark.slow
def test_pretraining_lowers_held_out_mlm_loss_and_records_its_curve(adapted):
    curve = adapted.curve
    assert [c["step"] for c in curve] == [0, 4, 8] and adapted.steps == 8
    assert all(np.isfinite(c["heldout_loss"]) for c in curve)
    assert curve[-1]["heldout_loss"] < curve[0]["heldout_loss"]
    assert adapted.seconds >= curve[-1]["seconds"] > 0  # the record's time includes the planning, as the curve's does


@pytest.mark.slow
def test_a_time_budget_stops_pretraining_early_and_windows_cut_once_are_taken_as_they_are():
    windows = pretraining.sequences(TEXTS, checkpoints.tokenizer(""), max_length=32)
    short = pretraining.pretrain("", windows, max_length=32, batch_size=8, steps=400, log_every=2, budget_s=0.0,
                                 heldout_fraction=0.1)
    assert short.steps == 2 and short.sequences + 2 == len(windows.ids)  # two windows held out
    with pytest.raises(ValueError, match="max_length"):
        pretraining.pretrain("", windows, max_length=8, steps=1)


@pytest.mark.slow
def test_adapted_checkpoint_loads_like_any_checkpoint(adapted, tmp_path):
    tokenizer = checkpoints.tokenizer("")
    directory = pretraining.save_checkpoint(adapted, tokenizer, tmp_path / "minilm-dapt", source="all-MiniLM-L6-v2")
    assert json.loads((directory / pretraining.PROVENANCE_FILE).read_text())["steps"] == 8
    loaded = checkpoints.backbone(str(directory))
    for a, b in zip(adapted.backbone.weights, loaded.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    original = checkpoints.backbone("")
    assert any(not np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(original.weights, loaded.weights))
    again = checkpoints.tokenizer(str(directory))
    assert again("Oil prices fell")["input_ids"] == tokenizer("Oil prices fell")["input_ids"]
    model = bert.classifier(str(directory), 3)  # chapter 03's loader
    assert model.output_shape == (None, 3)
    with pytest.raises(FileExistsError):
        (tmp_path / "other").mkdir()
        (tmp_path / "other" / "notes.txt").write_text("mine")
        pretraining.save_checkpoint(adapted, tokenizer, tmp_path / "other")


@pytest.mark.slow
def test_finetune_reads_chapter_03_settings_and_trains_from_any_checkpoint(adapted, tmp_path):
    from mlstc import data
    from mlstc.data import synthetic
    from mlstc.models import finetune

    with pytest.raises(KeyError, match="rerun chapter 03"):
        finetune.settings_of({"model": "bert-128", "dataset": "reuters", "extra": {"max_length": 128}})
    settings = finetune.settings_of({"extra": {"max_length": 32, "truncation": "head", "learning_rate": 1e-4,
                                               "batch_size": 8, "epochs": 1, "history": {}}})
    assert settings["precision"] == "float32"  # a run saved before chapter 03 recorded its precision
    assert finetune.settings_of({"extra": settings | {"precision": "mixed_bfloat16"}})["precision"] == "mixed_bfloat16"
    directory = pretraining.save_checkpoint(adapted, checkpoints.tokenizer(""), tmp_path / "dapt")
    ds = data.load(str(synthetic.write_headlines(tmp_path / "own" / "news.csv", rows=60, seed=0)))
    out = finetune.finetune(str(directory), ds, **settings, seed=0)
    assert out.probs["test"].shape == (len(ds.split("test").texts), ds.num_labels)
    assert np.isfinite(out.probs["validation"]).all() and len(out.history["loss"]) == 1
    # chapter 06's change: another loss; a softmax-trained model scores each document with one unit
    out = finetune.finetune(str(directory), ds, **settings, seed=0, loss="softmax-ce")
    assert np.allclose(out.probs["test"].sum(1), 1, atol=1e-6)
    assert out.model.loss.__class__.__name__ != "BinaryCrossentropy"


@pytest.mark.slow
def test_without_steps_the_schedule_is_sized_to_the_budget(monkeypatch):
    monkeypatch.setattr(pretraining, "step_seconds", lambda *a, **k: 5.0)  # as if one step took five seconds
    out = pretraining.pretrain("", TEXTS, max_length=32, batch_size=8, budget_s=40.0, log_every=2,
                               heldout_fraction=0.1)  # 2-8 steps fit, however slow the machine is today
    assert 2 <= out.planned <= 8 and out.planned % 2 == 0 and out.steps <= out.planned
    monkeypatch.setattr(pretraining, "step_seconds", lambda *a, **k: 100.0)  # not even one step fits
    out = pretraining.pretrain("", TEXTS, max_length=32, batch_size=8, budget_s=12.0, log_every=2,
                               heldout_fraction=0.1)
    assert out.planned == 1 and out.steps == 1 and [c["step"] for c in out.curve] == [0, 1]
    with pytest.raises(ValueError, match="budget"):
        pretraining.pretrain("", TEXTS, max_length=32)


@pytest.mark.slow
def test_the_same_pretraining_again_is_restored_from_the_fit_cache(adapted, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLSTC_CACHE_DIR", str(tmp_path / "shared"))
    options = dict(max_length=32, batch_size=8, learning_rate=3e-4, steps=4, log_every=2, heldout_fraction=0.25)
    first = pretraining.pretrain("", TEXTS, **options)
    again = pretraining.pretrain("", TEXTS, **options)
    assert not first.cached and again.cached and "training skipped" in capsys.readouterr().out
    assert json.dumps(again.curve, sort_keys=True) == json.dumps(first.curve, sort_keys=True)  # NaN included
    assert again.steps == first.steps == 4
    assert all(np.array_equal(a, b) for a, b in zip(first.model.get_weights(), again.model.get_weights()))
    assert not pretraining.pretrain("", TEXTS, **options | {"seed": 1}).cached
