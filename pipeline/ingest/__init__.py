"""Ingest: the bytes of one raw report → a `Report` of categories and tasks.

``ingest(path)`` reads the file; ``parse(data, source_file)`` does the rest and is pure.
One reader per format turns its document into rows of cells (and the lines that may
hold the title); the rules that make a `Report` of them live once, in `table.py`:

| reader | reads | chosen when |
|---|---|---|
| `text.py` | pipe tables (.txt, .md): cell per line, row per line, Markdown | none of the others |
| `html.py` | a table in a web page (.html, .htm) | the extension, or the bytes open like a page |
| `docx.py` | a Word table (.docx) | a zip holding word/document.xml |
| `xlsx.py` | an Excel sheet (.xlsx) | a zip holding xl/workbook.xml |
| `prose.py` | headed, numbered paragraphs without a table, in any of text, page or .docx | the reader finds no table header |

`office.py` refuses what is not read (old .doc/.xls, password-protected workbooks,
PDFs) and checks a zip before it is parsed. Bad input is refused with an
`IngestError` that names the line (the row of a sheet, the block of a document) and
says what to do.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePath

from ..records import Problem, Report
from . import office, text
from .table import IngestError

__all__ = ["IngestError", "ingest", "parse"]

HTML_SUFFIXES = (".html", ".htm")
_PAGE_OPENINGS = (b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body", b"<table", b"<meta")


def ingest(path: str | os.PathLike[str]) -> Report:
    """Read one raw report file; see `parse`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise IngestError(Problem(path.name, 0, f"cannot read the file: {e.strerror}",
                                  "check the path and its permissions")) from e
    return parse(data, path.name)


def parse(data: bytes, source_file: str) -> Report:
    """The report in ``data``, the bytes of the raw file named ``source_file``.

    The reader is chosen by content first (a zip, an OLE or PDF file, a page), then by
    extension. Raises `IngestError` for input that is not a readable report; problems
    that do not stop ingest (a declared count that disagrees) are in ``Report.warnings``.
    """
    name = PurePath(source_file).name
    suffix = PurePath(name).suffix.lower()
    sha256 = hashlib.sha256(data).hexdigest()
    office.refuse_other_binaries(data, name)
    # sites also serve an HTML table under an Office name (report.xls, report.xlsx)
    page = not data.startswith(office.ZIP_MAGIC) and (suffix in HTML_SUFFIXES or _looks_like_html(data))
    if data.startswith(office.ZIP_MAGIC) or (suffix in (".docx", ".xlsx") and not page):
        archive = office.open_zip(data, name, "xlsx" if suffix == ".xlsx" else "docx")
        parts = set(archive.namelist())
        if "word/document.xml" in parts:
            from . import docx
            return docx.read(data, name, sha256)
        if "xl/workbook.xml" in parts:
            from . import xlsx
            return xlsx.read(data, name, sha256)
        raise IngestError(Problem(name, 0, "a zip archive that is neither a Word .docx nor an Excel .xlsx",
                                  "unpack it and give the report inside, or save the report as .docx or .xlsx"))
    if page:
        from . import html
        return html.read(data, name, sha256)
    return text.read(data, name, sha256)


def _looks_like_html(data: bytes) -> bool:
    """A page saved under another name (report.txt holding <html>…)."""
    head = data[:1024].removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    return head.startswith(_PAGE_OPENINGS) or b"<html" in head
