"""Which files a run reads: raw reports named, or found in folders, never our own files."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .. import PROJECT_DIR
from ..records import Problem

DEFAULT_RAW = PROJECT_DIR / "raw"
RAW_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx", ".xlsx")
RAW_PATTERNS = " ".join("*" + s for s in RAW_SUFFIXES)     # for messages: *.txt *.md …


class UsageError(Exception):
    """Bad arguments or no input files (exit status 2)."""


_OWN_FILES = Path(__file__).resolve().parent.parent / "resources"   # vendored assets, vocabularies: never reports


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def find_inputs(paths: Sequence[Path | str] | None, out: Path) -> tuple[list[Path], list[Problem], int]:
    """The raw files named by ``paths`` (files, or folders searched recursively), the
    files named that cannot be read as reports (refused one by one), and how many files
    were left out of a folder because they lie under ``out`` or the pipeline's own
    resources: a run never reads what it wrote, nor its vendored files."""
    found: list[Path] = []
    refused: list[Problem] = []
    excluded = 0
    ours = [out.resolve(), _OWN_FILES]
    for p in [Path(p) for p in (paths or [DEFAULT_RAW])]:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if (f.suffix.lower() not in RAW_SUFFIXES
                        or any(part.startswith(".") for part in f.relative_to(p).parts) or not f.is_file()):
                    continue
                if any(_inside(f.resolve(), folder) for folder in ours):
                    excluded += 1
                else:
                    found.append(f)
        elif p.is_file():
            if any(_inside(p.resolve(), folder) for folder in ours):
                refused.append(Problem(str(p), 0, "this file is one of the pipeline's own (under --out or "
                                       "pipeline/resources), not a raw report", "name raw report files only"))
            else:
                found.append(p)
        elif p.exists():
            refused.append(Problem(str(p), 0, "not a regular file (a FIFO, socket or device), so it cannot be "
                                   "read as a report", "save the report as a file and name that file"))
        else:
            raise UsageError(f"{p}: no such file or folder — give a raw report or a folder of them")
    if not found and not refused:
        raise UsageError(f"no reports ({RAW_PATTERNS}) found in {', '.join(map(str, paths or [DEFAULT_RAW]))}"
                         " — put raw reports there or name them on the command line")
    return found, refused, excluded
