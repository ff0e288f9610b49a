"""The Excel reader: a report table in a sheet of an .xlsx workbook.

Opened with openpyxl (which parses the workbook's XML through defusedxml: no entity
expansion, no external entities) after `office.open_zip` has bounded the archive.
Merged ranges need openpyxl's normal mode; the unzipped size bound keeps it small.
Cached values are read, not formulas (what Excel last showed).

- The sheet is the first (in the workbook's order) with a header row; a row of the
  sheet is a "line" (its number in messages and in tasks' line_start/line_end).
- Merged cells: a vertically merged range gives every row its first cell's text (the
  category column); the other columns of a range stay empty (a merged title row, a
  category row across the table, a notes row).
- A value as a person reads it in Excel: 3170 (not 3170.0), a percentage format as
  98.5%, the decimals and thousands separators of the cell's number format, a date as
  2021-10-15. Text is kept as written, its line breaks (Alt+Enter) joined with no
  separator (in the lead units column, each line is a unit). Empty spacer rows are
  skipped; a notes row under the table ends it.
- The title from the rows above the header.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import warnings
from decimal import ROUND_HALF_UP, Decimal

from ..records import Report
from .office import damaged
from .table import Cell, grid_report, refuse

MAX_CELLS = 1_000_000          # of one sheet's used range
_DECIMALS = re.compile(r"0\.(0+)")
_PLACEHOLDER = re.compile(r"[0#]")
_LITERAL = re.compile(r'"([^"]*)"')


def read(data: bytes, name: str, sha256: str) -> Report:
    """``data`` has passed `office.open_zip`."""
    import openpyxl                  # imported only when a workbook comes

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")      # openpyxl warns about styles and extensions it drops
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=False, data_only=True)
    except MemoryError:
        raise
    except Exception as e:   # a damaged part raises what zlib, zipfile, defusedxml or openpyxl raise
        raise damaged(name, "xlsx", e) from e
    sheets = [sheet for sheet in workbook.worksheets if sheet.max_row and sheet.max_column]
    for sheet in sheets:
        if sheet.max_row * sheet.max_column > MAX_CELLS:
            raise refuse(name, 0, f"the sheet {sheet.title!r} spans {sheet.max_row:,} rows × "
                                  f"{sheet.max_column:,} columns, over {MAX_CELLS:,} cells",
                         "delete the empty rows and columns below and right of the table, or copy the "
                         "table into a new workbook")
    found = grid_report([_grid(sheet) for sheet in sheets], lambda t: None, name, sha256, "utf-8", "xlsx")
    if found is None:
        raise refuse(name, 0, "no sheet holds a report table (no header row found)",
                     "the table needs a header row with the labels 编号, 工作任务, …工作情况 and 牵头单位 "
                     "(traditional 編號, 工作任務, …工作情況, 牽頭單位 work too)")
    return found


def _grid(sheet) -> list[list[Cell]]:
    texts: dict[tuple[int, int], str] = {}
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is not None:
                texts[cell.row, cell.column] = _shown(cell)
    for merged in sheet.merged_cells.ranges:
        first = texts.get((merged.min_row, merged.min_col), "")
        for r in range(merged.min_row + 1, merged.max_row + 1):
            texts[r, merged.min_col] = first
    if not texts:
        return []
    width = max(c for _, c in texts)
    return [[Cell(texts.get((r, c), ""), r, r) for c in range(1, width + 1)]
            for r in range(1, max(r for r, _ in texts) + 1)]


def _shown(cell) -> str:
    """The cell's value as Excel shows it (for the number formats reports use)."""
    value, fmt = cell.value, cell.number_format or "General"
    if isinstance(value, str):
        return value                      # its lines are joined by table.grid_report
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.time | dt.timedelta):
        return str(value)
    if isinstance(value, int | float):
        return _formatted(value, fmt)
    return str(value)


def _formatted(value: float, fmt: str) -> str:
    section = fmt.split(";")[0]                       # the format of positive numbers
    digits = _PLACEHOLDER.search(section)
    if section in ("General", "@") or digits is None:
        text = f"{value:.15g}"                        # Excel's General: no trailing .0
        return text
    prefix = "".join(_LITERAL.findall(section[:digits.start()]))
    suffix = "".join(_LITERAL.findall(section[digits.start():]))
    decimals = _DECIMALS.search(section)
    places = len(decimals[1]) if decimals else 0
    number = Decimal(repr(value)) * (100 if "%" in section else 1)
    number = number.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    text = f"{number:,}" if "#,##" in section else f"{number}"
    return f"{prefix}{text}{'%' if '%' in section else ''}{suffix}"
