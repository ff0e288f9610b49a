"""Views analysts reach for, built on :func:`pipeline.load`, and their export.

:func:`facts_view` is one row per fact with what an analyst otherwise joins by hand:
the task text and category, the report's region, year, title, period and series, the
series keys of the task and the figure (pipeline.series), and where the
fact is the achieved figure, the target or the ratio of a progress record, that record's
completion and status. :func:`write_views` writes it and the progress table as a workbook
(one sheet per table, bilingual headers, frozen header row, percentages formatted) or as
CSV files. Nothing here decides anything the pipeline has not already decided.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .schema import schema

if TYPE_CHECKING:
    import pandas as pd

PROGRESS_ROLES = ("achieved", "target", "ratio")

# The columns of the facts view, in order: (column, table it comes from, column there),
# or a column of the view's own with its (中文, English) description.
_REPORT_COLUMNS = [("region", "reports", "region"), ("year", "reports", "year"),
                   ("report_period_start_month", "reports", "period_start_month"),
                   ("report_period_end_month", "reports", "period_end_month"),
                   ("title", "reports", "title"), ("series_id", "reports", "series_id")]
_TASK_COLUMNS = [("category", "tasks", "category"), ("task", "tasks", "task"),
                 ("lead_units", "tasks", "lead_units"), ("task_key", "tasks", "task_key")]
_PROGRESS_COLUMNS = [("progress_no", "progress", "progress_no"), ("progress_role", None, None),
                     ("completion_pct", "progress", "completion_pct"),
                     ("expected_pct", "progress", "expected_pct"),
                     ("progress_status", "progress", "status")]
_OWN = {
    "report_period_start_month": ("报告统计期起始月", "first month of the report's period (not the figure's own)"),
    "report_period_end_month": ("报告统计期截止月", "last month of the report's period (not the figure's own)"),
    "progress_role": ("在进度记录中的角色：achieved 完成数 / target 目标数 / ratio 完成比例",
                      "the fact's role in its progress record: achieved, target or ratio; null when in none"),
}


def _facts_columns() -> list[tuple[str, str | None, str | None]]:
    facts = [(f.name, "facts", f.name) for f in schema("facts")]
    head = [c for c in facts if c[0] in ("report_id",)]
    body = [c for c in facts if c[0] not in ("report_id", "source_file", "dq_passed", "dq_failures")]
    tail = [c for c in facts if c[0] in ("dq_passed", "dq_failures", "source_file")]
    # the task's own columns go right after task_no
    at = [c[0] for c in body].index("task_no") + 1
    body = body[:at] + _TASK_COLUMNS + body[at:]
    return head + _REPORT_COLUMNS + body + _PROGRESS_COLUMNS + tail


VIEW_COLUMNS = _facts_columns()


def describe(table: str, column: str) -> tuple[str, str]:
    """The (中文, English) description of a column of a table or of the facts view."""
    if table == "facts_view":
        for name, source, source_column in VIEW_COLUMNS:
            if name == column:
                if name in _OWN:
                    return _OWN[name]
                table, column = source, source_column
                break
        else:
            raise KeyError(column)
    meta = schema(table).field(column).metadata
    return meta[b"description_zh"].decode(), meta[b"description_en"].decode()


def facts_view(processed_dir: Path | str | None = None, *,
               tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """One row per fact, denormalised: the fact, its task text, category and lead units,
    the report's region, year, period, title and series, the task's and the figure's keys
    in the series (stored by the run, stable across periods: :mod:`pipeline.series`), and — where the fact is the achieved
    figure, the target or the ratio of a progress record — that record's number, the
    fact's role in it, its completion, expected mark and status.

    Reads ``processed_dir`` through :func:`pipeline.load` (default: the project's
    processed/), or takes the tables ``load`` returned. A fact in several records (a
    target serving several parts) shows the first of them. Rows in the order of
    ``load``'s facts: by report, then fact number.
    """
    import pandas as pd

    from .export import load

    t = tables if tables is not None else load(processed_dir)
    facts = t["facts"]
    reports = t["reports"][["report_id", *(c for _, _, c in _REPORT_COLUMNS)]].rename(
        columns={c: n for n, _, c in _REPORT_COLUMNS})
    tasks = t["tasks"][["report_id", "task_no", *(c for _, s, c in _TASK_COLUMNS if s)]]
    p = t["progress"]
    roles = pd.concat([
        p[p[f"{role}_fact_no"].notna()].assign(
            fact_no=lambda d, role=role: d[f"{role}_fact_no"].astype("int32"), progress_role=role)
        for role in PROGRESS_ROLES], ignore_index=True)
    roles = (roles.sort_values(["report_id", "fact_no", "progress_no"], kind="stable")
             .drop_duplicates(["report_id", "fact_no"])
             .rename(columns={"status": "progress_status"})
             [["report_id", "fact_no", "progress_no", "progress_role", "completion_pct", "expected_pct",
               "progress_status"]])
    view = (facts.merge(reports, on="report_id", how="left")
            .merge(tasks, on=["report_id", "task_no"], how="left")
            .merge(roles, on=["report_id", "fact_no"], how="left"))
    view["progress_no"] = view["progress_no"].astype("Int32")
    view["progress_role"] = pd.Categorical(view["progress_role"], categories=list(PROGRESS_ROLES))
    return view[[name for name, _, _ in VIEW_COLUMNS]].reset_index(drop=True)


# --------------------------------------------------------------------------- export

FORMATS = ("xlsx", "csv")
SHEETS = ("facts", "progress")            # the facts view, and the progress table as loaded
PERCENT_FORMAT = "0.0%"
WHOLE_FORMAT, DECIMAL_FORMAT = "#,##0", "#,##0.0###"     # float columns: 1,083,000,000 · 150,152.2843
BOOL_FORMAT = '"TRUE";"TRUE";"FALSE"'                    # LibreOffice shows a bare boolean as 1 / 0
MAX_WIDTH = 50                                           # characters; longer text is cut at the cell edge


def _is_percent(column: str) -> bool:
    """Columns in percent (98.5 for 98.5 %): written as fractions with a % format."""
    return column.endswith("_pct")


def _sheet_description(sheet: str, column: str) -> tuple[str, str]:
    return describe("facts_view" if sheet == "facts" else sheet, column)


def header(sheet: str, column: str) -> str:
    """A bilingual column header: the Chinese description up to its first gloss
    (数值类型：total … → 数值类型), over the column's name."""
    zh, _ = _sheet_description(sheet, column)
    short = zh.split("：")[0].split("（")[0].strip() or zh
    return f"{short}\n{column}"


def _sheets(processed_dir, tables) -> dict[str, pd.DataFrame]:
    from .export import load

    t = tables if tables is not None else load(processed_dir)
    return {"facts": facts_view(tables=t), "progress": t["progress"]}


def write_views(path: Path | str, format: str = "xlsx", processed_dir: Path | str | None = None, *,
                tables: Mapping[str, pd.DataFrame] | None = None) -> list[Path]:
    """Write the facts view and the progress table for colleagues who work in Excel.

    ``xlsx``: one workbook at ``path``, a sheet per table, bilingual headers (with both
    full descriptions as the header cell's comment), header row frozen and filterable,
    percentages as percent cells (98.5 → 98.5 %). ``csv``: one UTF-8 file per table
    (with a byte-order mark, so Excel reads the Chinese), ``<stem>-facts.csv`` and
    ``<stem>-progress.csv`` beside ``path``, headed by column names. Files are written
    whole or not at all. Returns the paths written.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}: one of {', '.join(FORMATS)}")
    sheets = _sheets(processed_dir, tables)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if format == "xlsx":
        _atomic(path, lambda tmp: _workbook(sheets).save(tmp))
        return [path]
    written = []
    for name, df in sheets.items():
        target = path.with_name(f"{path.stem}-{name}.csv")
        _atomic(target, lambda tmp, df=df: _plain(df).to_csv(tmp, index=False, encoding="utf-8-sig"))
        written.append(target)
    return written


def _atomic(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Lists as text (市民政局、市财政局), categoricals as their strings."""
    out = df.copy()
    for column in out.columns:
        if out[column].dtype == object and any(isinstance(v, list) for v in out[column]):
            out[column] = ["、".join(v) if isinstance(v, list) else v for v in out[column]]
        elif str(out[column].dtype) == "category":
            out[column] = out[column].astype(object)
    return out


def _cell_value(value):
    import pandas as pd

    if value is None or (not isinstance(value, (list, str)) and pd.isna(value)):
        return None
    if hasattr(value, "item"):                       # numpy scalars
        return value.item()
    return value


def _display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: a Chinese character is two."""
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _column_width(title: str, df: pd.DataFrame, column: str, percent: bool) -> float:
    """Wide enough for the header's longer line and the widest of the first 500 values as shown."""
    values = df[column].head(500).dropna().tolist()
    if percent:
        shown = [f"{v:.1f}%" for v in values]
    elif df[column].dtype.kind == "f":
        shown = [f"{v:,.0f}" if float(v).is_integer() else f"{v:,.4f}".rstrip("0") for v in values]
    else:
        shown = [str(v) for v in values]
    widest = max([_display_width(x) for x in [*title.split("\n"), *shown]], default=0)
    return min(max(widest + 2, 6), MAX_WIDTH)


def _workbook(sheets: Mapping[str, pd.DataFrame]):
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    def text(value: str) -> str:
        # control characters are not allowed in a workbook: shown escaped, as the terminal does
        return ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", value)

    book = Workbook()
    book.remove(book.active)
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    fill = PatternFill("solid", fgColor="DDEBF7")
    for name, df in sheets.items():
        ws = book.create_sheet(name)
        df = _plain(df)
        for j, column in enumerate(df.columns, 1):
            zh, en = _sheet_description(name, column)
            cell = ws.cell(row=1, column=j, value=header(name, column))
            cell.font, cell.alignment, cell.fill = bold, wrap, fill
            cell.comment = Comment(f"{zh}\n{en}", "minsheng-pipeline")
            ws.column_dimensions[get_column_letter(j)].width = _column_width(
                header(name, column), df, column, _is_percent(column))
        percent = [_is_percent(c) for c in df.columns]
        floats = [df[c].dtype.kind == "f" for c in df.columns]
        for i, row in enumerate(df.itertuples(index=False), 2):
            for j, value in enumerate(row, 1):
                value = _cell_value(value)
                if value is None:
                    continue
                if percent[j - 1]:
                    cell = ws.cell(row=i, column=j, value=value / 100)
                    cell.number_format = PERCENT_FORMAT
                elif isinstance(value, str):
                    cell = ws.cell(row=i, column=j, value=text(value))
                    cell.data_type = "s"         # report text is never a formula (=…)
                else:
                    cell = ws.cell(row=i, column=j, value=value)
                    if isinstance(value, bool):
                        cell.number_format = BOOL_FORMAT
                    elif floats[j - 1]:
                        cell.number_format = WHOLE_FORMAT if float(value).is_integer() else DECIMAL_FORMAT
        ws.row_dimensions[1].height = 32
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(max(len(df.columns), 1))}{max(len(df) + 1, 1)}"
    return book
