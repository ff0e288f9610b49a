"""Generated series: four periods (1-3月, 1-6月, 1-9月, 1-12月) of one report.

From a base report (the seed, a held-out fixture) read with the pipeline's own stages,
each period is written as a pipe table, one row per line:

- the title's period is replaced (the plan title, then （1-N月）);
- every status figure that is not a plan (a target) is scaled by the period's factor
  (0.4, 0.6, 0.8, 1.0), so cumulative figures rise and completion ratios with them;
  plans stay as written; a figure whose mention holds more than one number (2万4千,
  3-5万元) stays as written too;
- from the third period on, one task is inserted in the middle (the tasks after it are
  numbered one more);
- from the second period on, two tasks are reworded slightly (进一步… / …工作);
- one cumulative figure (a total of a status cell, in no progress record) is halved in
  the third period, so that it is lower than in the second.

``Period.origin`` maps each generated (task_no, field, index of the figure in its cell)
back to the base's, so a test can tell which figures are the same without the keys.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.extract import extract
from pipeline.ingest import ingest
from pipeline.kinds import kind_of
from pipeline.progress import link
from pipeline.series import plan_title

FACTORS = (0.4, 0.6, 0.8, 1.0)
MONTHS = (3, 6, 9, 12)
LOWERED_PERIOD = 2                      # the third period (0-based)
LOWER = 0.5
_SIMPLE = re.compile(r"\d")
_LEADING = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_NUMERALS = "一二三四五六七八九"
INSERTED = ("新建城市书房20个", "已建成城市书房{n}个，完成年度任务的{pct}%", "市文旅局")


@dataclass(frozen=True)
class Period:
    report_id: str
    text: str
    origin: dict            # (task_no, field, index) → (base task_no, field, index); the inserted task → None
    lowered: tuple | None   # (task_no, field, index) of the lowered figure in this period, else None


def chinese(n: int) -> str:
    """1 … 99 as a Chinese ordinal (一, 十二, 二十)."""
    tens, units = divmod(n, 10)
    return (("" if tens == 1 else _NUMERALS[tens - 1]) + "十" if tens else "") + (_NUMERALS[units - 1] if units else "")


def _scaled(mention: str, factor: float) -> str | None:
    """The mention with its one number scaled (1,234 keeps its separators); None when it
    holds other than one number, or a number before 千/百/十 (2千万: a digit of a numeral)."""
    m = _LEADING.match(mention)
    if m is None or _SIMPLE.search(mention, m.end()) or mention[m.end():m.end() + 1] in ("千", "百", "十"):
        return None
    number = m.group().replace(",", "")
    decimals = len(number.split(".")[1]) if "." in number else 0
    value = max(float(number) * factor, 1.0 if decimals == 0 else 0.0)
    text = f"{value:,.{decimals}f}" if "," in m.group() else f"{value:.{decimals}f}"
    return text + mention[m.end():]


def _leading(mention: str) -> float:
    m = _LEADING.match(mention)
    return float(m.group().replace(",", "")) if m else 0.0


def _base(path: Path):
    report = ingest(path)
    quantities = {(t.task_no, f): extract(getattr(t, f)) for t in report.tasks for f in ("task", "status")}
    plans, in_progress = set(), set()
    for p in link(report, quantities):
        if p.target is not None:
            plans.add((p.task_no, p.target.field, p.target.index))
        for ref in (p.achieved, p.target, p.ratio):
            if ref is not None:
                in_progress.add((p.task_no, ref.field, ref.index))
    return report, quantities, plans, in_progress


def generate(path: Path, stem: str, *, lower: bool = True) -> list[Period]:
    """The four periods of the report at ``path``, report ids ``<stem>_1-03`` …; without
    ``lower``, no figure is lowered."""
    report, quantities, plans, in_progress = _base(path)
    tasks = list(report.tasks)
    middle = len(tasks) // 2
    reworded = {tasks[1].task_no, tasks[-2].task_no}
    lowered = next(
        ((t.task_no, "status", i) for t in tasks[2:] if t.task_no not in reworded
         for i, q in enumerate(quantities[(t.task_no, "status")])
         if kind_of(q, t.status, "status") == "total" and (t.task_no, "status", i) not in in_progress
         and _leading(q.mention) >= 10 and _scaled(q.mention, 1.0) is not None), None) if lower else None
    periods = []
    for k, (factor, month) in enumerate(zip(FACTORS, MONTHS)):
        rows, origin, at_lowered = [], {}, None
        title = f"{plan_title(report.title)}（1-{month}月）"
        lines = [title, "| 编号 | 工作任务 | 工作情况 | 牵头单位 |"]
        category, no = None, 0
        for i, t in enumerate(tasks):
            if k >= 2 and i == middle:
                no += 1
                n, pct = round(20 * factor * 0.8), round(100 * factor * 0.8)
                rows.append((t.category_no, t.category, no, INSERTED[0],
                             INSERTED[1].format(n=n, pct=pct), INSERTED[2]))
            no += 1
            text = t.task
            if k >= 1 and t.task_no in reworded:
                text = "进一步" + text if i % 2 else text + "工作"
            status = t.status
            for j, q in reversed(list(enumerate(quantities[(t.task_no, "status")]))):
                if (t.task_no, "status", j) in plans or kind_of(q, t.status, "status") == "target":
                    continue
                f = factor * (LOWER if k == LOWERED_PERIOD and (t.task_no, "status", j) == lowered else 1.0)
                new = _scaled(q.mention, f)
                if new is not None:
                    status = status[:q.start] + new + status[q.end:]
            for field in ("task", "status"):
                for j in range(len(quantities[(t.task_no, field)])):
                    origin[(no, field, j)] = (t.task_no, field, j)
            if lowered is not None and k == LOWERED_PERIOD and t.task_no == lowered[0]:
                at_lowered = (no, "status", lowered[2])
            rows.append((t.category_no, t.category, no, text, status, "、".join(t.lead_units)))
        for category_no, name, no, text, status, units in rows:
            if category_no != category:
                category = category_no
                lines.append(f"| {chinese(category_no)}、{name} |")
            lines.append(f"| {no} | {text} | {status} | {units} |")
        periods.append(Period(f"{stem}_1-{month:02d}", "\n".join(lines) + "\n", origin, at_lowered))
    return periods


def write(periods: list[Period], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for p in periods:
        path = folder / f"{p.report_id}.txt"
        path.write_text(p.text, encoding="utf-8")
        paths.append(path)
    return paths
