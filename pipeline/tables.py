"""Records → Arrow tables, in one place, against the one schema (pipeline.schema)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyarrow as pa

from .records import Quantity, Report
from .schema import TABLES, columns, schema

FIELDS_OF_TASK = ("task", "status")   # the cells a task row's facts come from, in this order


def build_tables(report: Report,
                 quantities: Mapping[tuple[int, str], Sequence[Quantity]]) -> dict[str, pa.Table]:
    """The reports, tasks and facts tables of one report.

    ``quantities`` maps (task_no, field) to the quantities extracted from that cell.
    Rows start as passed; the validate stage sets ``dq_passed`` / ``dq_failures``.
    """
    ids = {"report_id": report.report_id, "source_file": report.source_file}
    facts = []
    groups: dict[tuple[int, str, int], int] = {}
    for task in report.tasks:
        for field in FIELDS_OF_TASK:
            for q in quantities.get((task.task_no, field), ()):
                group = None
                if q.change_group is not None:
                    group = groups.setdefault((task.task_no, field, q.change_group), len(groups) + 1)
                facts.append({
                    **ids, "fact_no": len(facts) + 1,
                    "category_no": task.category_no, "task_no": task.task_no, "field": field,
                    "mention": q.mention, "start": q.start, "end": q.end,
                    "value": q.value, "value_high": q.value_high, "unit": q.unit,
                    "approx": q.approx, "dimension": q.dimension,
                    "metric": q.metric, "metric_start": q.metric_start,
                    "change": q.change, "change_role": q.change_role, "change_group": group,
                    "period_start_month": q.period_start_month or report.period_start_month,
                    "period_end_month": q.period_end_month or report.period_end_month,
                })
    rows = {
        "reports": [{
            **ids, "title": report.title, "region": report.region, "year": report.year,
            "period_start_month": report.period_start_month,
            "period_end_month": report.period_end_month,
            "declared_items": report.declared_items,
            "n_categories": len(report.categories), "n_tasks": len(report.tasks),
            "n_facts": len(facts), "encoding": report.encoding, "layout": report.layout,
            "sha256": report.sha256,
        }],
        "tasks": [{
            **ids, "category_no": t.category_no, "category": t.category, "task_no": t.task_no,
            "task": t.task, "status": t.status, "lead_units": list(t.lead_units),
            "line_start": t.line_start, "line_end": t.line_end,
        } for t in report.tasks],
        "facts": facts,
    }
    return {name: _to_arrow(name, rows[name]) for name in TABLES}


def _to_arrow(table: str, rows: list[dict]) -> pa.Table:
    """Rows (dicts without the dq columns) → a table of the table's schema, every row passed."""
    cols = {c: [r.get(c) for r in rows] for c in columns(table)}
    cols["dq_passed"] = [True] * len(rows)
    cols["dq_failures"] = [[] for _ in rows]
    return pa.Table.from_pydict(cols, schema=schema(table))
