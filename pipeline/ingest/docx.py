"""The Word reader: a report table in a .docx (or numbered prose, `prose.py`).

Opened with python-docx (its XML parser resolves no entities and fetches nothing),
after `office.open_zip` has checked the archive. The body is walked in order: each
paragraph and each table row is one "line" of the document, the number used in
messages and in tasks' line_start/line_end.

- The report table is the first with a header row. Merged cells: a vertically merged
  cell (``vMerge``) takes the text of the cell where the merge starts (a category cell
  spanning its tasks); a horizontally merged one (``gridSpan``) leaves the spanned
  columns empty (a category row across the table).
- A table continued after a page break (tables with only empty paragraphs between
  them and the same number of columns) is joined, its repeated header dropped; a later
  table repeating the header continues it too.
- A cell's paragraphs and line breaks are joined with no separator (in the lead units
  column, each line is a unit).
- The title from the rows above the header, else the nearest heading or title-like
  paragraph above the table.
"""
from __future__ import annotations

import io

from ..records import Report
from .office import damaged
from .table import Cell, check_size, choose_title, grid_report, header_columns, join_lines, refuse

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MAX_COLUMNS = 200


def read(data: bytes, name: str, sha256: str) -> Report:
    """``data`` has passed `office.open_zip`."""
    import docx                      # python-docx: imported only when a .docx comes

    try:
        document = docx.Document(io.BytesIO(data))
        body = document.element.body
    except MemoryError:
        raise
    except Exception as e:   # a damaged part raises what zlib, zipfile, lxml or python-docx raise
        raise damaged(name, "docx", e) from e
    blocks: list[tuple[int, str, bool]] = []          # paragraphs: (line, text, is a heading)
    tables: list[tuple[int, list[list[Cell]]]] = []    # (paragraphs above it, its rows)
    line = cells = 0
    for element in _body_elements(body):
        if element.tag == W + "p":
            line += 1
            blocks.append((line, join_lines(_paragraph_text(element)), _is_heading(element)))
        elif element.tag == W + "tbl":
            rows = _grid(element, line)
            line += len(rows)
            tables.append((len(blocks), rows))
            cells = check_size(cells, rows, name, "document")
    grids = _join_continued(tables, blocks)

    def title_above(t: int) -> tuple[str, int] | None:
        return choose_title(blocks[:grids[t][0]])

    found = grid_report([rows for _, rows in grids], title_above, name, sha256, "utf-8", "docx")
    if found is None:
        from . import prose
        found = prose.read_blocks(blocks, name, sha256, "utf-8", "docx", None)
    if found is None:
        raise refuse(name, 0, "the document has neither a report table nor numbered paragraphs",
                     "a report table needs a header with 编号, 工作任务, …工作情况 and 牵头单位; "
                     "a prose report needs headings 一、… over numbered items 1. … typed as text "
                     "(Word's automatic list numbers are not part of the text)")
    return found


def _body_elements(body):
    for element in body.iterchildren():
        if element.tag == W + "sdt":                  # a content control around paragraphs or tables
            content = element.find(W + "sdtContent")
            if content is not None:
                yield from _body_elements(content)
        else:
            yield element


def _paragraph_text(p) -> str:
    """The paragraph's visible text, a line break (w:br, w:cr) as a newline."""
    parts = []
    for node in p.iter(W + "t", W + "br", W + "cr", W + "tab"):
        if node.tag == W + "t":
            parts.append(node.text or "")
        elif node.tag == W + "tab":
            parts.append("\t")
        else:
            parts.append("\n")
    return "".join(parts)


def _is_heading(p) -> bool:
    style = p.find(f"{W}pPr/{W}pStyle")
    value = (style.get(W + "val") or "") if style is not None else ""
    return value.lower().startswith(("heading", "title")) or value in ("1", "2", "3")


def _cell_text(tc) -> str:
    """Its paragraphs and line breaks as lines: `table.grid_report` joins them."""
    return "\n".join(_paragraph_text(p) for p in tc.iter(W + "p"))


def _grid(tbl, line: int) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    above: list[str] = []
    for tr in tbl.xpath("./w:tr|./w:sdt/w:sdtContent/w:tr"):
        line += 1
        texts: list[str] = [""] * _int(tr.find(f"{W}trPr/{W}gridBefore"), 0)
        for tc in tr.xpath("./w:tc|./w:sdt/w:sdtContent/w:tc"):
            span = max(min(_int(tc.find(f"{W}tcPr/{W}gridSpan"), 1), MAX_COLUMNS - len(texts)), 1)
            merge = tc.find(f"{W}tcPr/{W}vMerge")
            if merge is not None and merge.get(W + "val", "continue") != "restart":
                text = above[len(texts)] if len(texts) < len(above) else ""
            else:
                text = _cell_text(tc)
            texts += [text] + [""] * (span - 1)
            if len(texts) >= MAX_COLUMNS:
                break
        above = texts
        rows.append([Cell(text, line, line) for text in texts])
    width = max((len(r) for r in rows), default=0)
    return [r + [Cell("", r[0].line_start, r[0].line_start)] * (width - len(r)) for r in rows if r]


def _int(element, default: int) -> int:
    try:
        return max(int(element.get(W + "val")), 0) if element is not None else default
    except (TypeError, ValueError):
        return default


def _join_continued(tables: list[tuple[int, list[list[Cell]]]],
                    blocks: list[tuple[int, str, bool]]) -> list[tuple[int, list[list[Cell]]]]:
    """Tables with only empty paragraphs (a page break) between them and the same width
    are one table; the continuation's first row is dropped where it repeats the header."""
    joined: list[tuple[int, list[list[Cell]]]] = []
    for above, rows in tables:
        if joined and rows and joined[-1][1]:
            before, previous = joined[-1]
            between = blocks[before:above]
            if len(rows[0]) == len(previous[0]) and not any(text for _, text, _ in between):
                header = next((header_columns([c.text for c in r]) for r in previous
                               if header_columns([c.text for c in r])), None)
                if header and header_columns([c.text for c in rows[0]]) == header:
                    rows = rows[1:]
                joined[-1] = (before, previous + rows)
                continue
        joined.append((above, rows))
    return joined
