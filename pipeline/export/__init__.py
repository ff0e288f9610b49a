"""Export: tables → Parquet under ``<out>/<table>/<report_id>.parquet``, review pages
under ``<out>/review/<report_id>.html``, plus the manifest; and ``load`` reading them back.

Safety rests on four rules:

* every output file is written complete into ``<out>/.tmp-<pid>-<token>/`` (never inside
  a table folder, so readers globbing ``*.parquet`` only ever see finished files), flushed
  and moved into place with ``os.replace``; the folder holds a marker naming its pid, and
  only such folders of dead runs are ever removed;
* the manifest is written the same way, last, and records the sha256 of every output
  file, so a run killed between two moves leaves files the manifest does not vouch for:
  ``Manifest.stale_reason`` sees the mismatch and the report is simply processed again
  (review pages about to change are removed before the Parquet files move in, so no page
  ever sits beside data it does not describe);
* a manifest that is not what we write (bad JSON, wrong shape, paths outside their
  folders) is not trusted: it loads empty, with ``problem`` saying why;
* one run per ``<out>`` at a time, enforced by ``fcntl.flock`` (released by the kernel
  when a run dies, so a killed run never blocks the next).

Data files carry no run timestamps: the same tables give byte-identical files. When and
by which version a report was processed lives in the manifest only. ``load`` reads what
the manifest lists, checked against it, never whatever lies in the folders.
"""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import __version__
from ..schema import TABLES, schema


from .files import (MANIFEST_NAME, PARQUET_OPTIONS, REVIEW, LockedError, _check_report_id, _clean_dead_tmp,
                    _fsync_dir, _new_tmp, _output_path, _relative_output, _sync_filesystem, _write_durably,
                    default_processed_dir, lock, remove_own_tmp, report_id_problem, sha256_file)
from .manifest import Manifest
from .load import LoadError, load, pandas_dtype, pandas_dtypes

__all__ = ["export", "load", "lock", "prune", "Manifest", "LockedError", "LoadError", "pandas_dtype", "pandas_dtypes",
           "default_processed_dir", "sha256_file", "report_id_problem", "record_docs_built", "remove_own_tmp",
           "write_run_index",
           "MANIFEST_NAME"]


def prune(out_dir: Path | str, manifest: Manifest, report_ids: Iterable[str]) -> Manifest:
    """Delete the outputs of ``report_ids`` and drop them from the manifest (``--prune``).

    Files go first: a run killed in between leaves entries whose files are gone, which
    the manifest already treats as stale, never files the manifest does not know about.
    """
    out_dir = Path(out_dir)
    report_ids = list(report_ids)
    touched = set()
    for report_id in report_ids:
        _check_report_id(report_id)
        for table in (*TABLES, REVIEW):
            path = _output_path(out_dir, table, report_id)
            try:
                path.unlink()
                touched.add(path.parent)
            except FileNotFoundError:
                pass
    for folder in touched:
        _fsync_dir(folder)
    manifest.reports = {r: e for r, e in manifest.reports.items() if r not in set(report_ids)}
    manifest.save()
    return manifest


# --------------------------------------------------------------------------- export


def _conform(table_name: str, table: pa.Table | None) -> pa.Table:
    """A table in the exact schema of ``table_name``, in one chunk, with canonical dictionaries.

    Dictionaries are rebuilt in first-appearance order so the bytes written depend on the
    values only, not on how an earlier stage happened to build its arrays.
    """
    target = schema(table_name)
    if table is None:
        return target.empty_table()
    missing = set(target.names) - set(table.column_names)
    extra = set(table.column_names) - set(target.names)
    if missing or extra:
        raise ValueError(f"table {table_name}: missing columns {sorted(missing)}, "
                         f"unexpected columns {sorted(extra)}")
    columns = []
    for field in target:
        col = table.column(field.name)
        if not field.nullable and col.null_count:
            raise ValueError(f"table {table_name}: column {field.name} has "
                             f"{col.null_count} null(s) but is not nullable")
        if pa.types.is_dictionary(field.type):
            columns.append(pc.dictionary_encode(col.cast(field.type.value_type).combine_chunks()))
        else:
            columns.append(col.cast(field.type).combine_chunks())
    return pa.Table.from_arrays(columns, schema=target)


@functools.cache
def _dictionary_columns(table_name: str) -> tuple[str, ...]:
    return tuple(f.name for f in schema(table_name) if pa.types.is_dictionary(f.type))


def parquet_bytes(table_name: str, table: pa.Table | None, *, source_sha256: str) -> pa.Buffer:
    """The Parquet file of one table of one report, as bytes (deterministic)."""
    table = _conform(table_name, table)
    table = table.replace_schema_metadata({"pipeline_version": __version__,
                                           "source_sha256": source_sha256})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, use_dictionary=list(_dictionary_columns(table_name)),
                   **PARQUET_OPTIONS)
    return sink.getvalue()


def _source_sha256(report_id: str, tables: Mapping[str, pa.Table]) -> str:
    reports = tables.get("reports")
    if reports is None or reports.num_rows != 1:
        raise ValueError(f"report {report_id}: the reports table must have exactly one row")
    ids = reports.column("report_id").to_pylist()
    if ids != [report_id]:
        raise ValueError(f"report {report_id}: reports table is about {ids}")
    return reports.column("sha256")[0].as_py()


def _failed_rows(tables: Mapping[str, pa.Table]) -> dict[str, int]:
    counts = {}
    for name in TABLES:
        t = tables.get(name)
        counts[name] = 0 if t is None or t.num_rows == 0 else int(
            t.num_rows - pc.sum(pc.cast(t.column("dq_passed"), pa.int64())).as_py())
    return counts


def _unchanged(path: Path, sha256: str, size: int) -> bool:
    try:
        return path.stat().st_size == size and sha256_file(path) == sha256
    except FileNotFoundError:
        return False


def export(out_dir: Path | str, tables_by_report: Mapping[str, Mapping[str, pa.Table]], *,
           manifest: Manifest, suites_hash: str | Mapping[str, str],
           sources: Mapping[str, Path | str | tuple[Path | str, str]] | None = None,
           pages: Mapping[str, str] | None = None,
           checks: Mapping[str, Mapping] | None = None,
           overview: Mapping[str, Mapping] | None = None) -> Manifest:
    """Write each report's tables to ``<out>/<table>/<report_id>.parquet`` and record them.

    ``tables_by_report`` maps report id → {"reports": …, "tasks": …, "facts": …} (a missing
    table is written empty). ``suites_hash`` identifies the rules (suites and vocabulary)
    the rows were made and validated with: one for all, or one per report id. ``sources``
    maps report id → raw path, or → (raw path, sha256 of the raw
    file as the caller will pass it to ``is_current``); defaults: the ``source_file`` and
    ``sha256`` columns of the reports table. ``pages`` maps report id → its review page
    (HTML), written to ``<out>/review/<report_id>.html`` with the tables and recorded like
    them; ``checks`` maps report id → its validation verdict (JSON-able), kept in the
    manifest so a later run can report it again. Files whose bytes are already in place
    are left alone (same inode and mtime).

    Order of the moves, so a crash at any point leaves no page beside data it does not
    describe: review pages about to change are removed, then the Parquet files move in,
    then the new pages, then the manifest (which alone vouches for all of them).
    The manifest is updated in place, saved last, and returned.
    """
    out_dir = Path(out_dir)
    if not tables_by_report:
        return manifest
    out_dir.mkdir(parents=True, exist_ok=True)
    _clean_dead_tmp(out_dir)
    processed_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    tmp = _new_tmp(out_dir)
    try:
        staged: list[tuple[Path, Path]] = []
        staged_pages: list[tuple[Path, Path]] = []
        stale_pages: list[Path] = []
        entries: dict[str, dict] = {}
        for report_id, tables in tables_by_report.items():
            _check_report_id(report_id)
            unknown = set(tables) - set(TABLES)
            if unknown:
                raise ValueError(f"report {report_id}: unknown tables {sorted(unknown)}")
            source_sha = _source_sha256(report_id, tables)
            source = (sources or {}).get(report_id)
            if isinstance(source, tuple):
                source, source_sha = source
            if not source:
                source = tables["reports"].column("source_file")[0].as_py()
            outputs = {}
            for name in TABLES:
                data = parquet_bytes(name, tables.get(name), source_sha256=source_sha)
                outputs[name] = _stage(out_dir, tmp, name, report_id, data, staged)
            page_path = _output_path(out_dir, REVIEW, report_id)
            page = (pages or {}).get(report_id)
            if page is not None:
                outputs[REVIEW] = _stage(out_dir, tmp, REVIEW, report_id, page.encode("utf-8"), staged_pages)
                if staged_pages and staged_pages[-1][1] == page_path and page_path.exists():
                    stale_pages.append(page_path)
            elif page_path.exists():
                stale_pages.append(page_path)          # an old page would describe the old data
            failed = _failed_rows(tables)
            entries[report_id] = {
                "source": str(source), "sha256": source_sha,
                "pipeline_version": __version__,
                "suites_hash": suites_hash if isinstance(suites_hash, str) else suites_hash[report_id],
                "processed_at": processed_at,
                "dq_passed": not any(failed.values()), "dq_failed_rows": failed,
                "outputs": outputs,
                **_series_entry(tables.get("reports")),
            }
            if checks is not None and report_id in checks:
                entries[report_id]["checks"] = dict(checks[report_id])
            if overview is not None and report_id in overview:
                entries[report_id]["overview"] = dict(overview[report_id])
        for name in TABLES:
            (out_dir / name).mkdir(exist_ok=True)
        if staged_pages:
            (out_dir / REVIEW).mkdir(exist_ok=True)
        if staged or staged_pages:
            _sync_filesystem(tmp)      # every new file is on disk before any of them is moved
        for page_path in stale_pages:
            page_path.unlink(missing_ok=True)
        for part, final in staged + staged_pages:
            os.replace(part, final)
        for folder in {final.parent for _, final in staged + staged_pages} | {p.parent for p in stale_pages}:
            _fsync_dir(folder)
        updated = Manifest(out_dir, {**manifest.reports, **entries})
        updated.save(tmp)
        manifest.reports = updated.reports
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest


def _series_entry(reports: pa.Table | None) -> dict:
    """The report's series and period, so a later run finds the stored reports of a
    series from the manifest alone (pipeline.batch.series_index)."""
    if reports is None or reports.num_rows == 0 or "series_id" not in reports.column_names:
        return {}
    row = reports.select(["series_id", "period_start_month", "period_end_month"]).slice(0, 1).to_pylist()[0]
    return {"series_id": row["series_id"], "period": [row["period_start_month"], row["period_end_month"]]}


def _stage(out_dir: Path, tmp: Path, name: str, report_id: str, data: bytes | pa.Buffer,
           staged: list[tuple[Path, Path]]) -> dict:
    """Write one output into ``tmp`` unless the same bytes are already in place; its
    manifest record."""
    view = memoryview(data)
    digest = hashlib.sha256(view).hexdigest()
    final = _output_path(out_dir, name, report_id)
    if not _unchanged(final, digest, view.nbytes):
        part = tmp / f"{name}.{report_id}{final.suffix}"
        part.write_bytes(view)
        staged.append((part, final))
    return {"path": _relative_output(name, report_id), "sha256": digest, "bytes": view.nbytes}


def write_run_index(out_dir: Path | str, page: str) -> Path:
    """Write ``<out>/review/index.html`` (the page over every report of the folder)
    through a temporary file and one ``os.replace``: a reader never sees half a page."""
    out_dir = Path(out_dir)
    (out_dir / REVIEW).mkdir(parents=True, exist_ok=True)
    tmp = _new_tmp(out_dir)
    try:
        part = tmp / "index.html"
        _write_durably(part, page.encode("utf-8"))
        final = out_dir / REVIEW / "index.html"
        os.replace(part, final)
        _fsync_dir(final.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def record_docs_built(manifest: Manifest, report_ids: Iterable[str]) -> Manifest:
    """Note in the manifest that the Data Docs of ``report_ids`` are built (the last step
    of a run): until then a rerun takes them as unfinished and processes them again."""
    report_ids = [r for r in report_ids if r in manifest.reports]
    if report_ids:
        manifest.reports = {**manifest.reports, **{r: {**manifest.reports[r], "docs_built": True}
                                                   for r in report_ids}}
        manifest.save()
    return manifest


