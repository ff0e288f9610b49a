"""Views analysts reach for, built on :func:`pipeline.load`, and their export.

:func:`facts_view` is one row per fact with what an analyst otherwise joins by hand:
the task text and category, the report's region, year, title and period, and where the
fact is the achieved figure, the target or the ratio of a progress record, that record's
completion and status. Nothing here decides anything the pipeline has not already decided.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .schema import schema

if TYPE_CHECKING:
    import pandas as pd

PROGRESS_ROLES = ("achieved", "target", "ratio")

# The columns of the facts view, in order: (column, table it comes from, column there),
# or a column of the view's own with its (中文, English) description.
_REPORT_COLUMNS = [("region", "reports", "region"), ("year", "reports", "year"),
                   ("report_period_start_month", "reports", "period_start_month"),
                   ("report_period_end_month", "reports", "period_end_month"),
                   ("title", "reports", "title")]
_TASK_COLUMNS = [("category", "tasks", "category"), ("task", "tasks", "task"),
                 ("lead_units", "tasks", "lead_units")]
_PROGRESS_COLUMNS = [("progress_no", "progress", "progress_no"), ("progress_role", None, None),
                     ("completion_pct", "progress", "completion_pct"),
                     ("expected_pct", "progress", "expected_pct"),
                     ("progress_status", "progress", "status")]
_OWN = {
    "report_period_start_month": ("报告统计期起始月", "first month of the report's period (not the figure's own)"),
    "report_period_end_month": ("报告统计期截止月", "last month of the report's period (not the figure's own)"),
    "progress_role": ("在进度记录中的角色：achieved 完成数 / target 目标数 / ratio 完成比例",
                      "the fact's role in its progress record: achieved, target or ratio; null when in none"),
}


def _facts_columns() -> list[tuple[str, str | None, str | None]]:
    facts = [(f.name, "facts", f.name) for f in schema("facts")]
    head = [c for c in facts if c[0] in ("report_id",)]
    body = [c for c in facts if c[0] not in ("report_id", "source_file", "dq_passed", "dq_failures")]
    tail = [c for c in facts if c[0] in ("dq_passed", "dq_failures", "source_file")]
    # the task's own columns go right after task_no
    at = [c[0] for c in body].index("task_no") + 1
    body = body[:at] + _TASK_COLUMNS + body[at:]
    return head + _REPORT_COLUMNS + body + _PROGRESS_COLUMNS + tail


VIEW_COLUMNS = _facts_columns()


def describe(table: str, column: str) -> tuple[str, str]:
    """The (中文, English) description of a column of a table or of the facts view."""
    if table == "facts_view":
        for name, source, source_column in VIEW_COLUMNS:
            if name == column:
                if source is None:
                    return _OWN[name]
                if name in _OWN:
                    return _OWN[name]
                table, column = source, source_column
                break
        else:
            raise KeyError(column)
    meta = schema(table).field(column).metadata
    return meta[b"description_zh"].decode(), meta[b"description_en"].decode()


def facts_view(processed_dir: Path | str | None = None, *,
               tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """One row per fact, denormalised: the fact, its task text, category and lead units,
    the report's region, year, period and title, and — where the fact is the achieved
    figure, the target or the ratio of a progress record — that record's number, the
    fact's role in it, its completion, expected mark and status.

    Reads ``processed_dir`` through :func:`pipeline.load` (default: the project's
    processed/), or takes the tables ``load`` returned. A fact in several records (a
    target serving several parts) shows the first of them. Rows in the order of
    ``load``'s facts: by report, then fact number.
    """
    import pandas as pd

    from .export import load

    t = tables if tables is not None else load(processed_dir)
    facts = t["facts"]
    reports = t["reports"][["report_id", *(c for _, _, c in _REPORT_COLUMNS)]].rename(
        columns={c: n for n, _, c in _REPORT_COLUMNS})
    tasks = t["tasks"][["report_id", "task_no", *(c for _, _, c in _TASK_COLUMNS)]]
    p = t["progress"]
    roles = pd.concat([
        p[p[f"{role}_fact_no"].notna()].assign(
            fact_no=lambda d, role=role: d[f"{role}_fact_no"].astype("int32"), progress_role=role)
        for role in PROGRESS_ROLES], ignore_index=True)
    roles = (roles.sort_values(["report_id", "fact_no", "progress_no"], kind="stable")
             .drop_duplicates(["report_id", "fact_no"])
             .rename(columns={"status": "progress_status"})
             [["report_id", "fact_no", "progress_no", "progress_role", "completion_pct", "expected_pct",
               "progress_status"]])
    view = (facts.merge(reports, on="report_id", how="left")
            .merge(tasks, on=["report_id", "task_no"], how="left")
            .merge(roles, on=["report_id", "fact_no"], how="left"))
    view["progress_no"] = view["progress_no"].astype("Int32")
    view["progress_role"] = pd.Categorical(view["progress_role"], categories=list(PROGRESS_ROLES))
    return view[[name for name, _, _ in VIEW_COLUMNS]].reset_index(drop=True)

