"""The derived columns: what a check needs that one row of GX cannot see.

Each derived column is made by one named function below, registered in ``RULES`` under
its table and the column(s) it makes; the suite expectation that reads it explains it in
``meta.derived``. Every rule sees one batch but groups by ``report_id``, so a row's
result depends only on its own report. Pure pandas/numpy: no GX, no I/O.

Memory stays linear in the input: a fact's cell text is a reference to the one string
of its task's cell, never a copy per fact.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import vocab
from .suites import ROW

Rule = Callable[["Batch"], Mapping[str, np.ndarray]]
RULES: dict[str, dict[tuple[str, ...], Rule]] = {"reports": {}, "tasks": {}, "facts": {}, "progress": {}}


def _rule(table: str, *columns: str):
    def register(fn: Rule) -> Rule:
        RULES[table][columns] = fn
        return fn
    return register


def derived_columns(table: str) -> set[str]:
    return {c for cols in RULES.get(table, {}) for c in cols}


# --- the batch as the rules see it ------------------------------------------------------

def frame(table: pa.Table) -> pd.DataFrame:
    """Arrow → pandas with dictionary columns decoded to plain strings, list columns
    left out, and the row position as ``_row``."""
    cols = {}
    for name, col in zip(table.column_names, table.columns):
        if pa.types.is_dictionary(col.type):
            col = pc.cast(col, pa.string())
        elif pa.types.is_list(col.type):
            continue
        cols[name] = col
    df = pa.table(cols).to_pandas() if cols else pd.DataFrame(index=range(table.num_rows))
    df[ROW] = np.arange(len(df))
    return df


@dataclass
class Batch:
    tables: Mapping[str, pa.Table]        # conformed Arrow tables
    frames: dict[str, pd.DataFrame]       # the same as pandas; rules add their columns here

    @property
    def facts(self) -> "_Facts":
        if "_facts" not in self.__dict__:
            self.__dict__["_facts"] = _Facts(self.frames["facts"], self.frames["tasks"])
        return self.__dict__["_facts"]


def derive(tables: Mapping[str, pa.Table]) -> Batch:
    """Every table as a frame with every derived column added (rules of a table the
    batch lacks are skipped)."""
    batch = Batch(tables, {name: frame(t) for name, t in tables.items()})
    for table, rules in RULES.items():
        df = batch.frames.get(table)
        if df is None:
            continue
        for columns, fn in rules.items():
            made = fn(batch)
            for c in columns:
                df[c] = made[c]
    return batch


def _as_str(values) -> list:
    return [None if v is None or (not isinstance(v, str) and pd.isna(v)) else v for v in values]


class _Facts:
    """Per-fact arrays the facts rules share, computed once."""

    def __init__(self, fdf: pd.DataFrame, tdf: pd.DataFrame):
        # one Python string per cell; each fact holds a reference to its cell's
        cells: dict[tuple, tuple] = {}
        for rid, tno, task, status in zip(tdf["report_id"].tolist(), tdf["task_no"].tolist(),
                                          _as_str(tdf["task"].tolist()), _as_str(tdf["status"].tolist())):
            cells.setdefault((rid, tno), (task, status))
        rid, tno, fld = fdf["report_id"].tolist(), fdf["task_no"].tolist(), fdf["field"].tolist()
        self.n = len(fdf)
        self.cell = np.empty(self.n, dtype=object)
        for i, key in enumerate(zip(rid, tno)):
            pair = cells.get(key)
            self.cell[i] = None if pair is None or fld[i] not in ("task", "status") else pair[fld[i] == "status"]
        self.report_id, self.task_no, self.field = rid, tno, fld
        self.start = fdf["start"].to_numpy(dtype="float64", na_value=np.nan)
        self.end = fdf["end"].to_numpy(dtype="float64", na_value=np.nan)
        self.mention = fdf["mention"].to_numpy(dtype=object, na_value=None)
        self.metric = fdf["metric"].to_numpy(dtype=object, na_value=None)
        self.metric_start = fdf["metric_start"].to_numpy(dtype="float64", na_value=np.nan)
        self.unit = fdf["unit"].to_numpy(dtype=object, na_value=None)
        self.dimension = fdf["dimension"].to_numpy(dtype=object, na_value=None)
        self.value = fdf["value"].to_numpy(dtype="float64", na_value=np.nan)
        self.change = fdf["change"].to_numpy(dtype=object, na_value=None)
        self.before = [_clause_before(c, int(s)) if s == s and isinstance(c, str) else ""
                       for c, s in zip(self.cell, self.start)]
        self.frame = fdf

    def slice(self, i: int, s: float, e: float) -> str | None:
        c = self.cell[i]
        if not isinstance(c, str) or s != s or e != e or not 0 <= s <= e <= len(c):
            return None
        return c[int(s):int(e)]


_CLAUSE_BREAK = re.compile(r".*[，,。；;：:！!？?\n]")


def _clause_before(cell: str, start: int) -> str:
    """Up to 30 characters before ``start``, from the last clause break."""
    if start <= 0:
        return ""
    prefix = cell[max(0, start - 30):start]
    m = _CLAUSE_BREAK.match(prefix)
    return prefix[m.end():] if m else prefix


@cache
def _cues() -> dict[str, re.Pattern]:
    """The clause cue patterns, from resources/cues.tsv and the change verbs."""
    lex = vocab.lexicon()
    words, alt = lex.cues, vocab.alternation
    plan, scope = alt(words["plan"]), alt(words["plan_scope"])
    return {
        # 完成率 …, 为(年度)计划…, 占…计划, …计划的, 完成(了) right before the figure
        "completion": re.compile(rf"{alt(words['completion'])}|为(?:{scope})?{plan}"
                                 rf"|占(?:{scope})?[^，,。；;]{{0,8}}{plan}|{plan}(?:数)?的$|完成了?$"),
        # a change verb or comparison word ending the clause (增长了), or a rate of change
        "change": re.compile(rf"(?:{alt([*lex.change_verbs, *words['comparison']])})了?$"
                             rf"|{alt(words['rate_of_change'])}"),
        "cumulative": re.compile(alt(words["cumulative"])),
        "stage": re.compile(rf"({alt(words['start'])})|({alt(words['finish'])})"),
        "stage_words": re.compile(alt([*words["start"], *words["finish"], *words["stage_word"]])),
    }


# --- reports ------------------------------------------------------------------------------

def _counts(ids: pd.Series, of: pd.Series) -> np.ndarray:
    return of.map(ids.value_counts()).fillna(0).astype("int64").to_numpy()


@_rule("reports", "tasks_found", "facts_found")
def rows_found(b: Batch):
    """Rows of the tasks and facts tables carrying the report's id."""
    rep = b.frames["reports"]
    return {"tasks_found": _counts(b.frames["tasks"]["report_id"], rep["report_id"]),
            "facts_found": _counts(b.frames["facts"]["report_id"], rep["report_id"])}


@_rule("reports", "declared_items_mismatch")
def declared_items_mismatch(b: Batch):
    """The title's count (20项, 十件) names the categories (the seed: 20) or the tasks
    (成都 2022: 十件 = 10 tasks in 4 categories); null when it matches either or is absent."""
    rep = b.frames["reports"]
    tasks_found = _counts(b.frames["tasks"]["report_id"], rep["report_id"])

    def mismatch(declared, n_categories, n_tasks):
        if pd.isna(declared) or declared in (n_categories, n_tasks):
            return None
        return f"title declares {int(declared)}; found {n_categories} categories, {n_tasks} tasks"

    return {"declared_items_mismatch": np.array(
        [mismatch(d, c, t) for d, c, t in zip(rep["declared_items"], rep["n_categories"], tasks_found)],
        dtype=object)}


# --- tasks ----------------------------------------------------------------------------------

@_rule("tasks", "task_no_expected")
def task_no_expected(b: Batch):
    """The task's rank among its report's task numbers: 1, 2, 3 … when contiguous."""
    tdf = b.frames["tasks"]
    return {"task_no_expected": tdf.groupby("report_id", dropna=False)["task_no"].rank(method="dense").to_numpy()}


def _lead_units(b: Batch) -> pa.Array:
    t = b.tables["tasks"]
    return t["lead_units"].combine_chunks() if t.num_rows else pa.array([], pa.list_(pa.string()))


@_rule("tasks", "n_lead_units")
def n_lead_units(b: Batch):
    """How many lead units the task names; null in a prose report, which often names none."""
    counts = pc.fill_null(pc.list_value_length(_lead_units(b)), 0).to_numpy(zero_copy_only=False).astype(object)
    rep = b.frames["reports"]
    prose = set(rep.loc[rep["layout"] == "prose", "report_id"]) if "layout" in rep else set()
    if prose:
        counts[b.frames["tasks"]["report_id"].isin(prose).to_numpy()] = None
    return {"n_lead_units": counts}


_TRAILING_NOTE = re.compile(r"\s*[（(][^（()）]*[)）]\s*$")   # 市教育局（市体育局）


@cache
def _agency_pattern() -> re.Pattern:
    words = sorted(set(vocab.lexicon().agency_suffixes), key=len, reverse=True)
    return re.compile("(?:" + "|".join(map(re.escape, words)) + ")$")


@_rule("tasks", "non_agency_lead_units")
def non_agency_lead_units(b: Batch):
    """The lead units that end in no agency word (resources/agency_suffixes.txt), joined
    with 、; null when every one does."""
    units = _lead_units(b)
    flat = units.flatten().to_pylist()
    parents = pc.list_parent_indices(units).to_numpy(zero_copy_only=False)
    pat = _agency_pattern()
    col = np.full(b.tables["tasks"].num_rows, None, dtype=object)
    bad: dict[int, list[str]] = {}
    for p, u in zip(parents, flat):
        if u is None or not pat.search(_TRAILING_NOTE.sub("", u.strip())):
            bad.setdefault(int(p), []).append("∅" if u is None else (u or "''"))
    for p, us in bad.items():
        col[p] = "、".join(us)
    return {"non_agency_lead_units": col}


# --- facts ----------------------------------------------------------------------------------

@_rule("facts", "span_text")
def span_text(b: Batch):
    """The cell text at [start:end] (null when the cell is missing or the span outside it)."""
    f = b.facts
    return {"span_text": np.array([f.slice(i, f.start[i], f.end[i]) for i in range(f.n)], dtype=object)}


@_rule("facts", "metric_text")
def metric_text(b: Batch):
    """The cell text at metric_start, as long as the metric."""
    f = b.facts
    return {"metric_text": np.array([None if m is None else f.slice(i, f.metric_start[i], f.metric_start[i] + len(m))
                                     for i, m in enumerate(f.metric)], dtype=object)}


@_rule("facts", "char_before", "edge_after")
def edges(b: Batch):
    """The character before the mention, and the mention's last character with the one
    after it: a figure cut out of a longer number (3千6百 read as 6百) or cut before its
    rate unit (7.2张 of 7.2张/千人) shows at its edges."""
    f = b.facts
    before = [f.slice(i, s - 1, s) or "" if s == s and s >= 1 else "" for i, s in enumerate(f.start)]
    after = [(m[-1:] if isinstance(m, str) else "") + (f.slice(i, e, e + 1) or "")
             for i, (m, e) in enumerate(zip(f.mention, f.end))]
    return {"char_before": np.array(before, dtype=object), "edge_after": np.array(after, dtype=object)}


@_rule("facts", "unit_known")
def unit_known(b: Batch):
    """The unit is one the vocabulary's unit grammar writes (vocab.is_unit)."""
    f = b.facts
    known = {u: vocab.is_unit(u) for u in set(f.unit) if u is not None}
    return {"unit_known": np.array([known.get(u) for u in f.unit], dtype=object)}


@_rule("facts", "unit_dimension")
def unit_dimension(b: Batch):
    """The dimension the vocabulary gives the unit; a fraction (三分之二, unit "") is a ratio."""
    f = b.facts

    def dim(u, m):
        if u is None:
            return None
        return vocab.RATIO if u == "" and m and "分之" in m else vocab.dimension_of(u)

    return {"unit_dimension": np.array([dim(u, m) for u, m in zip(f.unit, f.mention)], dtype=object)}


_PERCENT_WORDS = {"%": ("百分之", "%", "％"), "％": ("百分之", "%", "％"), "‰": ("千分之", "‰")}


@_rule("facts", "unit_in_mention")
def unit_in_mention(b: Batch):
    """The unit is written in the mention (百分之四十 counts for %), so it was not guessed."""
    f = b.facts

    def written(u, m):
        if u is None or m is None:
            return None
        m = m.translate(vocab.HALF_WIDTH)          # 20元／人 → unit 元/人
        return u == "" or u in m or any(w in m for w in _PERCENT_WORDS.get(u, ()))

    return {"unit_in_mention": np.array([written(u, m) for u, m in zip(f.unit, f.mention)], dtype=object)}


_SHARE_UNITS = {"%": 1.0, "％": 1.0, "‰": 0.1, "成": 10.0}


def _is_change(f: _Facts, i: int) -> bool:
    change = _cues()["change"]
    return f.change[i] is not None or bool(change.search(f.before[i]) or change.search(f.metric[i] or ""))


@_rule("facts", "share_percent")
def share_percent(b: Batch):
    """A share or rate in percent (30‰ → 3, 三成 → 30); null for a completion ratio
    (完成率, 为年度任务的…), a change or a percentage point, which may pass 100."""
    f = b.facts
    completion = _cues()["completion"]
    share = np.full(f.n, np.nan)
    for i in range(f.n):
        u = f.unit[i]
        if u in _SHARE_UNITS and f.dimension[i] != "percentage_point":
            if not (completion.search(f.before[i]) or completion.search(f.metric[i] or "") or _is_change(f, i)):
                share[i] = f.value[i] * _SHARE_UNITS[u]
    return {"share_percent": share}


@_rule("facts", "value_sign_checked")
def value_sign_checked(b: Batch):
    """The value, except that a change written with its minus sign (同比增长-2.3%,
    -3.2个百分点) counts as its size: extract keeps that sign."""
    f = b.facts
    signed = f.value.copy()
    for i in np.flatnonzero(f.value < 0):
        written = (f.mention[i] or "")[:1] in ("-", "−", "－")
        if written and (f.dimension[i] == "percentage_point" or _is_change(f, i)):
            signed[i] = -f.value[i]
    return {"value_sign_checked": signed}


def _stages(f: _Facts) -> np.ndarray:
    stage = np.full(f.n, None, dtype=object)
    pattern = _cues()["stage"]
    for i, b in enumerate(f.before):
        found = list(pattern.finditer(b)) if b else []
        if found:
            stage[i] = "start" if found[-1].group(1) else "finish"
    return stage


@_rule("facts", "stage", "started_value")
def started_value(b: Batch):
    """stage: start (开工 启动 …) or finish (完工 建成 完成 …), from the clause before the
    figure. started_value, on a finish figure: the largest start figure of the same
    cell, unit and subject (the metric without its stage words)."""
    f = b.facts
    stage = _stages(f)
    started = np.full(f.n, np.nan)
    words = _cues()["stage_words"]
    idx = np.flatnonzero(stage != None)  # noqa: E711 (object array)
    subject = {i: words.sub("", f.metric[i] or "").strip() for i in idx}
    exact: dict[tuple, float] = {}
    any_subject: dict[tuple, float] = {}
    key = {i: (f.report_id[i], f.task_no[i], f.field[i], f.unit[i]) for i in idx}
    for i in idx:
        if stage[i] == "start" and f.value[i] == f.value[i]:
            exact[key[i] + (subject[i],)] = max(exact.get(key[i] + (subject[i],), -np.inf), f.value[i])
            any_subject[key[i]] = max(any_subject.get(key[i], -np.inf), f.value[i])
    for i in idx:
        if stage[i] == "finish":
            v = exact.get(key[i] + (subject[i],))
            if v is None and not subject[i]:
                v = any_subject.get(key[i])
            if v is not None:
                started[i] = v
    return {"stage": stage, "started_value": started}


@_rule("facts", "before_value_rising", "before_value_falling", "change_pair_complete")
def change_pairs(b: Batch):
    """由…提高至…: the before and after figures of one change_group within a report.
    change_pair_complete: the group has exactly one before and one after figure. On the
    after figure, the before value — as before_value_falling when the change is a
    decrease, else before_value_rising; only when both share a unit (由2小时缩短到30分钟
    changes unit)."""
    fdf = b.frames["facts"]
    n = len(fdf)
    rising, falling = np.full(n, np.nan), np.full(n, np.nan)
    complete = np.full(n, None, dtype=object)
    group = fdf["change_group"].to_numpy(dtype=object, na_value=None)
    groups: dict[tuple, list[int]] = {}
    for i in np.flatnonzero(fdf["change_group"].notna().to_numpy()):
        groups.setdefault((b.facts.report_id[i], group[i]), []).append(int(i))
    if groups:
        f, role = b.facts, fdf["change_role"].to_numpy(dtype=object, na_value=None)
        change, unit, value = f.change, f.unit, f.value
        for rows in groups.values():
            by_role = {role[i]: i for i in rows}
            ok = len(rows) == 2 and set(by_role) == {"before", "after"}
            complete[rows] = ok
            if ok and unit[rows[0]] == unit[rows[1]]:
                after = by_role["after"]
                falling_ = any(change[i] == "decrease" for i in rows)
                (falling if falling_ else rising)[after] = value[by_role["before"]]
    return {"before_value_rising": rising, "before_value_falling": falling, "change_pair_complete": complete}


_CUMULATIVE_KINDS_NOT = ("share", "per_unit", "change")


def cumulative(b: Batch) -> np.ndarray:
    """Whether each figure counts everything since a start: a figure of the status cell,
    not a share, per_unit or change kind, whose own period starts in January (a
    year-to-date figure) or with a cumulative cue (累计, 截至, 已 … of resources/cues.tsv)
    in the clause before it."""
    f = b.facts
    cue = _cues()["cumulative"]
    kind = f.frame["kind"].to_numpy(dtype=object, na_value=None)
    start = f.frame["period_start_month"].to_numpy(dtype="float64", na_value=np.nan)
    return np.array([f.field[i] == "status" and kind[i] not in _CUMULATIVE_KINDS_NOT
                     and (start[i] == 1 or bool(cue.search(f.before[i])))
                     for i in range(f.n)], dtype=bool)


@_rule("facts", "cumulative_fall_pct")
def cumulative_fall(b: Batch):
    """On a cumulative figure (:func:`cumulative`) that has a value in the report before
    (facts.previous_value, the same figure_key): how far it lies below that value, in
    percent of it (≤ 0 when it rose or stayed); null otherwise."""
    f = b.facts
    previous = f.frame["previous_value"].to_numpy(dtype="float64", na_value=np.nan)
    fall = np.full(f.n, np.nan)
    ok = cumulative(b) & ~np.isnan(previous) & (previous != 0)
    fall[ok] = 100.0 * (previous[ok] - f.value[ok]) / np.abs(previous[ok])
    return {"cumulative_fall_pct": fall}


# --- progress -------------------------------------------------------------------------------

_REFS = ("achieved", "target", "ratio")


def _facts_by_no(b: Batch) -> dict[tuple, tuple]:
    """(report_id, fact_no) → (task_no, dimension) of every fact in the batch (built once
    per batch: two rules read it)."""
    if "_facts_by_no" in b.__dict__:
        return b.__dict__["_facts_by_no"]
    f = b.frames["facts"]
    b.__dict__["_facts_by_no"] = out = {(r, n): (t, d) for r, n, t, d in zip(
        f["report_id"].tolist(), f["fact_no"].tolist(), f["task_no"].tolist(), f["dimension"].tolist())}
    return out


def _ref(v) -> int | None:
    return None if v is None or v != v else int(v)


@_rule("progress", "dangling_fact_refs")
def dangling_fact_refs(b: Batch):
    """The fact references (achieved, target, ratio) that name no fact of the report, or a
    fact of another task, as 'target=17'; null when every reference holds."""
    facts = _facts_by_no(b)
    p = b.frames["progress"]
    refs = {k: p[f"{k}_fact_no"].tolist() for k in _REFS}
    out = np.full(len(p), None, dtype=object)
    for i, (rid, tno) in enumerate(zip(p["report_id"].tolist(), p["task_no"].tolist())):
        bad = [f"{k}={_ref(refs[k][i])}" for k in _REFS if _ref(refs[k][i]) is not None
               and facts.get((rid, _ref(refs[k][i])), (None,))[0] != tno]
        out[i] = ", ".join(bad) or None
    return {"dangling_fact_refs": out}


@_rule("progress", "achieved_dimension", "target_dimension")
def ref_dimensions(b: Batch):
    """The dimensions of the achieved and the target figure (null where there is none)."""
    facts = _facts_by_no(b)
    p = b.frames["progress"]
    ids = p["report_id"].tolist()

    def dims(column):
        return np.array([facts.get((rid, _ref(n)), (None, None))[1] if _ref(n) is not None else None
                         for rid, n in zip(ids, p[column].tolist())], dtype=object)

    return {"achieved_dimension": dims("achieved_fact_no"), "target_dimension": dims("target_fact_no")}


@_rule("progress", "pct_gap")
def pct_gap(b: Batch):
    """How far the stated ratio lies from 100 · achieved / target, in points, where the
    report writes all three (126条…已完成120条(98%): 2.8). A ratio written 六成以上 (more
    than) is only short when the figures give less, 不足 (less than) only when they give
    more; null where a figure is approximate (约9800个) or any is missing."""
    f = b.frames["facts"]
    approx = {(r, n): a for r, n, a in zip(f["report_id"].tolist(), f["fact_no"].tolist(), _as_str(f["approx"].tolist()))}
    p = b.frames["progress"]
    stated = p["stated_pct"].to_numpy(dtype="float64", na_value=np.nan)
    computed = p["computed_pct"].to_numpy(dtype="float64", na_value=np.nan)
    gap = np.abs(stated - computed)
    ids = p["report_id"].tolist()
    refs = {k: p[f"{k}_fact_no"].tolist() for k in _REFS}
    for i, rid in enumerate(ids):
        marks = {k: approx.get((rid, _ref(refs[k][i]))) for k in _REFS}
        if "about" in marks.values() or marks["achieved"] or marks["target"]:
            gap[i] = np.nan
        elif marks["ratio"] == "more_than":
            gap[i] = max(0.0, stated[i] - computed[i])
        elif marks["ratio"] == "less_than":
            gap[i] = max(0.0, computed[i] - stated[i])
    return {"pct_gap": gap}
