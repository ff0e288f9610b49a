"""Records → Arrow tables, in one place, against the one schema (pipeline.schema)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyarrow as pa

from .kinds import kind_of
from .records import Progress, Quantity, Report
from .schema import TABLES, columns, schema
from .series import TaskKeyScan, figure_key, series_id

FIELDS_OF_TASK = ("task", "status")   # the cells a task row's facts come from, in this order


def build_tables(report: Report,
                 quantities: Mapping[tuple[int, str], Sequence[Quantity]],
                 progress: Sequence[Progress] = ()) -> dict[str, pa.Table]:
    """The reports, tasks, facts and progress tables of one report.

    ``quantities`` maps (task_no, field) to the quantities extracted from that cell;
    ``progress`` holds the progress stage's records, whose fact references become
    fact numbers. Rows start as passed; the validate stage sets ``dq_passed`` / ``dq_failures``.
    """
    ids = {"report_id": report.report_id, "source_file": report.source_file}
    # the keys of a series of one report; the batch replaces them with the series' own
    sid = series_id(report.title, report.region, report.year)
    task_key = dict(zip((t.task_no for t in report.tasks), TaskKeyScan(sid).step(
        report.period_end_month, [(t.task_no, t.task) for t in report.tasks])))
    places: dict[tuple, int] = {}
    facts = []
    fact_no: dict[tuple[int, str, int], int] = {}     # (task_no, field, index in the cell) → fact_no
    groups: dict[tuple[int, str, int], int] = {}
    for task in report.tasks:
        for field in FIELDS_OF_TASK:
            cell = getattr(task, field)
            for index, q in enumerate(quantities.get((task.task_no, field), ())):
                fact_no[(task.task_no, field, index)] = len(facts) + 1
                group = None
                if q.change_group is not None:
                    group = groups.setdefault((task.task_no, field, q.change_group), len(groups) + 1)
                parts = (task_key[task.task_no], field, q.metric or "", q.unit or "")
                places[parts] = n = places.get(parts, -1) + 1
                facts.append({
                    **ids, "fact_no": len(facts) + 1, "figure_key": figure_key(*parts, n),
                    "category_no": task.category_no, "task_no": task.task_no, "field": field,
                    "mention": q.mention, "start": q.start, "end": q.end,
                    "value": q.value, "value_high": q.value_high, "unit": q.unit,
                    "approx": q.approx, "dimension": q.dimension, "kind": kind_of(q, cell, field),
                    "metric": q.metric, "metric_start": q.metric_start,
                    "change": q.change, "change_role": q.change_role, "change_group": group,
                    "period_start_month": q.period_start_month or report.period_start_month,
                    "period_end_month": q.period_end_month or report.period_end_month,
                })
    rows = {
        "reports": [{
            **ids, "title": report.title, "series_id": sid,
            "region": report.region, "year": report.year,
            "period_start_month": report.period_start_month,
            "period_end_month": report.period_end_month,
            "declared_items": report.declared_items,
            "n_categories": len(report.categories), "n_tasks": len(report.tasks),
            "n_facts": len(facts), "encoding": report.encoding, "layout": report.layout,
            "sha256": report.sha256,
        }],
        "tasks": [{
            **ids, "category_no": t.category_no, "category": t.category, "task_no": t.task_no,
            "task_key": task_key[t.task_no], "task": t.task, "status": t.status, "lead_units": list(t.lead_units),
            "line_start": t.line_start, "line_end": t.line_end,
        } for t in report.tasks],
        "facts": facts,
        "progress": [{
            **ids, "progress_no": n, "category_no": p.category_no, "task_no": p.task_no,
            "scope": p.scope, "metric": p.metric, "unit": p.unit, "dimension": p.dimension,
            **{f"{role}_fact_no": None if ref is None else fact_no.get((p.task_no, ref.field, ref.index))
               for role, ref in (("achieved", p.achieved), ("target", p.target), ("ratio", p.ratio))},
            "achieved_value": p.achieved_value, "target_value": p.target_value,
            "target_basis": p.target_basis, "stated_pct": p.stated_pct, "computed_pct": p.computed_pct,
            "completion_pct": p.completion_pct, "expected_pct": p.expected_pct, "status": p.status,
            "period_start_month": p.period_start_month, "period_end_month": p.period_end_month,
        } for n, p in enumerate(progress, 1)],
    }
    return {name: _to_arrow(name, rows[name]) for name in TABLES}


def _to_arrow(table: str, rows: list[dict]) -> pa.Table:
    """Rows (dicts without the dq columns) → a table of the table's schema, every row passed."""
    cols = {c: [r.get(c) for r in rows] for c in columns(table)}
    cols["dq_passed"] = [True] * len(rows)
    cols["dq_failures"] = [[] for _ in rows]
    return pa.Table.from_pydict(cols, schema=schema(table))
