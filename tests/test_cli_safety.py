"""Attacks from the hardening trial (issue 9), each reproduced through ``main([...])``:
damaged manifests, odd names, pruning, tampered outputs, hostile text on the terminal."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from pipeline.cli import main

SEED = Path(__file__).resolve().parent / "fixtures" / "linyi_2021_01-09.txt"


def run(*args) -> int:
    return main(["run", *map(str, args)])


# --------------------------------------------------------------------------- manifest


@pytest.mark.parametrize("damage, why", [
    ("[]", "the manifest holds a JSON list, not an object"),
    ('{"reports": {"a": 5}}', "the manifest has format None"),
    ('{"format": 1, "reports": {"a": 5}}', "the manifest's entry for 'a' is damaged: the entry is a int"),
    ('{"format": 1, "reports": []}', 'the manifest\'s "reports" is not an object'),
    ("{not json", "the manifest is not valid JSON"),
], ids=["list", "no-format", "entry-not-object", "reports-not-object", "invalid-json"])
def test_a_damaged_manifest_is_warned_about_and_rebuilt(elsewhere, raw, tmp_path, capsys, damage, why):
    out = tmp_path / "out"
    assert run(raw, "--out", out) == 0
    manifest = out / "manifest.json"
    manifest.write_text(damage, encoding="utf-8")
    capsys.readouterr()
    assert run(raw, "--out", out) == 0
    err = capsys.readouterr().err
    assert f"Warning: {manifest}: {why}" in err, err
    assert "WARNING:" not in err and "internal error" not in err
    assert "processing 1 report(s) (1 new)" in err
    assert SEED.stem in json.loads(manifest.read_text(encoding="utf-8"))["reports"]
    capsys.readouterr()
    assert run(raw, "--out", out) == 0               # healed: the next run has nothing to do
    assert "nothing to do" in capsys.readouterr().err


def test_a_manifest_output_path_outside_its_folder_is_not_trusted(elsewhere, raw, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(raw, "--out", out) == 0
    manifest = out / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["reports"][SEED.stem]["outputs"]["facts"]["path"] = "../../etc/passwd"
    manifest.write_text(json.dumps(data), encoding="utf-8")
    capsys.readouterr()
    assert run(raw, "--out", out, "--prune") == 0
    err = capsys.readouterr().err
    assert "has the path '../../etc/passwd'" in err


@pytest.mark.parametrize("tamper, why", [
    (lambda p: p.unlink(), "output missing: facts/"),
    (lambda p: p.write_bytes(p.read_bytes()[:-30] + b"x" * 30), "output altered: facts/"),
], ids=["deleted", "edited"])
def test_reprocessing_says_why(elsewhere, raw, tmp_path, capsys, tamper, why):
    out = tmp_path / "out"
    assert run(raw, "--out", out) == 0
    tamper(out / "facts" / f"{SEED.stem}.parquet")
    capsys.readouterr()
    assert run(raw, "--out", out) == 0
    err = capsys.readouterr().err
    assert re.search(rf"^{re.escape(SEED.stem)}: processing again — {why}", err, re.M), err


def test_a_changed_raw_file_says_so(elsewhere, raw, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(raw, "--out", out) == 0
    f = raw / SEED.name
    f.write_bytes(f.read_bytes() + b"\n")
    capsys.readouterr()
    assert run(raw, "--out", out) == 0
    assert f"{SEED.stem}: processing again — raw file changed" in capsys.readouterr().err


# --------------------------------------------------------------------------- names and odd files


@pytest.mark.parametrize("name, why", [
    ("a\\b.txt", "it contains a backslash"),
    ("..txt", "it starts with a dot"),
    (".hidden.txt", "it starts with a dot"),
], ids=["backslash", "dot-dot", "hidden-named-explicitly"])
def test_a_name_that_cannot_be_a_report_id_is_refused_alone(elsewhere, raw, tmp_path, capsys, name, why):
    """Issue 9, attack 3: the odd file is refused (exit 3) and the good one processed."""
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / name).write_bytes(SEED.read_bytes())
    out = tmp_path / "out"
    args = [raw, odd] if not name.startswith(".") else [raw / SEED.name, odd / name]
    assert run(*args, "--out", out) == 3
    err = capsys.readouterr().err
    assert f"Error: {odd / name}: the file name cannot become a report id ({why})" in err, err
    assert "internal error" not in err
    assert (out / "facts" / f"{SEED.stem}.parquet").exists()


def test_a_fifo_named_on_the_command_line_is_refused_clearly(elsewhere, raw, tmp_path, capsys):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    out = tmp_path / "out"
    assert run(raw, fifo, "--out", out) == 3
    err = capsys.readouterr().err
    assert f"Error: {fifo}: not a regular file (a FIFO, socket or device)" in err, err
    assert "no such file" not in err
    assert (out / "facts" / f"{SEED.stem}.parquet").exists()


def test_out_inside_an_input_folder_is_left_out_of_the_inputs(elsewhere, raw, capsys):
    """Issue 9, attack 11: --out under the raw folder; the next run must not read the
    pipeline's own files (vendored LICENSE.txt, VENDORED.md …) as reports."""
    out = raw / "processed"
    assert run(raw, "--out", out) == 0
    assert list(out.rglob("*.txt")) + list(out.rglob("*.md"))     # there is something to mistake
    capsys.readouterr()
    assert run(raw, "--out", out) == 0
    err = capsys.readouterr().err
    assert "nothing to do" in err and "Error" not in err
    assert "left out" in err


def test_the_pipelines_own_resources_are_never_inputs(elsewhere, tmp_path, capsys):
    from pipeline.batch.inputs import _OWN_FILES
    out = tmp_path / "out"
    assert run(_OWN_FILES, "--out", out) == 2        # nothing left to read: a usage error
    assert "no reports (*.txt *.md *.html *.htm *.docx *.xlsx) found" in capsys.readouterr().err
    assert not (out / "reports").exists()


# --------------------------------------------------------------------------- our bugs are ours (issue 8)


def test_an_internal_error_in_a_worker_exits_5_names_the_file_and_logs_the_traceback(
        elsewhere, raw, tmp_path, monkeypatch, capsys):
    import pipeline.tables

    real = pipeline.tables.build_tables

    def build_tables(report, quantities, progress=()):
        if report.report_id == "bad":
            raise ZeroDivisionError("injected bug")
        return real(report, quantities, progress)

    monkeypatch.setattr(pipeline.tables, "build_tables", build_tables)
    bad = raw / "bad.txt"
    bad.write_bytes(SEED.read_bytes())
    (raw / "broken.txt").write_text("没有表头\n", encoding="utf-8")   # bad input still counts as such
    out = tmp_path / "out"
    assert run(raw, "--out", out) == 5
    err = capsys.readouterr().err
    line = next(ln for ln in err.splitlines() if "internal error" in ln)
    assert line.startswith(f"Error: {bad}: internal error: ZeroDivisionError: injected bug — ")
    assert f"Error: {raw / 'broken.txt'}: no table header found" in err
    assert "Traceback" not in err
    logs = list((out / "logs").glob("internal-errors-*.log"))
    assert len(logs) == 1 and str(logs[0]) in line
    text = logs[0].read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "build_tables" in text and str(bad) in text
    assert (out / "facts" / f"{SEED.stem}.parquet").exists() and not (out / "facts" / "bad.parquet").exists()


def test_an_internal_error_in_the_parent_exits_5_with_a_log(elsewhere, raw, tmp_path, monkeypatch, capsys):
    import pipeline.batch

    def boom(*args, **kwargs):
        raise KeyError("injected")

    monkeypatch.setattr(pipeline.batch, "_validate", boom)
    out = tmp_path / "out"
    assert run(raw, "--out", out) == 5
    err = capsys.readouterr().err
    assert "Error: internal error: KeyError: 'injected'" in err and "Traceback" not in err
    logs = list((out / "logs").glob("internal-errors-*.log"))
    assert len(logs) == 1 and str(logs[0]) in err
    assert "_validate" in logs[0].read_text(encoding="utf-8")


def test_worker_results_are_typed_and_carry_the_traceback(monkeypatch, tmp_path):
    import pickle

    import pipeline.tables
    from pipeline.batch.workers import FileResult, process_file

    monkeypatch.setattr(pipeline.tables, "build_tables", lambda r, q, p=(): 1 / 0)
    f = tmp_path / SEED.name
    f.write_bytes(SEED.read_bytes())
    result = process_file(f)
    assert isinstance(result, FileResult) and result.tables is None and result.refusal is None
    assert "ZeroDivisionError" in result.internal_error and "Traceback" in result.internal_error
    assert pickle.loads(pickle.dumps(result)) == result


def test_one_hash_per_raw_file_even_when_it_changes_mid_run(elsewhere, raw, tmp_path, monkeypatch):
    """The parent hashes to decide what to skip; the file is then replaced before the
    worker reads it. Manifest, reports.sha256 and the Parquet metadata all carry the hash
    of the bytes that were parsed."""
    import hashlib

    import pyarrow.parquet as pq

    from pipeline import export

    f = raw / SEED.name
    new_bytes = SEED.read_bytes().replace("10.83亿元".encode(), "11.83亿元".encode())
    real = export.sha256_file

    def sha256_then_replace(path):
        digest = real(path)
        if Path(path) == f:
            f.write_bytes(new_bytes)
        return digest

    monkeypatch.setattr(export, "sha256_file", sha256_then_replace)
    out = tmp_path / "out"
    assert run(raw, "--out", out) == 0
    parsed = hashlib.sha256(new_bytes).hexdigest()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["reports"][SEED.stem]["sha256"] == parsed
    reports = pq.read_table(out / "reports" / f"{SEED.stem}.parquet")
    assert reports["sha256"].to_pylist() == [parsed]
    for table in ("reports", "tasks", "facts"):
        meta = pq.read_metadata(out / table / f"{SEED.stem}.parquet").metadata
        assert meta[b"source_sha256"] == parsed.encode()


def test_a_task_number_beyond_the_schema_is_a_clear_refusal(elsewhere, raw, tmp_path, capsys):
    """Issue 9, attack 10: task_no is int16; 40000 was an ArrowInvalid 'internal error'."""
    big = raw / "big.txt"
    big.write_text("临沂市2021年度重点民生实事推进情况表\n| 编号 | 工作任务 | 1-9月份工作情况 | 牵头单位 |\n"
                   "| 一、加强保障 |\n| 40000 | 提高救助水平 | 发放资金10亿元 | 市民政局 |\n", encoding="utf-8")
    assert run(raw, "--out", tmp_path / "out") == 3
    err = capsys.readouterr().err
    assert f"Error: {big}:4: the task number 40000 is over 32,767, the largest the output tables hold" in err


# --------------------------------------------------------------------------- terminal


HOSTILE = "\x1b[2J\x1b]0;pwned\x07ab\x08\x08\u202e"


def test_everything_printed_shows_control_characters_escaped(elsewhere, tmp_path, monkeypatch, capsys):
    """Issue 9, attack 5, at the one output edge: summary, warnings, refusals, progress."""
    from pipeline import batch
    from pipeline.records import Problem

    def fake_run(paths, *, log, **kwargs):
        log(f"{HOSTILE}: processing again — raw file changed")
        return batch.RunResult(processed=[HOSTILE], refused=[Problem(f"raw/{HOSTILE}.txt", 3, "bad", "fix")],
                               warnings=[Problem("raw/x.txt", 0, f"note {HOSTILE}", "fine")],
                               summary=f"validation: 1 report(s)\n  {HOSTILE}: 3/4 checks passed «{HOSTILE}»")

    monkeypatch.setattr(batch, "run", fake_run)
    assert run(tmp_path, "--out", tmp_path / "out") == 3
    captured = capsys.readouterr()
    for text in (captured.out, captured.err):
        assert not any(c in text for c in "\x1b\x07\x08\u202e"), repr(text)
    assert "\\x1b[2J\\x1b]0;pwned\\x07ab\\x08\\x08\\u202e" in captured.out
    assert captured.out.count("\n") == 2                       # the summary keeps its own lines
    assert "Error: raw/\\x1b[2J" in captured.err


def test_a_file_name_with_control_characters_is_refused_and_shown_escaped(elsewhere, raw, tmp_path, capsys):
    hostile = raw / "a\x1b[2Jb.txt"
    hostile.write_bytes(SEED.read_bytes())
    assert run(raw, "--out", tmp_path / "out") == 3
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert f"Error: {raw}/a\\x1b[2Jb.txt: the file name cannot become a report id " \
           "(it contains a control character)" in err


def test_argparse_echoes_are_escaped_too(capsys):
    assert main(["run", "--fail-on", "x\x1b[31m"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "x\\x1b[31m" in err


# --------------------------------------------------------------------------- interrupts


def _start(raw: Path, out: Path, jobs: int):
    import subprocess
    import sys
    return subprocess.Popen([sys.executable, "-m", "pipeline", "run", str(raw), "--out", str(out),
                             "--jobs", str(jobs)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=raw.parent, start_new_session=True)


def _wait_for(proc, marker: str) -> list[str]:
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"the run ended before {marker!r}: {''.join(lines)}")


def _group(pgid: int) -> list[int]:
    import subprocess
    return [int(p) for p in subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True,
                                           text=True).stdout.split()]


def _assert_interrupted_cleanly(proc, lines: list[str], status: int, out: Path) -> None:
    import time

    from pipeline.export import Manifest
    stdout, stderr = proc.communicate(timeout=120)
    stderr = "".join(lines) + stderr
    assert proc.returncode == status, stderr
    assert "Traceback" not in stderr + stdout and "KeyboardInterrupt" not in stderr
    assert stderr.rstrip().splitlines()[-1] == "Interrupted — outputs from before this run are intact"
    assert stderr.count("Interrupted") == 1
    deadline = time.monotonic() + 10
    while _group(proc.pid) and time.monotonic() < deadline:     # forkserver, resource tracker end on EOF
        time.sleep(0.1)
    assert _group(proc.pid) == [], "processes of the run are left behind"
    assert not list(out.glob(".tmp-*"))
    manifest = Manifest.load(out)
    assert all(manifest.outputs_match(r) for r in manifest.reports)


@pytest.fixture
def many(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(150):
        (folder / f"r{i:03d}.txt").write_bytes(SEED.read_bytes())
    return folder


@pytest.mark.parametrize("sig, status, whom", [("SIGINT", 130, "group"), ("SIGTERM", 143, "parent")],
                         ids=["ctrl-c", "sigterm"])
def test_an_interrupted_run_says_one_line_and_stops_its_workers(many, tmp_path, sig, status, whom):
    """Issue 9, attack 4: Ctrl-C (to the whole process group, as a terminal sends it) or
    SIGTERM (to the run) while workers are busy."""
    import signal
    import time
    out = tmp_path / "out"
    proc = _start(many, out, jobs=2)
    lines = _wait_for(proc, "processing 150 report(s)")
    time.sleep(1.5)
    if whom == "group":
        os.killpg(proc.pid, getattr(signal, sig))
    else:
        os.kill(proc.pid, getattr(signal, sig))
    _assert_interrupted_cleanly(proc, lines, status, out)


@pytest.mark.parametrize("delay", [0.0, 1.0, 2.5, 4.0])
def test_ctrl_c_at_any_stage_of_a_small_run_prints_no_traceback(raw, tmp_path, delay):
    """Jieba's start-up, the Great Expectations import, validation, export, Data Docs."""
    import signal
    import time
    out = tmp_path / "out"
    proc = _start(raw, out, jobs=1)
    lines = _wait_for(proc, "processing 1 report(s)")
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    stderr = "".join(lines) + stderr
    assert "Traceback" not in stderr + stdout
    if proc.returncode == 130:                     # else it had finished: exit 0
        assert stderr.rstrip().splitlines()[-1] == "Interrupted — outputs from before this run are intact"
    else:
        assert proc.returncode == 0, stderr
    assert not list(out.glob(".tmp-*"))


def test_a_signal_during_the_commit_waits_for_it(elsewhere, raw, tmp_path, monkeypatch, capsys):
    """SIGINT while the chunk's files are moved in: the files and the manifest go in
    together, then the run stops."""
    import signal

    from pipeline.export import Manifest
    real, calls = os.replace, []

    def replace(src, dst):
        if not calls:
            os.kill(os.getpid(), signal.SIGINT)
        calls.append(dst)
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    out = tmp_path / "out"
    assert run(raw, "--out", out) == 130
    assert capsys.readouterr().err.rstrip().splitlines()[-1] == \
        "Interrupted — outputs from before this run are intact"
    assert any(str(d).endswith("manifest.json") for d in calls)
    manifest = Manifest.load(out)
    assert list(manifest.reports) == [SEED.stem] and manifest.outputs_match(SEED.stem)
    assert not list(out.glob(".tmp-*"))


# --------------------------------------------------------------------------- a run finishes what the last one left (issue 9 #8)


def _failing_suites(tmp_path: Path) -> Path:
    import shutil

    from pipeline.quality import DEFAULT_EXPECTATIONS
    d = tmp_path / "expectations"
    shutil.copytree(DEFAULT_EXPECTATIONS, d)
    suite = json.loads((d / "reports.json").read_text("utf-8"))
    suite["expectations"].append({"type": "expect_column_values_to_be_null", "kwargs": {"column": "title"},
                                  "meta": {"check": "test.always_fails", "severity": "error"}})
    (d / "reports.json").write_text(json.dumps(suite, ensure_ascii=False), "utf-8")
    return d


def test_a_failed_data_docs_build_is_finished_and_its_failures_reported_again(
        elsewhere, raw, tmp_path, monkeypatch, capsys):
    """Killed after the manifest (here: the disk fills while Data Docs are built): the
    rerun does not say 'nothing to do', exit 0 — it builds the docs and reports the
    failure again; so does every later unchanged rerun."""
    import pipeline.batch
    exp = _failing_suites(tmp_path)
    out = tmp_path / "out"

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(out / "validation" / "docs"))

    with monkeypatch.context() as m:
        m.setattr(pipeline.batch, "_build_docs", disk_full)
        assert run(raw, "--out", out, "--expectations", exp) == 2
    assert (out / "facts" / f"{SEED.stem}.parquet").exists()
    assert not (out / "validation" / "docs" / "index.html").exists()
    capsys.readouterr()

    assert run(raw, "--out", out, "--expectations", exp) == 1
    captured = capsys.readouterr()
    assert f"{SEED.stem}: processing again — Data Docs not built" in captured.err
    assert "ERROR   test.always_fails [reports]" in captured.out
    assert (out / "validation" / "docs" / "index.html").exists()

    assert run(raw, "--out", out, "--expectations", exp) == 1       # nothing to do, same verdict
    captured = capsys.readouterr()
    assert "nothing to do" in captured.err
    assert "ERROR   test.always_fails [reports]" in captured.out
    assert run(raw, "--out", out, "--expectations", exp, "--fail-on", "never") == 0


def test_deleted_data_docs_are_rebuilt(elsewhere, raw, tmp_path, capsys):
    import shutil
    out = tmp_path / "out"
    assert run(raw, "--out", out) == 0
    shutil.rmtree(out / "validation" / "docs")
    capsys.readouterr()
    assert run(raw, "--out", out) == 0
    captured = capsys.readouterr()
    assert f"{SEED.stem}: processing again — Data Docs missing" in captured.err
    assert (out / "validation" / "docs" / "index.html").exists()
    assert f"{SEED.stem}: " in captured.out and "checks passed" in captured.out


def test_an_unchanged_rerun_prints_the_recorded_summary(elsewhere, raw, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(raw, "--out", out) == 0
    first = capsys.readouterr().out
    assert run(raw, "--out", out) == 0
    assert capsys.readouterr().out == first


def test_a_killed_review_page_is_rewritten(elsewhere, raw, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(raw, "--out", out) == 0
    page = out / "review" / f"{SEED.stem}.html"
    text = page.read_text(encoding="utf-8")
    page.unlink()
    capsys.readouterr()
    assert run(raw, "--out", out) == 0
    assert f"processing again — output missing: review/{SEED.stem}.html" in capsys.readouterr().err
    assert page.read_text(encoding="utf-8") == text
