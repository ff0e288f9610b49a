"""Schema checks in our own code: column presence, Arrow types, non-nullable columns.

They run on the Arrow tables before GX (pandas' string dtype breaks GX's type
expectations), and give the ``schema.*`` checks of every table.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import schema

CHECKS = {"schema.columns": "error", "schema.types": "error", "schema.not_null": "error"}


def conform(name: str, table: pa.Table, checked_by_suite: set[str]) -> tuple[pa.Table, dict[str, str], dict[int, list[tuple[str, str]]]]:
    """The table in the schema's column order and types, with the table-wide schema
    problems {check: message} and the rows with nulls in non-nullable columns (except
    the columns whose nulls a suite expectation checks itself)."""
    target = schema(name)
    problems: dict[str, str] = {}
    missing = [f.name for f in target if f.name not in table.column_names]
    if missing:
        problems["schema.columns"] = "missing column(s): " + ", ".join(missing)
    wrong, cols = [], []
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
        if f.nullable or f.name in checked_by_suite or f.name in missing or f.name.startswith("dq_"):
            continue
        col = conformed[f.name]
        if col.null_count:
            for i in np.flatnonzero(pc.is_null(col).to_numpy(zero_copy_only=False)):
                nulls.setdefault(int(i), []).append(("schema.not_null", f"{f.name} is null"))
    return conformed, problems, nulls
