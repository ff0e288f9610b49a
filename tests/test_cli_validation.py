"""Validation through the CLI: exit statuses of ``main([...])`` for passing, failing
(error / warning, per --fail-on) and broken suites, from an unrelated working directory.

Every run happens in this one pytest process, so Great Expectations is imported once.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.quality import DEFAULT_EXPECTATIONS
from pipeline.schema import TABLES

PROJECT = Path(__file__).resolve().parent.parent
SEED = PROJECT / "raw" / "linyi_2021_01-09.txt"
HELDOUT = sorted((Path(__file__).resolve().parent / "fixtures" / "heldout").glob("*.txt"))
SEED_ID = SEED.stem
ALWAYS_FAILS = "test.title_always_fails"


def _sha256_files(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module", autouse=True)
def expectations_unchanged():
    before = _sha256_files(DEFAULT_EXPECTATIONS)
    yield
    assert _sha256_files(DEFAULT_EXPECTATIONS) == before, "a run wrote into expectations/"
    assert not (PROJECT / "gx").exists()


def run(*args) -> int:
    return main(["run", *map(str, args)])


def suites_with(tmp_path: Path, name: str, expectation: dict) -> Path:
    """A copy of the project's suites with one expectation added to ``name``.json."""
    d = tmp_path / name / "expectations"
    shutil.copytree(DEFAULT_EXPECTATIONS, d)
    path = d / "reports.json"
    suite = json.loads(path.read_text("utf-8"))
    suite["expectations"].append(expectation)
    path.write_text(json.dumps(suite, ensure_ascii=False, indent=2), "utf-8")
    return d


def always_failing(severity: str) -> dict:
    """Every report has a title, so expecting it to be null fails on every report row."""
    return {"type": "expect_column_values_to_be_null", "kwargs": {"column": "title"},
            "meta": {"check": ALWAYS_FAILS, "severity": severity}}


def test_seed_run_passes_and_writes_reviewer_output(elsewhere, raw, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(raw, "--out", out) == 0
    stdout = capsys.readouterr().out
    assert stdout.startswith("validation: 1 report(s)")
    assert re.search(rf"{SEED_ID}: (\d+)/\1 checks passed", stdout)
    assert (out / "validation" / "docs" / "index.html").is_file()
    assert (out / "review" / f"{SEED_ID}.html").is_file()
    reports = pd.read_parquet(out / "reports" / f"{SEED_ID}.parquet")
    assert reports["dq_passed"].tolist() == [True]


def test_heldout_reports_raise_no_error(elsewhere, tmp_path, capsys):
    """Three correct reports from other regions (composite units 元/人·年, a title that
    counts tasks, not categories): no false alarm, not even a warning."""
    assert run(*HELDOUT, "--out", tmp_path / "out", "--fail-on", "warning") == 0
    stdout = capsys.readouterr().out
    assert "ERROR" not in stdout and "WARNING" not in stdout
    assert f"{len(HELDOUT)} clean" in stdout


def test_failing_error_check_exits_1_and_keeps_the_rows(elsewhere, raw, tmp_path, capsys):
    exp = suites_with(tmp_path, "error", always_failing("error"))
    out = tmp_path / "out"
    assert run(raw, "--out", out, "--expectations", exp) == 1
    stdout = capsys.readouterr().out
    assert f"ERROR   {ALWAYS_FAILS} [reports]" in stdout
    for table in TABLES:
        assert (out / table / f"{SEED_ID}.parquet").is_file()
    reports = pd.read_parquet(out / "reports" / f"{SEED_ID}.parquet")
    assert reports["dq_passed"].tolist() == [False]
    assert [list(f) for f in reports["dq_failures"]] == [[ALWAYS_FAILS]]
    tasks = pd.read_parquet(out / "tasks" / f"{SEED_ID}.parquet")
    assert tasks["dq_passed"].all() and len(tasks) == 59     # other tables: untouched


@pytest.mark.parametrize("fail_on,status", [(None, 0), ("error", 0), ("warning", 1), ("never", 0)])
def test_failing_warning_check_exit_status_follows_fail_on(elsewhere, raw, tmp_path, capsys, fail_on, status):
    exp = suites_with(tmp_path, "warning", always_failing("warning"))
    args = [raw, "--out", tmp_path / "out", "--expectations", exp]
    if fail_on:
        args += ["--fail-on", fail_on]
    assert run(*args) == status
    assert f"WARNING {ALWAYS_FAILS} [reports]" in capsys.readouterr().out
    reports = pd.read_parquet(tmp_path / "out" / "reports" / f"{SEED_ID}.parquet")
    assert reports["dq_passed"].tolist() == [False]


def test_error_check_with_fail_on_never_exits_0(elsewhere, raw, tmp_path):
    exp = suites_with(tmp_path, "error", always_failing("error"))
    assert run(raw, "--out", tmp_path / "out", "--expectations", exp, "--fail-on", "never") == 0


def test_unknown_expectation_type_exits_2_with_one_error_line(elsewhere, raw, tmp_path, capsys):
    exp = suites_with(tmp_path, "unknown", {"type": "expect_column_values_to_be_frobnicated",
                                            "kwargs": {"column": "title"},
                                            "meta": {"check": "test.frobnicated", "severity": "error"}})
    assert run(raw, "--out", tmp_path / "out", "--expectations", exp) == 2
    captured = capsys.readouterr()
    errors = [ln for ln in captured.err.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and str(exp / "reports.json") in errors[0], captured.err
    assert "Traceback" not in captured.err + captured.out
    assert not (tmp_path / "out" / "reports").exists()      # the data were not judged, nothing exported
