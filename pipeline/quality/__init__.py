"""The quality stage: a batch's tables in, every failed (check, row) out.

``validate(tables, out_dir=…)`` returns a ``Validation``: the same tables with
``dq_passed`` / ``dq_failures`` filled (failing rows are kept), one ``Failure`` per
failed (check, row), and per-report check counts. Its parts, one job each:

- ``suites``: the suites in ``expectations/<table>.json``, read strictly and fingerprinted;
- ``conformance``: column presence, Arrow types, non-nullable columns (``schema.*``);
- ``rules``: the derived columns a check needs beyond one row, one named function each;
- ``gx``: the Great Expectations runner (GX is imported there, inside functions only).

It writes only GX's results under ``<out>/validation/results``; the terminal summary,
Data Docs and review pages are the reporting package's, called by the batch.
``dq_failures`` lists every failed check, warnings included; ``dq_passed`` is true only
when that list is empty; ``exit_failed`` maps ``--fail-on`` to the severities.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa

from ..schema import TABLES, schema
from . import conformance, gx, rules, suites as suites_
from .results import FAIL_ON, Failure, ReportChecks, Validation, exit_failed
from .suites import DEFAULT_EXPECTATIONS, Suites, ValidationSetupError

__all__ = ["validate", "Validation", "Failure", "ReportChecks", "ValidationSetupError", "exit_failed",
           "FAIL_ON", "DEFAULT_EXPECTATIONS", "Suites", "load_suites"]

load_suites = suites_.load


def validate(tables: Mapping[str, pa.Table], *, out_dir: Path | str,
             suites: Suites | None = None, expectations_dir: Path | str | None = None) -> Validation:
    """Check a batch's tables against the suites (``suites``, else those read from
    ``expectations_dir``, else the project's); see the module docstring."""
    suites = suites or suites_.load(expectations_dir)
    missing = [t for t in TABLES if t not in tables]
    if missing:
        raise ValueError(f"validate needs the {', '.join(TABLES)} tables; missing {', '.join(missing)}")
    results_dir = Path(out_dir).resolve() / "validation"
    results_dir.mkdir(parents=True, exist_ok=True)
    severities = {**conformance.CHECKS, **suites.severities()}

    conformed, row_fail = {}, {}
    for name in TABLES:
        conformed[name], problems, nulls = conformance.conform(name, tables[name], suites.not_null_columns(name))
        fails = row_fail[name] = {row: [(c, {"_message": m}) for c, m in items] for row, items in nulls.items()}
        for check, msg in problems.items():
            for row in range(conformed[name].num_rows):
                fails.setdefault(row, []).append((check, {"_message": msg}))

    batch = rules.derive(conformed)
    series_of = dict(zip(batch.frames["reports"]["report_id"], batch.frames["reports"]["series_id"]))
    names = lambda report_ids: run_name(report_ids, series_of)  # noqa: E731
    order = list(dict.fromkeys(r for name in TABLES for r in batch.frames[name]["report_id"].dropna().tolist()))
    gx_fail, result_ids = gx.run(suites, batch.frames, results_dir, names)
    for name in TABLES:
        for row, items in gx_fail[name].items():
            row_fail[name].setdefault(row, []).extend(items)

    out_tables, failures = {}, []
    check_order = {c: i for i, c in enumerate(severities)}
    failed_by_report: dict[str, set[str]] = {}
    for name in TABLES:
        df = batch.frames[name]
        dq: list[list[str]] = [[] for _ in range(len(df))]
        for row in sorted(row_fail[name]):
            seen: dict[str, Mapping] = {}
            for check, kwargs in row_fail[name][row]:
                seen.setdefault(check, kwargs)
            dq[row] = sorted(seen, key=check_order.__getitem__)
            rec = df.iloc[row]
            rid = None if pd.isna(rec["report_id"]) else str(rec["report_id"])
            cell = batch.facts.cell[row] if name == "facts" else None
            for check in dq[row]:
                failures.append(_failure(name, check, severities[check], rid, rec, seen[check], cell))
                if rid is not None:
                    failed_by_report.setdefault(rid, set()).add(check)
        t = conformed[name]
        for column, values in (("dq_failures", pa.array(dq, type=pa.list_(pa.string()))),
                               ("dq_passed", pa.array([not x for x in dq], type=pa.bool_()))):
            t = t.set_column(t.schema.get_field_index(column), schema(name).field(column), values)
        out_tables[name] = t

    order = dict.fromkeys(r for name in TABLES for r in batch.frames[name]["report_id"].dropna().tolist())
    checks = {}
    for rid in order:
        failed = failed_by_report.get(rid, set())
        errors = sum(1 for c in failed if severities[c] == "error")
        checks[rid] = ReportChecks(rid, len(severities) - len(failed), len(failed), errors, len(failed) - errors)
    return Validation(tables=out_tables, failures=tuple(failures), checks=checks,
                      severities=severities, run_name=names(order), result_ids=tuple(result_ids))


_UNSAFE = re.compile(r"[^\w.-]+")     # kept: letters and digits of any script, _ . -
_NAME_BYTES = 200                     # a run name is a folder name in Data Docs (at most 255 bytes)


def run_name(report_ids: Sequence[str], series_of: Mapping[str, str]) -> str:
    """The name of a validation run in Data Docs: which report(s) and series it holds.

    One report: ``<report_id>__<series>``; several: ``<first>..<last>__<n>-reports__<series>``,
    or ``__<k>-series`` when they belong to several (``no-series`` when none is known). The series is the report's
    ``series_id`` (region|year|plan) with every character that is not a letter, digit,
    ``_``, ``.`` or ``-`` made ``_``: the name is a folder and a link in Data Docs, so it
    holds nothing a path, a URL or HTML would read as markup. A name that would pass 200
    bytes loses the end of its series. GX keeps each run's time beside its name, so reruns
    of a report do not overwrite one another.
    """
    safe = lambda text: _UNSAFE.sub("_", str(text)).strip("_") or "_"  # noqa: E731
    ids = list(report_ids)
    series = list(dict.fromkeys(s for s in (series_of.get(r) for r in ids) if isinstance(s, str) and s))
    if not ids:
        return "no-reports"
    head = safe(ids[0]) if len(ids) == 1 else f"{safe(ids[0])}..{safe(ids[-1])}__{len(ids)}-reports"
    tail = safe(series[0]) if len(series) == 1 else f"{len(series)}-series" if series else "no-series"
    name = f"{head}__{tail}"
    while len(name.encode()) > _NAME_BYTES:
        name = name[:-1]
    return name


def _failure(table: str, check: str, severity: str, rid: str | None, rec: pd.Series,
             kwargs: Mapping, cell: str | None) -> Failure:
    """One failure with a few words of context: the figure in its text, the values checked."""
    def val(c):
        v = rec.get(c)
        return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v

    def num(v):
        return int(v) if isinstance(v, float) and v.is_integer() else v

    bits = []
    if "_message" in kwargs:
        bits.append(kwargs["_message"])
    else:
        for c in suites_.expectation_columns(kwargs):
            if c not in ("mention", "report_id", "task_no", "fact_no"):
                v = val(c)
                bits.append(f"{c}={num(v) if v is not None else '∅'}")
    if table == "facts":
        s, e = val("start"), val("end")
        if isinstance(cell, str) and s is not None and e is not None and 0 <= s <= e <= len(cell):
            s, e = int(s), int(e)
            bits.insert(0, ("…" if s > 8 else "") + cell[max(0, s - 8):s] + "[" + cell[s:e] + "]"
                        + cell[e:e + 6] + ("…" if e + 6 < len(cell) else ""))
        metric = val("metric")
        if metric and "metric" not in suites_.expectation_columns(kwargs):
            bits.append("metric=" + (metric if len(metric) <= 12 else metric[:11] + "…"))
    elif table == "tasks":
        text = val("task") or ""
        bits.insert(0, text[:14] + ("…" if len(text) > 14 else ""))
    task_no = val("task_no") if table != "reports" else None
    fact_no = val("fact_no") if table == "facts" else None
    return Failure(table, check, severity, rid, None if task_no is None else int(task_no),
                   None if fact_no is None else int(fact_no), val("mention") if table == "facts" else None,
                   " ".join(map(str, bits)))
