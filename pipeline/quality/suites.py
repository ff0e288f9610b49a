"""The suites in ``expectations/<table>.json``: read strictly, fingerprinted as read.

Every expectation names its check and severity in ``meta``; an expectation on a column
the pipeline derives (rules.py) also explains that column in ``meta.derived``
(``{"column": "one-line meaning"}``), so a reviewer reading the JSON alone can tell what
each check catches. ``Suites.fingerprint`` hashes the bytes read here, and the GX
context is keyed by it: a suite edited in a live process is picked up by the next run.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from .. import PROJECT_DIR, vocab
from ..schema import TABLES

DEFAULT_EXPECTATIONS = PROJECT_DIR / "expectations"
SEVERITIES = ("error", "warning")
ROW = "_row"                    # row position in the batch table, GX's index column


class ValidationSetupError(Exception):
    """A suite or expectation is broken (unknown type, bad column, bad meta): fix the
    suite, the data were not judged."""


@dataclass(frozen=True)
class Suites:
    folder: Path
    files: Mapping[str, dict]             # table → the suite's JSON
    fingerprint: str                      # sha256 of the suite bytes read

    def expectations(self, table: str) -> list[dict]:
        return self.files[table].get("expectations", [])

    def severities(self) -> dict[str, str]:
        """Check name → severity, over every suite."""
        out: dict[str, str] = {}
        for table in TABLES:
            for e in self.expectations(table):
                m = e["meta"]
                if out.setdefault(m["check"], m["severity"]) != m["severity"]:
                    raise ValidationSetupError(f"check {m['check']} has two severities in the suites")
        return out

    def columns(self, table: str) -> list[str]:
        """The columns the suite reads (GX is given only these, plus the row index)."""
        cols = {"report_id", ROW}
        for e in self.expectations(table):
            cols.update(expectation_columns(e.get("kwargs", {})))
        return sorted(cols)

    def not_null_columns(self, table: str) -> set[str]:
        return {e["kwargs"].get("column") for e in self.expectations(table)
                if e["type"] == "expect_column_values_to_not_be_null"}


def folder(expectations_dir: Path | str | None) -> Path:
    return Path(expectations_dir).resolve() if expectations_dir is not None else DEFAULT_EXPECTATIONS


def load(expectations_dir: Path | str | None = None) -> Suites:
    """Read and check every suite of ``expectations_dir`` (default: the project's)."""
    d = folder(expectations_dir)
    files, h = {}, hashlib.sha256()
    for name in TABLES:
        path = d / f"{name}.json"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ValidationSetupError(f"{path}: no such suite — the expectations folder needs "
                                       f"{', '.join(t + '.json' for t in TABLES)}") from None
        h.update(f"{name}.json\0{len(data)}\0".encode() + data)
        files[name] = _parse(path, data)
    return Suites(d, files, h.hexdigest())


def _parse(path: Path, data: bytes) -> dict:
    try:
        suite = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        where = f":{e.lineno}" if isinstance(e, json.JSONDecodeError) else ""
        raise ValidationSetupError(f"{path}{where}: not valid JSON: {getattr(e, 'msg', e)}") from None
    if not isinstance(suite, dict) or not suite.get("id"):
        raise ValidationSetupError(f"{path}: the suite needs a top-level \"id\" (any fixed UUID)")
    for i, e in enumerate(suite.get("expectations", []), 1):
        meta = e.get("meta") or {}
        if not meta.get("check") or meta.get("severity") not in SEVERITIES:
            raise ValidationSetupError(
                f"{path}: expectation {i} ({e.get('type')}) needs meta.check and meta.severity "
                f"({' or '.join(SEVERITIES)})")
    return suite


def expectation_columns(kwargs: Mapping) -> list[str]:
    """Every column an expectation reads: its column arguments and those of its
    row condition (walked as GX stores it, not searched for in a string)."""
    cols = [kwargs.get(k) for k in ("column", "column_A", "column_B")]
    cols += list(kwargs.get("column_list") or [])
    cols += list(_condition_columns(kwargs.get("row_condition")))
    return [c for c in dict.fromkeys(cols) if isinstance(c, str)]


def _condition_columns(condition) -> Iterator[str]:
    """Columns of a Condition-API row condition: a comparison {"column": {"name": …}} or
    an and/or of conditions ({"conditions": […]})."""
    if isinstance(condition, Mapping):
        column = condition.get("column")
        if isinstance(column, Mapping) and isinstance(column.get("name"), str):
            yield column["name"]
        for sub in condition.get("conditions") or ():
            yield from _condition_columns(sub)


def fingerprint(suites: Suites, lexicon: vocab.Lexicon) -> str:
    """What decides a report's rows and results besides the code: the suites and the
    vocabulary, each as this process loaded it."""
    return hashlib.sha256(f"{suites.fingerprint}\0{lexicon.fingerprint}".encode()).hexdigest()
