"""The README's analyses — the queries of docs/analysis.ipynb without the charts:
``python docs/analyses.py [PROCESSED_DIR]``."""
from __future__ import annotations

import sys

import pandas as pd

import pipeline

pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 12)
pd.set_option("display.unicode.east_asian_width", True)
pd.set_option("display.float_format", "{:,.1f}".format)


def report_labels(reports: pd.DataFrame) -> pd.Series:
    """report_id → region, year and the report's own period: 临沂市2021 1-9月."""
    return (reports.region.astype(str) + reports.year.astype(str) + " " + reports.period_start_month.astype(str)
            + "-" + reports.period_end_month.astype(str) + "月").set_axis(reports.report_id)


def money_by_category(v: pd.DataFrame, label: pd.Series) -> pd.DataFrame:
    """1. Money spent or raised by category, in 万元, a column per report: totals in 元 of
    the progress cells only (no targets, per-person amounts, increments or rates), and
    never two reports added (a report's figures run from January to its last month)."""
    money = v[(v.kind == "total") & (v.unit == "元") & (v.field == "status")]
    table = (money.assign(report=money.report_id.map(label))
             .pivot_table(index="category", columns="report", values="value", aggfunc="sum", observed=True) / 1e4)
    return table.sort_values(table.columns[-1])


def behind_schedule(progress: pd.DataFrame, tasks: pd.DataFrame, label: pd.Series) -> pd.DataFrame:
    """2. Which tasks are behind schedule: completion more than 10 points under the share
    of the year the report covers (the status margins are in the README)."""
    p = (progress.merge(tasks[["report_id", "task_no", "task"]], on=["report_id", "task_no"])
         .assign(report=lambda p: p.report_id.map(label)))
    return p[p.status == "behind"][["report", "task_no", "task", "metric", "completion_pct", "expected_pct"]]


def figures_over_periods(v: pd.DataFrame, task_key: str) -> pd.DataFrame:
    """3. One task's figures over periods: a row per figure_key, a column per report's last
    month (the report's period, not the figure's own), one value per cell — nothing added."""
    return v[v.task_key == task_key].pivot_table(index=["figure_key"], columns="report_period_end_month",
                                                 values="value", aggfunc="first")


def main(argv: list[str]) -> None:
    t = pipeline.load(argv[0] if argv else None)
    v = pipeline.facts_view(tables=t)
    label = report_labels(t["reports"])
    print(money_by_category(v, label), end="\n\n")
    print(behind_schedule(t["progress"], t["tasks"], label), end="\n\n")
    first = v[v.task_no == 1].task_key.iloc[0]
    print(figures_over_periods(v, first).rename(index=lambda k: k.split("#", 1)[1]))


if __name__ == "__main__":
    main(sys.argv[1:])
