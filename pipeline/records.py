"""The record types every stage passes on: one frozen dataclass per concept.

Cell text is stored exactly as written (surrounding whitespace stripped only) and is
never changed by a later stage; every quantity keeps its span into that text.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One refused-input error or warning, located in a raw file."""

    file: str          # raw file name as given
    line: int          # 1-based line number (0 when the problem concerns the whole file)
    message: str       # what is wrong
    hint: str          # what to do about it

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file   # no line for a whole file
        return f"{where}: {self.message} — {self.hint}"


@dataclass(frozen=True, slots=True)
class Category:
    category_no: int   # from the Chinese ordinal 一 … 二十
    name: str          # the category cell text after the ordinal (一、加强… → 加强…)
    line: int


@dataclass(frozen=True, slots=True)
class Task:
    category_no: int
    category: str
    task_no: int
    task: str                      # 工作任务 cell, as written
    status: str                    # 工作情况 cell, as written
    lead_units: tuple[str, ...]    # 牵头单位 split on spaces 、 , ，/
    line_start: int                # first source line of the row (1-based)
    line_end: int                  # last source line of the row


@dataclass(frozen=True, slots=True)
class Report:
    report_id: str                 # the raw file's stem
    source_file: str               # the raw file's name
    title: str
    region: str | None
    year: int | None
    period_start_month: int | None
    period_end_month: int | None
    declared_items: int | None     # 20项 / 十件 … in the title, else None
    encoding: str                  # detected: utf-8, utf-8-sig, gb18030 (utf-8 for .docx/.xlsx)
    sha256: str                    # of the raw bytes
    categories: tuple[Category, ...]
    tasks: tuple[Task, ...]
    warnings: tuple[Problem, ...] = ()
    layout: str = "pipe"           # the reader: pipe, markdown, html, docx, xlsx or prose


@dataclass(frozen=True, slots=True)
class Quantity:
    """One quantity mention in one cell text: ``text[start:end] == mention``."""

    mention: str
    start: int
    end: int
    value: float                   # in base units (10.83亿元 → 1083000000.0); low end of a range
    value_high: float | None       # high end of a range, else None
    unit: str                      # as written after the number, magnitude removed; "" if bare
    approx: str | None             # "more_than" | "less_than" | "about" | None
    dimension: str                 # currency, count, percent, percentage_point, ratio, …
    metric: str | None = None      # shortest phrase of the cell naming what is measured
    metric_start: int | None = None  # offset of metric in the cell text
    change: str | None = None      # "increase" | "decrease" | None
    change_role: str | None = None # "before" | "after" | None (由…提高至…)
    change_group: int | None = None  # shared by the before/after pair, unique within the cell
    period_start_month: int | None = None  # the cell's own period for this figure (1-8月份), else None
    period_end_month: int | None = None


@dataclass(frozen=True, slots=True)
class FactRef:
    """One quantity of a task row: the cell it is in and its place among that cell's
    quantities as extract returned them (0-based); tables turns it into a fact_no."""

    field: str                     # "task" | "status"
    index: int


@dataclass(frozen=True, slots=True)
class Progress:
    """How far one piece of work has got against its plan, inside one task row
    (the scheme: ../shared/gold/PROGRESS.md). At least two of achieved / target /
    ratio, or a ratio alone that states how much of a piece of work is done."""

    category_no: int
    task_no: int
    scope: str                     # "task" | "category" (本类实事整体完成率为…)
    metric: str | None             # what is measured: the achieved figure's metric, else the target's, else the ratio's
    unit: str                      # the achieved (else target, else ratio) figure's unit
    dimension: str
    achieved: FactRef | None       # what has been done (已完成120条)
    target: FactRef | None         # what was planned (126条…, 年度目标(50场), a task-cell target)
    ratio: FactRef | None          # the stated completion percentage (完成率98.5%, 为年度任务的110%)
    achieved_value: float | None
    target_value: float | None     # stated, or implied = achieved / ratio
    target_basis: str | None       # "stated" | "implied" | None
    stated_pct: float | None       # the ratio in percent (三成 → 30)
    computed_pct: float | None     # 100 · achieved / target, both written
    completion_pct: float | None   # stated, else computed
    expected_pct: float | None     # share of the plan's period elapsed at the period end (1-9月 → 75)
    status: str                    # "done" | "ahead" | "on_track" | "behind" | "unknown"
    period_start_month: int | None
    period_end_month: int | None
