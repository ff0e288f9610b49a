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


# --- verdicts as the manifest keeps them ------------------------------------------------
# A report's verdict (its check counts and failures) is recorded with its outputs, so a
# rerun that skips it as unchanged still reports its failures and exits accordingly.

_FAILURE_FIELDS = ("table", "check", "severity", "task_no", "fact_no", "mention", "context")


def verdict_records(validation: Validation) -> dict[str, dict]:
    """Per report, its verdict as JSON: check counts and failures."""
    failures: dict[str, list] = {}
    for f in validation.failures:
        if f.report_id is not None:
            failures.setdefault(f.report_id, []).append([getattr(f, k) for k in _FAILURE_FIELDS])
    return {rid: {"checks": len(validation.severities), "passed": c.passed, "failed": c.failed,
                  "errors": c.errors, "warnings": c.warnings, "failures": failures.get(rid, [])}
            for rid, c in validation.checks.items()}


def combined_verdict(validations, recorded: dict[str, dict]) -> Validation | None:
    """One verdict over this run's validations and the recorded verdicts of reports not
    validated again; None when there is nothing to report."""
    validations = list(validations)
    # a report validated twice in a run (rewritten when a later chunk changed its series)
    # counts with its last verdict
    last = {rid: i for i, v in enumerate(validations) for rid in v.checks}
    failures = [f for i, v in enumerate(validations) for f in v.failures
                if f.report_id is None or last.get(f.report_id, i) == i]
    checks = {k: c for v in validations for k, c in v.checks.items()}
    severities = dict(validations[-1].severities) if validations else {}
    n_checks = len(severities)
    for rid, record in recorded.items():
        checks[rid] = ReportChecks(rid, record["passed"], record["failed"], record["errors"], record["warnings"])
        for values in record["failures"]:
            f = Failure(report_id=rid, **dict(zip(_FAILURE_FIELDS, values)))
            failures.append(f)
            severities.setdefault(f.check, f.severity)
        n_checks = max(n_checks, record["checks"])
    if not checks:
        return None
    # a recorded verdict keeps the failed checks' names and the number of checks, not
    # every name: the summary only counts the rest
    severities.update({f"(check {i})": "error" for i in range(n_checks - len(severities))})
    return Validation(tables={}, failures=tuple(failures), checks=checks, severities=severities,
                      run_name=validations[-1].run_name if validations else "")
