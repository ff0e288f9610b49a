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
    assert "processing 1 report(s) (1 new report)" in err
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
    from pipeline.batch import _OWN_FILES
    out = tmp_path / "out"
    assert run(_OWN_FILES, "--out", out) == 2        # nothing left to read: a usage error
    assert "no *.txt or *.md reports found" in capsys.readouterr().err
    assert not (out / "reports").exists()
