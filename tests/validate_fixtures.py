"""Seed-like tables for the validate tests, built from hand-checked records.

The seed report (临沂 2021, 1-9月份) is rebuilt from the gold fixtures (tests/fixtures/gold) — cell
texts, gold quantities — and the raw file's lead units, without ingest or extract, so
these tests do not wait on (or break with) those stages.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from functools import cache
from pathlib import Path

import pyarrow as pa

from pipeline.records import Category, Quantity, Report, Task
from pipeline.progress import link
from pipeline.tables import build_tables

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RAW = FIXTURES / "linyi_2021_01-09.txt"
GOLD = FIXTURES / "gold" / "linyi_2021_01-09.gold.jsonl"
CELLS = FIXTURES / "gold" / "linyi_2021_01-09.cells.jsonl"
_ORDINAL = re.compile(r"^([一二三四五六七八九十]+)、(.*)$")
_CN = {c: i for i, c in enumerate("零一二三四五六七八九", 0)}


def _cn_number(s: str) -> int:
    if s == "十":
        return 10
    if s.startswith("十"):
        return 10 + _CN[s[1]]
    if "十" in s:
        a, _, b = s.partition("十")
        return _CN[a] * 10 + (_CN[b] if b else 0)
    return _CN[s]


def _dimension(unit: str) -> str:
    from pipeline.vocab import dimension_of
    return dimension_of(unit)


@cache
def seed_records() -> tuple[Report, dict[tuple[int, str], tuple[Quantity, ...]]]:
    raw = RAW.read_bytes()
    lines = [ln.rstrip().removesuffix("|").strip() for ln in raw.decode("utf-8").splitlines()]
    cells = {(c["task_no"], c["field"]): c["text"] for c in map(json.loads, CELLS.read_text().splitlines())}
    title, body = lines[0], lines[6:]
    categories, tasks = [], []
    i, line_no = 0, 7
    while i < len(body):
        m = _ORDINAL.match(body[i])
        if m:
            categories.append(Category(_cn_number(m.group(1)), m.group(2), line_no + i))
            i += 1
            continue
        no = int(body[i])
        units = tuple(u for u in re.split(r"[ 、,，/]+", body[i + 3]) if u)
        cat = categories[-1]
        tasks.append(Task(cat.category_no, cat.name, no, cells[(no, "task")], cells[(no, "status")],
                          units, line_no + i, line_no + i + 3))
        i += 4
    report = Report("linyi_2021_01-09", "linyi_2021_01-09.txt", title, "临沂市", 2021, 1, 9, 20, "utf-8",
                    hashlib.sha256(raw).hexdigest(), tuple(categories), tuple(tasks))
    quantities: dict[tuple[int, str], list[Quantity]] = {}
    for g in map(json.loads, GOLD.read_text().splitlines()):
        text = cells[(g["task_no"], g["field"])]
        start = -1
        for _ in range(g["occurrence"]):
            start = text.find(g["mention"], start + 1)
        metric = g.get("metric")
        mstart = text.find(metric) if metric else -1
        quantities.setdefault((g["task_no"], g["field"]), []).append(Quantity(
            g["mention"], start, start + len(g["mention"]), float(g["value"]),
            None if g.get("value_high") is None else float(g["value_high"]), g["unit"], g.get("approx"),
            _dimension(g["unit"]), metric if mstart >= 0 else None, mstart if mstart >= 0 else None))
    return report, {k: tuple(sorted(v, key=lambda q: q.start)) for k, v in quantities.items()}


def seed_tables(report_id: str = "linyi_2021_01-09") -> dict[str, pa.Table]:
    report, quantities = seed_records()
    if report_id != report.report_id:
        report = dataclasses.replace(report, report_id=report_id, source_file=report_id + ".txt")
    return build_tables(report, quantities, link(report, quantities))


def with_report_id(tables: dict[str, pa.Table], report_id: str) -> dict[str, pa.Table]:
    """The same tables under another report id (cheap: two columns replaced)."""
    out = {}
    for name, t in tables.items():
        for col, value in (("report_id", report_id), ("source_file", report_id + ".txt")):
            i = t.schema.get_field_index(col)
            arr = pa.array([value] * t.num_rows, pa.string()).dictionary_encode()
            out_t = t.set_column(i, t.schema.field(i), arr)
            t = out_t
        out[name] = t
    return out


def concat(*batches: dict[str, pa.Table]) -> dict[str, pa.Table]:
    return {name: pa.concat_tables([b[name] for b in batches]).combine_chunks() for name in batches[0]}


def synthetic_batch(n: int) -> dict[str, pa.Table]:
    """n copies of the seed report (≈59 tasks, ≈120 facts each) as one batch."""
    seed = seed_tables()
    return concat(*(with_report_id(seed, f"synthetic_{i:05d}") for i in range(n)))


def validate_and_report(tables, out: Path):
    """Validate as the batch does, then write the review pages and Data Docs the
    reporting package makes of it: (validation, Data Docs index)."""
    from pipeline.quality import load_suites, validate
    from pipeline.reporting import build_docs, review_pages

    v = validate(tables, out_dir=out)
    docs = build_docs(v.result_ids, out_dir=out, suites=load_suites())
    (out / "review").mkdir(exist_ok=True)
    for rid, page in review_pages(v, docs_href="../validation/docs/index.html").items():
        (out / "review" / f"{rid}.html").write_text(page, encoding="utf-8")
    return v, docs
