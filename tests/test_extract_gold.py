"""The seed's gold annotations as a test: extract must stay above the seed targets.

Scoring reuses the alignment and metric similarity of the project's scorer
(a copy in tests/fixtures/score.py), so the numbers match what score.py prints.
"""
from __future__ import annotations

import importlib.util
import json
from collections import defaultdict
from pathlib import Path

import pytest

from pipeline.extract import extract

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLD = FIXTURES / "gold"

_spec = importlib.util.spec_from_file_location("gold_score", FIXTURES / "score.py")
score = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(score)


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def evaluate(cells: list[dict], gold: list[dict]) -> dict[str, float]:
    """Span/e2e F1, approx accuracy and metric similarity, as score.py computes them."""
    golds, preds = defaultdict(list), defaultdict(list)
    for g in gold:
        golds[(g["task_no"], g["field"])].append(g)
    for cell in cells:
        for q in extract(cell["text"]):
            preds[(cell["task_no"], cell["field"])].append(
                {"mention": q.mention, "start": q.start, "value": q.value, "unit": q.unit,
                 "approx": q.approx, "metric": q.metric})
    tp = fp = fn = e2e = approx_ok = 0
    metric = 0.0
    for key in golds.keys() | preds.keys():
        g_rows, p_rows = golds.get(key, []), preds.get(key, [])
        pairs = score.align(p_rows, g_rows)
        for pi, gi in pairs:
            g, p = g_rows[gi], p_rows[pi]
            if g.get("optional"):
                continue
            tp += 1
            e2e += score.same_value(p["value"], g["value"]) and score.norm_unit(p["unit"]) == score.norm_unit(g["unit"])
            approx_ok += (p["approx"] or None) == (g.get("approx") or None)
            metric += score.metric_sim(p["metric"], g["metric"])
        matched_g, matched_p = {gi for _, gi in pairs}, {pi for pi, _ in pairs}
        fn += sum(1 for gi, g in enumerate(g_rows) if gi not in matched_g and not g.get("optional"))
        fp += sum(1 for pi, p in enumerate(p_rows) if pi not in matched_p
                  and not any(o.get("optional") and score.overlaps(p["mention"], o["mention"]) for o in g_rows))
    precision, recall = e2e / (tp + fp), e2e / (tp + fn)
    return {"e2e_f1": 2 * precision * recall / (precision + recall),
            "approx_acc": approx_ok / tp, "metric_sim": metric / tp, "tp": tp}


@pytest.fixture(scope="module", params=sorted(p.name.removesuffix(".gold.jsonl") for p in GOLD.glob("*.gold.jsonl")))
def result(request):
    return evaluate(_jsonl(GOLD / f"{request.param}.cells.jsonl"), _jsonl(GOLD / f"{request.param}.gold.jsonl"))


def test_end_to_end_f1(result):
    assert result["e2e_f1"] >= 0.98, result


def test_approx_accuracy(result):
    assert result["approx_acc"] >= 0.98, result


def test_metric_similarity(result):
    assert result["metric_sim"] >= 0.89, result     # issue 10: unchanged by the progress work


def test_every_metric_is_a_substring_at_its_offset():
    for cell in _jsonl(GOLD / "linyi_2021_01-09.cells.jsonl"):
        for q in extract(cell["text"]):
            assert cell["text"][q.start:q.end] == q.mention
            if q.metric is not None:
                assert cell["text"][q.metric_start:q.metric_start + len(q.metric)] == q.metric
