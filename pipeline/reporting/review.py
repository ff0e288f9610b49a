"""Review pages: ``<out>/review/<report_id>.html``, one per report.

The report's tasks as a table; each task and status text with its figures
highlighted (hover shows value, unit, dimension, metric); under each task row, its
figures as a compact list — mention → metric · unit, and the change since the previous
period of the series where the figure has a value there (+1,234 since 1–6月); failing
figures in red with the names of the checks they failed; each task's progress records as bars (completion
against the mark the period expects, stated and computed side by side), with a count
by status at the top. Pure string building (every piece of report text
goes through ``html.escape``), inline CSS, no scripts, nothing loaded from the
network. ``review_pages`` returns the pages as strings; the export writes them with
the report's data, in one commit.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

import pyarrow as pa
import pyarrow.compute as pc

from ..quality.results import Failure, ReportChecks, Validation

_CSS = """
body{font:14px/1.55 "Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em;margin:.2em 0}.meta{color:#555;margin:.2em 0 1em}
.ok{color:#1a7f37;font-weight:bold}.bad{color:#c62828;font-weight:bold}.warn{color:#b26a00;font-weight:bold}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.35em .5em;vertical-align:top;text-align:left}
th{background:#f3f4f6;position:sticky;top:0}tr.fail td{background:#fff5f5}td.no{text-align:right;white-space:nowrap}
mark.fig{background:#fff3b0;border-bottom:2px solid #e0b000;padding:0 1px;border-radius:2px}
mark.fig.failed{background:#ffd6d6;border-bottom:2px solid #c62828;color:#8b0000}
mark.fig.warned{background:#ffe9c7;border-bottom:2px solid #b26a00}
sup.chk{color:#c62828;font-size:.7em;margin-left:1px}sup.chk.w{color:#b26a00}
.unplaced{color:#c62828;font-size:.85em;margin-top:.3em}.checks{font-size:.8em;color:#c62828}
ul.failures{font-size:.9em}.legend{font-size:.85em;color:#555;margin:.5em 0 1em}
.pg{margin:.15em 0 .5em;font-size:.85em;min-width:14em}.pg .bar{position:relative;height:.7em;background:#eee;border-radius:3px;margin:.15em 0}
.pg .fill{height:100%;border-radius:3px;background:#4c9a5b}.pg.behind .fill{background:#d9822b}.pg.unknown .fill{background:#9aa5b1}
.pg .exp{position:absolute;top:-.2em;height:1.1em;border-left:2px solid #333}.pg.failed{color:#8b0000}.pg.failed .fill{background:#c62828}
tr.figs td{border-top:0;padding-top:0;font-size:.8em;color:#444}ul.figs{list-style:none;margin:0;padding:0;columns:2 24em}
ul.figs li{break-inside:avoid}ul.figs .m{color:#1f4e79}ul.figs .u{color:#777}ul.figs .up{color:#1a7f37}ul.figs .down{color:#c62828}
.st{display:inline-block;padding:0 .4em;border-radius:3px;background:#eef;margin-right:.3em}
"""
_STATUSES = ("done", "ahead", "on_track", "behind", "unknown")


def _num(v) -> str:
    if v is None or v != v:
        return "∅"
    return format(int(v), ",") if float(v).is_integer() else format(v, ",.6g")


def _figure_title(f: Mapping) -> str:
    value = _num(f["value"])
    if f.get("value_high") is not None and f["value_high"] == f["value_high"]:
        value += "–" + _num(f["value_high"])
    parts = [f"value: {value} {f.get('unit') or ''}".rstrip(),
             f"dimension: {f.get('dimension') or '∅'}", f"metric: {f.get('metric') or '∅'}"]
    if f.get("approx"):
        parts.append(f"approx: {f['approx']}")
    if f.get("failures"):
        parts.append("FAILED: " + ", ".join(f["failures"]))
    return " · ".join(parts)


def _check_marks(names: Sequence[str], severities: Mapping[str, str]) -> str:
    return "".join(f'<sup class="chk{" w" if severities.get(c) == "warning" else ""}">{escape(c)}</sup>'
                   for c in names)


def _highlight(text: str | None, figures: Sequence[Mapping], severities: Mapping[str, str]) -> str:
    """The cell text, escaped, with each figure wrapped in a <mark>; figures whose span
    does not slice back to their mention (or overlaps another) are listed underneath."""
    text = text or ""
    out, pos, unplaced = [], 0, []
    for f in sorted(figures, key=lambda f: (f["start"] if f["start"] is not None else -1, -(f["end"] or 0))):
        s, e = f["start"], f["end"]
        if s is None or e is None or not (pos <= s <= e <= len(text)) or text[s:e] != f["mention"]:
            unplaced.append(f)
            continue
        fails = f.get("failures") or []
        cls = "fig" + ((" failed" if any(severities.get(c) == "error" for c in fails) else " warned") if fails else "")
        out.append(escape(text[pos:s]))
        out.append(f'<mark class="{cls}" title="{escape(_figure_title(f))}">{escape(text[s:e])}</mark>'
                   + _check_marks(fails, severities))
        pos = e
    out.append(escape(text[pos:]))
    for f in unplaced:
        out.append(f'<div class="unplaced" title="{escape(_figure_title(f))}">✗ not at [{f["start"]}:{f["end"]}]: '
                   f'«{escape(str(f["mention"]))}»{_check_marks(f.get("failures") or [], severities)}</div>')
    return "".join(out)


def _signed(v: float) -> str:
    return ("+" if v > 0 else "−" if v < 0 else "±") + _num(abs(v))


def _figure_list(figures: Sequence[Mapping], since: str) -> str:
    """The task's figures, one item each: mention → metric · unit, and the change since
    the previous period where the figure (its figure_key) has a value there."""
    items = []
    for f in figures:
        change = ""
        prev, value = f.get("previous_value"), f.get("value")
        if prev is not None and prev == prev and value is not None and value == value:
            delta = value - prev
            cls = "up" if delta > 0 else "down" if delta < 0 else ""
            change = (f' <span class="{cls}">{escape(_signed(delta))}{escape(f.get("unit") or "")}'
                      f' since {escape(since)}</span>')
        items.append(f'<li>{escape(str(f.get("mention")))} → <span class="m">{escape(f.get("metric") or "∅")}</span>'
                     f' · <span class="u">{escape(f.get("unit") or "—")}</span>{change}</li>')
    return f'<ul class="figs">{"".join(items)}</ul>' if items else ""


def _pct(v) -> str:
    return "∅" if v is None or v != v else f"{v:.1f}%"


def _progress_bar(p: Mapping, severities: Mapping[str, str]) -> str:
    """One progress record: its metric, a bar of its completion (capped at the bar's end)
    with the expected mark, the figures, and the checks it failed."""
    fails = p.get("failures") or []
    done = p.get("completion_pct")
    width = 0.0 if done is None or done != done else max(0.0, min(float(done), 100.0))
    expected = p.get("expected_pct")
    mark = ("" if expected is None or expected != expected
            else f'<div class="exp" style="left:{max(0.0, min(float(expected), 100.0)):.1f}%" '
                 f'title="expected {_pct(expected)}"></div>')
    figures = [f"completion {_pct(done)}"]
    if p.get("stated_pct") is not None and p.get("computed_pct") is not None:
        figures = [f"stated {_pct(p['stated_pct'])} · computed {_pct(p['computed_pct'])}"]
    if p.get("achieved_value") is not None or p.get("target_value") is not None:
        figures.append(f"{_num(p.get('achieved_value'))} / {_num(p.get('target_value'))} {p.get('unit') or ''}"
                       + (" (target implied)" if p.get("target_basis") == "implied" else ""))
    if expected is not None and expected == expected:
        figures.append(f"expected {_pct(expected)}")
    scope = " · whole category" if p.get("scope") == "category" else ""
    cls = "pg " + str(p.get("status") or "unknown") + (" failed" if fails else "")
    return (f'<div class="{escape(cls)}"><span class="st">{escape(str(p.get("status")))}</span>'
            f'{escape(str(p.get("metric") or ""))}{escape(scope)}'
            f'<div class="bar"><div class="fill" style="width:{width:.1f}%"></div>{mark}</div>'
            f'{escape(" · ".join(figures))}{_check_marks(fails, severities)}</div>')


def render_report(report: Mapping, tasks: Sequence[Mapping], facts: Sequence[Mapping],
                  failures: Sequence[Failure], checks: ReportChecks | None,
                  severities: Mapping[str, str], docs_href: str | None = None,
                  progress: Sequence[Mapping] = (), since: str | None = None) -> str:
    """One report's review page as a string; ``since`` names the previous period of the
    series (1–6月), for the changes of figures that have a previous value."""
    rid = str(report.get("report_id"))
    n = len(severities)
    if checks is None:
        status = ""
    elif checks.failed:
        status = (f'<span class="bad">{checks.passed}/{n} checks passed, {checks.failed} failed</span> '
                  f'({checks.errors} error, {checks.warnings} warning)')
    else:
        status = f'<span class="ok">all {n} checks passed</span>'
    period = ""
    if report.get("period_start_month") is not None:
        period = f' · period {_num(report["period_start_month"])}–{_num(report.get("period_end_month"))}月'
    by_cell: dict[tuple, list[Mapping]] = {}
    for f in facts:
        by_cell.setdefault((f["task_no"], f["field"]), []).append(f)
    progress_by_task: dict = {}
    for p in progress:
        progress_by_task.setdefault(p["task_no"], []).append(p)
    rows = []
    for t in tasks:
        tno = t["task_no"]
        fails = list(t.get("failures") or [])
        for f in [*by_cell.get((tno, "task"), ()), *by_cell.get((tno, "status"), ()), *progress_by_task.get(tno, ())]:
            fails += [c for c in f.get("failures") or () if c not in fails]
        cls = ' class="fail"' if fails else ""
        rows.append(
            f"<tr{cls}><td class=\"no\">{escape(_num(tno))}</td>"
            f"<td>{escape(str(t.get('category') or ''))}</td>"
            f"<td>{_highlight(t.get('task'), by_cell.get((tno, 'task'), ()), severities)}</td>"
            f"<td>{_highlight(t.get('status'), by_cell.get((tno, 'status'), ()), severities)}</td>"
            f"<td>{escape('、'.join(t.get('lead_units') or []))}</td>"
            f"<td>{''.join(_progress_bar(p, severities) for p in progress_by_task.get(tno, ()))}</td>"
            f"<td class=\"checks\">{'<br>'.join(escape(c) for c in fails)}</td></tr>")
        figures = _figure_list([*by_cell.get((tno, "task"), ()), *by_cell.get((tno, "status"), ())],
                               since or str(report.get("previous_report_id") or "the previous period"))
        if figures:
            rows.append(f'<tr class="figs"><td></td><td colspan="6">{figures}</td></tr>')
    fl = "".join(
        f"<li><span class=\"{'bad' if f.severity == 'error' else 'warn'}\">{escape(f.severity)}</span> "
        f"<b>{escape(f.check)}</b> [{escape(f.table if f.task_no is None else f'task {f.task_no}')}]"
        f"{' «' + escape(f.mention) + '»' if f.mention else ''} {escape(f.context)}</li>" for f in failures)
    docs = f' · <a href="{escape(docs_href)}">Data Docs</a>' if docs_href else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"zh\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(rid)} — review</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(str(report.get('title') or rid))}</h1>"
        f"<p class=\"meta\">{escape(rid)} · {escape(str(report.get('source_file') or ''))}{escape(period)} · "
        f"{len(tasks)} tasks · {len(facts)} figures · {status}{docs}</p>"
        + _progress_summary(progress)
        + (f"<h2>Failures</h2><ul class=\"failures\">{fl}</ul>" if failures else "")
        + "<p class=\"legend\"><mark class=\"fig\">figure</mark> hover for value, unit, dimension, metric · "
        "<mark class=\"fig failed\">failed figure</mark><sup class=\"chk\">check</sup> · "
        "<mark class=\"fig warned\">warning</mark></p>"
        "<table><thead><tr><th>编号</th><th>类别</th><th>工作任务</th><th>工作情况</th><th>牵头单位</th>"
        f"<th>progress</th><th>failed checks</th></tr></thead><tbody>{''.join(rows)}</tbody></table></body></html>\n")


def _progress_summary(progress: Sequence[Mapping]) -> str:
    if not progress:
        return '<p class="meta">progress: no record of completion against a plan</p>'
    counts = {s: sum(1 for p in progress if p.get("status") == s) for s in _STATUSES}
    return ('<p class="meta">progress: ' + " · ".join(f'<span class="st">{s}</span>{n}' for s, n in counts.items() if n)
            + f" of {len(progress)} record(s) — bars show completion, the black mark what the period expects</p>")


def _rows(table: pa.Table, columns: Sequence[str]) -> dict[str, list[dict]]:
    """The table's rows (only ``columns``) as dicts, grouped by report id."""
    ids = pc.cast(table["report_id"], pa.string()).to_pylist()
    cols = {c: (pc.cast(table[c], pa.string()) if pa.types.is_dictionary(table[c].type) else table[c]).to_pylist()
            for c in columns}
    out: dict[str, list[dict]] = {}
    for i, rid in enumerate(ids):
        out.setdefault(rid, []).append({c: cols[c][i] for c in columns})
    return out


def review_pages(validation: Validation, *, docs_href: str | None = None,
                 periods: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every report's review page, by report id (``docs_href``: the Data Docs index,
    relative to the review folder; ``periods``: report id → its period, 1–6月, naming
    the previous report of each)."""
    tables = validation.tables
    reports = {rid: rows[0] for rid, rows in _rows(tables["reports"], [
        "report_id", "source_file", "title", "period_start_month", "period_end_month",
        "previous_report_id"]).items()}
    tasks = _rows(tables["tasks"], ["task_no", "category", "task", "status", "lead_units", "dq_failures"])
    facts = _rows(tables["facts"], ["task_no", "field", "mention", "start", "end", "value", "value_high",
                                    "unit", "dimension", "metric", "approx", "previous_value", "dq_failures"])
    progress = _rows(tables["progress"], ["task_no", "scope", "metric", "unit", "achieved_value", "target_value",
                                          "target_basis", "stated_pct", "computed_pct", "completion_pct",
                                          "expected_pct", "status", "dq_failures"]) if "progress" in tables else {}
    fails_by: dict[str | None, list[Failure]] = {}
    for f in validation.failures:
        fails_by.setdefault(f.report_id, []).append(f)
    pages = {}
    for rid in validation.checks:
        ts = [{**t, "failures": t["dq_failures"]} for t in tasks.get(rid, ())]
        fs = [{**f, "failures": f["dq_failures"]} for f in facts.get(rid, ())]
        ps = [{**p, "failures": p["dq_failures"]} for p in progress.get(rid, ())]
        report = reports.get(rid, {"report_id": rid})
        previous = report.get("previous_report_id")
        since = (periods or {}).get(previous) or previous
        pages[rid] = render_report(report, ts, fs, fails_by.get(rid, []), validation.checks.get(rid),
                                   validation.severities, docs_href, ps, since)
    return pages
