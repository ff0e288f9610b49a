"""Series: the reports of one region, year and plan, and the keys that follow a task and a
figure across them.

A series is the reports whose title, without its period, is the same plan, of the same
region and year (1-3月, 1-6月, 1-9月, 全年 of 临沂市2021年度20项重点民生实事推进情况表):
:func:`series_id`, a pure function of a report's title metadata, stored in
``reports.series_id``.

Within a series, ordered by period end (then start, then report id), :func:`task_keys`
gives each task a key that stays the same across periods. Each report's tasks are matched
against the tasks already keyed (the latest text of each key), by:

- **similarity**: the Dice coefficient of the character bigrams of the task texts
  (工作任务, as simplified characters, punctuation and spaces removed);
- **score** = similarity + 0.1 when the task numbers agree; pairs are taken greedily,
  highest score first, each task and key at most once;
- a pair is a match when its similarity is at least ``MATCH`` (0.6), or at least
  ``MATCH_SAME_NO`` (0.4) with the same number — so a renumbered task (an inserted or
  dropped task before it) keeps its key by its text, and a slightly reworded one by its
  text and number;
- a task that matches nothing starts a new key: ``<series_id>#<period end:02>-<task_no>``
  of the report it first appears in (unique within the series by construction).

:func:`figure_keys` keys each figure as ``task_key | field | metric | unit | n``, n its
place among the task's figures of the same field, metric and unit (0-based): the same
figure of the same task in another period gets the same key.

Keys depend on the whole series, so they are computed where the series is whole: in the
facts view (:func:`pipeline.facts_view`), from the tables :func:`pipeline.load` returns.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from . import vocab

if TYPE_CHECKING:
    import pandas as pd

MATCH = 0.6
MATCH_SAME_NO = 0.4
_SAME_NO_BONUS = 0.1
_NOT_TEXT = re.compile(r"[\W_]+")
_PERIOD_TAIL = re.compile(r"[份底末]")
_EMPTY_BRACKETS = re.compile(r"[(（\[【〔]\s*[)）\]】〕]")


def plan_title(title: str) -> str:
    """The title without its period phrases (1-9月份, 截至9月底, 上半年, 全年 …), empty
    brackets and spaces: what the reports of one series share."""
    text = title.translate(vocab.HALF_WIDTH)
    spans = [(m.start(), m.end()) for m, _, _ in vocab.periods(text)]
    out, at = [], 0
    for start, end in spans:
        out.append(text[at:start])
        at = end
        tail = _PERIOD_TAIL.match(text, at)
        if tail:
            at = tail.end()
    out.append(text[at:])
    plain = _EMPTY_BRACKETS.sub("", "".join(out))
    return re.sub(r"\s+", "", plain).strip("-—–:：,，")


def series_id(title: str, region: str | None, year: int | None) -> str:
    """``<region>|<year>|<title without its period>`` (empty where unknown)."""
    return f"{region or ''}|{'' if year is None else year}|{plan_title(title)}"


@lru_cache(maxsize=1 << 16)      # a task's text is compared with every key of its series
def _bigrams(text: str) -> frozenset[str]:
    text = _NOT_TEXT.sub("", vocab.simplified(text or ""))
    return frozenset(text[i:i + 2] for i in range(len(text) - 1)) or frozenset([text])


def similarity(a: str, b: str) -> float:
    """Dice coefficient of the character bigrams of two task texts (0 … 1)."""
    x, y = _bigrams(a), _bigrams(b)
    return 2 * len(x & y) / (len(x) + len(y)) if x or y else 1.0


def match_tasks(known: Sequence[tuple[str, int, str]], tasks: Sequence[tuple[int, str]]) -> dict[int, str]:
    """Match a report's tasks, (task_no, text), to keyed ones, (key, task_no, text):
    task_no → key for each match (the rules in the module docstring)."""
    pairs = []
    for key, known_no, known_text in known:
        for task_no, text in tasks:
            sim = similarity(known_text, text)
            same = known_no == task_no
            if sim >= MATCH or (same and sim >= MATCH_SAME_NO):
                pairs.append((sim + _SAME_NO_BONUS * same, key, task_no))
    matched: dict[int, str] = {}
    used: set[str] = set()
    for _, key, task_no in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if key not in used and task_no not in matched:
            matched[task_no] = key
            used.add(key)
    return matched


def task_keys(reports: pd.DataFrame, tasks: pd.DataFrame) -> pd.Series:
    """The task key of every row of ``tasks`` (aligned with its index), matched within
    each series of ``reports`` (which needs ``series_id``)."""
    import pandas as pd

    keys = pd.Series(pd.NA, index=tasks.index, dtype="object")
    order = reports.sort_values(["series_id", "period_end_month", "period_start_month", "report_id"],
                                kind="stable", na_position="first")
    by_report = {rid: group for rid, group in tasks.groupby("report_id", observed=True, sort=False)}
    for _, series in order.groupby("series_id", observed=True, sort=False):
        latest: dict[str, tuple[int, str]] = {}          # key → (task_no, text) where last seen
        for report in series.itertuples():
            rows = by_report.get(report.report_id)
            if rows is None:
                continue
            pairs = list(zip(rows["task_no"].astype(int), rows["task"].astype(str)))
            matched = match_tasks([(k, n, t) for k, (n, t) in latest.items()], pairs)
            end = report.period_end_month
            stamp = f"{int(end):02d}" if pd.notna(end) else "00"
            for index, (task_no, text) in zip(rows.index, pairs):
                key = matched.get(task_no)
                if key is None:
                    key = f"{report.series_id}#{stamp}-{task_no}"
                    while key in latest:         # two reports of one series ending the same month
                        key += "'"
                keys[index] = key
                latest[key] = (task_no, text)
    return keys


def figure_keys(facts: pd.DataFrame, task_key: pd.Series) -> pd.Series:
    """``task_key|field|metric|unit|n`` for every row of ``facts`` (``task_key`` aligned with
    it), n the figure's place among its task's figures of the same field, metric and unit."""
    import pandas as pd

    parts = pd.DataFrame({
        "task_key": task_key.astype("object").fillna(""),
        "field": facts["field"].astype("object").fillna(""),
        "metric": facts["metric"].astype("object").fillna(""),
        "unit": facts["unit"].astype("object").fillna(""),
    }, index=facts.index)
    order = facts.sort_values(["report_id", "fact_no"], kind="stable").index
    # the place counts within a report: the same key in another report starts again at 0
    n = parts.loc[order].assign(report_id=facts.loc[order, "report_id"].astype("object")).groupby(
        ["report_id", "task_key", "field", "metric", "unit"], sort=False).cumcount()
    n = n.reindex(facts.index)
    return parts.task_key + "|" + parts.field + "|" + parts.metric + "|" + parts.unit + "|" + n.astype(str)
