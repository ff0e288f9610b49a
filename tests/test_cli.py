"""The CLI end to end, called as ``main([...])`` from another working directory."""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import io
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.schema import TABLES

SEED = Path(__file__).resolve().parent.parent / "raw" / "linyi_2021_01-09.txt"
ERROR_LINE = re.compile(r"^Error: .+: .+ — .+$")


def run(*args: str) -> int:
    return main(["run", *map(str, args)])


def test_seed_run_writes_all_tables_and_passes(elsewhere, raw, tmp_path, capsys):
    out = tmp_path / "out"
    before = hashlib.sha256((raw / SEED.name).read_bytes()).hexdigest()
    assert run(raw, "--out", out) == 0
    for table in TABLES:
        assert (out / table / f"{SEED.stem}.parquet").is_file()
    tasks = pd.read_parquet(out / "tasks")
    assert len(tasks) == 59
    assert hashlib.sha256((raw / SEED.name).read_bytes()).hexdigest() == before
    assert sorted(p.name for p in raw.iterdir()) == [SEED.name]
    assert "Error:" not in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [
        ".lock", "facts", "manifest.json", "progress", "reports", "review", "tasks", "validation"]   # no run_stats.json


def test_rerun_with_nothing_new_says_so(elsewhere, raw, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(raw, "--out", out) == 0
    mtime = (out / "facts" / f"{SEED.stem}.parquet").stat().st_mtime_ns
    capsys.readouterr()
    assert run(raw, "--out", out) == 0
    assert "nothing to do" in capsys.readouterr().err
    assert (out / "facts" / f"{SEED.stem}.parquet").stat().st_mtime_ns == mtime


@pytest.mark.parametrize("args, message", [
    pytest.param(["does-not-exist"], "no such file or folder", id="missing-path"),
    pytest.param(["EMPTY"], "no reports (*.txt *.md *.html *.htm *.docx *.xlsx) found", id="empty-folder"),
    pytest.param(["--jobs", "0"], "at least 1", id="bad-jobs"),
    pytest.param(["--fail-on", "sometimes"], "invalid choice", id="bad-fail-on"),
])
def test_usage_errors_exit_2(elsewhere, tmp_path, capsys, args, message):
    (tmp_path / "EMPTY").mkdir()
    args = [str(tmp_path / a) if a in ("does-not-exist", "EMPTY") else a for a in args]
    assert run(*args, "--out", tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_help_documents_exit_statuses(capsys):
    assert main(["run", "--help"]) == 0
    text = capsys.readouterr().out
    for status in "012345":
        assert re.search(rf"^\s+{status}\s+\S", text, re.M)


def test_bad_report_is_refused_and_the_others_still_run(elsewhere, raw, tmp_path, capsys):
    (raw / "broken.txt").write_text("这不是一个报表\n没有表头\n", encoding="utf-8")
    (raw / "empty.md").write_bytes(b"")
    out = tmp_path / "out"
    assert run(raw, "--out", out) == 3
    err = capsys.readouterr().err
    refused = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(refused) == 2
    assert all(ERROR_LINE.match(line) for line in refused), refused
    # the path as given; a line number only where there is one (a whole-file problem has none)
    assert any(line.startswith(f"Error: {raw / 'broken.txt'}: ") for line in refused), refused
    assert any(line.startswith(f"Error: {raw / 'empty.md'}: the file is empty") for line in refused), refused
    assert ":0:" not in err
    assert (out / "facts" / f"{SEED.stem}.parquet").is_file()
    assert not (out / "facts" / "broken.parquet").exists()
    assert "Traceback" not in err


def test_two_inputs_with_the_same_report_id_are_refused(elsewhere, raw, tmp_path, capsys):
    other = tmp_path / "other"
    other.mkdir()
    (other / SEED.name).write_bytes(SEED.read_bytes())
    assert run(raw, other, "--out", tmp_path / "out") == 3
    assert "rename one of the files" in capsys.readouterr().err


def test_dot_files_are_skipped(elsewhere, raw, tmp_path):
    hidden = raw / ".cache"
    hidden.mkdir()
    (hidden / "junk.txt").write_text("junk", encoding="utf-8")
    (raw / ".notes.md").write_text("junk", encoding="utf-8")
    assert run(raw, "--out", tmp_path / "out") == 0


def test_second_run_on_a_locked_out_dir_exits_4(elsewhere, raw, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".lock", "w") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert run(raw, "--out", out) == 4
    err = capsys.readouterr().err
    assert err.startswith("Error:") and str(out) in err
    assert not (out / "facts").exists()


def test_jobs_2_gives_the_same_tables_as_jobs_1(elsewhere, raw, tmp_path):
    second = raw / "linyi_copy.txt"
    second.write_bytes(SEED.read_bytes())
    one, two = tmp_path / "one", tmp_path / "two"
    assert run(raw, "--out", one) == 0
    assert run(raw, "--out", two, "--jobs", "2") == 0
    for table in TABLES:
        for f in (one / table).glob("*.parquet"):
            assert f.read_bytes() == (two / table / f.name).read_bytes()


def test_out_that_is_a_file_exits_2_without_traceback(elsewhere, raw, tmp_path, capsys):
    not_a_folder = tmp_path / "out.txt"
    not_a_folder.write_text("", encoding="utf-8")
    assert run(raw, "--out", not_a_folder) == 2
    err = capsys.readouterr().err
    assert re.search(rf"^Error: {re.escape(str(not_a_folder))}: .+ — .+$", err, re.M)
    assert "Traceback" not in err


def test_package_exports_are_not_shadowed_by_submodules():
    """``pipeline.X`` must stay the re-exported function even after ``import pipeline.X``."""
    import pkgutil

    import pipeline
    submodules = {m.name for m in pkgutil.iter_modules(pipeline.__path__)}
    assert not set(pipeline.__all__) & submodules
    assert all(getattr(pipeline, name) is not None for name in pipeline.__all__)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("tty", [True, False], ids=["terminal", "cron-log"])
def test_progress_is_a_bar_on_a_terminal_and_plain_lines_otherwise(monkeypatch, tty):
    from pipeline.cli import _Progress
    stream = _Terminal() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    progress = _Progress()
    progress("300/1000 reports", 300, 1000)
    progress.close()
    text = stream.getvalue()
    assert ("█" * 9 in text and "░" in text and "\r" in text) == tty
    assert text.splitlines()[-1].endswith("300/1000 reports")


def test_prune_removes_every_output_of_a_vanished_report(elsewhere, raw, tmp_path, capsys):
    second = raw / "linyi_copy.txt"
    second.write_bytes(SEED.read_bytes())
    out = tmp_path / "out"
    assert run(raw, "--out", out) == 0
    second.unlink()
    capsys.readouterr()
    assert run(raw, "--out", out) == 0
    assert (out / "facts" / "linyi_copy.parquet").exists()        # kept without --prune
    assert f"Warning: {second}: the raw file is gone — the outputs of report linyi_copy are kept" \
        in capsys.readouterr().err
    assert run(raw, "--out", out, "--prune") == 0
    assert f"Warning: {second}: the raw file is gone — removed the outputs of report linyi_copy" \
        in capsys.readouterr().err
    left = [p.relative_to(out) for p in out.rglob("linyi_copy*")]
    assert left == [], left
    assert (out / "facts" / f"{SEED.stem}.parquet").exists()


def test_prune_keeps_reports_whose_raw_file_exists_but_was_not_named(elsewhere, raw, tmp_path, capsys):
    """Issue 9, attack 2: run a and b into one --out, then `run a --prune`: b stays."""
    b = tmp_path / "b.txt"
    b.write_bytes(SEED.read_bytes())
    out = tmp_path / "out"
    assert run(raw, b, "--out", out) == 0
    capsys.readouterr()
    assert run(raw, "--out", out, "--prune") == 0
    err = capsys.readouterr().err
    assert "Warning" not in err and "removed" not in err
    for table in ("reports", "tasks", "facts"):
        assert (out / table / "b.parquet").exists()
    assert (out / "review" / "b.html").exists()
    assert "b" in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"]


def test_prune_follows_the_recorded_path_from_another_working_directory(raw, tmp_path, monkeypatch, capsys):
    """A relative path given in one working directory is recorded absolute: a later run
    from elsewhere does not take the report for vanished."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    assert run(Path("raw"), "--out", out) == 0
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.txt").write_bytes(SEED.read_bytes())
    monkeypatch.chdir(other)
    capsys.readouterr()
    assert run("x.txt", "--out", out, "--prune") == 0
    assert "gone" not in capsys.readouterr().err
    assert (out / "facts" / f"{SEED.stem}.parquet").exists()


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc to find the workers")
def test_a_killed_worker_neither_hangs_nor_stops_the_batch(tmp_path):
    """SIGKILL one worker as the pool starts: its reports are retried in a new pool, the run
    ends, and no worker is left behind holding the run's stdout (reading it to the end
    would hang: a worker started while its pool broke used to be missed by the clean-up)."""
    import signal
    import subprocess
    import time

    raw = tmp_path / "raw"
    raw.mkdir()
    for i in range(120):
        (raw / f"r{i:03d}.txt").write_bytes(SEED.read_bytes())
    out = tmp_path / "out"
    run_ = subprocess.Popen([sys.executable, "-m", "pipeline", "run", str(raw), "--out", str(out), "--jobs", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    killed = None
    deadline = time.monotonic() + 60
    while killed is None and time.monotonic() < deadline and run_.poll() is None:
        workers = [w for server in _children(run_.pid) for w in _children(server)]
        if workers:
            os.kill(workers[0], signal.SIGKILL)
            killed = workers[0]
        time.sleep(0.02)
    try:
        stdout, stderr = run_.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        run_.kill()
        pytest.fail(f"the run or a worker it left behind still holds stdout (run exit status {run_.poll()})")
    assert killed is not None, "no worker process was seen"
    assert run_.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert len(list((out / "facts").glob("*.parquet"))) == 120


def test_readme_analyses_run_on_the_output(elsewhere, raw, tmp_path, capsys):
    """docs/analyses.py (the README's analyses, the notebook's queries) works on what a run
    writes, and prints what the README shows."""
    import importlib.util

    import pipeline
    out = tmp_path / "out"
    assert run(raw, "--out", out) == 0
    spec = importlib.util.spec_from_file_location(
        "analyses", Path(__file__).resolve().parent.parent / "docs" / "analyses.py")
    analyses = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(analyses)
    t = pipeline.load(out)
    v = pipeline.facts_view(tables=t)
    label = analyses.report_labels(t["reports"])
    money = analyses.money_by_category(v, label)
    # totals only: the category's 民生支出 469.1亿元 (a 1-8月份 figure, in its 1-9月 report's
    # column), not its rate (占…81.8%) nor its change (增长17.1%)
    assert list(money.columns) == ["临沂市2021 1-9月"]
    assert money.loc["强化民生资金保障", "临沂市2021 1-9月"] == 46_910_000_000.0 / 1e4
    per_unit = v[(v.unit == "元") & (v.kind == "per_unit")]
    assert len(per_unit) and money.to_numpy().sum() * 1e4 == v[(v.unit == "元") & (v.kind == "total")
                                                                & (v.field == "status")].value.sum()
    behind = analyses.behind_schedule(t["progress"], t["tasks"], label)
    assert len(behind) >= 1 and (behind.completion_pct < behind.expected_pct - 10).all()
    key = v[v.task_no == 1].task_key.iloc[0]
    periods = analyses.figures_over_periods(v, key)
    assert list(periods.columns) == [9] and len(periods) == v[v.task_key == key].figure_key.nunique()
    capsys.readouterr()
    analyses.main([str(out)])
    printed = capsys.readouterr().out.rstrip("\n").split("\n\n")
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    shown = readme[readme.index("### The analysis notebook"):readme.index("## Performance")]
    assert len(printed) == 3
    for block in printed:
        assert f"```\n{block}\n```" in shown, block
