"""The one cache store: a hit marks the entry used, a write is atomic and pruned to the
bound, the switch turns it off, and a writer that dies between writing and renaming
leaves nothing a reader can mistake for an entry."""

import os
import subprocess
import sys
import textwrap
import time

import pytest

from mlstc.core import cache, folders, paths


def test_put_then_get_marks_the_entry_used_and_a_miss_is_none():
    store = cache.Store("embeddings")
    assert store.get("a.npy") is None
    path = store.put_bytes("a.npy", b"payload")
    assert path == paths.cache_dir() / "embeddings" / "a.npy" and path.read_bytes() == b"payload"
    os.utime(path, (1, 1))
    assert store.get("a.npy") == path and path.stat().st_mtime > time.time() - 60


def test_a_folder_entry_replaces_the_old_one_whole():
    store = cache.Store("fits")
    store.put_folder("k", lambda tmp: (tmp / "old.txt").write_text("old"))
    store.put_folder("k", lambda tmp: (tmp / "new.txt").write_text("new"))
    assert sorted(p.name for p in store.get("k").iterdir()) == ["new.txt"]
    with pytest.raises(RuntimeError):  # a failed write leaves the entry as it was, and no temporary folder
        store.put_folder("k", lambda tmp: (_ for _ in ()).throw(RuntimeError("disk full")))
    assert sorted(p.name for p in store.get("k").iterdir()) == ["new.txt"]
    assert [p.name for p in store.folder.iterdir()] == ["k"]


def test_writes_prune_the_least_recently_used_entries_to_the_bound(monkeypatch):
    monkeypatch.setenv(folders.SIZE_ENV, str(250 / 2**30))  # 250 bytes
    store = cache.Store("spacy")
    for i in range(3):
        path = store.put_bytes(f"{i}.pkl", b"x" * 100)
        os.utime(path, (1000 + i, 1000 + i))
    assert sorted(p.name for p in store.folder.iterdir()) == ["1.pkl", "2.pkl"]
    unbounded = cache.Store("runs", bounded=False)
    for i in range(3):
        unbounded.put_bytes(f"{i}.json", b"x" * 100)
    assert len(list(unbounded.folder.iterdir())) == 3


def test_the_switch_turns_reads_and_writes_off(monkeypatch):
    store = cache.Store("word2vec")
    store.put_bytes("v.kv", b"vectors")
    monkeypatch.setenv(folders.CACHE_ENV, "0")
    assert store.get("v.kv") is None and store.put_bytes("w.kv", b"x") is None
    assert not store.path("w.kv").exists()
    with pytest.raises(ValueError, match="unknown cache"):
        cache.Store("pictures")


CRASH = """
import os, sys
from mlstc.core import cache
store = cache.Store(sys.argv[1])
os.replace = lambda *args: os._exit(9)   # the process dies after writing, before the rename
os.rename = os.replace
if sys.argv[2] == "file":
    store.put_bytes("entry.npy", b"half of what it meant to write")
else:
    store.put_folder("entry", lambda tmp: (tmp / "weights.npz").write_bytes(b"weights"))
"""


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_crash_between_write_and_rename_leaves_no_entry_and_its_leftovers_are_swept(kind):
    store = cache.Store("fits")
    code = textwrap.dedent(CRASH)
    done = subprocess.run([sys.executable, "-c", code, "fits", kind], env=os.environ.copy(), capture_output=True)
    assert done.returncode == 9, done.stderr.decode()
    name = "entry.npy" if kind == "file" else "entry"
    left = [p for p in store.folder.iterdir()]
    assert store.get(name) is None and len(left) == 1 and left[0].name.startswith(".")  # only the temporary
    assert store.sweep_stale() == []  # young: it might be another process still writing
    os.utime(left[0], (1, 1))
    assert store.prune(limit=2**30) == left and list(store.folder.iterdir()) == []
    if kind == "file":  # and the next write works
        assert store.put_bytes(name, b"whole").read_bytes() == b"whole"
    else:
        assert (store.put_folder(name, lambda tmp: (tmp / "w").write_text("w")) / "w").is_file()
