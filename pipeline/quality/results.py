"""The records the quality stage returns: one failed (check, row), a report's check
counts, and a batch's whole verdict. Reporting reads these; it never decides them."""
from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

FAIL_ON = ("error", "warning", "never")


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed (check, row)."""

    table: str
    check: str
    severity: str              # "error" | "warning"
    report_id: str | None
    task_no: int | None
    fact_no: int | None
    mention: str | None        # facts only
    context: str               # a few words: the text around the figure and the values checked


@dataclass(frozen=True, slots=True)
class ReportChecks:
    """Check counts of one report: a check fails for a report when any of its rows fails it."""

    report_id: str
    passed: int
    failed: int
    errors: int                # failed checks of severity error
    warnings: int


@dataclass(frozen=True)
class Validation:
    tables: dict[str, pa.Table]           # the input tables with dq_passed / dq_failures set
    failures: tuple[Failure, ...]
    checks: dict[str, ReportChecks]       # by report_id, in batch order
    severities: dict[str, str]            # every check name → severity
    run_name: str
    result_ids: tuple = ()                # GX ValidationResultIdentifiers (for Data Docs)

    def exit_failed(self, fail_on: str = "error") -> bool:
        return exit_failed(self.failures, fail_on)


def exit_failed(failures, fail_on: str = "error") -> bool:
    """Whether ``--fail-on`` turns these failures into a failing exit status:
    "error" → any error-severity failure; "warning" → any failure; "never" → never."""
    if fail_on not in FAIL_ON:
        raise ValueError(f"fail_on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
    if fail_on == "never":
        return False
    return any(f.severity == "error" or fail_on == "warning" for f in failures)
