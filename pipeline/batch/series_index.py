"""The series a run touches, kept current chunk by chunk.

The keys and the cross-period context of a report (pipeline.series) depend on the
reports before it in its series, so they are computed where the whole series is known:
here, per chunk, over the stored reports of the series and the chunk's. The stored
reports of a series are found in the manifest (each entry names its ``series_id`` and
period) and read once per run — only the columns the series needs — when a chunk first
touches the series; after each chunk is written the index is updated in memory.

For each series a chunk touches, everything is recomputed from the first report whose
place in series order changed (a report added at the end changes nothing before it; one
added in the middle, or replaced, everything after it). A stored report whose keys or
context come out different is read back whole, given the new values, and returned for
validation and export with the chunk: in the same commit, so a kill never leaves a
series half updated. No I/O but reading the stored Parquet files.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import series as series_
from ..schema import TABLES, schema

# what the series computations read of each table, and what they give back
COLUMNS = {
    "reports": ["report_id", "series_id", "period_start_month", "period_end_month"],
    "tasks": ["report_id", "task_no", "task"],
    "facts": ["report_id", "fact_no", "task_no", "field", "metric", "unit", "value"],
    "progress": ["report_id", "progress_no", "achieved_fact_no", "ratio_fact_no", "completion_pct"],
}
CONTEXT = {
    "reports": ["previous_report_id", "period_clash"],
    "tasks": ["task_key"],
    "facts": ["figure_key", "previous_value"],
    "progress": ["previous_completion_pct"],
}
ROW = {"reports": "report_id", "tasks": "task_no", "facts": "fact_no", "progress": "progress_no"}


def _frame(table: pa.Table, name: str) -> pd.DataFrame:
    cols = {}
    for column in COLUMNS[name] + CONTEXT[name]:
        col = table[column]
        if pa.types.is_dictionary(col.type):
            col = pc.cast(col, pa.string())
        cols[column] = col
    df = pa.table(cols).to_pandas()
    df["report_id"] = df["report_id"].astype("object")
    return df


@cache
def _empty(name: str) -> pd.DataFrame:
    """No rows of a table, as the series computations see it (never modified)."""
    return _frame(schema(name).empty_table(), name)


@dataclass
class _Series:
    frames: dict[str, pd.DataFrame]          # the stored reports' rows, context as stored
    order: list[str]                         # their report ids in series order
    scan: series_.TaskKeyScan                # the task-key scan after ``order``


@dataclass
class _Step:
    """One series as a chunk changes it (see SeriesIndex._step)."""

    reports: pd.DataFrame                    # every report of the series, the chunk's included
    tasks: pd.DataFrame                      # the tasks of ``members``, task keys set
    members: dict[str, pd.DataFrame]         # the rows of the reports to recompute
    redo: list[str]                          # those reports
    order: list[str]                         # the series' report ids in order
    scan: series_.TaskKeyScan                # the task-key scan after ``order``
    kept: dict[str, pd.DataFrame]            # the stored rows not recomputed
    before: set[str]                         # the report right before the recomputed ones


@dataclass
class Update:
    """What one chunk does to the series it touches."""

    tables: dict[str, dict[str, pa.Table]]           # the chunk's reports, context set
    rewrites: dict[str, dict[str, pa.Table]]          # stored reports whose context changed, read back
    labels: dict[str, str] = field(default_factory=dict)   # report id → its period (1–6月), for the pages
    _pending: dict[str, _Series] = field(default_factory=dict)


class SeriesIndex:
    """The series of one run's output folder (see the module docstring)."""

    def __init__(self, out_dir: Path | str) -> None:
        self.out_dir = Path(out_dir)
        self._series: dict[str, _Series] = {}

    def update(self, chunk: Mapping[str, Mapping[str, pa.Table]], manifest,
               refresh: Iterable[str] = ()) -> Update:
        """The chunk's tables with their series keys and context, and the stored reports
        to rewrite with it. ``refresh``: series to recompute whole although the chunk
        does not touch them (after reports were pruned from them)."""
        new = {name: _frame(pa.concat_tables([t[name] for t in chunk.values()]), name) if chunk
               else _empty(name) for name in TABLES}
        sids = dict(zip(new["reports"]["report_id"], new["reports"]["series_id"]))
        new_of = {name: dict(iter(new[name].groupby(new[name]["report_id"].map(sids), sort=False)))
                  for name in TABLES}
        touched = set(sids.values()) | set(refresh)
        for rid in chunk:        # a report moving to another series leaves its old one
            old = manifest.reports.get(rid, {}).get("series_id")
            if isinstance(old, str):
                touched.add(old)
        parts: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLES}
        fresh: set[str] = set()
        kept: dict[str, dict[str, pd.DataFrame]] = {}      # series → its stored rows not recomputed
        orders: dict[str, list[str]] = {}
        scans: dict[str, series_.TaskKeyScan] = {}
        for sid in sorted(touched):
            step = self._step(sid, manifest, chunk, {name: new_of[name].get(sid) for name in TABLES},
                              resume=sid not in refresh)
            parts["reports"].append(step.reports)
            parts["tasks"].append(step.tasks)
            for name in ("facts", "progress"):
                parts[name].append(step.members[name])
                if step.before:   # the facts of the report before a recomputed one
                    parts[name].append(step.kept[name][step.kept[name]["report_id"].isin(step.before)])
            fresh.update(step.redo)
            kept[sid], orders[sid], scans[sid] = step.kept, step.order, step.scan
        every = {name: pd.concat(parts[name], ignore_index=True) if parts[name] else _empty(name).copy()
                 for name in TABLES}
        old = {name: every[name][CONTEXT[name]].copy() for name in TABLES}
        _recompute(every, fresh)
        changed = set()
        for name in TABLES:
            df = every[name]
            differs = pd.Series(False, index=df.index)
            for column in CONTEXT[name]:
                was, now = old[name][column], df[column]
                differs |= ~((was == now).fillna(False) | (was.isna() & now.isna()))
            changed.update(df.loc[differs & df["report_id"].isin(fresh), "report_id"])
        rewrites = {rid: _read_report(self.out_dir, manifest.reports[rid]) for rid in sorted(changed - set(chunk))
                    if rid in manifest.reports}
        mine = {name: every[name][every[name]["report_id"].isin(fresh)] for name in TABLES}
        tables = _with_context({**chunk, **rewrites}, mine)
        # the index after the export: each series' kept rows and those just recomputed
        sid_of = {rid: sid for sid, order in orders.items() for rid in order}
        pending = {}
        for sid in orders:
            pending[sid] = _Series(dict(kept[sid]), orders[sid], scans[sid])
        for name in TABLES:
            rows = mine[name] if name != "reports" else every["reports"]
            for sid, group in rows.groupby(rows["report_id"].map(sid_of), sort=False):
                base = pending[sid].frames[name]
                if name == "reports":
                    pending[sid].frames[name] = group.reset_index(drop=True)
                else:
                    pending[sid].frames[name] = pd.concat([base, group], ignore_index=True)
        periods = every["reports"]
        labels = {rid: _label(st, e) for rid, st, e in zip(periods["report_id"], periods["period_start_month"],
                                                           periods["period_end_month"])}
        return Update({rid: tables[rid] for rid in chunk}, {rid: tables[rid] for rid in rewrites}, labels, pending)

    def _step(self, sid: str, manifest, chunk: Mapping, added: Mapping[str, pd.DataFrame | None],
              resume: bool) -> "_Step":
        """One series with the chunk's reports in it: its order, the reports to recompute
        (those after the first whose place changed; all when ``resume`` is false) and their
        task keys."""
        stored = self._load(sid, manifest)
        replaced = [rid for rid in stored.order if rid in chunk]
        empty = {name: _empty(name) for name in TABLES}
        added = {name: empty[name] if added[name] is None else added[name] for name in TABLES}
        reports = stored.frames["reports"]
        if replaced:
            reports = reports[~reports["report_id"].isin(replaced)]
        reports = pd.concat([reports, added["reports"]], ignore_index=True)
        order = [rid for _, rid in sorted(
            (series_.order_key(e, st, r), r) for r, st, e in zip(
                reports["report_id"], reports["period_start_month"], reports["period_end_month"]))]
        if resume and not replaced and order[:len(stored.order)] == stored.order:
            # a report added at the end changes nothing before it: resume the scan
            redo, scan, kept, members = order[len(stored.order):], stored.scan.copy(), dict(stored.frames), added
        else:            # from the start of the series
            redo, scan, kept = order, series_.TaskKeyScan(sid), empty
            members = {name: pd.concat([stored.frames[name][~stored.frames[name]["report_id"].isin(chunk)],
                                        added[name]], ignore_index=True) for name in TABLES}
        by_report = dict(iter(members["tasks"].groupby("report_id", sort=False)))
        ends = dict(zip(reports["report_id"], reports["period_end_month"]))
        keys = {}
        for rid in redo:
            rows = by_report.get(rid)
            if rows is not None:
                pairs = list(zip(rows["task_no"].astype(int), rows["task"].astype(str)))
                keys.update(zip(((rid, n) for n, _ in pairs), scan.step(ends[rid], pairs)))
        tasks = members["tasks"].copy()
        tasks["task_key"] = [keys.get((r, int(n)), k) for r, n, k in
                             zip(tasks["report_id"], tasks["task_no"], tasks["task_key"])]
        previous = dict(zip(reports["report_id"], series_.previous_reports(reports)))
        before = {previous[rid] for rid in redo if isinstance(previous.get(rid), str)} - set(redo)
        return _Step(reports, tasks, members, redo, order, scan, kept, before)

    def commit(self, update: Update) -> None:
        """Take in a chunk's update once its export is done."""
        self._series.update(update._pending)

    def _load(self, sid: str, manifest) -> _Series:
        """The stored reports of a series: from memory, else read once from the folder."""
        if sid in self._series:
            return self._series[sid]
        parts: dict[str, list[pa.Table]] = {name: [] for name in TABLES}
        for rid in manifest.series(sid):
            try:
                read = {name: pq.read_table(self.out_dir / manifest.reports[rid]["outputs"][name]["path"],
                                            columns=COLUMNS[name] + CONTEXT[name]) for name in TABLES}
            except (OSError, KeyError, pa.ArrowException):
                continue       # damaged or from another version: processed again, it joins then
            for name in TABLES:
                parts[name].append(read[name])
        frames = {name: _frame(pa.concat_tables(parts[name], promote_options="permissive"), name)
                  if parts[name] else _empty(name) for name in TABLES}
        reports = frames["reports"]
        order = [rid for _, rid in sorted((series_.order_key(e, s, r), r) for r, s, e in zip(
            reports["report_id"], reports["period_start_month"], reports["period_end_month"]))]
        scans = {sid: series_.TaskKeyScan(sid)}
        if order:
            series_.task_keys(reports, frames["tasks"], scans)
        self._series[sid] = _Series(frames, order, scans[sid])
        return self._series[sid]


def _recompute(every: dict[str, pd.DataFrame], fresh: set[str]) -> None:
    """The figure keys and the cross-period context of the ``fresh`` reports, in place
    (their task keys are already set; the other reports keep what they have)."""
    tasks, facts = every["tasks"], every["facts"]
    key_of = dict(zip(zip(tasks["report_id"], tasks["task_no"].astype(int)), tasks["task_key"]))
    redo = facts["report_id"].isin(fresh)
    task_key = pd.Series([key_of.get((r, int(n)), "") for r, n in zip(facts["report_id"], facts["task_no"])],
                         index=facts.index, dtype="object")
    if redo.any():
        facts.loc[redo, "figure_key"] = series_.figure_keys(facts[redo], task_key[redo])
    reports = every["reports"]
    previous = series_.previous_reports(reports)
    for column, values in (("previous_report_id", previous), ("period_clash", series_.period_clashes(reports))):
        reports[column] = reports[column].where(~reports["report_id"].isin(fresh), values)
    prev_of = dict(zip(reports["report_id"], reports["previous_report_id"]))
    facts["previous_value"] = facts["previous_value"].where(~redo, series_.previous_values(facts, prev_of))
    progress = every["progress"]
    progress["previous_completion_pct"] = progress["previous_completion_pct"].where(
        ~progress["report_id"].isin(fresh), series_.previous_completion(progress, facts, prev_of))


def _label(start, end) -> str:
    ok = [m is not None and m == m for m in (start, end)]
    return f"{int(start)}–{int(end)}月" if all(ok) else ""


def _read_report(out_dir: Path, entry: Mapping) -> dict[str, pa.Table]:
    """A stored report's tables, whole, as written (its checks are redone)."""
    return {name: pq.read_table(out_dir / entry["outputs"][name]["path"]) for name in TABLES}


def _with_context(reports: Mapping[str, Mapping[str, pa.Table]],
                  context: Mapping[str, pd.DataFrame]) -> dict[str, dict[str, pa.Table]]:
    """Each report's tables with the series context set, and its checks to be done again."""
    lookup = {name: {column: dict(zip(zip(df["report_id"], df[ROW[name]].tolist()),
                                      df[column].astype(object).where(df[column].notna(), None).tolist()))
                     for column in CONTEXT[name]} for name, df in context.items()}
    out = {}
    for rid, tables in reports.items():
        out[rid] = {}
        for name in TABLES:
            t = tables[name]
            rows = [(rid, k) for k in t[ROW[name]].to_pylist()]
            for column in CONTEXT[name]:
                f = schema(name).field(column)
                values = [lookup[name][column].get(k) for k in rows]
                t = _set(t, f, pa.array(values, type=f.type, from_pandas=True))
            t = _set(t, schema(name).field("dq_passed"), pa.array([True] * t.num_rows, pa.bool_()))
            t = _set(t, schema(name).field("dq_failures"), pa.array([[]] * t.num_rows, pa.list_(pa.string())))
            out[rid][name] = t
    return out


def _set(t: pa.Table, f: pa.Field, values: pa.Array) -> pa.Table:
    i = t.schema.get_field_index(f.name)
    return t.set_column(i, f, values) if i >= 0 else t.append_column(f, values)
