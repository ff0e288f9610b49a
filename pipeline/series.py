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

Within a series, the report before a report is the nearest one with a strictly earlier
period end (the last of them in series order): :func:`previous_reports`. Against it,
:func:`previous_values` gives each figure the value of the same ``figure_key`` there and
:func:`previous_completion` each progress record the completion of the record keyed by
the same figure (its achieved figure's key, else its ratio's). :func:`period_clashes`
names the earlier report whose period a report repeats (same end) or overlaps (they
intersect with different starts — not the nesting of 1-3月 in 1-6月).

Everything a report gets here depends only on the reports before it in series order and
on itself: a report added at the end of a series changes nothing before it, which is
what lets the batch (pipeline.batch.series_index) recompute a series from the first
report that changed, and store the results.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
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
    # Same number and same text is the best score there is: such pairs are taken first
    # by the greedy rule whenever each side has only one (most tasks of a monthly
    # report), so only the rest need comparing — the same result, at a fraction of the cost.
    exact: dict[tuple[int, frozenset], list[str]] = {}
    for key, known_no, known_text in known:
        exact.setdefault((known_no, _bigrams(known_text)), []).append(key)
    numbers = [task_no for task_no, _ in tasks]
    matched: dict[int, str] = {}
    for task_no, text in tasks:
        keys = exact.get((task_no, _bigrams(text)))
        if keys is not None and len(keys) == 1 and numbers.count(task_no) == 1:
            matched[task_no] = keys[0]
    used = set(matched.values())
    pairs = []
    for key, known_no, known_text in known:
        if key in used:
            continue
        for task_no, text in tasks:
            if task_no in matched:
                continue
            sim = similarity(known_text, text)
            same = known_no == task_no
            if sim >= MATCH or (same and sim >= MATCH_SAME_NO):
                pairs.append((sim + _SAME_NO_BONUS * same, key, task_no))
    for _, key, task_no in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if key not in used and task_no not in matched:
            matched[task_no] = key
            used.add(key)
    return matched


ORDER = ["period_end_month", "period_start_month", "report_id"]   # series order, after series_id


def _month(v) -> int:
    return -1 if v is None or v != v else int(v)


def order_key(end, start, report_id: str) -> tuple[int, int, str]:
    """A report's place in its series: period end, then start, then report id (an
    unknown month first)."""
    return (_month(end), _month(start), str(report_id))


class TaskKeyScan:
    """The task-key matching of one series, report by report in series order; its state
    is the latest (task_no, text) of every key so far."""

    def __init__(self, series_id: str) -> None:
        self.series_id = series_id
        self.latest: dict[str, tuple[int, str]] = {}

    def copy(self) -> "TaskKeyScan":
        scan = TaskKeyScan(self.series_id)
        scan.latest = dict(self.latest)
        return scan

    def step(self, period_end, tasks: Sequence[tuple[int, str]]) -> list[str]:
        """The keys of the next report's tasks, (task_no, text), in their order."""
        matched = match_tasks([(k, n, t) for k, (n, t) in self.latest.items()], tasks)
        stamp = f"{_month(period_end):02d}" if _month(period_end) >= 0 else "00"
        keys = []
        for task_no, text in tasks:
            key = matched.get(task_no)
            if key is None:
                key = f"{self.series_id}#{stamp}-{task_no}"
                while key in self.latest:         # two reports of one series ending the same month
                    key += "'"
            keys.append(key)
            self.latest[key] = (task_no, text)
        return keys


def task_keys(reports: pd.DataFrame, tasks: pd.DataFrame,
              scans: dict[str, TaskKeyScan] | None = None) -> pd.Series:
    """The task key of every row of ``tasks`` (aligned with its index), matched within
    each series of ``reports`` (which needs ``series_id``), in series order.

    ``scans`` (series_id → scan) continues a scan over reports that come after those it
    has seen, and is left holding the state after ``reports``; without it every series
    starts from nothing — the definition the stored keys are tested against."""
    import pandas as pd

    scans = {} if scans is None else scans
    keys = pd.Series(pd.NA, index=tasks.index, dtype="object")
    order = reports.sort_values(["series_id", *ORDER], kind="stable", na_position="first")
    by_report = {rid: group for rid, group in tasks.groupby("report_id", observed=True, sort=False)}
    for sid, series in order.groupby("series_id", observed=True, sort=False):
        scan = scans.setdefault(sid, TaskKeyScan(sid))
        for report in series.itertuples():
            rows = by_report.get(report.report_id)
            if rows is None:
                continue
            pairs = list(zip(rows["task_no"].astype(int), rows["task"].astype(str)))
            keys[rows.index] = scan.step(report.period_end_month, pairs)
    return keys


def figure_key(task_key: str, field: str, metric: str, unit: str, n: int) -> str:
    """``task_key|field|metric|unit|n``: one figure's key."""
    return f"{task_key}|{field}|{metric}|{unit}|{n}"


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


def _in_order(reports: pd.DataFrame):
    """Each series' reports in series order: (series_id, [(index, start, end, report_id)])."""
    series: dict[str, list] = {}
    for index, sid, start, end, rid in zip(reports.index, reports["series_id"], reports["period_start_month"],
                                           reports["period_end_month"], reports["report_id"]):
        series.setdefault(sid, []).append((order_key(end, start, rid), index, _month(start), _month(end), str(rid)))
    for sid, rows in series.items():
        yield sid, [row[1:] for row in sorted(rows)]


def previous_reports(reports: pd.DataFrame) -> pd.Series:
    """For each row of ``reports`` (series_id, period months, report_id): the report of
    its series just before it — the nearest strictly earlier period end, the last of
    those in series order; null for the first period, or an unknown end."""
    import pandas as pd

    out = pd.Series(None, index=reports.index, dtype="object")
    for _, rows in _in_order(reports):
        last_of_end: dict[int, str] = {}      # period end → the last report ending then, so far
        for index, _, end, rid in rows:
            earlier = [e for e in last_of_end if e < end]
            if end >= 0 and earlier:
                out[index] = last_of_end[max(earlier)]
            if end >= 0:
                last_of_end[end] = rid
    return out


def period_clashes(reports: pd.DataFrame) -> pd.Series:
    """For each report, the earlier report of its series (in series order) whose period
    it repeats — ``repeats <id> (1–9月)``, the same end — or overlaps — ``overlaps <id>
    (1–6月)``, periods that intersect with different starts (1-6月 then 4-9月; 1-3月 then
    1-6月 is the normal nesting of year-to-date reports); null when none."""
    import pandas as pd

    out = pd.Series(None, index=reports.index, dtype="object")
    for _, rows in _in_order(reports):
        last_of_period: dict[tuple[int, int], str] = {}   # (start, end) → its last report so far
        for index, start, end, rid in rows:
            if start < 0 or end < 0:
                continue
            same_end = [p for p in last_of_period if p[1] == end]
            overlaps = [p for p in last_of_period
                        if p[1] != end and p[0] != start and p[0] <= end and start <= p[1]]
            if same_end or overlaps:
                kind, period = (("repeats", max(same_end)) if same_end
                                else ("overlaps", max(overlaps, key=lambda p: (p[1], p[0]))))
                out[index] = f"{kind} {last_of_period[period]} ({period[0]}–{period[1]}月)"
            last_of_period[(start, end)] = rid
    return out


def previous_values(facts: pd.DataFrame, previous: Mapping[str, str | None]) -> pd.Series:
    """For each row of ``facts`` (report_id, figure_key, value): the value of the same
    figure_key in the report before it (``previous``: report id → previous report id);
    NaN where there is none."""
    import pandas as pd

    prev = facts["report_id"].astype("object").map(lambda r: previous.get(r))
    first = (facts.assign(report_id=facts["report_id"].astype("object"))
             .drop_duplicates(["report_id", "figure_key"]).set_index(["report_id", "figure_key"])["value"])
    keys = pd.MultiIndex.from_arrays([prev, facts["figure_key"].astype("object")])
    return pd.Series(first.reindex(keys).to_numpy(dtype="float64"), index=facts.index)


def progress_keys(progress: pd.DataFrame, facts: pd.DataFrame) -> pd.Series:
    """The key of each progress record: the figure_key of its achieved fact, else of its
    ratio fact; null with neither."""
    import pandas as pd

    key_of = dict(zip(zip(facts["report_id"].astype("object"), facts["fact_no"].astype(int)),
                      facts["figure_key"].astype("object")))
    out = []
    for rid, achieved, ratio in zip(progress["report_id"].astype("object"), progress["achieved_fact_no"],
                                    progress["ratio_fact_no"]):
        fact = achieved if not pd.isna(achieved) else ratio
        out.append(None if pd.isna(fact) else key_of.get((rid, int(fact))))
    return pd.Series(out, index=progress.index, dtype="object")


def previous_completion(progress: pd.DataFrame, facts: pd.DataFrame,
                        previous: Mapping[str, str | None]) -> pd.Series:
    """For each progress record: the completion_pct of the record with the same key
    (:func:`progress_keys`) in the report before it; NaN where there is none."""
    import pandas as pd

    keys = progress_keys(progress, facts)
    rids = progress["report_id"].astype("object")
    first: dict[tuple, float] = {}
    for rid, key, pct in zip(rids, keys, progress["completion_pct"]):
        if key is not None:
            first.setdefault((rid, key), pct)
    values = [first.get((previous.get(rid), key), float("nan")) if key is not None else float("nan")
              for rid, key in zip(rids, keys)]
    return pd.Series(values, index=progress.index, dtype="float64")


def context(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.Series]:
    """Everything this module gives, over whole series from nothing: ``task_key`` (aligned
    with tables["tasks"]), ``figure_key`` and ``previous_value`` (facts),
    ``previous_report_id`` and ``period_clash`` (reports), ``previous_completion_pct``
    (progress)."""
    import pandas as pd

    reports, tasks, facts = tables["reports"], tables["tasks"], tables["facts"]
    task_key = task_keys(reports, tasks)
    key_of = dict(zip(zip(tasks["report_id"].astype("object"), tasks["task_no"].astype(int)), task_key))
    aligned = pd.Series([key_of.get((r, int(n))) for r, n in zip(facts["report_id"].astype("object"),
                                                                   facts["task_no"])], index=facts.index, dtype="object")
    figure_key = figure_keys(facts, aligned)
    previous = previous_reports(reports)
    prev_of = dict(zip(reports["report_id"].astype("object"), previous))
    facts = facts.assign(figure_key=figure_key)
    return {"task_key": task_key, "figure_key": figure_key,
            "previous_value": previous_values(facts, prev_of),
            "previous_report_id": previous, "period_clash": period_clashes(reports),
            "previous_completion_pct": previous_completion(tables["progress"], facts, prev_of)}

