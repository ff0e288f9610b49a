"""Validate stage: row-level data-quality checks with Great Expectations 1.x.

``validate(tables, out_dir=…)`` takes a batch's reports, tasks and facts tables and
returns a ``Validation``: the same tables with ``dq_passed`` / ``dq_failures`` filled
(failing rows are kept), one ``Failure`` per failed (check, row), and per-report
check counts. It writes only under ``<out>/validation/`` (GX results JSON and Data
Docs HTML with vendored offline assets) and ``<out>/review/<report_id>.html``.

How a check is built:
- the suites live in ``expectations/{reports,tasks,facts}.json`` (hand-written GX 1.x
  JSON); each expectation names its check and severity in ``meta``; several
  expectations may share a check name;
- whatever GX cannot see in one row (the cell text a fact's span points into, the
  rank of a task number within its report, the vocabulary…) is computed here first
  as a derived column, always grouped by ``report_id`` so a row's result depends only
  on its own report; GX column expectations then run on those columns;
- column presence, Arrow types and non-nullable columns are checked on the Arrow
  schema in this module (``schema.*`` checks): pandas 3's ``str`` dtype breaks GX's
  type expectations.

``dq_failures`` lists every failed check, warnings included; ``dq_passed`` is true
only when that list is empty. Severity lives in the suites and in ``Failure``;
``exit_failed`` maps ``--fail-on`` to it (GX itself marks a run failed for warnings).

Great Expectations is imported inside functions only.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import PROJECT_DIR, review
from .schema import TABLES, schema

DEFAULT_EXPECTATIONS = PROJECT_DIR / "expectations"
_RESOURCES = Path(__file__).resolve().parent / "resources"
_AGENCY_SUFFIXES = _RESOURCES / "agency_suffixes.txt"
_DATADOCS_ASSETS = _RESOURCES / "datadocs"

_CHUNK_REPORTS = 1000                # reports per GX run; each run costs ~0.2 s of GX set-up whatever its size
_SEVERITIES = ("error", "warning")
FAIL_ON = ("error", "warning", "never")
_SCHEMA_CHECKS = {"schema.columns": "error", "schema.types": "error", "schema.not_null": "error"}
_ROW = "_row"                        # row position in the batch table, GX's index column
_SUMMARY_LINES_PER_REPORT = 5
_SUMMARY_PASSING_LISTED = 20
_SUMMARY_REPORTS_DETAILED = 10       # failing reports listed with their failures, per summary


class ValidationSetupError(Exception):
    """A suite or expectation is broken (unknown type, bad column, bad meta): fix the
    suite, the data were not judged."""


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed (check, row)."""

    table: str
    check: str
    severity: str              # "error" | "warning"
    report_id: str | None
    task_no: int | None
    fact_no: int | None
    mention: str | None        # facts only
    context: str               # a few words: the text around the figure and the values checked


@dataclass(frozen=True, slots=True)
class ReportChecks:
    """Check counts of one report: a check fails for a report when any of its rows fails it."""

    report_id: str
    passed: int
    failed: int
    errors: int                # failed checks of severity error
    warnings: int


@dataclass(frozen=True)
class Validation:
    tables: dict[str, pa.Table]
    failures: tuple[Failure, ...]
    checks: dict[str, ReportChecks]       # by report_id, in batch order
    severities: dict[str, str]            # every check name → severity
    run_name: str
    docs_index: Path | None               # <out>/validation/docs/index.html
    review_dir: Path | None               # <out>/review/
    result_ids: tuple = ()                # GX ValidationResultIdentifiers of this validation

    def exit_failed(self, fail_on: str = "error") -> bool:
        return exit_failed(self, fail_on)


def exit_failed(validation: Validation, fail_on: str = "error") -> bool:
    """Whether ``--fail-on`` turns this validation into a failing exit status:
    "error" → any error-severity failure; "warning" → any failure; "never" → never."""
    if fail_on not in FAIL_ON:
        raise ValueError(f"fail_on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
    if fail_on == "never":
        return False
    return any(f.severity == "error" or fail_on == "warning" for f in validation.failures)


def summary(validation: Validation, *, max_lines_per_report: int = _SUMMARY_LINES_PER_REPORT,
            max_reports: int = _SUMMARY_REPORTS_DETAILED) -> str:
    """Terminal summary: per report, checks passed/failed and the first failures
    (task number, mention, a few words of context). Bounded whatever the batch size:
    reports with errors come first, at most ``max_reports`` are detailed (the rest are
    counted, with a tally of failing rows per check), and all-passing reports are
    folded into one line when there are many."""
    n_checks = len(validation.severities)
    by_report: dict[str | None, list[Failure]] = {}
    for f in validation.failures:
        by_report.setdefault(f.report_id, []).append(f)
    reports = list(validation.checks.values())
    clean = [c for c in reports if not c.failed]
    failing = sorted((c for c in reports if c.failed), key=lambda c: (not c.errors, -c.failed))
    n_err = sum(1 for c in reports if c.errors)
    n_warn = sum(1 for c in reports if c.warnings and not c.errors)
    lines = [f"validation: {len(reports)} report(s), {n_checks} checks each; "
             f"{n_err} with errors, {n_warn} with warnings only, {len(clean)} clean"]
    if len(failing) > max_reports:
        lines += _tally(validation)
    for c in failing[:max_reports]:
        lines.append(f"  {c.report_id}: {c.passed}/{n_checks} checks passed, {c.failed} failed "
                     f"({c.errors} error, {c.warnings} warning)")
        fs = sorted(by_report.get(c.report_id, []), key=lambda f: f.severity != "error")
        for f in fs[:max_lines_per_report]:
            lines.append("    " + _failure_line(f))
        if len(fs) > max_lines_per_report:
            more = f"    … and {len(fs) - max_lines_per_report} more failing row(s)"
            if validation.review_dir is not None:
                more += f": see {validation.review_dir / (c.report_id + '.html')}"
            lines.append(more)
    if len(failing) > max_reports:
        rest = failing[max_reports:]
        more = (f"  … and {len(rest)} more report(s) with failures "
                f"({sum(1 for c in rest if c.errors)} with errors)")
        if validation.review_dir is not None:
            more += f": see {validation.review_dir}/<report_id>.html"
        lines.append(more)
    if len(clean) <= _SUMMARY_PASSING_LISTED:
        lines += [f"  {c.report_id}: {c.passed}/{n_checks} checks passed" for c in clean]
    else:
        lines.append(f"  {len(clean)} report(s) passed all {n_checks} checks")
    orphans = by_report.get(None, [])
    for f in orphans[:max_lines_per_report]:
        lines.append("  (no report id) " + _failure_line(f))
    if len(orphans) > max_lines_per_report:
        lines.append(f"  (no report id) … and {len(orphans) - max_lines_per_report} more failing row(s)")
    if validation.docs_index is not None:
        lines.append(f"  Data Docs: {validation.docs_index}")
    return "\n".join(lines)


def _tally(validation: Validation, limit: int = 10) -> list[str]:
    """One line per failed check: its severity, failing rows and reports."""
    rows: dict[str, int] = {}
    reports: dict[str, set] = {}
    for f in validation.failures:
        rows[f.check] = rows.get(f.check, 0) + 1
        reports.setdefault(f.check, set()).add(f.report_id)
    order = sorted(rows, key=lambda c: (validation.severities.get(c) != "error", -len(reports[c]), c))
    lines = ["  failed checks:"]
    for check in order[:limit]:
        lines.append(f"    {validation.severities.get(check, '?').upper():7} {check}: "
                     f"{rows[check]} row(s) in {len(reports[check])} report(s)")
    if len(order) > limit:
        lines.append(f"    … and {len(order) - limit} more check(s)")
    return lines


def _failure_line(f: Failure) -> str:
    where = f.table if f.task_no is None else f"task {f.task_no}"
    what = f" «{f.mention}»" if f.mention else ""
    return f"{f.severity.upper():7} {f.check} [{where}]{what} {f.context}".rstrip()


# --- suites -------------------------------------------------------------------------

def _expectations_dir(expectations_dir: Path | str | None) -> Path:
    return Path(expectations_dir).resolve() if expectations_dir is not None else DEFAULT_EXPECTATIONS


def suites_hash(expectations_dir: Path | str | None = None) -> str:
    """sha256 over the suite files and every vocabulary file under pipeline/resources/
    (units, fixed terms, periods, agency suffixes …): what decides a report's rows and
    their results besides the code, so the export manifest reprocesses a report when
    any of them changes."""
    d = _expectations_dir(expectations_dir)
    h = hashlib.sha256()
    for name in TABLES:
        path = d / f"{name}.json"
        h.update(f"{name}.json\0".encode())
        h.update(path.read_bytes() if path.exists() else b"<missing>")
    for path in sorted(_RESOURCES.rglob("*")):
        if path.is_file() and _DATADOCS_ASSETS not in path.parents:
            h.update(f"{path.relative_to(_RESOURCES).as_posix()}\0".encode() + path.read_bytes())
    return h.hexdigest()


def _read_suite_file(d: Path, name: str) -> dict:
    path = d / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationSetupError(f"{path}: no such suite — the expectations folder needs "
                                   f"{', '.join(t + '.json' for t in TABLES)}") from None
    except json.JSONDecodeError as e:
        raise ValidationSetupError(f"{path}:{e.lineno}: not valid JSON: {e.msg}") from None
    if not data.get("id"):
        raise ValidationSetupError(f"{path}: the suite needs a top-level \"id\" (any fixed UUID)")
    for i, e in enumerate(data.get("expectations", []), 1):
        meta = e.get("meta") or {}
        if not meta.get("check") or meta.get("severity") not in _SEVERITIES:
            raise ValidationSetupError(
                f"{path}: expectation {i} ({e.get('type')}) needs meta.check and meta.severity "
                f"({' or '.join(_SEVERITIES)})")
    return data


# --- derived columns ------------------------------------------------------------------

@lru_cache(maxsize=1)
def _agency_pattern() -> re.Pattern:
    words = [w.strip() for w in _AGENCY_SUFFIXES.read_text(encoding="utf-8").splitlines()]
    words = sorted({w for w in words if w and not w.startswith("#")}, key=len, reverse=True)
    return re.compile("(?:" + "|".join(map(re.escape, words)) + ")$")


_TRAILING_NOTE = re.compile(r"\s*[（(][^（()）]*[)）]\s*$")   # 市教育局（市体育局）


@dataclass(frozen=True, slots=True)
class UnitVocabulary:
    units: frozenset[str]          # plain units extract can emit; "" is a bare number
    dimensions: frozenset[str]     # every value Quantity.dimension can take
    dimension_of: Callable[[str], str]   # unit → the dimension extract gives it
    ratio: str = "ratio"           # the dimension of a fraction (三分之一)

    def known(self, unit: str) -> bool:
        """A plain vocabulary unit, or a composite one extract writes: a rate
        (元/人/月, 元/人·年, 张/千人, 人/万人, 吨/日, 元/平方米·月) or a product (人·次,
        千瓦·时). The first part is a vocabulary unit without magnitude (万元/公里 is
        written 元/公里, the 万 is in the value); every later part is a vocabulary unit
        or a time/population word, a denominator optionally with one magnitude
        (千人, 万人)."""
        if unit in self.units:
            return True
        head, *rest = re.split(r"([/·])", unit.translate(_HALF_WIDTH_SEPARATORS))
        if not rest or head not in self.units or not head:
            return False
        denominator = False
        for sep, part in zip(rest[::2], rest[1::2]):
            denominator |= sep == "/"
            if denominator:
                part = _DENOMINATOR_FIGURE.sub("", part, count=1)
            if not part or not (part in self.units or part in _RATE_PERIODS or part in _POPULATION_WORDS):
                return False
        return True

    def dimension(self, unit: str, mention: str | None) -> str:
        """The dimension extract gives a figure: its unit's, except a fraction
        (三分之二, unit "") is a ratio."""
        if unit == "" and mention and "分之" in mention:
            return self.ratio
        return self.dimension_of(unit)


_HALF_WIDTH_SEPARATORS = str.maketrans({"／": "/", "％": "%", "・": "·", "•": "·", "‧": "·"})
_DENOMINATOR_FIGURE = re.compile(r"^[0-9]*[十百千万萬亿億]{1,2}(?=.)")    # 张/千人, 人/10万人
_RATE_PERIODS = {"年", "年度", "月", "日", "天", "周", "季", "季度", "小时", "小時", "时", "時",
                 "学期", "學期", "次"}                                       # 元/人/月, 千瓦·时
_POPULATION_WORDS = {"人", "人口", "户", "戶"}                               # 张/千人, 人/万人口


def unit_vocabulary() -> UnitVocabulary:
    """The extractor's vocabulary, read in this one place (``pipeline.extract.units``)."""
    from .extract import units as u
    return UnitVocabulary(frozenset(u.vocabulary()) | {""}, frozenset(u.dimensions()), u.dimension_of, u.RATIO)


def _frame(table: pa.Table) -> pd.DataFrame:
    """Arrow → pandas with dictionary columns decoded to plain strings and lists left out."""
    cols = {}
    for name, col in zip(table.column_names, table.columns):
        if pa.types.is_dictionary(col.type):
            col = pc.cast(col, pa.string())
        elif pa.types.is_list(col.type):
            continue
        cols[name] = col
    df = pa.table(cols).to_pandas() if cols else pd.DataFrame(index=range(table.num_rows))
    df[_ROW] = np.arange(len(df))
    return df


def _counts(ids: pd.Series, of: pd.Series) -> np.ndarray:
    vc = ids.value_counts()
    return of.map(vc).fillna(0).astype("int64").to_numpy()


def _derive_reports(rep: pd.DataFrame, tasks: pd.DataFrame, facts: pd.DataFrame) -> None:
    rep["tasks_found"] = _counts(tasks["report_id"], rep["report_id"])
    rep["facts_found"] = _counts(facts["report_id"], rep["report_id"])

    # the title's count (20项, 十件) names the categories (the seed: 20) or the tasks
    # (成都 2022: 十件 = 10 tasks in 4 categories); null when it matches either or is absent
    def mismatch(declared, n_categories, n_tasks):
        if pd.isna(declared) or declared in (n_categories, n_tasks):
            return None
        return f"title declares {int(declared)}; found {n_categories} categories, {n_tasks} tasks"

    rep["declared_items_mismatch"] = np.array(
        [mismatch(d, c, t) for d, c, t in zip(rep["declared_items"], rep["n_categories"], rep["tasks_found"])],
        dtype=object)


def _derive_tasks(tdf: pd.DataFrame, tasks: pa.Table) -> None:
    tdf["task_no_expected"] = tdf.groupby("report_id", dropna=False)["task_no"].rank(method="dense")
    units = tasks["lead_units"].combine_chunks() if tasks.num_rows else pa.array([], pa.list_(pa.string()))
    tdf["n_lead_units"] = pc.fill_null(pc.list_value_length(units), 0).to_numpy(zero_copy_only=False)
    flat = units.flatten().to_pylist()
    parents = pc.list_parent_indices(units).to_numpy(zero_copy_only=False)
    pat = _agency_pattern()
    bad: dict[int, list[str]] = {}
    for p, u in zip(parents, flat):
        if u is None or not pat.search(_TRAILING_NOTE.sub("", u.strip())):
            bad.setdefault(int(p), []).append("∅" if u is None else (u or "''"))
    col = np.full(len(tdf), None, dtype=object)
    for p, us in bad.items():
        col[p] = "、".join(us)
    tdf["non_agency_lead_units"] = col


_CLAUSE_BREAK = re.compile(r".*[，,。；;：:！!？?\n]")
_COMPLETION = re.compile(r"(?:完成|开工|完工|竣工|执行|到位|兑现)(?:率|比例)|进度|为(?:年度|全年)?(?:计划|目标|任务)|占(?:年度|全年)?[^，,。；;]{0,8}(?:计划|目标|任务)"
                         r"|(?:计划|目标|任务)(?:数)?的$|完成了?$")
_CHANGE = re.compile(r"(?:增长|增加|提高|提升|上升|上涨|下降|降低|减少|回落|增|降|高出|低于|超出|同比|环比)了?$"
                     r"|增长率|增速|增幅|降幅")
_SHARE_UNITS = {"%": 1.0, "％": 1.0, "‰": 0.1, "成": 10.0}
_STAGE = re.compile(r"(新开工|开工建设|开工|启动|开建|动工)|(完工|竣工|建成|完成)")
_STAGE_WORDS = re.compile(r"新开工|开工建设|开工|启动|开建|动工|完工|竣工|建成|完成|建设|改造")


def _clause_before(cell: str | None, start: int) -> str:
    if not cell or start <= 0:
        return ""
    prefix = cell[max(0, start - 30):start]
    m = _CLAUSE_BREAK.match(prefix)
    return prefix[m.end():] if m else prefix


def _derive_facts(fdf: pd.DataFrame, tdf: pd.DataFrame, voc: UnitVocabulary) -> None:
    n = len(fdf)
    cells = tdf.drop_duplicates(["report_id", "task_no"])[["report_id", "task_no", "task", "status"]]
    joined = fdf[["report_id", "task_no"]].merge(cells, how="left", on=["report_id", "task_no"])
    is_task = (fdf["field"] == "task").to_numpy(dtype=bool, na_value=False)
    cell = np.where(is_task, joined["task"].to_numpy(dtype=object, na_value=None),
                    joined["status"].to_numpy(dtype=object, na_value=None))
    fdf["_cell"] = cell
    start = fdf["start"].to_numpy(dtype="float64", na_value=np.nan)
    end = fdf["end"].to_numpy(dtype="float64", na_value=np.nan)
    mention = fdf["mention"].to_numpy(dtype=object, na_value=None)
    metric = fdf["metric"].to_numpy(dtype=object, na_value=None)
    mstart = fdf["metric_start"].to_numpy(dtype="float64", na_value=np.nan)
    unit = fdf["unit"].to_numpy(dtype=object, na_value=None)
    dim = fdf["dimension"].to_numpy(dtype=object, na_value=None)
    value = fdf["value"].to_numpy(dtype="float64", na_value=np.nan)
    change = fdf["change"].to_numpy(dtype=object, na_value=None)

    def sl(c, s, e):
        if not isinstance(c, str) or s != s or e != e or not 0 <= s <= e <= len(c):
            return None
        return c[int(s):int(e)]

    fdf["span_text"] = [sl(c, s, e) for c, s, e in zip(cell, start, end)]
    fdf["metric_text"] = [None if m is None else sl(c, ms, ms + len(m))
                          for c, m, ms in zip(cell, metric, mstart)]
    # the characters around the mention: a figure cut out of a longer number (3千6百
    # read as 6百) or cut before its rate unit (7.2张 of 7.2张/千人) shows at its edges
    fdf["char_before"] = [sl(c, s - 1, s) if s == s and s >= 1 else "" for c, s in zip(cell, start)]
    fdf["edge_after"] = [(m[-1:] if isinstance(m, str) else "")
                         + (sl(c, e, e + 1) if isinstance(c, str) and e == e and e < len(c) else "")
                         for c, m, e in zip(cell, mention, end)]   # last character + the next one

    known = {u: voc.known(u) for u in set(unit) if u is not None}   # a few dozen units per batch
    fdf["unit_known"] = np.array([known.get(u) for u in unit], dtype=object)
    fdf["dimension_known"] = np.array([None if d is None else d in voc.dimensions for d in dim], dtype=object)
    fdf["unit_dimension"] = np.array([None if d is None or u is None else voc.dimension(u, m)
                                      for u, d, m in zip(unit, dim, mention)], dtype=object)

    def unit_written(u, m):
        if u is None or m is None:
            return None
        m = m.translate(_HALF_WIDTH_SEPARATORS)          # 20元／人 → unit 元/人
        return (u == "" or u in m or (u in ("%", "％") and ("百分之" in m or "%" in m or "％" in m))
                or (u == "‰" and "千分之" in m))

    fdf["unit_in_mention"] = np.array([unit_written(u, m) for u, m in zip(unit, mention)], dtype=object)

    before = [_clause_before(c, int(s)) if s == s and isinstance(c, str) else "" for c, s in zip(cell, start)]
    share = np.full(n, np.nan)
    stage = np.full(n, None, dtype=object)
    for i in range(n):
        u, b = unit[i], before[i]
        if u in _SHARE_UNITS and dim[i] != "percentage_point":
            m = metric[i] or ""
            if not (_COMPLETION.search(b) or _COMPLETION.search(m) or change[i] is not None
                    or _CHANGE.search(b) or _CHANGE.search(m)):
                share[i] = value[i] * _SHARE_UNITS[u]
        if b:
            found = list(_STAGE.finditer(b))
            if found:
                stage[i] = "start" if found[-1].group(1) else "finish"
    fdf["share_percent"] = share

    # a negative value is an extraction error, except a change written with its minus
    # sign (同比增长-2.3%, 增速为-1.5%, -3.2个百分点): extract keeps that sign
    signed = value.copy()
    for i in np.flatnonzero(value < 0):
        m, b = mention[i] or "", before[i]
        written = m[:1] in ("-", "−", "－")
        is_change = (change[i] is not None or dim[i] == "percentage_point"
                     or _CHANGE.search(b) or _CHANGE.search(metric[i] or ""))
        if written and is_change:
            signed[i] = -value[i]
    fdf["value_sign_checked"] = signed
    fdf["stage"] = stage

    # 完工 ≤ 开工: the largest start figure of the same cell, unit and subject
    started = np.full(n, np.nan)
    idx = np.flatnonzero(stage != None)  # noqa: E711 (object array)
    if len(idx):
        rid = fdf["report_id"].to_numpy(dtype=object, na_value=None)
        tno = fdf["task_no"].to_numpy(dtype="float64", na_value=np.nan)
        fld = fdf["field"].to_numpy(dtype=object, na_value=None)
        subject = {i: _STAGE_WORDS.sub("", metric[i] or "").strip() for i in idx}
        exact: dict[tuple, float] = {}
        any_subject: dict[tuple, float] = {}
        for i in idx:
            if stage[i] == "start" and value[i] == value[i]:
                k = (rid[i], tno[i], fld[i], unit[i])
                exact[k + (subject[i],)] = max(exact.get(k + (subject[i],), -np.inf), value[i])
                any_subject[k] = max(any_subject.get(k, -np.inf), value[i])
        for i in idx:
            if stage[i] == "finish":
                k = (rid[i], tno[i], fld[i], unit[i])
                v = exact.get(k + (subject[i],))
                if v is None and not subject[i]:
                    v = any_subject.get(k)
                if v is not None:
                    started[i] = v
    fdf["started_value"] = started

    # 由…提高至…: pair the before and after figures of a change_group within the report
    rising = np.full(n, np.nan)
    falling = np.full(n, np.nan)
    complete = np.full(n, None, dtype=object)
    grp = fdf["change_group"]
    has = grp.notna().to_numpy()
    if has.any():
        sub = fdf.loc[has, ["report_id", "change_group", "change_role", "change", "value", "unit"]].copy()
        sub["_pos"] = np.flatnonzero(has)
        for _, g in sub.groupby(["report_id", "change_group"], dropna=False, sort=False):
            roles = g["change_role"].tolist()
            ok = len(g) == 2 and sorted(map(str, roles)) == ["after", "before"]
            complete[g["_pos"].to_numpy()] = ok
            # values compare only in one unit (由2小时缩短到30分钟 changes unit)
            if ok and g["unit"].astype(str).nunique() == 1:
                b = g.loc[g["change_role"] == "before", "value"].iloc[0]
                a_pos = int(g.loc[g["change_role"] == "after", "_pos"].iloc[0])
                if "decrease" in g["change"].tolist():
                    falling[a_pos] = b
                else:
                    rising[a_pos] = b
    fdf["before_value_rising"] = rising
    fdf["before_value_falling"] = falling
    fdf["change_pair_complete"] = complete


# --- schema checks on the Arrow tables ----------------------------------------------

def _conform(name: str, table: pa.Table, gx_not_null: set[str]) -> tuple[pa.Table, dict[str, str], dict[int, list[tuple[str, str]]]]:
    """The table in the schema's column order and types, with the table-wide schema
    problems {check: message} and the rows with nulls in non-nullable columns."""
    target = schema(name)
    problems: dict[str, str] = {}
    missing = [f.name for f in target if f.name not in table.column_names]
    if missing:
        problems["schema.columns"] = "missing column(s): " + ", ".join(missing)
    wrong = []
    cols = []
    for f in target:
        if f.name in missing:
            cols.append(pa.nulls(table.num_rows, f.type))
            continue
        col = table[f.name]
        if col.type != f.type:
            wrong.append(f"{f.name}: {col.type} (expected {f.type})")
            try:
                col = col.cast(f.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                raise ValueError(f"table {name}: column {f.name} is {col.type}, "
                                 f"cannot be read as {f.type}: {e}") from None
        cols.append(col)
    if wrong:
        problems["schema.types"] = "wrong type(s): " + "; ".join(wrong)
    conformed = pa.Table.from_arrays(cols, schema=target)
    nulls: dict[int, list[tuple[str, str]]] = {}
    for f in target:
        if f.nullable or f.name in gx_not_null or f.name in missing or f.name.startswith("dq_"):
            continue
        col = conformed[f.name]
        if col.null_count:
            for i in np.flatnonzero(pc.is_null(col).to_numpy(zero_copy_only=False)):
                nulls.setdefault(int(i), []).append(("schema.not_null", f"{f.name} is null"))
    return conformed, problems, nulls


# --- Great Expectations -----------------------------------------------------------------

class _Gx:
    """The process's one ephemeral GX context, its three suites and validation definitions."""

    def __init__(self, expectations_dir: Path, validation_dir: Path):
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig, InMemoryStoreBackendDefaults, ProgressBarsConfig)

        def fs(root: Path, base: str, **extra) -> dict:
            return {"class_name": "TupleFilesystemStoreBackend", "root_directory": str(root),
                    "base_directory": base, **extra}

        self.key = (expectations_dir, validation_dir)
        self.files = {name: _read_suite_file(expectations_dir, name) for name in TABLES}
        cfg = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            progress_bars=ProgressBarsConfig(globally=False),
            analytics_enabled=False)
        # suites are read from expectations_dir itself: the store's root is its parent
        cfg.stores["expectations_store"] = {
            "class_name": "ExpectationsStore",
            "store_backend": fs(expectations_dir.parent, expectations_dir.name, suppress_store_backend_id=True)}
        cfg.stores["validation_results_store"] = {
            "class_name": "ValidationResultsStore",
            "store_backend": fs(validation_dir, "results", suppress_store_backend_id=True)}
        cfg.data_docs_sites = {"local": {
            "class_name": "SiteBuilder", "show_how_to_buttons": False,
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": fs(validation_dir, "docs")}}
        self.ctx = gx.get_context(project_config=cfg, mode="ephemeral")
        source = self.ctx.data_sources.add_or_update_pandas("batch")
        self.vds = {}
        for name in TABLES:
            try:
                suite = self.ctx.suites.get(name)
            except Exception as e:  # GX raises several types for a bad suite file
                raise ValidationSetupError(f"{expectations_dir / (name + '.json')}: GX cannot load the suite: {e}") from e
            n_file = len(self.files[name].get("expectations", []))
            if len(suite.expectations) != n_file:
                raise ValidationSetupError(
                    f"{expectations_dir / (name + '.json')}: {n_file} expectations in the file, "
                    f"{len(suite.expectations)} loaded — an unknown expectation type was dropped "
                    "(see the log for InvalidExpectationConfigurationError)")
            bd = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("whole")
            self.vds[name] = self.ctx.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=f"{name}_validation", data=bd, suite=suite))

    def columns(self, name: str) -> list[str]:
        """The columns the suite reads (GX gets only these, plus the row index)."""
        cols = {"report_id", _ROW}
        for e in self.files[name]["expectations"]:
            kw = e.get("kwargs", {})
            cols.update(_expectation_columns(kw))
            cond = kw.get("row_condition")
            if isinstance(cond, Mapping):
                cols.update(re.findall(r"'name': '([^']+)'", str(cond)))
        return sorted(cols)

    def meta(self, name: str) -> list[dict]:
        return [e.get("meta") for e in self.files[name]["expectations"]]


_STATE: _Gx | None = None


def _gx(expectations_dir: Path, validation_dir: Path) -> _Gx:
    """One live context per process; a new one only when the folders change."""
    global _STATE
    if _STATE is None or _STATE.key != (expectations_dir, validation_dir):
        _STATE = None   # let the old context go before the new one is built
        _STATE = _Gx(expectations_dir, validation_dir)
    return _STATE


def _errored(r) -> list[str]:
    info = r.exception_info or {}
    infos = [info] if "raised_exception" in info else list(info.values())
    return sorted({str(i.get("exception_message")) for i in infos
                   if isinstance(i, Mapping) and i.get("raised_exception")})


def _expectation_columns(kwargs: Mapping) -> list[str]:
    cols = [kwargs.get(k) for k in ("column", "column_A", "column_B")]
    cols += list(kwargs.get("column_list") or [])
    return [c for c in cols if isinstance(c, str)]


# --- the stage --------------------------------------------------------------------------

def validate(tables: dict[str, pa.Table], *, out_dir: Path, expectations_dir: Path | None = None,
             docs: bool = True) -> Validation:
    """Check a batch's reports, tasks and facts tables; see the module docstring.

    ``docs=False`` leaves the Data Docs build to one `build_docs` call over several
    validations (a batch validated in chunks builds its docs once)."""
    exp_dir = _expectations_dir(expectations_dir)
    out_dir = Path(out_dir).resolve()
    vdir = out_dir / "validation"
    missing = [t for t in TABLES if t not in tables]
    if missing:
        raise ValueError(f"validate needs the {', '.join(TABLES)} tables; missing {', '.join(missing)}")
    vdir.mkdir(parents=True, exist_ok=True)
    state = _gx(exp_dir, vdir)

    severities = dict(_SCHEMA_CHECKS)
    for name in TABLES:
        for m in state.meta(name):
            if severities.setdefault(m["check"], m["severity"]) != m["severity"]:
                raise ValidationSetupError(f"check {m['check']} has two severities in the suites")

    conformed, problems, nulls = {}, {}, {}
    for name in TABLES:
        gx_not_null = {e["kwargs"].get("column") for e in state.files[name]["expectations"]
                       if e["type"] == "expect_column_values_to_not_be_null"}
        conformed[name], problems[name], nulls[name] = _conform(name, tables[name], gx_not_null)

    frames = {name: _frame(conformed[name]) for name in TABLES}
    _derive_reports(frames["reports"], frames["tasks"], frames["facts"])
    _derive_tasks(frames["tasks"], conformed["tasks"])
    _derive_facts(frames["facts"], frames["tasks"], unit_vocabulary())

    # rows → chunk of reports (rows without a report id go with the first chunk)
    order = list(dict.fromkeys(
        [r for name in TABLES for r in frames[name]["report_id"].dropna().tolist()]))
    chunk_of = {rid: i // _CHUNK_REPORTS for i, rid in enumerate(order)}
    n_chunks = max(1, -(-len(order) // _CHUNK_REPORTS))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    run_name = f"validate-{stamp}"

    # (table, row) → [(check, expectation kwargs)]
    row_fail: dict[str, dict[int, list[tuple[str, Mapping]]]] = {name: {} for name in TABLES}
    for name in TABLES:
        for row, items in nulls[name].items():
            row_fail[name].setdefault(row, []).extend((c, {"_message": msg}) for c, msg in items)
        for check, msg in problems[name].items():
            for row in range(len(frames[name])):
                row_fail[name].setdefault(row, []).append((check, {"_message": msg}))

    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier, ValidationResultIdentifier)

    result_ids = []
    run_time = datetime.now(timezone.utc)
    for name in TABLES:
        df = frames[name]
        df = df[[c for c in state.columns(name) if c in df.columns]]
        chunks = df["report_id"].map(chunk_of).fillna(0).astype("int64").to_numpy()
        for k in range(n_chunks):
            part = df[chunks == k]
            part_name = run_name if n_chunks == 1 else f"{run_name}-part{k + 1:03d}of{n_chunks:03d}"
            run_id = RunIdentifier(run_name=part_name, run_time=run_time)
            res = state.vds[name].run(
                batch_parameters={"dataframe": part},
                result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [_ROW],
                               "partial_unexpected_count": 20},
                run_id=run_id)
            result_ids.append(ValidationResultIdentifier(
                batch_identifier=res.batch_id,
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=name), run_id=run_id))
            for r in res.results:
                cfg = r.expectation_config
                meta = cfg.meta or {}
                if errs := _errored(r):
                    raise ValidationSetupError(
                        f"expectations/{name}.json: {cfg.type}({', '.join(_expectation_columns(cfg.kwargs))}) "
                        f"[{meta.get('check')}] did not evaluate: {'; '.join(errs)}")
                idx = (r.result or {}).get("unexpected_index_list")
                if idx:
                    rows = set()
                    for item in idx:
                        v = item[_ROW] if isinstance(item, Mapping) else item
                        rows.update(v if isinstance(v, list) else [v])
                elif not r.success:   # an aggregate expectation: every row of the run fails it
                    rows = set(part[_ROW].tolist())
                else:
                    continue
                for row in rows:
                    row_fail[name].setdefault(int(row), []).append((meta["check"], cfg.kwargs))

    out_tables, failures = {}, []
    check_order = {c: i for i, c in enumerate(severities)}
    failed_by_report: dict[str, set[str]] = {}
    for name in TABLES:
        df = frames[name]
        dq = [[] for _ in range(len(df))]
        for row in sorted(row_fail[name]):
            items = row_fail[name][row]
            seen: dict[str, Mapping] = {}
            for check, kwargs in items:
                seen.setdefault(check, kwargs)
            dq[row] = sorted(seen, key=check_order.__getitem__)
            rec = df.iloc[row]
            rid = None if pd.isna(rec["report_id"]) else str(rec["report_id"])
            for check in dq[row]:
                failures.append(_failure(name, check, severities[check], rid, rec, seen[check]))
                if rid is not None:
                    failed_by_report.setdefault(rid, set()).add(check)
        t = conformed[name]
        t = t.set_column(t.schema.get_field_index("dq_failures"), schema(name).field("dq_failures"),
                         pa.array(dq, type=pa.list_(pa.string())))
        t = t.set_column(t.schema.get_field_index("dq_passed"), schema(name).field("dq_passed"),
                         pa.array([not x for x in dq], type=pa.bool_()))
        out_tables[name] = t

    checks = {}
    for rid in order:
        failed = failed_by_report.get(rid, set())
        errors = sum(1 for c in failed if severities[c] == "error")
        checks[rid] = ReportChecks(rid, len(severities) - len(failed), len(failed), errors, len(failed) - errors)

    docs_index = _build_docs(state, vdir, result_ids) if docs else vdir / "docs" / "index.html"
    validation = Validation(tables=out_tables, failures=tuple(failures), checks=checks,
                            severities=severities, run_name=run_name, docs_index=docs_index,
                            review_dir=out_dir / "review", result_ids=tuple(result_ids))
    review.write_pages(out_dir / "review", validation, frames, docs_index=docs_index)
    return validation


def _failure(table: str, check: str, severity: str, rid: str | None, rec: pd.Series, kwargs: Mapping) -> Failure:
    def val(c):
        v = rec.get(c)
        return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v

    def num(v):
        return int(v) if isinstance(v, float) and v.is_integer() else v

    task_no = val("task_no") if table != "reports" else None
    fact_no = val("fact_no") if table == "facts" else None
    mention = val("mention") if table == "facts" else None
    bits = []
    if "_message" in kwargs:
        bits.append(kwargs["_message"])
    else:
        for c in _expectation_columns(kwargs):
            if c not in ("mention", "report_id", "task_no", "fact_no"):
                v = val(c)
                bits.append(f"{c}={num(v) if v is not None else '∅'}")
    if table == "facts":
        cell, s, e = val("_cell"), val("start"), val("end")
        if isinstance(cell, str) and s is not None and e is not None and 0 <= s <= e <= len(cell):
            s, e = int(s), int(e)
            snippet = ("…" if s > 8 else "") + cell[max(0, s - 8):s] + "[" + cell[s:e] + "]" + cell[e:e + 6] + ("…" if e + 6 < len(cell) else "")
            bits.insert(0, snippet)
        metric = val("metric")
        if metric and "metric" not in _expectation_columns(kwargs):
            bits.append("metric=" + (metric if len(metric) <= 12 else metric[:11] + "…"))
    elif table == "tasks":
        text = val("task") or ""
        bits.insert(0, text[:14] + ("…" if len(text) > 14 else ""))
    return Failure(table, check, severity, rid, None if task_no is None else int(task_no),
                   None if fact_no is None else int(fact_no), mention, " ".join(map(str, bits)))


# --- Data Docs, offline ------------------------------------------------------------------

# CDN URL (prefix) in GX's pages → path under static/vendor/ (the files in resources/datadocs/)
_CDN = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap/dist/js/bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js/dist/umd/popper.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table/dist/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table/dist/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "fortawesome-fontawesome-free/css/all.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js",
}
_DROP_TAGS = re.compile(r'<(script|link)[^>]*(?:vega|bootstrap-dark)[^>]*>(?:\s*</script>)?')
_SRI = re.compile(r'\s+integrity="[^"]*"(?:\s+crossorigin="anonymous")?|\s+crossorigin="anonymous"')
_LOGO = re.compile(r'https://great-expectations-web-assets\.s3\.[^"\']*/(?:logo-long|full_logo_dark)\.png(?:\?d=[^"\']*)?')


def build_docs(validations: Sequence[Validation], *, out_dir: Path,
               expectations_dir: Path | None = None) -> Path:
    """Render the Data Docs of validations run with ``docs=False``, in one build."""
    vdir = Path(out_dir).resolve() / "validation"
    state = _gx(_expectations_dir(expectations_dir), vdir)
    return _build_docs(state, vdir, [rid for v in validations for rid in v.result_ids])


def _build_docs(state: _Gx, vdir: Path, result_ids: list) -> Path:
    """Render this run's results (and the suites) into <validation>/docs and make every
    page we rendered load only local files."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    ids = result_ids + [ExpectationSuiteIdentifier(name=n) for n in TABLES]
    state.ctx.build_data_docs(site_names=["local"], resource_identifiers=ids)
    site = vdir / "docs"
    _vendor_assets(site / "static" / "vendor")
    pages = [site / "index.html"] + [site / "expectations" / f"{n}.html" for n in TABLES]
    for rid in result_ids:
        d = site / "validations" / rid.expectation_suite_identifier.name / rid.run_id.run_name
        pages += list(d.rglob("*.html")) if d.exists() else []
    for page in pages:
        if page.exists():
            _offline(page, site)
    return site / "index.html"


def _vendor_assets(dest: Path) -> None:
    stamp = dest / ".copied-from"
    source_id = f"{_DATADOCS_ASSETS} {sum(1 for _ in _DATADOCS_ASSETS.rglob('*'))}"
    if stamp.exists() and stamp.read_text() == source_id:
        return
    shutil.copytree(_DATADOCS_ASSETS, dest, dirs_exist_ok=True)
    stamp.write_text(source_id)


def _offline(page: Path, site: Path) -> None:
    text = page.read_text(encoding="utf-8")
    vendor = os.path.relpath(site / "static" / "vendor", page.parent)
    for url, local in _CDN.items():
        text = text.replace(url, f"{vendor}/{local}")
    text = _SRI.sub("", text)
    text = _DROP_TAGS.sub("", text)
    text = _LOGO.sub(os.path.relpath(site / "static" / "images" / "logo-long.png", page.parent), text)
    # plain <a href="https://…"> links (GX's site, its newsletter) stay: clicking is the
    # reviewer's choice; nothing is *loaded* from the network (see external_resources)
    page.write_text(text, encoding="utf-8")


def external_resources(page: Path) -> list[str]:
    """URLs a page would load from the network (stylesheets, scripts, images, fonts)."""
    text = page.read_text(encoding="utf-8")
    loads = re.findall(r'<(?:script|img|iframe)[^>]*\bsrc="(https?://[^"]+)"', text)
    loads += re.findall(r'<link[^>]*\bhref="(https?://[^"]+)"', text)
    loads += re.findall(r'url\(\s*["\']?(https?://[^)"\']+)', text)
    loads += re.findall(r'@import\s+["\'](https?://[^"\']+)', text)
    return sorted(set(loads))
