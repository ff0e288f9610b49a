"""The manifest, ``<out>/manifest.json``: what was exported, from which raw file, by which
rules, with the sha256 of every output; a manifest not of our shape is not trusted."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path


from ..schema import TABLES


from .files import (MANIFEST_FORMAT, MANIFEST_NAME, _fsync_dir, _new_tmp, _relative_output,
                    _valid_report_id, _write_durably, sha256_file)


# --------------------------------------------------------------------------- manifest


class Manifest:
    """What has been exported to ``<out>``: ``<out>/manifest.json``.

    ``reports`` maps each report id to an entry::

        {"source": "raw/linyi_2021_01-09.txt",      # raw file as given to the run
         "sha256": "…",                             # of the raw file
         "pipeline_version": "0.1.0",
         "suites_hash": "…",                        # of the expectation suites
         "processed_at": "2025-01-31T02:00:00+00:00",
         "dq_passed": true,                         # every row of every table passed
         "dq_failed_rows": {"reports": 0, "tasks": 0, "facts": 0},
         "outputs": {"facts": {"path": "facts/<id>.parquet", "sha256": "…", "bytes": 1234}, …},
         "series_id": "临沂市|2021|…",              # reports.series_id, and the period
         "period": [1, 9]}                          # (start, end month): the series index reads these
    """

    def __init__(self, out_dir: Path | str, reports: dict[str, dict] | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.reports: dict[str, dict] = dict(reports or {})
        self._verified: dict[tuple, str] = {}   # (path, inode, size, mtime_ns) → sha256
        self.problem: str | None = None          # why the file on disk was not trusted (see load)

    @classmethod
    def load(cls, out_dir: Path | str) -> Manifest:
        """The manifest of ``out_dir``; empty when there is none yet (first run).

        A manifest that cannot be trusted — not JSON, another format, or the wrong shape
        (``[]``, an entry that is not an object, an output path outside its table folder) —
        loads as empty, with ``problem`` saying why: every report is then processed again
        and the manifest rebuilt, which is always safe."""
        path = Path(out_dir) / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(out_dir)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            return cls._untrusted(out_dir, f"the manifest is not valid JSON ({e})")
        except OSError as e:
            return cls._untrusted(out_dir, f"the manifest cannot be read ({e.strerror or e})")
        if not isinstance(data, dict):
            return cls._untrusted(out_dir, f"the manifest holds a JSON {type(data).__name__}, not an object")
        if data.get("format") != MANIFEST_FORMAT:
            return cls._untrusted(out_dir, f"the manifest has format {data.get('format')!r}, not {MANIFEST_FORMAT}")
        reports = data.get("reports", {})
        if not isinstance(reports, dict):
            return cls._untrusted(out_dir, "the manifest's \"reports\" is not an object")
        for report_id, entry in reports.items():
            wrong = _entry_problem(report_id, entry)
            if wrong:
                return cls._untrusted(out_dir, f"the manifest's entry for {report_id!r} is damaged: {wrong}")
        return cls(out_dir, reports)

    @classmethod
    def _untrusted(cls, out_dir: Path | str, why: str) -> Manifest:
        manifest = cls(out_dir)
        manifest.problem = why
        return manifest

    def to_json(self) -> str:
        """Valid JSON with one line per report: readable, diffable, and fast to write
        (the C encoder only runs without ``indent``)."""
        lines = [f"{json.dumps(r, ensure_ascii=False)}: "
                 f"{json.dumps(self.reports[r], ensure_ascii=False, sort_keys=True)}"
                 for r in sorted(self.reports)]
        body = ",\n".join(lines)
        return f'{{"format": {MANIFEST_FORMAT}, "reports": {{\n{body}\n}}}}\n'

    def save(self, tmp_dir: Path | None = None) -> None:
        """Write the manifest atomically (tmp file, fsync, replace); no-op when unchanged."""
        path = self.out_dir / MANIFEST_NAME
        text = self.to_json().encode("utf-8")
        try:
            if path.read_bytes() == text:
                return
        except FileNotFoundError:
            pass
        self.out_dir.mkdir(parents=True, exist_ok=True)
        own_tmp = tmp_dir is None
        tmp_dir = _new_tmp(self.out_dir) if own_tmp else tmp_dir
        try:
            staged = tmp_dir / MANIFEST_NAME
            _write_durably(staged, text)
            os.replace(staged, path)
            _fsync_dir(self.out_dir)
        finally:
            if own_tmp:
                shutil.rmtree(tmp_dir, ignore_errors=True)

    def outputs_match(self, report_id: str) -> bool:
        """True when every output file of the report exists with the recorded sha256."""
        return self._outputs_problem(report_id) is None

    def _outputs_problem(self, report_id: str) -> str | None:
        entry = self.reports.get(report_id)
        if not entry or not set(TABLES) <= set(entry.get("outputs", {})):
            return "no outputs recorded"
        for out in entry["outputs"].values():
            path = self.out_dir / out["path"]
            try:
                st = path.stat()
            except FileNotFoundError:
                return f"output missing: {out['path']}"
            if st.st_size != out.get("bytes", st.st_size):
                return f"output altered: {out['path']}"
            key = (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
            if key not in self._verified:
                self._verified[key] = sha256_file(path)
            if self._verified[key] != out["sha256"]:
                return f"output altered: {out['path']}"
        return None

    def stale_reason(self, report_id: str, sha256: str, version: str, suites_hash: str) -> str | None:
        """Why the report must be processed again, in a few plain words; None when it can
        be skipped (same raw bytes, pipeline version and rules, outputs all unchanged)."""
        entry = self.reports.get(report_id)
        if entry is None:
            return "new report"
        if entry.get("sha256") != sha256:
            return "raw file changed"
        if entry.get("pipeline_version") != version:
            return f"pipeline version changed ({entry.get('pipeline_version')} → {version})"
        if entry.get("suites_hash") != suites_hash:
            return "rules changed (expectation suites or vocabulary files)"
        return self._outputs_problem(report_id)

    def is_current(self, report_id: str, sha256: str, version: str, suites_hash: str) -> bool:
        """Whether the report can be skipped: same raw bytes, pipeline version and suites,
        and its outputs are all present and unchanged since they were recorded."""
        return self.stale_reason(report_id, sha256, version, suites_hash) is None

    def series(self, series_id: str) -> list[str]:
        """The stored reports of one series (as the manifest records them)."""
        return [r for r, e in self.reports.items() if e.get("series_id") == series_id]

    def failed(self) -> list[str]:
        """Reports whose last export had rows failing a data-quality check."""
        return sorted(r for r, e in self.reports.items() if not e.get("dq_passed", False))


def _entry_problem(report_id: object, entry: object) -> str | None:
    """What is wrong with one manifest entry's shape, or None. Output paths must be the
    report's own files: a tampered manifest never makes a run read or delete elsewhere."""
    if not isinstance(report_id, str) or not _valid_report_id(report_id):
        return "not a usable report id"
    if not isinstance(entry, dict):
        return f"the entry is a {type(entry).__name__}, not an object"
    for key in ("source", "sha256"):
        if not isinstance(entry.get(key), str):
            return f"{key!r} is missing or not a string"
    outputs = entry.get("outputs")
    if not isinstance(outputs, dict):
        return "'outputs' is missing or not an object"
    for name, out in outputs.items():
        if not isinstance(out, dict) or not isinstance(out.get("sha256"), str) \
                or not isinstance(out.get("bytes", 0), int):
            return f"output {name!r} is not an object with a sha256"
        if out.get("path") != _relative_output(name, report_id):
            return f"output {name!r} has the path {out.get('path')!r}"
    if "series_id" in entry and not isinstance(entry["series_id"], str):
        return "'series_id' is not a string"
    period = entry.get("period", [None, None])
    if not (isinstance(period, list) and len(period) == 2
            and all(m is None or (isinstance(m, int) and not isinstance(m, bool)) for m in period)):
        return "'period' is not [start month, end month]"
    checks = entry.get("checks")
    if checks is not None and not (
            isinstance(checks, dict)
            and all(isinstance(checks.get(k), int) for k in ("checks", "passed", "failed", "errors", "warnings"))
            and isinstance(checks.get("failures"), list)
            and all(isinstance(f, list) and len(f) == 7 for f in checks["failures"])):
        return "its 'checks' is not a verdict (counts and a list of failures)"
    return None


