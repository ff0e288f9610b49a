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


@dataclass
class _Series:
    frames: dict[str, pd.DataFrame]          # the stored reports' rows, context as stored
    order: list[str]                         # their report ids in series order
    scan: series_.TaskKeyScan                # the task-key scan after ``order``


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
        new = {name: pd.concat([_frame(t[name], name) for t in chunk.values()], ignore_index=True)
               if chunk else _frame(schema(name).empty_table(), name) for name in TABLES}
        sids = dict(zip(new["reports"]["report_id"], new["reports"]["series_id"]))
        touched = set(sids.values()) | set(refresh)
        for rid in chunk:        # a report moving to another series leaves its old one
            old = manifest.reports.get(rid, {}).get("series_id")
            if isinstance(old, str):
                touched.add(old)
        frames, fresh, pending = {name: [] for name in TABLES}, set(), {}
        for sid in sorted(touched):
            stored = self._load(sid, manifest)
            members = {name: pd.concat([stored.frames[name][~stored.frames[name]["report_id"].isin(chunk)],
                                        new[name][new[name]["report_id"].map(sids).eq(sid)]], ignore_index=True)
                       for name in TABLES}
            reports = members["reports"]
            order = [rid for _, rid in sorted(
                (series_.order_key(e, s, r), r) for r, s, e in zip(
                    reports["report_id"], reports["period_start_month"], reports["period_end_month"]))]
            p = next((i for i, rid in enumerate(order)
                      if i >= len(stored.order) or rid != stored.order[i] or rid in chunk), len(order))
            if sid in refresh or p < len(stored.order):
                scan, redo = series_.TaskKeyScan(sid), order            # from the start
            else:
                scan, redo = stored.scan.copy(), order[p:]                # appended: resume
            by_report = {rid: rows for rid, rows in members["tasks"].groupby("report_id", sort=False)}
            ends = dict(zip(reports["report_id"], reports["period_end_month"]))
            keys = {}
            for rid in redo:
                rows = by_report.get(rid)
                if rows is not None:
                    pairs = list(zip(rows["task_no"].astype(int), rows["task"].astype(str)))
                    keys.update(zip(((rid, n) for n, _ in pairs), scan.step(ends[rid], pairs)))
            tasks = members["tasks"]
            tasks["task_key"] = [keys.get((r, int(n)), k) for r, n, k in
                                 zip(tasks["report_id"], tasks["task_no"], tasks["task_key"])]
            fresh.update(redo)
            pending[sid] = _Series(members, order, scan)
            for name in TABLES:
                frames[name].append(members[name])
        every = {name: pd.concat(frames[name], ignore_index=True) if frames[name]
                 else _frame(schema(name).empty_table(), name) for name in TABLES}
        before = {name: every[name][CONTEXT[name]].copy() for name in TABLES}
        _recompute(every, fresh)
        changed = set()
        for name in TABLES:
            df = every[name]
            differs = pd.Series(False, index=df.index)
            for column in CONTEXT[name]:
                old, now = before[name][column], df[column]
                differs |= ~((old == now).fillna(False) | (old.isna() & now.isna()))
            changed.update(df.loc[differs & df["report_id"].isin(fresh), "report_id"])
        rewrites = {rid: _read_report(self.out_dir, manifest.reports[rid]) for rid in sorted(changed - set(chunk))
                    if rid in manifest.reports}
        context = {name: every[name].groupby("report_id", sort=False) for name in TABLES}
        tables = {rid: _with_context(t, context, rid) for rid, t in {**chunk, **rewrites}.items()}
        # the index after the export: each series' frames with the context just computed
        sid_of = {rid: sid for sid, s in pending.items() for rid in s.order}
        for name in TABLES:
            for sid, rows in every[name].groupby(every[name]["report_id"].map(sid_of), sort=False):
                pending[sid].frames[name] = rows.reset_index(drop=True)
        periods = every["reports"]
        labels = {rid: _label(s, e) for rid, s, e in zip(periods["report_id"], periods["period_start_month"],
                                                         periods["period_end_month"])}
        return Update({rid: tables[rid] for rid in chunk}, {rid: tables[rid] for rid in rewrites}, labels, pending)

    def commit(self, update: Update) -> None:
        """Take in a chunk's update once its export is done."""
        self._series.update(update._pending)

    def _load(self, sid: str, manifest) -> _Series:
        """The stored reports of a series: from memory, else read once from the folder."""
        if sid in self._series:
            return self._series[sid]
        parts: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLES}
        for rid in manifest.series(sid):
            try:
                read = {name: _frame(pq.read_table(self.out_dir / manifest.reports[rid]["outputs"][name]["path"],
                                                   columns=COLUMNS[name] + CONTEXT[name]), name) for name in TABLES}
            except (OSError, KeyError, pa.ArrowException):
                continue       # damaged or from another version: processed again, it joins then
            for name in TABLES:
                parts[name].append(read[name])
        frames = {name: pd.concat(parts[name], ignore_index=True) if parts[name]
                  else _frame(schema(name).empty_table(), name) for name in TABLES}
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
    facts["figure_key"] = facts["figure_key"].where(~redo, series_.figure_keys(facts, task_key))
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


def _with_context(tables: Mapping[str, pa.Table], context: Mapping, rid: str) -> dict[str, pa.Table]:
    """A report's tables with the series context set, and the checks to be done again."""
    out = {}
    for name in TABLES:
        t = tables[name]
        try:
            rows = context[name].get_group(rid)
        except KeyError:
            rows = None
        for column in CONTEXT[name]:
            f = schema(name).field(column)
            if rows is None:
                values = [None] * t.num_rows
            else:
                by_row = dict(zip(rows[ROW[name]].tolist(), rows[column].tolist()))
                values = [_plain(by_row.get(k)) for k in t[ROW[name]].to_pylist()]
            t = _set(t, f, pa.array(values, type=f.type, from_pandas=True))
        for f, values in ((schema(name).field("dq_passed"), pa.array([True] * t.num_rows, pa.bool_())),
                          (schema(name).field("dq_failures"), pa.array([[]] * t.num_rows, pa.list_(pa.string())))):
            t = _set(t, f, values)
        out[name] = t
    return out


def _plain(v):
    if v is None or (isinstance(v, float) and v != v):
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


def _set(t: pa.Table, f: pa.Field, values: pa.Array) -> pa.Table:
    i = t.schema.get_field_index(f.name)
    return t.set_column(i, f, values) if i >= 0 else t.append_column(f, values)
