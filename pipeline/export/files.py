"""Files under ``<out>``: paths, report ids as file names, durable writes, our temporary
folders (marked, so only ours are ever removed) and the run lock."""
from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


from .. import PROJECT_DIR


MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
LOCK_NAME = ".lock"
TMP_PREFIX = ".tmp-"
TMP_MARKER = ".minsheng-tmp"     # inside every temporary folder we make: "minsheng-pipeline <pid>"
REVIEW = "review"            # <out>/review/<report_id>.html, exported with the report's tables

# Pinned so the bytes do not move with pyarrow's defaults. Parquet dictionary pages are
# used for the dictionary-typed (categorical) columns only: free text gains little from
# them and they cost time on every file.
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
    "store_schema": True,
}


class LockedError(RuntimeError):
    """Another run holds the lock on this output folder (the CLI exits with status 4)."""

    def __init__(self, out_dir: Path, holder: str = "") -> None:
        self.out_dir = out_dir
        who = f" (pid {holder})" if holder else ""
        super().__init__(f"another pipeline run{who} is writing to {out_dir}; "
                         "wait for it to finish or choose another --out")


# --------------------------------------------------------------------------- paths


def default_processed_dir() -> Path:
    """The project's ``processed/`` folder, found from the package location."""
    return PROJECT_DIR / "processed"


def _relative_output(table: str, report_id: str) -> str:
    """An output's path relative to ``<out>``, as the manifest records it."""
    return f"{REVIEW}/{report_id}.html" if table == REVIEW else f"{table}/{report_id}.parquet"


def _output_path(out_dir: Path, table: str, report_id: str) -> Path:
    return Path(out_dir) / _relative_output(table, report_id)


def report_id_problem(report_id: str) -> str | None:
    """Why ``report_id`` cannot name output files, or None. A report id becomes a file
    name in every table folder: it must not escape its folder, hide, or be empty."""
    if not report_id:
        return "it is empty"
    if report_id.startswith("."):
        return "it starts with a dot"
    for char, name in (("/", "a slash"), ("\\", "a backslash")):
        if char in report_id:
            return f"it contains {name}"
    if any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f for c in report_id):
        return "it contains a control character"      # it would reach terminals and tables
    return None


def _valid_report_id(report_id: str) -> bool:
    return report_id_problem(report_id) is None


def _check_report_id(report_id: str) -> None:
    if not _valid_report_id(report_id):
        raise ValueError(f"report id {report_id!r} cannot be used as a file name")


def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, data: bytes | memoryview) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


@functools.cache
def _libc_syncfs():
    try:
        return ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None


def _sync_filesystem(folder: Path) -> None:
    """Flush every file written under ``folder``'s filesystem to disk, in one call.

    One syncfs(2) instead of an fsync per file: a batch writes thousands of small files,
    and each fsync costs a journal commit. Falls back to sync(2) where syncfs is missing.
    """
    syncfs = _libc_syncfs()
    if syncfs is None:
        os.sync()
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True         # PermissionError too: the process exists, it is someone else's


def _clean_dead_tmp(out_dir: Path) -> None:
    """Remove temporary folders left by runs that died: only folders this program made
    (named ``.tmp-<pid>-…`` *and* holding our marker file naming the same pid) whose
    pid is gone. Anything else in ``<out>`` is the user's and stays."""
    for tmp in Path(out_dir).glob(f"{TMP_PREFIX}*"):
        pid = tmp.name[len(TMP_PREFIX):].split("-", 1)[0]
        if (pid.isdigit() and int(pid) != os.getpid() and _tmp_owner(tmp) == int(pid)
                and not _pid_alive(int(pid))):
            shutil.rmtree(tmp, ignore_errors=True)


def _tmp_owner(tmp: Path) -> int | None:
    """The pid in a temporary folder's marker file, or None when it is not one of ours."""
    marker = tmp / TMP_MARKER
    try:
        if tmp.is_symlink() or not tmp.is_dir() or marker.is_symlink():
            return None
        text = marker.read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text[1]) if len(text) == 2 and text[0] == "minsheng-pipeline" and text[1].isdigit() else None


def _new_tmp(out_dir: Path) -> Path:
    tmp = Path(out_dir) / f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir()
    (tmp / TMP_MARKER).write_text(f"minsheng-pipeline {os.getpid()}\n", encoding="ascii")
    return tmp


def remove_own_tmp(out_dir: Path | str) -> None:
    """Remove this process's temporary folders (after an interrupt): the next run would
    anyway, but an interrupted run should leave nothing behind."""
    for tmp in Path(out_dir).glob(f"{TMP_PREFIX}{os.getpid()}-*"):
        if _tmp_owner(tmp) == os.getpid():
            shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- lock


@contextmanager
def lock(out_dir: Path | str) -> Iterator[Path]:
    """Hold the exclusive lock on ``<out>/.lock`` for the duration of a run.

    Raises :class:`LockedError` at once (no waiting) if another run holds it. The kernel
    drops an ``flock`` when its holder dies, so a stale ``.lock`` file never blocks.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(out_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        os.close(fd)
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise LockedError(out_dir, holder) from None
        raise
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)   # only to name the holder in messages
        _clean_dead_tmp(out_dir)
        yield out_dir
    finally:
        os.close(fd)    # releases the lock


