"""Command line: ``python -m pipeline run`` / ``minsheng-pipeline run``, and
``python -m pipeline export``.

A thin layer over pipeline.batch.run and pipeline.views.write_views: arguments, progress, ``Error: …`` lines and
exit statuses. Every problem becomes one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
import traceback
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

EXIT_STATUSES = """\
exit status:
  0  every input processed; checks passed (warnings allowed)
  1  outputs written, but a validation check failed (see --fail-on)
  2  usage error: bad arguments, no input files, a broken suite, an unwritable --out
  3  one or more inputs refused (the others are still processed); wins over 1
  4  another run holds the lock on --out
  5  internal error: a bug of ours (traceback in <out>/logs/); wins over 3 and 1
"""


# Control characters (C0, DEL, C1) and the bidirectional overrides that reorder what a
# terminal shows: file names, report ids and cell text may hold any of them.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` safe for a terminal: every control character shown escaped (ESC → \\x1b),
    so nothing we print can move the cursor, clear the screen, retitle the window or
    forge a line. The one place terminal output is made safe (see _err and _out)."""
    def escape(m: re.Match) -> str:
        c = m.group()
        if keep_newlines and c == "\n":
            return c
        return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"
    return _UNPRINTABLE.sub(escape, text)


def _err(line: str) -> None:
    """One line on stderr (Error:, Warning:, the closing count)."""
    print(printable(line), file=sys.stderr)


def _out(text: str) -> None:
    """The validation summary on stdout (several lines)."""
    print(printable(text, keep_newlines=True))


class _Parser(argparse.ArgumentParser):
    """argparse echoes bad arguments back: through printable() too."""

    def _print_message(self, message: str, file=None) -> None:
        super()._print_message(printable(message, keep_newlines=True), file)


def _parser() -> argparse.ArgumentParser:
    from .batch import DEFAULT_RAW
    from .batch.inputs import RAW_PATTERNS
    from .export import default_processed_dir

    parser = _Parser(
        prog="minsheng-pipeline",
        description="Turn 民生实事 progress reports into typed, validated Parquet tables.",
        epilog=EXIT_STATUSES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser(
        "run", help="ingest, extract, validate and export reports",
        description="Ingest, extract, validate and export reports.",
        epilog=EXIT_STATUSES, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("paths", nargs="*", metavar="PATH",
                     help=f"raw report files or folders of {RAW_PATTERNS} (default: {DEFAULT_RAW})")
    run.add_argument("--out", metavar="DIR", help=f"output folder (default: {default_processed_dir()})")
    run.add_argument("--jobs", type=_positive, default=1, metavar="N",
                     help="worker processes for ingest and extract (default: 1)")
    run.add_argument("--force", action="store_true",
                     help="reprocess every input, even those unchanged since the last run")
    run.add_argument("--prune", action="store_true",
                     help="delete the outputs of reports whose recorded raw file no longer exists")
    run.add_argument("--fail-on", choices=("error", "warning", "never"), default="error",
                     help="which failed checks make the exit status 1 (default: error)")
    run.add_argument("--expectations", metavar="DIR",
                     help="folder of Great Expectations suites (default: the project's expectations/)")
    export = sub.add_parser(
        "export", help="write the facts view and the progress table as a workbook or CSV files",
        description="Write the facts view (one row per fact with its task, category, region, "
                    "year, report period and progress) and the progress table of a processed "
                    "folder, for colleagues who work in Excel.",
        epilog=EXPORT_STATUSES, formatter_class=argparse.RawDescriptionHelpFormatter)
    export.add_argument("--format", choices=("xlsx", "csv"), default="xlsx",
                        help="xlsx: one workbook, a sheet per table; csv: one file per table (default: xlsx)")
    export.add_argument("--out-file", metavar="PATH",
                        help="the workbook to write; for csv, <stem>-facts.csv and <stem>-progress.csv "
                             "beside it (default: <processed>/exports/minsheng.xlsx or .csv)")
    export.add_argument("--processed", metavar="DIR",
                        help=f"the processed folder to read (default: {default_processed_dir()})")
    return parser


EXPORT_STATUSES = """\
exit status:
  0  written
  2  usage error, a processed folder that does not load (rerun the pipeline on it), a file that cannot be written
"""


def _export(args: argparse.Namespace) -> int:
    from .export import LoadError, default_processed_dir
    from .views import write_views

    processed = Path(args.processed) if args.processed else default_processed_dir()
    out_file = Path(args.out_file) if args.out_file else processed / "exports" / f"minsheng.{args.format}"
    if not (processed / "manifest.json").is_file():
        _err(f"Error: {processed}: not a processed folder (no manifest.json) — run "
             "`python -m pipeline run` first, or name the folder with --processed")
        return 2
    try:
        written = write_views(out_file, args.format, processed)
    except LoadError as e:
        _err(f"Error: {e}")
        return 2
    except OSError as e:
        _err(f"Error: {e.filename or out_file}: {e.strerror or e} — check that the folder exists and "
             "can be written to, and that the file is not open in another program")
        return 2
    for path in written:
        _err(f"wrote {path}")
    return 0


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


class _Progress:
    """A progress bar on a terminal; plain log lines otherwise (cron)."""

    WIDTH = 30

    def __init__(self):
        self.stream = sys.stderr
        self.tty = self.stream.isatty()

    def __call__(self, line: str, done: int | None = None, total: int | None = None) -> None:
        line = printable(line)
        if not self.tty:
            print(line, file=self.stream, flush=True)
            return
        if done is not None and total:
            filled = self.WIDTH * done // total
            line = f"[{'█' * filled}{'░' * (self.WIDTH - filled)}] {line}"
        self.stream.write(f"\r\033[K{line}")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")


def _write_internal_log(out: Path, errors: Sequence) -> Path:
    """Write the tracebacks of our own bugs to ``<out>/logs/internal-errors-<time>.log``
    (or the system's temporary folder when ``out`` cannot take it); the path to quote."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    from . import __version__
    text = "".join(f"=== {e.file or '(no file)'}: {e.summary}\npipeline {__version__}, pid {os.getpid()}\n"
                   f"{e.traceback}\n" for e in errors)
    for folder in (out / "logs", Path(tempfile.gettempdir())):
        path = folder / f"internal-errors-{stamp}-{os.getpid()}.log"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return Path("(the log could not be written)")


INTERRUPTED = "Interrupted — outputs from before this run are intact"


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status. SIGINT and SIGTERM end the run with one
    line and status 130 / 143 (workers stopped, temporary folders removed), never a
    traceback — also while Great Expectations is being imported."""
    import signal

    from .batch import on_signal

    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for s in previous:
            signal.signal(s, on_signal)
    except ValueError:               # not the main thread (a notebook's worker thread): leave signals be
        previous = {}
    try:
        return _main(argv)
    except KeyboardInterrupt as e:   # before the run started, or a second Ctrl-C while stopping
        _err(INTERRUPTED)
        return 128 + getattr(e, "signum", signal.SIGINT)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:          # argparse exits 2 on usage errors, 0 on --help
        return int(e.code or 0)
    if args.command == "export":
        return _export(args)
    # Great Expectations routes Python warnings into logging: keep a handler so they
    # are not lost, at a level that keeps GX's chatter out of the cron log.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(name)s: %(message)s")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)

    from . import batch
    from .export import LockedError, default_processed_dir
    from .quality import ValidationSetupError

    progress = _Progress()
    try:
        try:
            result = batch.run(args.paths, out=args.out, jobs=args.jobs, force=args.force,
                               prune=args.prune, fail_on=args.fail_on,
                               expectations=args.expectations, log=progress)
        finally:
            progress.close()   # before any message, which would land on the progress line
    except KeyboardInterrupt as e:
        from .export import remove_own_tmp
        remove_own_tmp(Path(args.out) if args.out else default_processed_dir())
        _err(INTERRUPTED)
        return 128 + getattr(e, "signum", 2)
    except batch.UsageError as e:
        _err(f"Error: {e}")
        return 2
    except LockedError as e:
        _err(f"Error: {e}")
        return 4
    except ValidationSetupError as e:
        hint = "" if " — " in str(e) else " — fix the suite file or point --expectations at a good folder"
        _err(f"Error: {e}{hint}")
        return 2
    except OSError as e:             # --out not writable, disk full …: say where, not how
        where = e.filename or args.out or default_processed_dir()
        _err(f"Error: {where}: {e.strerror or e} — check that --out is a folder you can write to "
             "and that the disk has room")
        return 2
    except Exception as e:           # a bug of ours: one line here, the traceback in a log file
        from .batch.workers import InternalError
        log = _write_internal_log(Path(args.out) if args.out else default_processed_dir(),
                                  [InternalError(None, f"{type(e).__name__}: {e}", traceback.format_exc())])
        _err(f"Error: internal error: {type(e).__name__}: {e} — a bug in the pipeline, not in your input; "
             f"please report it with {log}")
        return 5
    for problem in result.warnings:
        _err(f"Warning: {problem}")
    for problem in result.refused:
        _err(f"Error: {problem}")
    if result.internal_errors:
        log = _write_internal_log(Path(args.out) if args.out else default_processed_dir(), result.internal_errors)
        for error in result.internal_errors:
            _err(f"Error: {error.file}: internal error: {error.summary} — a bug in the pipeline, not in "
                 f"the file; the report was not written; please report it with {log}")
    for report_id, source in result.disappeared.items():
        if report_id in result.pruned:
            what = f"removed the outputs of report {report_id} (its Parquet files and review page)"
        else:
            what = f"the outputs of report {report_id} are kept (--prune removes them)"
        _err(f"Warning: {source}: the raw file is gone — {what}")
    if result.summary:
        _out(result.summary)
    bugs = f", {len(result.internal_errors)} internal error(s)" if result.internal_errors else ""
    _err(f"{len(result.processed)} processed, {len(result.skipped)} unchanged, "
         f"{len(result.refused)} refused{bugs} → {args.out or default_processed_dir()}")
    return result.status
