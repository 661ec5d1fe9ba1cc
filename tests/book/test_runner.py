import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from mlstc.book import runner


def notebook(path, body, tags=()):
    nb = new_notebook(cells=[new_code_cell('profile = ""\nvalue = 1', metadata={"tags": ["parameters"]}),
                             new_code_cell(body, metadata={"tags": list(tags)} if tags else {})],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, path)
    return path


def test_execute_injects_parameters_and_writes_the_executed_copy(tmp_path):
    source = notebook(tmp_path / "nb.ipynb", "print(profile, value * 2)")
    out = runner.execute(source, "smoke", {"value": runner.parse_value("21")}, output_dir=tmp_path / "book")
    executed = json.loads(out.read_text())
    assert executed["metadata"]["papermill"]["parameters"] == {"profile": "smoke", "value": 21}
    assert "smoke 42" in "".join(executed["cells"][-1]["outputs"][0]["text"])


def test_a_failed_run_never_replaces_the_executed_copy(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "nb.ipynb").write_text("good copy")
    source = notebook(tmp_path / "nb.ipynb", "raise RuntimeError('boom')")
    with pytest.raises(RuntimeError, match="nb.ipynb failed; the executed notebook with the error is"):
        runner.execute(source, "smoke", output_dir=book)
    assert (book / "nb.ipynb").read_text() == "good copy"


def test_timeout_is_reported(tmp_path):
    source = notebook(tmp_path / "nb.ipynb", "import time; time.sleep(60)")
    with pytest.raises(RuntimeError, match="ran past its 8 s timeout"):
        runner.execute(source, "smoke", output_dir=tmp_path / "book", timeout_s=8)


def test_a_cell_tagged_raises_exception_must_raise_and_does_not_fail_the_run(tmp_path):
    source = notebook(tmp_path / "nb.ipynb", "from transformers import NoSuchClass", tags=["raises-exception"])
    out = runner.execute(source, "smoke", output_dir=tmp_path / "book")
    outputs = json.loads(out.read_text())["cells"][-1]["outputs"]
    assert [o["ename"] for o in outputs if o["output_type"] == "error"] == ["ImportError"]
    quiet = notebook(tmp_path / "quiet.ipynb", "print('no error')", tags=["raises-exception"])
    with pytest.raises(RuntimeError, match="quiet.ipynb failed"):
        runner.execute(quiet, "smoke", output_dir=tmp_path / "book")


def test_run_times_count_the_trainings_a_chapter_restored_from_the_fit_cache(tmp_path):
    def executed(name, minutes, lines):
        cell = {"cell_type": "code", "source": "", "metadata": {},
                "outputs": [{"output_type": "stream", "name": "stdout", "text": lines}]}
        meta = {"papermill": {"parameters": {"profile": "cpu"}, "start_time": "2026-11-27T10:00:00",
                              "duration": minutes * 60}}
        (tmp_path / f"{name}.ipynb").write_text(json.dumps({"cells": [cell], "metadata": meta}))

    executed("02_lstm", 3.0, [f"{runner.RESTORED}, a\n", "epoch 1\n", f"{runner.RESTORED}, b\n"])
    executed("03_bert", 37.5, ["trained\n"])
    executed("99_environment", 0.1, [])
    times = runner.run_times(tmp_path)
    assert list(times.index) == ["02_lstm", "03_bert", "all chapters"]
    assert list(times["trainings restored"]) == [2, 0, 2]
    assert times.loc["all chapters", "minutes"] == 40.5
