"""The run index, ``<out>/review/index.html``: where a reviewer starts.

One row per report in the output folder (not only this run's), newest period first:
its title, region, period, counts, progress at a glance and failed checks, linking to
its review page. Pure string building; every piece of report text is escaped.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc

_CSS = """
body{font:14px/1.55 "Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em}table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.35em .5em;text-align:left;vertical-align:top}
th{background:#f3f4f6;position:sticky;top:0}td.n{text-align:right;white-space:nowrap}
.ok{color:#1a7f37;font-weight:bold}.bad{color:#c62828;font-weight:bold}.warn{color:#b26a00;font-weight:bold}
.checks{font-size:.85em;color:#c62828}.muted{color:#777}
"""


def _sort_key(r: Mapping) -> tuple:
    def num(v):
        return -(v if isinstance(v, (int, float)) and v == v else -1)
    return (num(r.get("year")), num(r.get("period_end_month")), str(r.get("report_id")))


def run_index(reports: Sequence[Mapping], *, docs_href: str | None = None) -> str:
    """The index page of these reports. Each mapping holds report_id and what the
    manifest keeps of it: its overview (title, region, year, period months, n_tasks,
    n_facts, progress: status → records) and its verdict (errors, warnings, failures as
    [table, check, …]). Anything missing shows as empty; everything is escaped."""
    rows = []
    for r in sorted(reports, key=_sort_key):
        rid = str(r["report_id"])
        period = ""
        if r.get("period_start_month") is not None:
            period = f"{r.get('year') or ''} {r['period_start_month']}–{r.get('period_end_month')}月"   # escaped below
        errors, warnings = escape(str(r.get("errors") or "")), escape(str(r.get("warnings") or ""))
        if errors:
            verdict = f'<span class="bad">{errors} error(s)</span>'
            if warnings:
                verdict += f', <span class="warn">{warnings} warning(s)</span>'
        elif warnings:
            verdict = f'<span class="warn">{warnings} warning(s)</span>'
        else:
            verdict = '<span class="ok">all passed</span>'
        progress = r.get("progress") if isinstance(r.get("progress"), Mapping) else {}
        progress_text = (" · ".join(f"{escape(str(k))} {escape(str(v))}" for k, v in progress.items() if v)
                         or '<span class="muted">—</span>')
        failed = sorted({str(f[1]) for f in r.get("failures") or () if isinstance(f, list) and len(f) > 1})
        rows.append(
            f'<tr><td><a href="{escape(quote(rid))}.html">{escape(rid)}</a></td>'
            f"<td>{escape(str(r.get('title') or ''))}</td><td>{escape(str(r.get('region') or ''))}</td>"
            f"<td class=\"n\">{escape(period)}</td><td class=\"n\">{escape(str(r.get('n_tasks', '')))}</td>"
            f"<td class=\"n\">{escape(str(r.get('n_facts', '')))}</td><td>{progress_text}</td><td>{verdict}</td>"
            f"<td class=\"checks\">{'<br>'.join(escape(c) for c in failed)}</td></tr>")
    docs = f' · <a href="{escape(docs_href)}">Data Docs</a>' if docs_href else ""
    return ("<!DOCTYPE html>\n<html lang=\"zh\"><head><meta charset=\"utf-8\"><title>review — reports</title>"
            f"<style>{_CSS}</style></head><body><h1>Reports ({len(reports)})</h1>"
            f"<p class=\"muted\">newest period first · open a report for its figures, progress and failures{docs}</p>"
            "<table><thead><tr><th>report</th><th>title</th><th>region</th><th>period</th><th>tasks</th>"
            "<th>figures</th><th>progress</th><th>checks</th><th>failed checks</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></body></html>\n")


_OVERVIEW = ("title", "region", "year", "period_start_month", "period_end_month", "n_tasks", "n_facts")
_STATUSES = ("done", "ahead", "on_track", "behind", "unknown")


def overview(tables: Mapping[str, pa.Table]) -> dict[str, dict]:
    """Per report, what the run index shows of it (JSON for the manifest): its reports
    row and its progress records counted by status."""
    reports = tables["reports"]
    cols = {c: (pc.cast(reports[c], pa.string()) if pa.types.is_dictionary(reports[c].type) else reports[c]).to_pylist()
            for c in ("report_id", *_OVERVIEW)}
    out = {rid: {c: cols[c][i] for c in _OVERVIEW} | {"progress": {}} for i, rid in enumerate(cols["report_id"])}
    progress = tables.get("progress")
    if progress is not None:
        for rid, status in zip(pc.cast(progress["report_id"], pa.string()).to_pylist(),
                               pc.cast(progress["status"], pa.string()).to_pylist()):
            if rid in out:
                counts = out[rid]["progress"]
                counts[status] = counts.get(status, 0) + 1
    for entry in out.values():
        entry["progress"] = {s: entry["progress"][s] for s in _STATUSES if s in entry["progress"]}
    return out
