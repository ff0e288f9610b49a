"""A batch run: raw files → per-report work in processes → validate → export.

Workers ingest and extract; only this (parent) process imports Great Expectations,
validates and writes. Reports flow in chunks so memory stays flat with batch size.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow as pa

from .. import PROJECT_DIR, __version__
from ..records import Problem
from ..schema import TABLES
from .inputs import DEFAULT_RAW, UsageError, find_inputs
from .interrupts import Interrupted, on_signal, uninterrupted
from .series_index import SeriesIndex
from .workers import FileResult, InternalError, results

__all__ = ["run", "RunResult", "UsageError", "Interrupted", "on_signal", "DEFAULT_RAW"]



@dataclass
class RunResult:
    processed: list[str] = field(default_factory=list)    # report ids written this run
    skipped: list[str] = field(default_factory=list)      # unchanged since the manifest
    refused: list[Problem] = field(default_factory=list)
    internal_errors: list[InternalError] = field(default_factory=list)   # bugs of ours, with tracebacks
    warnings: list[Problem] = field(default_factory=list)
    disappeared: dict[str, str] = field(default_factory=dict)  # report id → its recorded raw file, gone from disk
    pruned: list[str] = field(default_factory=list)
    rewritten: list[str] = field(default_factory=list)   # earlier reports whose series context changed
    reasons: dict[str, str] = field(default_factory=dict)  # report id → why it was (re)processed
    validation_failed: bool = False
    summary: str = ""

    @property
    def status(self) -> int:
        if self.internal_errors:
            return 5
        if self.refused:
            return 3
        return 1 if self.validation_failed else 0


def run(paths: Sequence[Path | str] | None = None, *, out: Path | str | None = None,
        jobs: int = 1, force: bool = False, prune: bool = False, fail_on: str = "error",
        expectations: Path | str | None = None,
        log: Callable[..., None] | None = None) -> RunResult:
    """Process raw reports into ``out`` (default: the project's processed/).

    ``log(line, done=None, total=None)`` receives progress lines, with the count of
    reports done so far where there is one; the CLI draws a bar or prints plain lines.
    The summary covers every input report: those processed now, and the verdict the
    manifest recorded for those skipped, so a rerun reports the last failures again.
    Raises UsageError for bad arguments and export.LockedError when another run
    holds ``out``.
    """
    from .. import export, quality, vocab
    from ..quality.suites import fingerprint

    log = log or (lambda line, done=None, total=None: None)
    out = Path(out) if out is not None else export.default_processed_dir()
    files, refused, excluded = find_inputs(paths, out)
    result = RunResult(refused=refused)
    if excluded:
        log(f"left out {excluded} file(s) under --out or the pipeline's own resources")

    with export.lock(out), ExitStack() as stack:
        manifest = export.Manifest.load(out)
        if manifest.problem:
            result.warnings.append(Problem(str(out / export.MANIFEST_NAME), 0, manifest.problem,
                                           "every report is processed again and the manifest rebuilt"))
        suites = quality.load_suites(expectations)
        rules = fingerprint(suites, vocab.lexicon())     # the rules as this process loaded them
        todo, sources = _plan(files, manifest, out, force=force, suites=rules, result=result)
        result.disappeared = {r: e["source"] for r, e in manifest.reports.items()
                              if r not in sources and not _raw_exists(e["source"])}
        index = SeriesIndex(out)
        verdicts = []        # each chunk's validation, without its tables
        if prune and result.disappeared:
            thinned = {manifest.reports[r].get("series_id") for r in result.disappeared} - {None}
            with uninterrupted():
                manifest = export.prune(out, manifest, list(result.disappeared))
            result.pruned = list(result.disappeared)
            # the reports after a pruned one in its series lose it as their previous period
            manifest = _write_chunk({}, {}, manifest, index=index, out=out, suites=suites, sources=sources,
                                    result=result, verdicts=verdicts, refresh=thinned)
        if not todo:
            log("nothing to do: every input is unchanged since the last run")
        else:
            for line in _reason_lines(result.reasons):
                log(line)
            log(f"processing {len(todo)} report(s) ({_reason_counts(result.reasons)}), "
                f"{len(result.skipped)} unchanged, jobs={jobs}")
            done = 0
            for chunk_results in stack.enter_context(closing(results(todo, jobs))):
                good = _collect(chunk_results, result)
                done += len(chunk_results)
                # a report made with another vocabulary than this process's (edited
                # mid-run) is stamped so that the next run redoes it
                stamps = {Path(r.path).stem: rules if r.vocabulary == vocab.lexicon().fingerprint else "mixed"
                          for r in chunk_results if r.tables is not None}
                if good:
                    manifest = _write_chunk(good, stamps, manifest, index=index, out=out, suites=suites,
                                            sources=sources, result=result, verdicts=verdicts)
                log(f"{done}/{len(todo)} reports", done, len(todo))
        if result.rewritten:
            shown = ", ".join(sorted(set(result.rewritten))[:10])
            more = len(set(result.rewritten)) - 10
            log(f"rewrote {len(set(result.rewritten))} earlier report(s) whose series keys or cross-period "
                f"context changed: {shown}" + (f" … and {more} more" if more > 0 else ""))
        if verdicts:
            log("building Data Docs")
            _build_docs(verdicts, out, suites)
            with uninterrupted():
                export.record_docs_built(manifest, result.processed + result.rewritten)
        if manifest.reports:      # every report of the folder, also after a run with nothing to do or a prune
            export.write_run_index(out, _run_index(manifest))
        validated = set(result.processed) | set(result.rewritten)
        verdict = _run_verdict(verdicts, manifest, [r for r in result.skipped if r not in validated])
        if verdict is not None:
            result.validation_failed = verdict.exit_failed(fail_on)
            result.summary = _summary(verdict, out)
    return result


def _write_chunk(good: dict[str, dict], stamps: dict[str, str], manifest, *, index: SeriesIndex, out: Path,
                 suites, sources: dict[str, str], result: RunResult, verdicts: list,
                 refresh=()):
    """Give a chunk's reports their series keys and context, validate them with the stored
    reports of their series whose context changed, and export them all in one commit."""
    from .. import export

    update = index.update(good, manifest, refresh)
    batch = {**update.tables, **update.rewrites}
    if not batch:
        return manifest
    validation = _validate(batch, out, suites)
    verdicts.append(replace(validation, tables={}))   # keep the verdict, not the data
    again = {rid: manifest.reports[rid] for rid in update.rewrites}
    with uninterrupted():      # the chunk's Parquet files, pages and manifest go in together
        manifest = export.export(
            out, _split(validation.tables, batch), manifest=manifest,
            sources={**{rid: sources[rid] for rid in update.tables},      # sha256: the worker's
                     **{rid: (e["source"], e["sha256"]) for rid, e in again.items()}},
            suites_hash={**stamps, **{rid: e["suites_hash"] for rid, e in again.items()}},
            pages=_review_pages(validation, update.labels),
            checks=_verdict_records(validation), overview=_overview(validation))
    index.commit(update)
    result.processed += list(update.tables)
    result.rewritten += list(update.rewrites)
    return manifest


def _plan(files: Sequence[Path], manifest, out: Path, *, force: bool, suites: str,
          result: RunResult) -> tuple[list[Path], dict[str, str]]:
    """The files to process (each with why, in ``result.reasons``) and the recorded
    source of every input report; refusals and skips go into ``result``."""
    from .. import export

    by_id: dict[str, list[Path]] = {}
    for f in files:
        by_id.setdefault(f.stem, []).append(f)
    todo: list[Path] = []
    sources: dict[str, str] = {}
    moved: dict[str, str] = {}
    docs_present = (out / "validation" / "docs" / "index.html").exists()
    for report_id, same in by_id.items():
        if len(same) > 1:
            for f in same:
                others = ", ".join(str(o) for o in same if o != f)
                result.refused.append(Problem(
                    str(f), 0, f"report_id {report_id!r} also comes from {others}",
                    "rename one of the files: the file stem is the report id"))
            continue
        f = same[0]
        if why := export.report_id_problem(report_id):
            result.refused.append(Problem(
                str(f), 0, f"the file name cannot become a report id ({why})",
                "rename the file: its name without .txt or .md names the report and its output files"))
            continue
        try:
            sha = export.sha256_file(f)     # only to decide what to skip: the recorded hash is ingest's
        except OSError as e:
            result.refused.append(Problem(str(f), 0, f"cannot read the file: {e.strerror or e}",
                                          "check that it exists and that you may read it"))
            continue
        sources[report_id] = _source(f)
        reason = "--force" if force else (manifest.stale_reason(report_id, sha, __version__, suites)
                                          or _unfinished(manifest.reports[report_id], docs_present))
        if reason is None:
            result.skipped.append(report_id)
            if manifest.reports[report_id]["source"] != sources[report_id]:
                moved[report_id] = sources[report_id]
        else:
            todo.append(f)
            result.reasons[report_id] = reason
    if moved:               # the same bytes under another path: record where they are now
        manifest.reports = {**manifest.reports,
                            **{r: {**manifest.reports[r], "source": s} for r, s in moved.items()}}
        with uninterrupted():
            manifest.save()
    return todo, sources


def _unfinished(entry: dict, docs_present: bool) -> str | None:
    """Why a report whose outputs are current must still be processed: a run stopped
    after its export and before its Data Docs, or Data Docs deleted since."""
    if not isinstance(entry.get("checks"), dict):
        return "its check results are not recorded"
    if not entry.get("docs_built"):
        return "Data Docs not built (the last run stopped early)"
    if not docs_present:
        return "Data Docs missing"
    return None


def _collect(chunk_results: Sequence[FileResult], result: RunResult) -> dict[str, dict]:
    """Sort a chunk's worker results: refusals and internal errors into ``result``, the
    tables of the good reports returned by report id."""
    good: dict[str, dict] = {}
    for r in chunk_results:
        if r.internal_error is not None:
            last = r.internal_error.strip().splitlines()[-1]
            result.internal_errors.append(InternalError(r.path, last, r.internal_error))
        elif r.refusal is not None:
            result.refused.append(replace(r.refusal, file=r.path))   # the path as given
        else:
            result.warnings += [replace(w, file=r.path) for w in r.warnings]
            good[Path(r.path).stem] = r.tables
    return good


def _source(path: Path) -> str:
    """A raw file's path as the manifest records it: absolute, so ``--prune`` can tell
    from any working directory whether it still exists."""
    return str(path.absolute())


def _raw_exists(source: str) -> bool:
    """Whether a recorded raw file still exists. A relative path (older manifests) is
    looked for from the working directory and from the project: pruning deletes data,
    so any doubt keeps it."""
    path = Path(source)
    if path.is_absolute():
        return path.exists()
    return (Path.cwd() / path).exists() or (PROJECT_DIR / path).exists()


def _reason_lines(reasons: dict[str, str], limit: int = 20) -> list[str]:
    """Why reports are processed again: one line per report whose outputs were seen
    before (new reports go without saying), then a count per reason."""
    again = [(rid, why) for rid, why in reasons.items() if why != "new report"]
    lines = [f"{rid}: processing again — {why}" for rid, why in again[:limit]]
    if len(again) > limit:
        lines.append(f"… and {len(again) - limit} more report(s) processed again")
    return lines


def _reason_counts(reasons: dict[str, str]) -> str:
    counts: dict[str, int] = {}
    for why in reasons.values():
        key = "new" if why == "new report" else why.split(":")[0].split(" (")[0]   # "output missing: f…" → "output missing"
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{n} {why}" for why, n in counts.items())


# --------------------------------------------------------------------------- the quality stage

def _validate(tables_by_report: dict[str, dict], out: Path, suites):
    from ..quality import validate

    batch = {name: pa.concat_tables([t[name] for t in tables_by_report.values()])
             for name in TABLES}
    return validate(batch, out_dir=out, suites=suites)


def _review_pages(validation, periods: dict[str, str]) -> dict[str, str]:
    """Each validated report's review page (HTML), for export to write with its data."""
    from ..reporting import review_pages
    return review_pages(validation, docs_href="../validation/docs/index.html", periods=periods)


def _build_docs(verdicts: list, out: Path, suites) -> None:
    from ..reporting import build_docs
    build_docs([i for v in verdicts for i in v.result_ids], out_dir=out, suites=suites)


def _summary(verdict, out: Path) -> str:
    from ..reporting import summary
    return summary(verdict, review_dir=out.resolve() / "review",
                   docs_index=out.resolve() / "validation" / "docs" / "index.html")


def _overview(validation) -> dict[str, dict]:
    from ..reporting.index import overview
    return overview(validation.tables)


def _run_index(manifest) -> str:
    from ..reporting import run_index
    return run_index([{**e.get("overview", {}), **e.get("checks", {}), "report_id": rid}
                      for rid, e in manifest.reports.items()], docs_href="../validation/docs/index.html")


def _verdict_records(validation) -> dict[str, dict]:
    from ..quality.results import verdict_records
    return verdict_records(validation)


def _run_verdict(verdicts: list, manifest, skipped: Sequence[str]):
    """One validation over every input report — this run's verdicts, then the recorded
    ones of the reports skipped as unchanged — for the summary and the exit status;
    None when there is nothing to report."""
    from ..quality.results import combined_verdict

    # (the manifest's entries were shape-checked when it was loaded)
    recorded = {rid: manifest.reports.get(rid, {}).get("checks") for rid in skipped}
    return combined_verdict(verdicts, {rid: r for rid, r in recorded.items() if isinstance(r, dict)})


def _split(tables: dict, tables_by_report: dict[str, dict]) -> dict[str, dict]:
    """The validated batch tables, cut back into one set of tables per report."""
    import pyarrow.compute as pc

    out: dict[str, dict] = {rid: {} for rid in tables_by_report}
    for name, table in tables.items():
        ids = pc.cast(table["report_id"], "string")
        for rid in out:
            out[rid][name] = table.filter(pc.equal(ids, rid))
    return out
