"""The pipe-text reader: a .txt or .md table whose cells are separated by ``|``.

1. bytes → text. NUL bytes (binary) and lines over 1 MiB are refused on the bytes,
   before anything is decoded or split. The encoding is detected: UTF-8 (with or
   without BOM), else GB18030 (a superset of GBK); undecodable and empty files are
   refused.
2. text → rows. The header is found by its labels (`table.header_columns`), and the
   header fixes the layout: *cell per line* (the seed: every cell on its own line ending
   in ``|``; a category is one cell, a task is one cell per header column but 类别) or
   *row per line* (a pipe table, outer pipes optional, Markdown ``|---|`` lines skipped).
   Where the table's lines end in ``|``, a line that does not is continued by the next
   one. Notes under the table end it, with a warning.
3. rows → records and title metadata: `table.records`, `table.report`.

A text file with no table header but headed, numbered paragraphs is prose (`prose.py`).
"""
from __future__ import annotations

import codecs
from itertools import chain

from ..records import Report
from .table import (_BYTE_LINE_BREAK, _HEADING_MARK, _IGNORED_COLUMN, _LINE_BREAK, _MARKDOWN_RULE,
                    MAX_HEADER_CELLS, MAX_LINE_BYTES, REQUIRED_COLUMNS, Cell, Header, IngestError,
                    column_of, first_of_each, header_columns, is_category, is_note, no_header, records,
                    refuse, report, task_number, title_of)


def decode(data: bytes, name: str) -> tuple[str, str]:
    """The text of ``data`` and the encoding it was read with."""
    nul = data.find(b"\x00")
    if nul >= 0:
        raise refuse(name, _line_at(data, nul), "a NUL byte: this is a binary file (or UTF-16), not a text table",
                     "save the report as a UTF-8 text file with the table's cells separated by |")
    if len(data) > MAX_LINE_BYTES:
        _refuse_long_lines(data, name)
    encodings = ("utf-8-sig",) if data.startswith(codecs.BOM_UTF8) else ("utf-8", "gb18030")
    failures = []
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as e:
            failures.append(e)
            continue
        if not text.strip():
            raise refuse(name, 0, "the file is empty", "export the report table again; there is nothing to ingest")
        return text, encoding
    furthest = max(failures, key=lambda e: e.start)    # nearest to the real fault
    raise refuse(name, _line_at(data, furthest.start), f"undecodable bytes (tried {', '.join(encodings)})",
                 "re-save the file as UTF-8; a file mixing encodings must be converted by hand")


def read(data: bytes, name: str, sha256: str) -> Report:
    text, encoding = decode(data, name)
    numbered = [(number, line.replace("｜", "|"))
                for number, line in enumerate(_LINE_BREAK.split(text), start=1)]
    lines = [(n, line) for n, line in numbered if line.strip()]
    markdown = any(_MARKDOWN_RULE.fullmatch(line.strip()) for _, line in lines)
    lines = [(n, line) for n, line in lines if not _MARKDOWN_RULE.fullmatch(line.strip())]
    try:
        header = _find_header(lines, name)
    except IngestError:
        from . import prose
        if not any("|" in line for _, line in lines) and (found := prose.read_lines(lines, name, sha256, encoding)):
            return found
        raise
    title = title_of([(number, _split(_HEADING_MARK.sub("", line.strip(), count=1), True, True))
                      for number, line in lines[:header.first_index]])
    body = lines[header.last_index + 1:]
    notes = _notes_start(body, header)
    categories, tasks, read = records(_rows(body[:notes], header), header, name)
    note = None
    if notes < len(body):
        number, line = body[notes]
        note = (number, " ".join(cell for cell in _split(line, True, True) if cell))
    return report(name, sha256, encoding, "markdown" if markdown else "pipe", title, header.line,
                  categories, tasks, note, read)


def _refuse_long_lines(data: bytes, name: str) -> None:
    """Scan line lengths on the bytes: no copy, time linear in the size."""
    start, number = 0, 1
    for brk in chain(_BYTE_LINE_BREAK.finditer(data), [None]):
        end = len(data) if brk is None else brk.start()
        if end - start > MAX_LINE_BYTES:
            raise refuse(name, number, f"the line is {end - start:,} bytes long, over the 1 MiB limit",
                         "this is not a report table; put each cell or each row on its own line")
        if brk is not None:
            start, number = brk.end(), number + 1


def _line_at(data: bytes, offset: int) -> int:
    return 1 + len(_BYTE_LINE_BREAK.findall(data, 0, offset))


# --- text → rows of cells -------------------------------------------------------------

def _find_header(lines: list[tuple[int, str]], name: str) -> Header:
    for i, (number, line) in enumerate(lines):
        leading, trailing = line.lstrip().startswith("|"), line.rstrip().endswith("|")
        cells = _split(line, leading, trailing)
        if columns := header_columns(cells):
            return Header(i, i, number, columns, tuple(cells), row_per_line=True,
                          leading_pipe=leading, trailing_pipe=trailing)
        if len(cells) == 1 and column_of(cells[0]) in ("category", "task_no"):
            run: list[tuple[str | None, str]] = []       # (column, label), one cell per line
            for _, following in lines[i:i + MAX_HEADER_CELLS]:
                label = _split(following, False, True)
                if len(label) != 1:
                    break
                column, found = column_of(label[0]), {c for c, _ in run}
                # a new column, a known one again before the header is complete (序号 then
                # 编号), or a column to ignore (备注, 责任领导, …); else the rows begin
                if (column is None or (column in found and REQUIRED_COLUMNS <= found)) \
                        and not _IGNORED_COLUMN.fullmatch(label[0]):
                    break
                run.append((column, label[0]))
            columns = first_of_each([c for c, _ in run])
            if REQUIRED_COLUMNS <= set(columns):
                # the category column is merged in task rows: categories have rows of their own
                kept = [(c, label) for c, (_, label) in zip(columns, run) if c != "category"]
                return Header(i, i + len(run) - 1, number, tuple(c for c, _ in kept),
                              tuple(label for _, label in kept), row_per_line=False,
                              leading_pipe=False, trailing_pipe=True, empty_cell="a line holding only |")
    raise no_header(name)


def _split(line: str, leading_pipe: bool, trailing_pipe: bool) -> list[str]:
    body = line.strip()
    if trailing_pipe and body.endswith("|"):
        body = body[:-1]
    if leading_pipe and body.startswith("|"):
        body = body[1:]
    return [cell.strip() for cell in body.split("|")]


def _notes_start(lines: list[tuple[int, str]], header: Header) -> int:
    """Where the notes under the table begin (``len(lines)`` if there are none).

    Notes come after the last task number: they begin at the first line there that
    opens a cell with a note label or is a date line (`is_note`). Where each cell is
    on its own line, such a cell is still part of the last task row while the row
    lacks cells, as its 工作情况 or 完成时限 (说明：…, 2021年12月31日), but not as its
    牵头单位: there it is a note under a row that lacks a cell. The rows above the
    notes are read as ever, so a task row cut short is still refused."""
    last = len(lines) - 1                   # the last line holding a task number
    while last >= 0 and not any(task_number(c) is not None for c in _split(lines[last][1], True, True)):
        last -= 1
    column = 0                              # line i's place in the last task row (cell per line)
    for i in range(last + 1, len(lines)):
        above = lines[i - 1][1].rstrip() if i else "|"
        column += above.endswith("|")
        in_row = (not header.row_per_line and last >= 0 and column < len(header.columns)
                  and header.columns[column] != "lead_units")
        if not in_row and (not header.trailing_pipe or above.endswith("|")) \
                and is_note(_split(lines[i][1], True, True)[0]):
            return i
    return len(lines)


def _rows(lines: list[tuple[int, str]], header: Header) -> list[list[Cell]]:
    logical = _join_continued(lines) if header.trailing_pipe else [(l, n, n) for n, l in lines]
    split = [[Cell(text, start, end) for text in _split(line, header.leading_pipe, header.trailing_pipe)]
             for line, start, end in logical]
    if header.row_per_line:
        return split
    return _group_cells([cell for cells in split for cell in cells], header)


def _join_continued(lines: list[tuple[int, str]]) -> list[tuple[str, int, int]]:
    """Join a line that does not end in | with the lines after it, with no separator
    and without the whitespace around the break: the break was layout, not text."""
    logical, pending = [], []
    for number, line in lines:
        pending.append((number, line.strip()))
        if pending[-1][1].endswith("|"):
            logical.append(("".join(l for _, l in pending), pending[0][0], number))
            pending = []
    if pending:
        logical.append(("".join(l for _, l in pending), pending[0][0], pending[-1][0]))
    return logical


def _group_cells(cells: list[Cell], header: Header) -> list[list[Cell]]:
    """Cells one per line → rows: a category cell alone, else one cell per column.

    A row ends early at a category cell, or at the next task's number (this number + 1)
    where 编号 comes first, so a missing cell is reported on its own row."""
    rows, i, width = [], 0, len(header.columns)
    while i < len(cells):
        row = [cells[i]]
        i += 1
        if not is_category(row[0].text):
            number = task_number(row[0].text) if header.columns[0] == "task_no" else None
            while len(row) < width and i < len(cells) and not (
                    is_category(cells[i].text)
                    or (number is not None and task_number(cells[i].text) == number + 1)):
                row.append(cells[i])
                i += 1
        rows.append(row)
    return rows
