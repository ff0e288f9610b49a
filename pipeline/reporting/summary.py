"""The terminal summary of a validation: bounded, whatever the batch size."""
from __future__ import annotations

from pathlib import Path

from ..quality.results import Failure, Validation

_SUMMARY_LINES_PER_REPORT = 5
_SUMMARY_PASSING_LISTED = 20
_SUMMARY_REPORTS_DETAILED = 10       # failing reports listed with their failures, per summary


def summary(validation: Validation, *, review_dir: Path | None = None, docs_index: Path | None = None,
            max_lines_per_report: int = _SUMMARY_LINES_PER_REPORT,
            max_reports: int = _SUMMARY_REPORTS_DETAILED) -> str:
    """Terminal summary: per report, checks passed/failed and the first failures
    (task number, mention, a few words of context). Bounded whatever the batch size:
    reports with errors come first, at most ``max_reports`` are detailed (the rest are
    counted, with a tally of failing rows per check), and all-passing reports are
    folded into one line when there are many."""
    n_checks = len(validation.severities)
    by_report: dict[str | None, list[Failure]] = {}
    for f in validation.failures:
        by_report.setdefault(f.report_id, []).append(f)
    reports = list(validation.checks.values())
    clean = [c for c in reports if not c.failed]
    failing = sorted((c for c in reports if c.failed), key=lambda c: (not c.errors, -c.failed))
    n_err = sum(1 for c in reports if c.errors)
    n_warn = sum(1 for c in reports if c.warnings and not c.errors)
    lines = [f"validation: {len(reports)} report(s), {n_checks} checks each; "
             f"{n_err} with errors, {n_warn} with warnings only, {len(clean)} clean"]
    if len(failing) > max_reports:
        lines += _tally(validation)
    for c in failing[:max_reports]:
        lines.append(f"  {c.report_id}: {c.passed}/{n_checks} checks passed, {c.failed} failed "
                     f"({c.errors} error, {c.warnings} warning)")
        fs = sorted(by_report.get(c.report_id, []), key=lambda f: f.severity != "error")
        for f in fs[:max_lines_per_report]:
            lines.append("    " + _failure_line(f))
        if len(fs) > max_lines_per_report:
            more = f"    … and {len(fs) - max_lines_per_report} more failing row(s)"
            if review_dir is not None:
                more += f": see {review_dir / (c.report_id + '.html')}"
            lines.append(more)
    if len(failing) > max_reports:
        rest = failing[max_reports:]
        more = (f"  … and {len(rest)} more report(s) with failures "
                f"({sum(1 for c in rest if c.errors)} with errors)")
        if review_dir is not None:
            more += f": see {review_dir}/<report_id>.html"
        lines.append(more)
    if len(clean) <= _SUMMARY_PASSING_LISTED:
        lines += [f"  {c.report_id}: {c.passed}/{n_checks} checks passed" for c in clean]
    else:
        lines.append(f"  {len(clean)} report(s) passed all {n_checks} checks")
    orphans = by_report.get(None, [])
    for f in orphans[:max_lines_per_report]:
        lines.append("  (no report id) " + _failure_line(f))
    if len(orphans) > max_lines_per_report:
        lines.append(f"  (no report id) … and {len(orphans) - max_lines_per_report} more failing row(s)")
    if docs_index is not None:
        lines.append(f"  Data Docs: {docs_index}")
    return "\n".join(lines)


def _tally(validation: Validation, limit: int = 10) -> list[str]:
    """One line per failed check: its severity, failing rows and reports."""
    rows: dict[str, int] = {}
    reports: dict[str, set] = {}
    for f in validation.failures:
        rows[f.check] = rows.get(f.check, 0) + 1
        reports.setdefault(f.check, set()).add(f.report_id)
    order = sorted(rows, key=lambda c: (validation.severities.get(c) != "error", -len(reports[c]), c))
    lines = ["  failed checks:"]
    for check in order[:limit]:
        lines.append(f"    {validation.severities.get(check, '?').upper():7} {check}: "
                     f"{rows[check]} row(s) in {len(reports[check])} report(s)")
    if len(order) > limit:
        lines.append(f"    … and {len(order) - limit} more check(s)")
    return lines


def _failure_line(f: Failure) -> str:
    where = f.table if f.task_no is None else f"task {f.task_no}"
    what = f" «{f.mention}»" if f.mention else ""
    return f"{f.severity.upper():7} {f.check} [{where}]{what} {f.context}".rstrip()

