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
