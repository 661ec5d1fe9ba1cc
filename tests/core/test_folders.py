"""The caches' shared rules: one switch for all of them, and eviction of the least
recently used entries past a size bound."""

import os
import time

import pytest

from mlstc.core import folders, paths


def test_one_variable_switches_every_cache_off_and_the_fit_cache_has_its_own(monkeypatch):
    for name in (folders.CACHE_ENV, "MLSTC_FIT_CACHE"):
        monkeypatch.delenv(name, raising=False)
    assert all(folders.enabled(store) for store in folders.STORES)
    monkeypatch.setenv(folders.CACHE_ENV, "off")
    assert not any(folders.enabled(store) for store in folders.STORES)
    monkeypatch.delenv(folders.CACHE_ENV)
    monkeypatch.setenv("MLSTC_FIT_CACHE", "0")
    assert not folders.enabled("fits") and folders.enabled("embeddings")
    with pytest.raises(ValueError, match="unknown cache"):
        folders.enabled("pictures")


def test_size_bounds_come_from_one_variable_with_a_fit_cache_override(monkeypatch):
    for name in (folders.SIZE_ENV, "MLSTC_FIT_CACHE_GB"):
        monkeypatch.delenv(name, raising=False)
    assert folders.size_limit("spacy") == 10 * 2**30
    monkeypatch.setenv(folders.SIZE_ENV, "0.5")
    assert folders.size_limit("spacy") == folders.size_limit("fits") == 2**29
    monkeypatch.setenv("MLSTC_FIT_CACHE_GB", "2")
    assert folders.size_limit("fits") == 2 * 2**30 and folders.size_limit("spacy") == 2**29


def test_prune_removes_the_least_recently_used_files_and_folders_first(tmp_path):
    now = time.time()
    for age, name in enumerate(["newest.npy", "middle", "oldest.npy"]):
        path = tmp_path / name
        if name.endswith(".npy"):
            path.write_bytes(b"x" * 100)
        else:
            path.mkdir()
            (path / "weights").write_bytes(b"x" * 100)
        os.utime(path, (now - 100 * age, now - 100 * age))
    (tmp_path / ".being-written.tmp").write_bytes(b"x" * 1000)  # never counted nor removed
    assert folders.prune(tmp_path, 250) == [tmp_path / "oldest.npy"]
    assert folders.prune(tmp_path, 100) == [tmp_path / "middle"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".being-written.tmp", "newest.npy"]
    assert folders.prune(tmp_path / "absent", 0) == []


@pytest.mark.slow
def test_word2vec_reads_and_writes_no_cache_when_caches_are_off(monkeypatch):
    from mlstc.text import word2vec

    texts = ["oil prices rose", "oil prices fell", "the bank raised rates"] * 20
    monkeypatch.setenv(folders.CACHE_ENV, "0")
    word2vec.train(texts, dim=8, epochs=1)
    assert not (paths.cache_dir() / "word2vec").exists()
    monkeypatch.delenv(folders.CACHE_ENV)
    word2vec.train(texts, dim=8, epochs=1)
    assert len(list((paths.cache_dir() / "word2vec").glob(f"*/{word2vec.VECTORS}"))) == 1
    assert word2vec.train(texts, dim=8, epochs=1).vector_size == 8  # read back from the entry
