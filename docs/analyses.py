"""The README's three analyses, runnable: ``python docs/analyses.py [PROCESSED_DIR]``."""
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


def targets_against_progress(facts: pd.DataFrame) -> pd.DataFrame:
    """2. Targets in the task text against progress in the status text, same task and unit."""
    keys = ["report_id", "task_no", "unit"]
    target = facts[facts.field == "task"].drop_duplicates(keys)
    progress = facts[facts.field == "status"].drop_duplicates(keys)
    both = target.merge(progress, on=keys, suffixes=("_target", "_progress"))
    both["progress_pct"] = (100 * both.value_progress / both.value_target).round(1)
    return both[["task_no", "mention_target", "mention_progress", "metric_progress", "progress_pct"]]


def metric_over_periods(facts: pd.DataFrame, reports: pd.DataFrame, metric: str) -> pd.DataFrame:
    """3. One metric over reporting periods: a column per period's last month.

    Monthly reports of one region (1-3月, 1-6月, 1-9月 …) sit side by side in the
    tables; a cell that gives its own period (1-8月份) carries it in the facts too."""
    hits = facts[facts.metric.str.contains(metric, na=False) & (facts.field == "status")]
    hits = hits.merge(reports[["report_id", "region", "year"]], on="report_id")
    return hits.pivot_table(index=["region", "year", "metric", "unit"], columns="period_end_month",
                            values="value", aggfunc="sum", observed=True)


def main(argv: list[str]) -> None:
    t = pipeline.load(argv[0] if argv else None)
    print(figures_by_dimension(t["facts"], t["tasks"]).head(8), end="\n\n")
    print(targets_against_progress(t["facts"]).head(8), end="\n\n")
    print(metric_over_periods(t["facts"], t["reports"], "支出"))


if __name__ == "__main__":
    main(sys.argv[1:])
