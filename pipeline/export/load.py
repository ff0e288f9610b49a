"""``load``: the tables an output folder's manifest lists, checked against it."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from ..schema import TABLES, schema

if TYPE_CHECKING:
    import pandas as pd

from .files import (MANIFEST_NAME, default_processed_dir, sha256_file)
from .manifest import Manifest


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


class LoadError(ValueError):
    """The folder's files and its manifest disagree (a damaged manifest, an interrupted
    run, an edited file): load refuses rather than mix two runs or return altered rows."""


def _read_table(files: list[Path], table: str) -> pa.Table:
    import pyarrow.dataset as ds

    target = schema(table)
    if not files:
        return target.empty_table()
    return ds.dataset([str(f) for f in files], schema=target, format="parquet").to_table()


def _listed_files(base: Path, manifest: Manifest, *, verify: bool) -> dict[str, list[Path]]:
    """Per table, the files the manifest lists, each checked against it: present, of the
    recorded size, written from the raw file the manifest names (``source_sha256`` in its
    metadata) and, with ``verify``, of the recorded sha256."""
    files: dict[str, list[Path]] = {name: [] for name in TABLES}
    again = "run the pipeline again on this folder to finish or redo the report"
    for report_id in sorted(manifest.reports):
        entry = manifest.reports[report_id]
        for name in TABLES:
            out = entry["outputs"].get(name)
            if out is None:
                raise LoadError(f"{base / MANIFEST_NAME}: report {report_id} has no {name} file recorded — {again}")
            path = base / out["path"]
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                raise LoadError(f"{path}: listed in the manifest but missing — {again}") from None
            if size != out.get("bytes", size):
                raise LoadError(f"{path}: not the file the manifest recorded (size differs) — {again}")
            if verify and sha256_file(path) != out["sha256"]:
                raise LoadError(f"{path}: not the file the manifest recorded (sha256 differs) — {again}")
            written_from = (pq.read_metadata(path).metadata or {}).get(b"source_sha256", b"").decode()
            if written_from != entry["sha256"]:
                raise LoadError(f"{path}: written from another version of the raw file than the manifest "
                                f"records (an interrupted run?) — {again}")
            files[name].append(path)
    return files


def _unknown_files(base: Path, listed: dict[str, list[Path]]) -> list[Path]:
    known = {p for paths in listed.values() for p in paths}
    return [p for name in TABLES if (base / name).is_dir()
            for p in sorted((base / name).glob("*.parquet")) if p not in known]


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


def load(processed_dir: Path | str | None = None, *, verify: bool = False) -> dict[str, pd.DataFrame]:
    """The ``reports``, ``tasks``, ``facts`` and ``progress`` tables of a processed folder as DataFrames.

    Reads exactly the files the folder's manifest lists, each checked against it (present,
    recorded size, written from the recorded raw file); ``verify=True`` also checks every
    file's sha256 (reads each file once more). Files the manifest does not list are skipped
    with a warning. When the files and the manifest disagree — a damaged manifest, a run
    killed while replacing files, an edited file — it raises :class:`LoadError` rather
    than mix two runs; rerunning the pipeline on the folder repairs it.

    Dtypes follow the Arrow schema (see docs/schema.md): categorical strings are
    ``category``; integers keep their width (``int16`` …), nullable ones are pandas'
    ``Int8``/``Int16``/``Int32``; text is ``str``; ``lead_units`` and ``dq_failures`` hold
    Python lists. Rows are sorted by report then task / fact / progress number. A folder with no
    reports yet gives empty tables with the same columns and dtypes.
    """
    import warnings

    base = Path(processed_dir) if processed_dir is not None else default_processed_dir()
    manifest = Manifest.load(base)
    if manifest.problem:
        raise LoadError(f"{base / MANIFEST_NAME}: {manifest.problem} — run the pipeline again on this "
                        "folder to rebuild it")
    listed = _listed_files(base, manifest, verify=verify)
    for path in _unknown_files(base, listed):
        warnings.warn(f"{path}: not in the manifest, so not a pipeline output — skipped", stacklevel=2)
    return {name: _to_pandas(_read_table(listed[name], name), name) for name in TABLES}

