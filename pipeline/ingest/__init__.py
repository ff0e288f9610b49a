"""Ingest: the bytes of one raw report → a `Report` of categories and tasks.

``ingest(path)`` reads the file; ``parse(data, source_file)`` does the rest and is pure.
One reader per format turns its document into rows of cells (and the lines that may
hold the title); the rules that make a `Report` of them live once, in `table.py`:

| reader | reads | chosen when |
|---|---|---|
| `text.py` | pipe tables (.txt, .md): cell per line, row per line, Markdown | anything else |
| `prose.py` | headed, numbered paragraphs without a table (in text, pages, .docx) | a text, page or document has no table header |

Bad input is refused with an `IngestError` that names the line and says what to do.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePath

from ..records import Problem, Report
from . import text
from .table import IngestError

__all__ = ["IngestError", "ingest", "parse"]


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

    Raises `IngestError` for input that is not a readable report; problems that do not
    stop ingest (a declared count that disagrees) are in ``Report.warnings``.
    """
    name = PurePath(source_file).name
    sha256 = hashlib.sha256(data).hexdigest()
    return text.read(data, name, sha256)
