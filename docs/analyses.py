"""The README's four analyses, runnable: ``python docs/analyses.py [PROCESSED_DIR]``."""
from __future__ import annotations

import sys

import pandas as pd

import pipeline

pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 12)
pd.set_option("display.unicode.east_asian_width", True)
pd.set_option("display.float_format", "{:,.1f}".format)


def figures_by_dimension(facts: pd.DataFrame, tasks: pd.DataFrame) -> pd.DataFrame:
    """1. How many figures of each dimension each category reports."""
    categories = tasks.drop_duplicates(["report_id", "category_no"])[["report_id", "category_no", "category"]]
    return (facts.merge(categories, on=["report_id", "category_no"])
            .pivot_table(index="category", columns="dimension", values="fact_no",
                         aggfunc="count", fill_value=0, observed=True))


def behind_schedule(progress: pd.DataFrame, tasks: pd.DataFrame) -> pd.DataFrame:
    """2. Which tasks are behind schedule: completion more than 10 points under the
    share of the year elapsed (the status margins are in the README)."""
    behind = progress[progress.status == "behind"].merge(
        tasks[["report_id", "task_no", "task"]], on=["report_id", "task_no"])
    return behind[["task_no", "task", "metric", "completion_pct", "expected_pct"]]


def completion_by_category(progress: pd.DataFrame, tasks: pd.DataFrame) -> pd.DataFrame:
    """3. Completion by category: records per status and the median completion."""
    categories = tasks.drop_duplicates(["report_id", "category_no"])[["report_id", "category_no", "category"]]
    p = progress.merge(categories, on=["report_id", "category_no"])
    table = p.pivot_table(index="category", columns="status", values="progress_no",
                          aggfunc="count", fill_value=0, observed=True)
    table["median_pct"] = p.groupby("category", observed=True).completion_pct.median()
    return table


def metric_over_periods(facts: pd.DataFrame, reports: pd.DataFrame, metric: str) -> pd.DataFrame:
    """4. One metric over reporting periods: a column per report's last month.

    Only totals are added up (``kind == "total"``: no rates, per-person amounts, changes
    or targets), per unit; a column is the period of the report the figure is in, so a
    1-8月份 figure inside a 1-9月 report sits in that report's column."""
    hits = facts[facts.metric.str.contains(metric, na=False) & (facts.kind == "total")]
    hits = hits.drop(columns=["period_start_month", "period_end_month"]).merge(
        reports[["report_id", "region", "year", "period_end_month"]], on="report_id")
    return hits.pivot_table(index=["region", "year", "metric", "unit"], columns="period_end_month",
                            values="value", aggfunc="sum", observed=True)


def main(argv: list[str]) -> None:
    t = pipeline.load(argv[0] if argv else None)
    print(figures_by_dimension(t["facts"], t["tasks"]).head(8), end="\n\n")
    print(behind_schedule(t["progress"], t["tasks"]), end="\n\n")
    print(completion_by_category(t["progress"], t["tasks"]), end="\n\n")
    print(metric_over_periods(t["facts"], t["reports"], "支出"))


if __name__ == "__main__":
    main(sys.argv[1:])
