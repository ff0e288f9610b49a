"""The gold fixtures agree with their raw reports: every annotated cell is what ingest
reads, every mention stands in its cell at its occurrence, every metric is a substring.

A broken fixture would make the accuracy tests measure the wrong thing."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.ingest import ingest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLD = sorted(FIXTURES.rglob("*.gold.jsonl"))


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def _raw(gold: Path) -> Path:
    doc = _jsonl(gold)[0]["doc"]
    return next(p for p in (gold.parent / doc, FIXTURES / doc) if p.exists())


def _cells(gold: Path) -> dict[tuple[int, str], str]:
    stem = gold.name.removesuffix(".gold.jsonl")
    return {(c["task_no"], c["field"]): c["text"] for c in _jsonl(gold.parent / f"{stem}.cells.jsonl")}


@pytest.mark.parametrize("gold", GOLD, ids=lambda p: p.name.removesuffix(".gold.jsonl"))
def test_cells_are_what_ingest_reads(gold):
    report = ingest(_raw(gold))
    read = {(t.task_no, field): getattr(t, field) for t in report.tasks for field in ("task", "status")}
    assert read == _cells(gold)


@pytest.mark.parametrize("gold", GOLD, ids=lambda p: p.name.removesuffix(".gold.jsonl"))
def test_mentions_and_metrics_stand_in_their_cells(gold):
    cells = _cells(gold)
    for g in _jsonl(gold):
        text = cells[(g["task_no"], g["field"])]
        assert text.count(g["mention"]) >= g["occurrence"], g
        assert not g.get("metric") or g["metric"] in text, g
        if "value_high" in g:                      # ranges only: 3-5万元 → 30000 … 50000
            assert g["value_high"] >= g["value"], g
