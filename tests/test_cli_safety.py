"""Attacks from the hardening trial (issue 9), each reproduced through ``main([...])``:
damaged manifests, odd names, pruning, tampered outputs, hostile text on the terminal."""
from __future__ import annotations

import json
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
