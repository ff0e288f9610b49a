"""The held-out gold as a test: a regression floor for how extract generalises.

Three sets of three invented reports from other places and years (tests/fixtures/
heldout*/, each written independently of the extractor and of the other sets; see
their READMEs) scored over their cells.jsonl the way tests/test_extract_gold.py
scores the seed. Each set was scored blind once (end-to-end F1 0.974, 0.988, 0.994)
before the general gaps it showed were fixed. The floor is the issue's target for
unseen reports: end-to-end F1 >= 0.95, approx accuracy >= 0.95. Do not tune rules
on these files' strings: fix the grammar or the vocabulary in general.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from test_extract_gold import _jsonl, evaluate

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLD_FILES = sorted(FIXTURES.glob("heldout*/*.gold.jsonl"))
STEMS = [p.name.removesuffix(".gold.jsonl") for p in GOLD_FILES]
HOME = {p.name.removesuffix(".gold.jsonl"): p.parent for p in GOLD_FILES}


@pytest.fixture(scope="module")
def result():
    cells = [c for stem in STEMS for c in _jsonl(HOME[stem] / f"{stem}.cells.jsonl")]
    gold = [g for stem in STEMS for g in _jsonl(HOME[stem] / f"{stem}.gold.jsonl")]
    # keys are (task_no, field): keep the reports apart by numbering tasks per report
    for i, stem in enumerate(STEMS):
        for row in cells + gold:
            if row["doc"].startswith(stem):
                row["task_no"] = (i, row["task_no"])
    return evaluate(cells, gold)


def test_there_are_nine_heldout_reports():
    assert len(STEMS) == 9


def test_end_to_end_f1(result):
    assert result["e2e_f1"] >= 0.95, result


def test_approx_accuracy(result):
    assert result["approx_acc"] >= 0.95, result


@pytest.mark.parametrize("stem", STEMS)
def test_each_report_end_to_end(stem):
    home = HOME[stem]
    assert evaluate(_jsonl(home / f"{stem}.cells.jsonl"), _jsonl(home / f"{stem}.gold.jsonl"))["e2e_f1"] >= 0.95
