import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from mlstc.book import runlog, runner
from mlstc.models import fitcache


def notebook(path, body, tags=()):
    nb = new_notebook(cells=[new_code_cell('profile = ""\nvalue = 1', metadata={"tags": ["parameters"]}),
                             new_code_cell(body, metadata={"tags": list(tags)} if tags else {})],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_execute_injects_parameters_and_writes_the_executed_copy(tmp_path):
    source = notebook(tmp_path / "nb.ipynb", "print(profile, value * 2)")
    out = runner.execute(source, "smoke", {"value": runner.parse_value("21")}, output_dir=tmp_path / "book")
    executed = json.loads(out.read_text())
    assert executed["metadata"]["papermill"]["parameters"] == {"profile": "smoke", "value": 21}
    assert "smoke 42" in "".join(executed["cells"][-1]["outputs"][0]["text"])
    injected = [c for c in executed["cells"] if runner.INJECTED_TAG in c["metadata"].get("tags", [])]
    assert len(injected) == 1 and runner.HIDDEN_TAG not in injected[0]["metadata"]["tags"]  # on the page
    source = "".join(injected[0]["source"])
    assert source.startswith(runner.INJECTED_HEADING) and 'profile = "smoke"' in source


def test_a_failed_run_never_replaces_the_executed_copy(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "nb.ipynb").write_text("good copy")
    source = notebook(tmp_path / "nb.ipynb", "raise RuntimeError('boom')")
    with pytest.raises(RuntimeError, match="nb.ipynb failed; the executed notebook with the error is"):
        runner.execute(source, "smoke", output_dir=book)
    assert (book / "nb.ipynb").read_text() == "good copy"


@pytest.mark.slow
def test_timeout_is_reported(tmp_path):
    source = notebook(tmp_path / "nb.ipynb", "import time; time.sleep(60)")
    with pytest.raises(RuntimeError, match="ran past its 8 s timeout"):
        runner.execute(source, "smoke", output_dir=tmp_path / "book", timeout_s=8)


@pytest.mark.slow
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

    executed("02_lstm", 3.0, [f"{fitcache.RESTORED}, a\n", "epoch 1\n", f"{fitcache.RESTORED}, b\n"])
    executed("03_bert", 37.5, ["trained\n"])
    executed("04_hierarchical", 2.0, ["fit cache: 12 trainings restored (41.0 min when trained; ...)\n",
                                       "fit cache: 1 training restored (2.0 min when trained; ...)\n"])
    executed("99_environment", 0.1, [])
    # a run of today's chapters shows no cache line: its last cell glues the count
    glued = {"output_type": "display_data", "data": {"application/papermill.record/text/plain": "7"},
             "metadata": {"scrapbook": {"name": "trainings_restored", "mime_prefix": "application/papermill.record/"}}}
    (tmp_path / "05_ensembles.ipynb").write_text(json.dumps({"cells": [
        {"cell_type": "code", "source": "", "metadata": {}, "outputs": [glued]}], "metadata": {
            "papermill": {"parameters": {"profile": "cpu"}, "start_time": "2026-11-27T10:00:00", "duration": 60}}}))
    times = runlog.run_times(tmp_path)
    assert list(times.index) == ["02_lstm", "03_bert", "04_hierarchical", "05_ensembles", "all chapters"]
    assert list(times["trainings restored"]) == [2, 0, 13, 7, 22]
    assert times.loc["all chapters", "minutes"] == 43.5


def test_run_log_keeps_a_chapters_cold_and_warm_runs_and_sums_the_book(tmp_path):
    def executed(name, started, minutes, restored):
        lines = [f"{fitcache.RESTORED}, m{i}\n" for i in range(restored)] + ["done\n"]
        cell = {"cell_type": "code", "source": "", "metadata": {},
                "outputs": [{"output_type": "stream", "name": "stdout", "text": lines}]}
        meta = {"papermill": {"parameters": {"profile": "cpu"}, "start_time": started, "duration": minutes * 60,
                              "input_path": f"/somewhere/notebooks/{name}.ipynb"}}
        path = tmp_path / started[:13] / "copy.ipynb"  # named by its source, not by where the copy lies
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps({"cells": [cell], "metadata": meta}))
        return path

    log = tmp_path / "run_log.jsonl"
    runs = [executed("02_lstm", "2026-11-27T10:00:00", 41.5, 0), executed("02_lstm", "2026-11-27T11:00:00", 2.8, 20),
            executed("06_losses", "2026-11-27T12:00:00", 66.9, 0),
            executed("01_preprocessing", "2026-11-27T13:00:00", 30.0, 0),
            executed("01_preprocessing", "2026-11-27T14:00:00", 20.0, 0)]
    for path in runs + runs[:1]:  # a run logged twice is one entry
        runlog.log_run(path, log)
    assert len(log.read_text().splitlines()) == 5
    table = runlog.cache_times(log)
    assert table.loc["02_lstm", "cold fit cache (min)"] == 41.5 and table.loc["02_lstm", "warm fit cache (min)"] == 2.8
    assert table.loc["02_lstm", "trainings restored"] == 20
    assert table.loc["01_preprocessing", "cold fit cache (min)"] == 20.0  # the latest run of its kind
    assert pd.isna(table.loc["06_losses", "warm fit cache (min)"])
    # the book: 02 warm, 06 cold (no warm run logged), 01's latest
    assert table.loc["book (1 chapters warm, the rest cold)", "warm fit cache (min)"] == 2.8 + 66.9 + 20.0
    assert runlog.cache_times(tmp_path / "none.jsonl").empty


def test_the_run_log_says_whether_a_cold_run_ran_the_chapters_code_as_it_is_now(tmp_path, monkeypatch):
    source = {"cells": [{"cell_type": "code", "source": ["x = 1\n", "y = 2"], "metadata": {}, "outputs": []}],
              "metadata": {}}
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "05_x.ipynb").write_text(json.dumps(source))
    monkeypatch.setattr(runlog.paths, "project_root", lambda: tmp_path)

    def executed(started, code):
        injected = {"cell_type": "code", "source": 'profile = "cpu"', "metadata": {"tags": ["injected-parameters"]},
                    "outputs": []}
        cell = {"cell_type": "code", "source": code, "metadata": {}, "outputs": []}
        meta = {"papermill": {"parameters": {"profile": "cpu"}, "start_time": started, "duration": 600,
                              "input_path": "notebooks/05_x.ipynb"}}
        path = tmp_path / f"{started[:13]}.ipynb"
        path.write_text(json.dumps({"cells": [injected, cell], "metadata": meta}))
        return path

    log = tmp_path / "run_log.jsonl"
    runlog.log_run(executed("2026-11-27T10:00:00", "x = 1\ny = 2"), log)  # the same code, one string
    assert runlog.cache_times(log).loc["05_x", "cold run of this code"] == "yes"
    runlog.log_run(executed("2026-11-27T11:00:00", "x = 1\ny = 3"), log)  # an edited chapter
    assert runlog.cache_times(log).loc["05_x", "cold run of this code"] == "no"
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    del entries[-1]["version"]  # logged before versions were
    log.write_text("".join(json.dumps(e) + "\n" for e in entries))
    assert runlog.cache_times(log).loc["05_x", "cold run of this code"] == "?"


def test_run_log_counts_a_chapter_without_the_prerequisite_chapters_it_waited_for(tmp_path):
    def executed(name, started, minutes):
        meta = {"papermill": {"parameters": {"profile": "cpu"}, "start_time": started, "duration": minutes * 60,
                              "input_path": f"notebooks/{name}.ipynb"}}
        path = tmp_path / f"{name}.ipynb"
        path.write_text(json.dumps({"cells": [], "metadata": meta}))
        return path

    log = tmp_path / "run_log.jsonl"
    runlog.log_run(executed("03_bert", "2026-11-27T09:00:00", 37.7), log)  # a book run, earlier
    # 07 run alone on a fresh clone: it runs 03 for its two data sets, and 03 runs 01 first
    runlog.log_run(executed("01_preprocessing", "2026-11-27T10:00:30", 20.0), log,
                   made_for="07_domain_adaptation,03_bert")
    runlog.log_run(executed("03_bert", "2026-11-27T10:00:20", 50.0), log, made_for="07_domain_adaptation")
    entry = runlog.log_run(executed("07_domain_adaptation", "2026-11-27T10:00:00", 110.0), log)
    assert entry["prerequisite minutes"] == 50.0  # 03's run, which holds 01's
    table = runlog.cache_times(log)
    assert table.loc["07_domain_adaptation", "cold fit cache (min)"] == 60.0
    assert table.loc["03_bert", "cold fit cache (min)"] == 37.7  # the book run, not the one made for 07
    assert "01_preprocessing" not in table.index



def test_a_run_stops_when_the_process_that_started_it_is_killed():
    """A prerequisite run is started from a notebook's kernel; when that kernel is
    killed, the run and everything in its process group stop too."""
    run = ("import os, time; from mlstc.book import runner; runner.stop_with_parent(0.1); "
           "child = os.fork()\nif child == 0: time.sleep(60)\nprint(os.getpid(), child, flush=True); time.sleep(60)")
    starter = ("import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', sys.argv[1]], "
               "start_new_session=True); time.sleep(60)")
    kernel = subprocess.Popen([sys.executable, "-c", starter, run], stdout=subprocess.PIPE, text=True,
                              cwd=Path(runner.__file__).parents[2])
    pids = [int(p) for p in kernel.stdout.readline().split()]  # the run and a process of its group
    assert all(_alive(p) for p in pids)
    kernel.kill()
    kernel.wait()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = [p for p in pids if _alive(p)]
    if survivors:
        os.killpg(pids[0], signal.SIGKILL)  # leave no process behind when the test fails
    assert not survivors


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")  # Linux: a zombie (killed, not yet reaped) is gone too
    return not stat.is_file() or stat.read_text().split(")")[-1].split()[0] != "Z"


def test_hide_paths_writes_machine_paths_as_a_reader_should_see_them():
    import sys

    import nbformat

    from mlstc.book import runner
    from mlstc.core import paths

    installed = f"{sys.prefix}/lib/python3.11/site-packages/transformers/__init__.py"
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("from transformers import X")
    cell.outputs = [
        nbformat.v4.new_output("error", ename="ImportError", evalue=f"cannot import name 'X' ({installed})",
                               traceback=[f"\x1b[31mImportError\x1b[39m: cannot import name 'X' ({installed})"]),
        nbformat.v4.new_output("stream", name="stdout",
                               text=f"wrote {paths.project_root()}/results/cpu/x.json; see https://github.com/a/b\n"),
    ]
    nb.cells.append(cell)
    nb.metadata["papermill"] = {"input_path": f"{paths.project_root()}/notebooks/03_bert.ipynb"}
    runner.hide_paths(nb)
    assert nb.metadata["papermill"]["input_path"] == "notebooks/03_bert.ipynb"
    error, stream = cell.outputs
    assert error["evalue"] == "cannot import name 'X' (transformers/__init__.py)"
    assert error["traceback"][0].endswith("(transformers/__init__.py)")
    assert stream["text"] == "wrote results/cpu/x.json; see https://github.com/a/b\n"
