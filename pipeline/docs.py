"""docs/schema.md, rendered from the Arrow schema (pipeline.schema) — never edited by hand.

Regenerate with ``python -m pipeline.docs`` (writes docs/schema.md of the project, or the
path given); tests/test_export.py fails while the file differs from what this renders.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa

from . import PROJECT_DIR
from .export import pandas_dtype
from .schema import TABLES, schema

DOC_PATH = PROJECT_DIR / "docs" / "schema.md"

_TABLE_INTROS = {
    "reports": ("每份报告一行", "one row per report"),
    "tasks": ("每项工作任务一行", "one row per task (编号)"),
    "facts": ("每个数值一行", "one row per quantity found in a task or status cell"),
    "progress": ("每条进度记录一行：完成数、目标数与完成比例",
                 "one row per progress record: the achieved figure, the target and the completion ratio of one piece of work"),
}


def _arrow_type(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t):
        return f"dictionary<{t.index_type}, {t.value_type}>"
    return str(t).replace("list<element: ", "list<").replace("list<item: ", "list<")


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown() -> str:
    lines = [
        "# Output schema",
        "",
        "<!-- Generated from pipeline/schema.py by `python -m pipeline.docs`; do not edit. -->",
        "",
        "Each table is a Parquet dataset `processed/<table>/<report_id>.parquet`, one file per",
        "report, zstd-compressed; the file metadata holds `pipeline_version` and",
        "`source_sha256`. Dictionary-typed columns are categoricals. *pandas dtype* is what",
        "`pipeline.load()` returns: nullable integers use pandas' `Int8`/`Int16`/`Int32`,",
        "nullable floats use NaN, list columns hold Python lists.",
        "",
    ]
    for table in TABLES:
        zh, en = _TABLE_INTROS[table]
        lines += [f"## {table}", "", f"{zh} — {en}.", "",
                  "| column | Arrow type | nullable | pandas dtype | 说明 | description | example |",
                  "|---|---|---|---|---|---|---|"]
        for field in schema(table):
            meta = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
            lines.append("| " + " | ".join(_cell(c) for c in (
                f"`{field.name}`", f"`{_arrow_type(field.type)}`",
                "yes" if field.nullable else "no", f"`{pandas_dtype(field)}`",
                meta.get("description_zh", ""), meta.get("description_en", ""),
                f"`{meta['example']}`" if meta.get("example") else "")) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else DOC_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_markdown(), encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
