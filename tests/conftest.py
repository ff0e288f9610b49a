"""Fixtures shared by the CLI tests."""
from __future__ import annotations

from pathlib import Path

import pytest

SEED = Path(__file__).resolve().parent / "fixtures" / "linyi_2021_01-09.txt"


@pytest.fixture()
def elsewhere(tmp_path, monkeypatch):
    """Run from an unrelated, empty working directory; check it stays empty and that
    no gx/ folder appears anywhere under tmp_path."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    yield cwd
    assert list(cwd.iterdir()) == [], "a run wrote into the working directory"
    assert [p for p in tmp_path.rglob("gx") if p.is_dir()] == [], "a run created a gx/ folder"


@pytest.fixture()
def raw(tmp_path):
    """A raw folder holding a copy of the seed report."""
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / SEED.name).write_bytes(SEED.read_bytes())
    return folder
