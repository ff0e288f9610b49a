"""Export: tables → Parquet under ``<out>/<table>/<report_id>.parquet``, plus the manifest.

Safety rests on three rules:

* every Parquet file is written complete into ``<out>/.tmp-<pid>-<token>/`` (never inside
  a table folder, so readers globbing ``*.parquet`` only ever see finished files), flushed
  and moved into place with ``os.replace``;
* the manifest is written the same way, last, and records the sha256 of every output
  file, so a run killed between two moves leaves files the manifest does not vouch for:
  ``Manifest.is_current`` sees the mismatch and the report is simply processed again;
* one run per ``<out>`` at a time, enforced by ``fcntl.flock`` (released by the kernel
  when a run dies, so a killed run never blocks the next).

Data files carry no run timestamps: the same tables give byte-identical files. When and
by which version a report was processed lives in the manifest only.
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
import hashlib
import json
import logging
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import PROJECT_DIR, __version__
from .schema import TABLES, schema

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["export", "load", "lock", "prune", "Manifest", "LockedError", "pandas_dtype", "pandas_dtypes",
           "default_processed_dir", "sha256_file", "MANIFEST_NAME"]

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
LOCK_NAME = ".lock"
TMP_PREFIX = ".tmp-"

# Pinned so the bytes do not move with pyarrow's defaults. Parquet dictionary pages are
# used for the dictionary-typed (categorical) columns only: free text gains little from
# them and they cost time on every file.
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
    "store_schema": True,
}


class LockedError(RuntimeError):
    """Another run holds the lock on this output folder (the CLI exits with status 4)."""

    def __init__(self, out_dir: Path, holder: str = "") -> None:
        self.out_dir = out_dir
        who = f" (pid {holder})" if holder else ""
        super().__init__(f"another pipeline run{who} is writing to {out_dir}; "
                         "wait for it to finish or choose another --out")


# --------------------------------------------------------------------------- paths


def default_processed_dir() -> Path:
    """The project's ``processed/`` folder, found from the package location."""
    return PROJECT_DIR / "processed"


def _output_path(out_dir: Path, table: str, report_id: str) -> Path:
    return Path(out_dir) / table / f"{report_id}.parquet"


def _check_report_id(report_id: str) -> None:
    # A report id becomes a file name: it must not escape its table folder or hide.
    if (not report_id or report_id.startswith(".") or "/" in report_id
            or "\\" in report_id or "\0" in report_id):
        raise ValueError(f"report id {report_id!r} cannot be used as a file name")


def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, data: bytes | memoryview) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


@functools.cache
def _libc_syncfs():
    try:
        return ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None


def _sync_filesystem(folder: Path) -> None:
    """Flush every file written under ``folder``'s filesystem to disk, in one call.

    One syncfs(2) instead of an fsync per file: a batch writes thousands of small files,
    and each fsync costs a journal commit. Falls back to sync(2) where syncfs is missing.
    """
    syncfs = _libc_syncfs()
    if syncfs is None:
        os.sync()
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True         # PermissionError too: the process exists, it is someone else's


def _clean_dead_tmp(out_dir: Path) -> None:
    """Remove temporary folders left by runs that died (their pid is gone)."""
    for tmp in Path(out_dir).glob(f"{TMP_PREFIX}*"):
        pid = tmp.name[len(TMP_PREFIX):].split("-", 1)[0]
        if tmp.is_dir() and pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)


def _new_tmp(out_dir: Path) -> Path:
    tmp = Path(out_dir) / f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir()
    return tmp


# --------------------------------------------------------------------------- lock


@contextmanager
def lock(out_dir: Path | str) -> Iterator[Path]:
    """Hold the exclusive lock on ``<out>/.lock`` for the duration of a run.

    Raises :class:`LockedError` at once (no waiting) if another run holds it. The kernel
    drops an ``flock`` when its holder dies, so a stale ``.lock`` file never blocks.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(out_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        os.close(fd)
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise LockedError(out_dir, holder) from None
        raise
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)   # only to name the holder in messages
        _clean_dead_tmp(out_dir)
        yield out_dir
    finally:
        os.close(fd)    # releases the lock


# --------------------------------------------------------------------------- manifest


class Manifest:
    """What has been exported to ``<out>``: ``<out>/manifest.json``.

    ``reports`` maps each report id to an entry::

        {"source": "raw/linyi_2021_01-09.txt",      # raw file as given to the run
         "sha256": "…",                             # of the raw file
         "pipeline_version": "0.1.0",
         "suites_hash": "…",                        # of the expectation suites
         "processed_at": "2025-01-31T02:00:00+00:00",
         "dq_passed": true,                         # every row of every table passed
         "dq_failed_rows": {"reports": 0, "tasks": 0, "facts": 0},
         "outputs": {"facts": {"path": "facts/<id>.parquet", "sha256": "…", "bytes": 1234}, …}}
    """

    def __init__(self, out_dir: Path | str, reports: dict[str, dict] | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.reports: dict[str, dict] = dict(reports or {})
        self._verified: dict[tuple, str] = {}   # (path, inode, size, mtime_ns) → sha256

    @classmethod
    def load(cls, out_dir: Path | str) -> Manifest:
        """The manifest of ``out_dir``; empty when there is none yet (first run)."""
        path = Path(out_dir) / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(out_dir)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            # Written atomically, so only a hand edit gets here; reprocessing is the safe reply.
            log.warning("%s is unreadable (%s); every report will be processed again", path, e)
            return cls(out_dir)
        if data.get("format") != MANIFEST_FORMAT:
            log.warning("%s has format %r, not %r; every report will be processed again",
                        path, data.get("format"), MANIFEST_FORMAT)
            return cls(out_dir)
        return cls(out_dir, data.get("reports", {}))

    def to_json(self) -> str:
        """Valid JSON with one line per report: readable, diffable, and fast to write
        (the C encoder only runs without ``indent``)."""
        lines = [f"{json.dumps(r, ensure_ascii=False)}: "
                 f"{json.dumps(self.reports[r], ensure_ascii=False, sort_keys=True)}"
                 for r in sorted(self.reports)]
        body = ",\n".join(lines)
        return f'{{"format": {MANIFEST_FORMAT}, "reports": {{\n{body}\n}}}}\n'

    def save(self, tmp_dir: Path | None = None) -> None:
        """Write the manifest atomically (tmp file, fsync, replace); no-op when unchanged."""
        path = self.out_dir / MANIFEST_NAME
        text = self.to_json().encode("utf-8")
        try:
            if path.read_bytes() == text:
                return
        except FileNotFoundError:
            pass
        self.out_dir.mkdir(parents=True, exist_ok=True)
        own_tmp = tmp_dir is None
        tmp_dir = _new_tmp(self.out_dir) if own_tmp else tmp_dir
        try:
            staged = tmp_dir / MANIFEST_NAME
            _write_durably(staged, text)
            os.replace(staged, path)
            _fsync_dir(self.out_dir)
        finally:
            if own_tmp:
                shutil.rmtree(tmp_dir, ignore_errors=True)

    def outputs_match(self, report_id: str) -> bool:
        """True when every output file of the report exists with the recorded sha256."""
        entry = self.reports.get(report_id)
        if not entry or set(entry.get("outputs", {})) != set(TABLES):
            return False
        for out in entry["outputs"].values():
            path = self.out_dir / out["path"]
            try:
                st = path.stat()
            except FileNotFoundError:
                return False
            if st.st_size != out.get("bytes", st.st_size):
                return False
            key = (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
            if key not in self._verified:
                self._verified[key] = sha256_file(path)
            if self._verified[key] != out["sha256"]:
                return False
        return True

    def is_current(self, report_id: str, sha256: str, version: str, suites_hash: str) -> bool:
        """Whether the report can be skipped: same raw bytes, pipeline version and suites,
        and its outputs are all present and unchanged since they were recorded."""
        entry = self.reports.get(report_id)
        return (entry is not None
                and entry.get("sha256") == sha256
                and entry.get("pipeline_version") == version
                and entry.get("suites_hash") == suites_hash
                and self.outputs_match(report_id))

    def missing(self, current_report_ids: Iterable[str]) -> list[str]:
        """Reports in the manifest whose raw file is no longer among the inputs."""
        return sorted(set(self.reports) - set(current_report_ids))

    def failed(self) -> list[str]:
        """Reports whose last export had rows failing a data-quality check."""
        return sorted(r for r, e in self.reports.items() if not e.get("dq_passed", False))


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
        for table in TABLES:
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
           manifest: Manifest, suites_hash: str,
           sources: Mapping[str, Path | str | tuple[Path | str, str]] | None = None) -> Manifest:
    """Write each report's tables to ``<out>/<table>/<report_id>.parquet`` and record them.

    ``tables_by_report`` maps report id → {"reports": …, "tasks": …, "facts": …} (a missing
    table is written empty). ``suites_hash`` identifies the expectation suites the rows were
    validated with. ``sources`` maps report id → raw path, or → (raw path, sha256 of the raw
    file as the caller will pass it to ``is_current``); defaults: the ``source_file`` and
    ``sha256`` columns of the reports table. Files whose bytes are already in place are
    left alone (same inode and mtime).
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
                digest = hashlib.sha256(data).hexdigest()
                final = _output_path(out_dir, name, report_id)
                if not _unchanged(final, digest, data.size):
                    part = tmp / f"{name}.{report_id}.parquet"
                    part.write_bytes(memoryview(data))
                    staged.append((part, final))
                outputs[name] = {"path": f"{name}/{report_id}.parquet",
                                 "sha256": digest, "bytes": data.size}
            failed = _failed_rows(tables)
            entries[report_id] = {
                "source": str(source), "sha256": source_sha,
                "pipeline_version": __version__, "suites_hash": suites_hash,
                "processed_at": processed_at,
                "dq_passed": not any(failed.values()), "dq_failed_rows": failed,
                "outputs": outputs,
            }
        for name in TABLES:
            (out_dir / name).mkdir(exist_ok=True)
        if staged:
            _sync_filesystem(tmp)      # every new file is on disk before any of them is moved
        for part, final in staged:
            os.replace(part, final)
        for folder in {final.parent for _, final in staged}:
            _fsync_dir(folder)
        updated = Manifest(out_dir, {**manifest.reports, **entries})
        updated.save(tmp)
        manifest.reports = updated.reports
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest


# --------------------------------------------------------------------------- load

_NULLABLE_INT = {8: "Int8", 16: "Int16", 32: "Int32", 64: "Int64"}


def pandas_dtype(field: pa.Field) -> str:
    """The dtype ``load`` gives a column (also documented in docs/schema.md)."""
    t = field.type
    if pa.types.is_dictionary(t):
        return "category"
    if pa.types.is_integer(t):
        return _NULLABLE_INT[t.bit_width] if field.nullable else str(t.to_pandas_dtype().__name__)
    if pa.types.is_floating(t):
        return str(t.to_pandas_dtype().__name__)      # nulls are NaN
    if pa.types.is_boolean(t):
        return "boolean" if field.nullable else "bool"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "str"
    if pa.types.is_list(t):
        return "object"                              # Python lists of str
    raise TypeError(f"no pandas dtype chosen for {field}")


def pandas_dtypes(table: str) -> dict[str, str]:
    return {f.name: pandas_dtype(f) for f in schema(table)}


_SORT_KEYS = {"reports": ["report_id"], "tasks": ["report_id", "task_no"],
              "facts": ["report_id", "fact_no"], "progress": ["report_id", "progress_no"]}


def _read_table(folder: Path, table: str) -> pa.Table:
    import pyarrow.dataset as ds

    target = schema(table)
    files = sorted(str(p) for p in folder.glob("*.parquet")) if folder.is_dir() else []
    if not files:
        return target.empty_table()
    return ds.dataset(files, schema=target, format="parquet").to_table()


def _to_pandas(arrow: pa.Table, table: str) -> pd.DataFrame:
    import pandas as pd

    df = arrow.to_pandas()
    for field in arrow.schema:
        dtype = pandas_dtype(field)
        if pa.types.is_list(field.type):
            df[field.name] = pd.Series(arrow.column(field.name).to_pylist(), dtype=object)
        elif dtype == "category":
            # Sorted categories: the same data gives the same frame whatever the file order.
            df[field.name] = df[field.name].cat.set_categories(sorted(df[field.name].cat.categories))
        elif dtype != str(df[field.name].dtype):
            df[field.name] = df[field.name].astype(dtype)
    return df.sort_values(_SORT_KEYS[table], kind="stable", ignore_index=True)


def load(processed_dir: Path | str | None = None) -> dict[str, pd.DataFrame]:
    """The ``reports``, ``tasks``, ``facts`` and ``progress`` tables of a processed folder as DataFrames.

    Dtypes follow the Arrow schema (see docs/schema.md): categorical strings are
    ``category``; integers keep their width (``int16`` …), nullable ones are pandas'
    ``Int8``/``Int16``/``Int32``; text is ``str``; ``lead_units`` and ``dq_failures`` hold
    Python lists. Rows are sorted by report then task / fact / progress number. A table with no
    files yet comes back empty with the same columns and dtypes.
    """
    base = Path(processed_dir) if processed_dir is not None else default_processed_dir()
    return {name: _to_pandas(_read_table(base / name, name), name) for name in TABLES}
