"""A batch run: raw files → per-report work in processes → validate → export.

Workers ingest and extract; only this (parent) process imports Great Expectations,
validates and writes. Reports flow in chunks so memory stays flat with batch size.
"""
from __future__ import annotations

import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow as pa

from . import PROJECT_DIR, __version__
from .records import Problem
from .schema import TABLES

DEFAULT_RAW = PROJECT_DIR / "raw"
_RAW_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx", ".xlsx")
_CHUNK = 100   # reports validated and written together: bounds the parent's memory,
               # while each validation call has a fixed cost of ~1 s (GX runs, Data Docs)


class UsageError(Exception):
    """Bad arguments or no input files (exit status 2)."""


# --------------------------------------------------------------------------- interrupts


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM, raised by ``on_signal`` (installed by the CLI)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_commit = {"depth": 0, "pending": None}    # signals wait while a chunk's outputs are moved in


def on_signal(signum: int, frame) -> None:
    """Turn SIGINT/SIGTERM into ``Interrupted``, except while outputs are being committed:
    then the signal waits for the commit to finish, so a chunk's files and its manifest
    go in together."""
    if _commit["depth"]:
        _commit["pending"] = signum
        return
    raise Interrupted(signum)


@contextmanager
def _uninterrupted() -> Iterator[None]:
    _commit["depth"] += 1
    try:
        yield
    finally:
        _commit["depth"] -= 1
        if not _commit["depth"] and _commit["pending"] is not None:
            signum, _commit["pending"] = _commit["pending"], None
            raise Interrupted(signum)


def _ignore_interrupts() -> None:
    """Worker initializer: Ctrl-C reaches the whole process group, but only the parent
    acts on it (it stops the workers); a worker never prints a KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@dataclass
class RunResult:
    processed: list[str] = field(default_factory=list)    # report ids written this run
    skipped: list[str] = field(default_factory=list)      # unchanged since the manifest
    refused: list[Problem] = field(default_factory=list)
    internal_errors: list[InternalError] = field(default_factory=list)   # bugs of ours, with tracebacks
    warnings: list[Problem] = field(default_factory=list)
    disappeared: dict[str, str] = field(default_factory=dict)  # report id → its recorded raw file, gone from disk
    pruned: list[str] = field(default_factory=list)
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


_OWN_FILES = Path(__file__).resolve().parent / "resources"   # vendored assets, vocabularies: never reports


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _find_inputs(paths: Sequence[Path | str] | None, out: Path) -> tuple[list[Path], list[Problem], int]:
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
                if (f.suffix.lower() not in _RAW_SUFFIXES
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
        raise UsageError(f"no reports (*.txt *.md *.html *.htm *.docx *.xlsx) found in {', '.join(map(str, paths or [DEFAULT_RAW]))}"
                         " — put raw reports there or name them on the command line")
    return found, refused, excluded


@dataclass(frozen=True)
class FileResult:
    """What a worker made of one raw file: tables, a refusal, or an internal error."""

    path: str                                   # the raw file as given
    tables: dict[str, pa.Table] | None = None   # reports, tasks, facts (rows not yet validated)
    warnings: tuple[Problem, ...] = ()
    refusal: Problem | None = None              # bad input: exit status 3
    internal_error: str | None = None           # a bug of ours: its traceback, exit status 5
    vocabulary: str | None = None               # fingerprint of the vocabulary the worker loaded


@dataclass(frozen=True)
class InternalError:
    """An unexpected exception: which file it happened on (if any) and its traceback."""

    file: str | None
    summary: str                                # "ValueError: …", for the Error: line
    traceback: str


def _process_file(path: Path) -> FileResult:
    """Ingest and extract one raw file (runs in a worker). Never raises: one bad report
    must not stop the batch. Bad input is a refusal; any other exception is ours, and
    comes back with its traceback so the parent can log it."""
    import traceback

    from .extract import extract
    from .ingest import IngestError, ingest
    from .tables import FIELDS_OF_TASK, build_tables
    from .vocab import lexicon

    try:
        report = ingest(path)            # hashes the bytes it parses: Report.sha256 is the one hash
        if too_big := _over_schema_limits(report):
            return FileResult(str(path), refusal=too_big)
        quantities = {(t.task_no, f): extract(getattr(t, f))
                      for t in report.tasks for f in FIELDS_OF_TASK}
        return FileResult(str(path), tables=build_tables(report, quantities), warnings=report.warnings,
                          vocabulary=lexicon().fingerprint)
    except IngestError as e:
        return FileResult(str(path), refusal=e.problem)
    except MemoryError:
        return FileResult(str(path), refusal=Problem(str(path), 0, "the report is too large to process",
                                                     "split it into smaller files"))
    except Exception:
        return FileResult(str(path), internal_error=traceback.format_exc())


def _over_schema_limits(report) -> Problem | None:
    """A refusal when a number of the report does not fit its column's integer type
    (task_no is int16: 364,490 tasks would fail deep inside Arrow)."""
    from .schema import schema

    def limit(table: str, column: str) -> int:
        return 2 ** (schema(table).field(column).type.bit_width - 1) - 1

    for task in report.tasks:
        for column, value, what in (("task_no", task.task_no, "task number"),
                                    ("category_no", task.category_no, "category number")):
            if value > limit("tasks", column):
                return Problem(report.source_file, task.line_start,
                               f"the {what} {value} is over {limit('tasks', column):,}, the largest the "
                               "output tables hold", "split the report into smaller files")
    for column, value, what in (("n_tasks", len(report.tasks), "report has {} tasks"),
                                ("n_categories", len(report.categories), "report has {} categories"),
                                ("declared_items", report.declared_items or 0, "title declares {} items")):
        if value > limit("reports", column):
            return Problem(report.source_file, 0,
                           f"the {what.format(f'{value:,}')}, over {limit('reports', column):,}, the largest "
                           "the output tables hold", "split the report into smaller files")
    return None


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _results(files: Sequence[Path], jobs: int) -> Iterator[list[FileResult]]:
    """Per chunk of files, the workers' results; the next chunk is already under way
    while the caller validates and writes this one.

    A worker that dies (killed, out of memory) breaks its pool and every task in it:
    those reports get one more try in a new pool, and the ones that die again are
    refused, so one bad report never hangs or stops the batch."""
    if jobs <= 1 or len(files) <= 1:
        for chunk in _chunks(files, _CHUNK):
            yield [_process_file(f) for f in chunk]
        return
    # forkserver: workers start from a clean process (no GX, no threads of ours),
    # explicitly, before the parent imports GX.
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(jobs, mp_context=context, initializer=_ignore_interrupts)

    pool = new_pool()

    def submit(chunk):
        return [pool.submit(_process_file, f) for f in chunk]

    try:
        chunks = list(_chunks(files, _CHUNK))
        pending = submit(chunks[0])
        for k, chunk in enumerate(chunks):
            following = submit(chunks[k + 1]) if k + 1 < len(chunks) else None
            results = [_outcome(future) for future in pending]
            for attempt in ("retry", "refuse"):
                died = [i for i, r in enumerate(results) if r is None]
                if not died:
                    break
                pool.shutdown(cancel_futures=True)
                pool = new_pool()
                if attempt == "retry":
                    for i, future in zip(died, submit([chunk[i] for i in died])):
                        results[i] = _outcome(future)
                else:
                    for i in died:
                        results[i] = FileResult(str(chunk[i]), refusal=_died(chunk[i]))
                if following is not None:              # it was queued on the broken pool
                    following = submit(chunks[k + 1])
            yield results
            pending = following
    finally:
        # Interrupted or not: cancel what has not started and wait for the workers to end
        # their current file (they ignore SIGINT). Killing them instead can leave the pool's
        # reader thread waiting forever on half a result (a report's tables are large).
        pool.shutdown(cancel_futures=True)


def _outcome(future) -> FileResult | None:
    """A worker's result, or None when its process died."""
    try:
        return future.result()
    except BrokenProcessPool:
        return None


def _died(path: Path) -> Problem:
    return Problem(str(path), 0, "the worker process handling this report died (killed, or out of memory)",
                   "run it again; if it dies again, run this file alone with --jobs 1 and report it")


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
    from . import export, quality, vocab
    from .quality.suites import fingerprint

    log = log or (lambda line, done=None, total=None: None)
    out = Path(out) if out is not None else export.default_processed_dir()
    files, refused, excluded = _find_inputs(paths, out)
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
        if prune and result.disappeared:
            with _uninterrupted():
                manifest = export.prune(out, manifest, list(result.disappeared))
            result.pruned = list(result.disappeared)

        verdicts = []        # each chunk's validation, without its tables
        if not todo:
            log("nothing to do: every input is unchanged since the last run")
        else:
            for line in _reason_lines(result.reasons):
                log(line)
            log(f"processing {len(todo)} report(s) ({_reason_counts(result.reasons)}), "
                f"{len(result.skipped)} unchanged, jobs={jobs}")
            done = 0
            for chunk_results in stack.enter_context(closing(_results(todo, jobs))):
                good = _collect(chunk_results, result)
                done += len(chunk_results)
                # a report made with another vocabulary than this process's (edited
                # mid-run) is stamped so that the next run redoes it
                stamps = {Path(r.path).stem: rules if r.vocabulary == vocab.lexicon().fingerprint else "mixed"
                          for r in chunk_results if r.tables is not None}
                if good:
                    validation = _validate(good, out, suites)
                    verdicts.append(replace(validation, tables={}))   # keep the verdict, not the data
                    with _uninterrupted():      # the chunk's Parquet files, pages and manifest go in together
                        manifest = export.export(
                            out, _split(validation.tables, good), manifest=manifest,
                            sources={rid: sources[rid] for rid in good},   # sha256: the worker's
                            suites_hash=stamps, pages=_review_pages(validation),
                            checks=_verdict_records(validation))
                    result.processed += list(good)
                log(f"{done}/{len(todo)} reports", done, len(todo))
            if verdicts:
                log("building Data Docs")
                _build_docs(verdicts, out, suites)
                with _uninterrupted():
                    export.record_docs_built(manifest, result.processed)
        verdict = _run_verdict(verdicts, manifest, result.skipped)
        if verdict is not None:
            result.validation_failed = verdict.exit_failed(fail_on)
            result.summary = _summary(verdict, out)
    return result


def _plan(files: Sequence[Path], manifest, out: Path, *, force: bool, suites: str,
          result: RunResult) -> tuple[list[Path], dict[str, str]]:
    """The files to process (each with why, in ``result.reasons``) and the recorded
    source of every input report; refusals and skips go into ``result``."""
    from . import export

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
        with _uninterrupted():
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
    from .quality import validate

    batch = {name: pa.concat_tables([t[name] for t in tables_by_report.values()])
             for name in TABLES}
    return validate(batch, out_dir=out, suites=suites)


def _review_pages(validation) -> dict[str, str]:
    """Each validated report's review page (HTML), for export to write with its data."""
    from .reporting import review_pages
    return review_pages(validation, docs_href="../validation/docs/index.html")


def _build_docs(verdicts: list, out: Path, suites) -> None:
    from .reporting import build_docs
    build_docs([i for v in verdicts for i in v.result_ids], out_dir=out, suites=suites)


def _summary(verdict, out: Path) -> str:
    from .reporting import summary
    return summary(verdict, review_dir=out.resolve() / "review",
                   docs_index=out.resolve() / "validation" / "docs" / "index.html")


def _verdict_records(validation) -> dict[str, dict]:
    from .quality.results import verdict_records
    return verdict_records(validation)


def _run_verdict(verdicts: list, manifest, skipped: Sequence[str]):
    """One validation over every input report — this run's verdicts, then the recorded
    ones of the reports skipped as unchanged — for the summary and the exit status;
    None when there is nothing to report."""
    from .quality.results import combined_verdict

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
