"""The worker side of a run: one raw file → its tables, a refusal, or our own error; and
the pool that runs them a chunk ahead of the parent, surviving a worker that dies."""
from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from ..records import Problem
from .interrupts import ignore_interrupts

CHUNK = 250    # reports validated and written together: bounds the parent's memory,
               # while each validation call has a fixed cost of ~1 s (GX runs, Data Docs)


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


def process_file(path: Path) -> FileResult:
    """Ingest, extract and link the progress of one raw file (runs in a worker). Never raises: one bad report
    must not stop the batch. Bad input is a refusal; any other exception is ours, and
    comes back with its traceback so the parent can log it."""
    import traceback

    from ..extract import extract
    from ..ingest import IngestError, ingest
    from ..progress import link
    from ..tables import FIELDS_OF_TASK, build_tables
    from ..vocab import lexicon

    try:
        report = ingest(path)            # hashes the bytes it parses: Report.sha256 is the one hash
        if too_big := _over_schema_limits(report):
            return FileResult(str(path), refusal=too_big)
        quantities = {(t.task_no, f): extract(getattr(t, f))
                      for t in report.tasks for f in FIELDS_OF_TASK}
        return FileResult(str(path), tables=build_tables(report, quantities, link(report, quantities)),
                          warnings=report.warnings,
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
    from ..schema import schema

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


def results(files: Sequence[Path], jobs: int) -> Iterator[list[FileResult]]:
    """Per chunk of files, the workers' results; the next chunk is already under way
    while the caller validates and writes this one.

    A worker that dies (killed, out of memory) breaks its pool and every task in it:
    those reports get one more try in a new pool, and the ones that die again are
    refused, so one bad report never hangs or stops the batch."""
    if jobs <= 1 or len(files) <= 1:
        for chunk in _chunks(files, CHUNK):
            yield [process_file(f) for f in chunk]
        return
    # forkserver: workers start from a clean process (no GX, no threads of ours),
    # explicitly, before the parent imports GX.
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(jobs, mp_context=context, initializer=ignore_interrupts)

    pool = new_pool()

    def submit(chunk):
        futures = []
        for f in chunk:
            try:
                futures.append(pool.submit(process_file, f))
            except BrokenProcessPool as e:     # a worker died before this was queued:
                dead = Future()                # the file is retried like those that were
                dead.set_exception(e)
                futures.append(dead)
        return futures

    try:
        chunks = list(_chunks(files, CHUNK))
        pending = submit(chunks[0])
        for k, chunk in enumerate(chunks):
            following = submit(chunks[k + 1]) if k + 1 < len(chunks) else None
            results = [_outcome(future) for future in pending]
            for attempt in ("retry", "refuse"):
                died = [i for i, r in enumerate(results) if r is None]
                if not died:
                    break
                pool.shutdown(wait=False, cancel_futures=True)   # broken: nothing left to wait for
                _stop_strays()
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
        _stop_strays()


def _stop_strays() -> None:
    """End the worker processes no pool waits for any more. A worker started while its pool
    broke (one died as the pool started) is missed by the pool's own clean-up: it would wait
    on the dead pool's queue for ever, holding the run's stdout and stderr open after the run
    ends (a caller reading them to the end hangs), one more process left behind per death."""
    for process in multiprocessing.active_children():
        process.kill()
        process.join(5)


def _outcome(future) -> FileResult | None:
    """A worker's result, or None when its process died."""
    try:
        return future.result()
    except BrokenProcessPool:
        return None


def _died(path: Path) -> Problem:
    return Problem(str(path), 0, "the worker process handling this report died (killed, or out of memory)",
                   "run it again; if it dies again, run this file alone with --jobs 1 and report it")
