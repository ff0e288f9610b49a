"""A batch run: raw files → per-report work in processes → validate → export.

Workers ingest and extract; only this (parent) process imports Great Expectations,
validates and writes. Reports flow in chunks so memory stays flat with batch size.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import resource
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow as pa

from . import PROJECT_DIR, __version__
from .records import Problem
from .schema import TABLES

DEFAULT_RAW = PROJECT_DIR / "raw"
_RAW_SUFFIXES = (".txt", ".md")
_CHUNK = 100   # reports validated and written together: bounds the parent's memory,
               # while each validation call has a fixed cost of ~1 s (GX runs, Data Docs)


class UsageError(Exception):
    """Bad arguments or no input files (exit status 2)."""


@dataclass
class RunResult:
    processed: list[str] = field(default_factory=list)    # report ids written this run
    skipped: list[str] = field(default_factory=list)      # unchanged since the manifest
    refused: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    disappeared: list[str] = field(default_factory=list)  # in the manifest, no longer in the inputs
    pruned: list[str] = field(default_factory=list)
    validation_failed: bool = False
    summary: str = ""

    @property
    def status(self) -> int:
        if self.refused:
            return 3
        return 1 if self.validation_failed else 0


def _find_inputs(paths: Sequence[Path | str] | None = None) -> list[Path]:
    """The raw files named by ``paths`` (files, or folders searched recursively)."""
    found: list[Path] = []
    for p in [Path(p) for p in (paths or [DEFAULT_RAW])]:
        if p.is_file():
            found.append(p)
        elif p.is_dir():
            found += sorted(
                f for f in p.rglob("*")
                if f.suffix.lower() in _RAW_SUFFIXES and f.is_file()
                and not any(part.startswith(".") for part in f.relative_to(p).parts))
        else:
            raise UsageError(f"{p}: no such file or folder — give a raw report or a folder of them")
    if not found:
        raise UsageError(f"no *.txt or *.md reports found in {', '.join(map(str, paths or [DEFAULT_RAW]))}"
                         " — put raw reports there or name them on the command line")
    return found


def _process_file(path: Path) -> tuple[str, object, tuple[int, int]]:
    """Ingest, extract and link the progress of one raw file (runs in a worker).

    Returns (kind, payload, (pid, peak RSS in KiB)) where kind, payload is
    ("ok", (tables, warnings)) or ("refused", Problem). Never raises: one bad report must not stop the batch.
    """
    from .extract import extract
    from .ingest import IngestError, ingest
    from .progress import link
    from .tables import FIELDS_OF_TASK, build_tables

    try:
        report = ingest(path)
        quantities = {(t.task_no, f): extract(getattr(t, f))
                      for t in report.tasks for f in FIELDS_OF_TASK}
        result = ("ok", (build_tables(report, quantities, link(report, quantities)), report.warnings))
    except IngestError as e:
        result = ("refused", e.problem)
    except MemoryError:
        result = ("refused", Problem(path.name, 0, "the report is too large to process",
                                     "split it into smaller files"))
    except Exception as e:  # a bug of ours must not cost the rest of the batch
        result = ("refused", Problem(path.name, 0, f"internal error: {type(e).__name__}: {e}",
                                     "please report this with the file attached"))
    return (*result, (os.getpid(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _results(files: Sequence[Path], jobs: int) -> Iterator[list[tuple]]:
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
    pool = ProcessPoolExecutor(jobs, mp_context=context)

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
                pool = ProcessPoolExecutor(jobs, mp_context=context)
                if attempt == "retry":
                    for i, future in zip(died, submit([chunk[i] for i in died])):
                        results[i] = _outcome(future)
                else:
                    for i in died:
                        results[i] = ("refused", _died(chunk[i]), (0, 0))
                if following is not None:              # it was queued on the broken pool
                    following = submit(chunks[k + 1])
            yield results
            pending = following
    finally:
        pool.shutdown(cancel_futures=True)


def _outcome(future) -> tuple | None:
    """A worker's result, or None when its process died."""
    try:
        return future.result()
    except BrokenProcessPool:
        return None


def _died(path: Path) -> Problem:
    return Problem(path.name, 0, "the worker process handling this report died (killed, or out of memory)",
                   "run it again; if it dies again, run this file alone with --jobs 1 and report it")


def run(paths: Sequence[Path | str] | None = None, *, out: Path | str | None = None,
        jobs: int = 1, force: bool = False, prune: bool = False, fail_on: str = "error",
        expectations: Path | str | None = None,
        log: Callable[..., None] | None = None) -> RunResult:
    """Process raw reports into ``out`` (default: the project's processed/).

    ``log(line, done=None, total=None)`` receives progress lines, with the count of
    reports done so far where there is one; the CLI draws a bar or prints plain lines.
    Raises UsageError for bad arguments and export.LockedError when another run
    holds ``out``.
    """
    from . import export, review
    from .validate import build_docs, exit_failed, suites_hash, summary

    log = log or (lambda line, done=None, total=None: None)
    out = Path(out) if out is not None else export.default_processed_dir()
    files = _find_inputs(paths)
    result = RunResult()

    with export.lock(out):
        manifest = export.Manifest.load(out)
        suites = suites_hash(expectations)
        by_id: dict[str, list[Path]] = {}
        for f in files:
            by_id.setdefault(f.stem, []).append(f)
        todo: list[Path] = []
        shas: dict[str, str] = {}
        for report_id, same in by_id.items():
            if len(same) > 1:
                for f in same:
                    others = ", ".join(str(o) for o in same if o != f)
                    result.refused.append(Problem(
                        str(f), 0, f"report_id {report_id!r} also comes from {others}",
                        "rename one of the files: the file stem is the report id"))
                continue
            f = same[0]
            shas[report_id] = export.sha256_file(f)
            if not force and manifest.is_current(report_id, shas[report_id], __version__, suites):
                result.skipped.append(report_id)
            else:
                todo.append(f)
        result.disappeared = manifest.missing(set(by_id))
        if prune and result.disappeared:
            manifest = export.prune(out, manifest, result.disappeared)
            review.remove_pages(out / "review", result.disappeared)
            result.pruned = list(result.disappeared)

        if not todo:
            log("nothing to do: every input is unchanged since the last run")
            return result

        log(f"processing {len(todo)} report(s), {len(result.skipped)} unchanged, jobs={jobs}")
        worker_rss: dict[int, int] = {}   # pid → peak RSS, for bench/
        verdicts = []        # each chunk's validation, without its tables
        done = 0
        for chunk_results in _results(todo, jobs):
            good: dict[str, dict] = {}
            for (kind, payload, (pid, rss)), path in zip(chunk_results, todo[done:done + len(chunk_results)]):
                worker_rss[pid] = max(rss, worker_rss.get(pid, 0))
                if kind == "refused":
                    result.refused.append(payload)
                    continue
                tables, warnings = payload
                result.warnings += warnings
                good[path.stem] = tables
            done += len(chunk_results)
            if good:
                validation = _validate(good, out, expectations)
                verdicts.append(replace(validation, tables={}))   # keep the verdict, not the data
                manifest = export.export(
                    out, _split(validation.tables, good), manifest=manifest,
                    sources={rid: (str(by_id[rid][0]), shas[rid]) for rid in good},
                    suites_hash=suites)
                result.processed += list(good)
            log(f"{done}/{len(todo)} reports", done, len(todo))
        _write_run_stats(out, worker_rss.values() if jobs > 1 else [])
        if verdicts:
            log("building Data Docs")
            build_docs(verdicts, out_dir=out, expectations_dir=expectations)
            verdict = replace(verdicts[-1], failures=tuple(f for v in verdicts for f in v.failures),
                              checks={k: c for v in verdicts for k, c in v.checks.items()})
            result.validation_failed = exit_failed(verdict, fail_on)
            result.summary = summary(verdict)
    return result


def _validate(tables_by_report: dict[str, dict], out: Path, expectations: Path | str | None):
    from .validate import validate

    batch = {name: pa.concat_tables([t[name] for t in tables_by_report.values()])
             for name in TABLES}
    return validate(batch, out_dir=out, expectations_dir=expectations, docs=False)


def _split(tables: dict, tables_by_report: dict[str, dict]) -> dict[str, dict]:
    """The validated batch tables, cut back into one set of tables per report."""
    import pyarrow.compute as pc

    out: dict[str, dict] = {rid: {} for rid in tables_by_report}
    for name, table in tables.items():
        ids = pc.cast(table["report_id"], "string")
        for rid in out:
            out[rid][name] = table.filter(pc.equal(ids, rid))
    return out


def _write_run_stats(out: Path, worker_rss: Iterable[int]) -> None:
    stats = {"parent_max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
             "worker_max_rss_kib": list(worker_rss)}
    (out / "run_stats.json").write_text(json.dumps(stats) + "\n", encoding="utf-8")
