"""The table rules every reader shares: rows of cells → a `Report`.

A reader (text, HTML, .docx, .xlsx, prose) turns its document into rows of cell
strings, each with the source line (or sheet row, or block) it came from, and the
lines above the table that may hold its title. Everything after that is here, once:

- the header, found by its labels (编号, 工作任务, …工作情况, 牵头单位; traditional forms
  too); columns the header does not need (序号 beside 编号, 备注, 完成时限 …) are ignored;
- notes under the table (注：… 备注：… 填报单位：… a date) end it, with a warning;
- rows → records: categories from their ordinals (一、… （一） 1、), tasks with their
  numbers checked, lead units split;
- title metadata (region, year, period, declared count) and the report's warnings.

Cell text is kept exactly as written, stripped of surrounding whitespace only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

from .. import vocab
from ..records import Category, Problem, Report, Task
from .title import title_metadata

MAX_LINE_BYTES = 1 << 20
MAX_QUOTED_CHARS = 40        # of a note quoted in a warning
MAX_DATE_CHARS = 32          # a longer cell is no date line (2021年10月15日)
MAX_CONTROL_WARNINGS = 10    # per report: one is enough to send someone to look
MAX_TITLE_CHARS = 100        # a longer line above a table is text, not its title
MAX_DOCUMENT_CELLS = 50_000   # of all a page's or document's tables, spans expanded (a report: ~1,000)


class IngestError(Exception):
    """A raw file refused; ``problem`` says where, what is wrong and what to do."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)          # args=(problem,): str() and pickling just work
        self.problem = problem


def refuse(name: str, line: int, message: str, hint: str) -> IngestError:
    return IngestError(Problem(name, line, message, hint))


# --- Vocabulary: the words ingest recognises (data, not logic) -----------------------

# Header cell → column, tried in this order, each a full match of the whole cell.
HEADER_LABELS: tuple[tuple[str, str], ...] = (
    # 1-9月份工作情况, 1至6月份进展情况, 截至9月底完成情况, 全年完成情况, 工作进展, 完成情况
    ("status", r".{0,12}(?:情况|情況|进展|進展|进度|進度)"),
    # 牵头单位, 責任單位, 责任部门, 牵头责任单位, 实施单位, 单位
    ("lead_units", r"(?:牵头|牽頭|责任|責任|主责|主責|承办|承辦|负责|負責|实施|實施){0,2}"
                   r"(?:单位|單位|部门|部門)"),
    ("task_no", r"编号|編號|序号|序號"),
    ("category", r"类别|類別|分类|分類|类型|類型"),
    # 工作任务, 工作任務, 任务, 项目名称, 实事项目, 工作内容, 主要内容, 建设内容
    ("task", r"(?:工作|民生|实事|實事|主要|建设|建設|具体|具體)?"
             r"(?:任务|任務|项目|項目|事项|事項|内容|內容)(?:名称|名稱)?"),
)
REQUIRED_COLUMNS = frozenset({"task_no", "task", "status", "lead_units"})
MAX_LABEL_CHARS = 16        # a longer cell is text, not a header label
MAX_HEADER_CELLS = 12       # a cell-per-line header is at most this many cells
# Header cells of columns that are read and ignored where each cell is on its own line
# (a row-per-line header ignores any cell it does not recognise): 备注, 责任领导,
# 完成时限, 配合单位, 年度目标 …
IGNORED_COLUMN_LABELS = (r"备注|備註|(?:责任|責任|分管|牵头|牽頭)?(?:领导|領導)|(?:责任|責任)人|联系人|聯繫人"
                         r"|完成(?:时限|時限|时间|時間)|时间节点|時間節點"
                         r"|(?:配合|协办|協辦)(?:单位|單位|部门|部門)"
                         r"|(?:年度|工作|计划|計劃)?(?:目标|目標)(?:任务|任務)?")

# The labels that open a note under the table (注：1.… 备注：… 填报人：… 联系电话：…),
# each followed by a colon or nothing else in its cell. A line above the header that
# opens with one is not part of the title either.
NOTE_LABELS = ("注", "註", "备注", "備註", "附注", "附註", "说明", "說明", "数据来源", "數據來源",
               "资料来源", "資料來源", "填报单位", "填報單位", "填报人", "填報人", "填表人", "制表人",
               "制表", "审核人", "審核人", "联系人", "聯繫人", "聯絡人", "联系电话", "聯繫電話",
               "聯絡電話", "电话", "電話", "单位", "單位", "计量单位", "計量單位")
ATTACHMENT_LABELS = ("附件", "附表")    # 附件2 / 附件： / 附表1 above the title: not the title

LEAD_UNIT_SEPARATORS = r"\s、,，/／"


# --- Grammar ----------------------------------------------------------------------
# Everything below matches text whose full-width digits were made ASCII (``_ascii``);
# that maps one character to one, so spans stay valid in the text as written.

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
# Chinese ordinals and counts: digits with 十 and 百 (一、 二十一、 （三）).
_CN_NUMBER = f"[{vocab.numeral_chars('digit', financial=False)}{vocab.numeral_chars_worth(10, 100, financial=False)}]"
_MONTH = rf"(?:1[0-2]|0?[1-9]|{_CN_NUMBER}{{1,3}})"
_DAY = rf"(?:[0-3]?[0-9]|{_CN_NUMBER}{{1,3}})"

_CATEGORY = re.compile(rf"""
    (?: (?P<ordinal>{_CN_NUMBER}+) \s* [、，,．.:：]       # 一、  二十一．
      | [(（] \s* (?P<bracketed>{_CN_NUMBER}+) \s* [)）]    # （一）
      | (?P<arabic>[0-9]+) \s* [、．]                       # 1、
    ) \s* (?P<name>.*)
""", re.X | re.S)
_TASK_NO = re.compile(r"[0-9]+")
_LEAD_UNIT_SPLIT = re.compile(f"[{LEAD_UNIT_SEPARATORS}]+")
_HEADER_LABELS = tuple((column, re.compile(pattern)) for column, pattern in HEADER_LABELS)
_IGNORED_COLUMN = re.compile(IGNORED_COLUMN_LABELS)
_NOTE_LABEL = re.compile(rf"(?:{'|'.join(sorted(NOTE_LABELS, key=len, reverse=True))})\s*(?:[:：]|$)")
_DATE_LINE = re.compile(rf"""
    [(（]? {vocab.YEAR} \s* 年 \s* {_MONTH} \s* 月 \s* {_DAY} \s* [日号] [)）]?    # 2021年10月15日
""", re.X)
# (matched on the text as written: a title line is not made ASCII)
_ATTACHMENT_LINE = re.compile(rf"(?:{'|'.join(ATTACHMENT_LABELS)})\s*(?:[0-9０-９]+|{_CN_NUMBER}+)?\s*[:：]?")
_MARKDOWN_RULE = re.compile(r"\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)+\|?")   # |---|:--:|
_HEADING_MARK = re.compile(r"#+\s*")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BYTE_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


# --- Rows of cells --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    line_start: int
    line_end: int


@dataclass(frozen=True, slots=True)
class Header:
    first_index: int                   # into the reader's lines or rows
    last_index: int
    line: int                          # source line of the first header cell
    columns: tuple[str | None, ...]    # a task row's columns, in order (None: ignored)
    labels: tuple[str, ...]            # their header cells as written, for messages
    row_per_line: bool
    leading_pipe: bool = False         # each row or cell opens with |
    trailing_pipe: bool = False        # each row or cell closes with |
    empty_cell: str = "nothing between two pipes"   # how the format writes an empty cell


def header_columns(cells: list[str]) -> tuple[str | None, ...] | None:
    """The columns of a header row, or None when the row is no header."""
    columns = first_of_each([column_of(cell) for cell in cells])
    return columns if len(cells) > 1 and REQUIRED_COLUMNS <= set(columns) else None


def no_header(name: str) -> IngestError:
    return refuse(name, 0, "no table header found",
                  "the table needs a header with the labels 编号, 工作任务, …工作情况 and 牵头单位 "
                  "(traditional 編號, 工作任務, …工作情況, 牽頭單位 work too)")


def first_of_each(columns: list[str | None]) -> tuple[str | None, ...]:
    """The columns with a repeat ignored: of 序号 and 编号 the first is the number."""
    seen: set[str | None] = set()
    first = []
    for column in columns:
        first.append(None if column in seen else column)
        seen.add(column)
    return tuple(first)


def column_of(cell: str) -> str | None:
    if len(cell) <= MAX_LABEL_CHARS:
        for column, label in _HEADER_LABELS:
            if label.fullmatch(cell):
                return column
    return None


def is_note(cell: str) -> bool:
    """注：1.… 备注 说明：… 填报单位：… 联系电话：… or a date line 2021年10月15日."""
    head = _ascii(cell[:MAX_DATE_CHARS + 1])       # not the whole of a long cell
    return bool(_NOTE_LABEL.match(head) or _DATE_LINE.fullmatch(head))


def grid_notes_start(rows: list[list[Cell]]) -> int:
    """Where the notes under a table of rows begin (``len(rows)`` if none): the first row
    after the last task number whose first cell with text is a note (`is_note`)."""
    last = len(rows) - 1
    while last >= 0 and not any(task_number(c.text) is not None for c in rows[last]):
        last -= 1
    for i in range(last + 1, len(rows)):
        first = next((c.text for c in rows[i] if c.text), "")
        if first and is_note(first):
            return i
    return len(rows)


# --- Rows → categories and tasks --------------------------------------------------

def records(rows: list[list[Cell]], header: Header,
            name: str) -> tuple[list[Category], list[Task], list[tuple[int, str, str]]]:
    """Categories and tasks, and the cells they were read from (line, whose, text)."""
    categories: list[Category] = []
    read: list[tuple[int, str, str]] = []
    first_task: list[int] = []                  # per category, the index of its first task
    category_cell = ""                          # the current category's cell as written
    tasks: list[Task] = []
    width = len(header.columns)

    def start_category(cell: Cell) -> None:
        nonlocal category_cell
        m = _category(cell.text)
        if m is None:
            raise refuse(name, cell.line_start, f"the category {cell.text!r} has no ordinal",
                         "start each category with its number: 一、 二、 … or （一） or 1、")
        number = _category_no(m)
        categories.append(Category(number, cell.text[m.start("name"):], cell.line_start))
        read.append((cell.line_start, f"category {number}", cell.text))
        first_task.append(len(tasks))
        category_cell = cell.text

    for row in rows:
        if _category(row[0].text) and not any(c.text for c in row[1:]):
            start_category(row[0])
            continue
        if not any(c.text for c in row):
            continue                                  # a spacer row | | | |
        if len(row) < width or any(c.text for c in row[width:]):
            number = _task_no(row[0].text)
            raise refuse(
                name, row[0].line_start,
                f"{'the task row' if number is None else f'task {number}'} has {len(row)} "
                f"cell{'s' * (len(row) != 1)} but the header has {width}: {' | '.join(header.labels)}",
                f"add the missing cell (an empty cell is {header.empty_cell}) or remove the stray |"
                if len(row) < width else "remove the stray | or add its column to the header")
        cell = {column: c for column, c in zip(header.columns, row) if column}
        if "category" in cell and cell["category"].text not in ("", category_cell):
            start_category(cell["category"])
        number = _task_no(cell["task_no"].text)
        line = cell["task_no"].line_start
        if number is None:
            hint = "write 编号 in digits (1, 2, 3 …)"
            if not header.row_per_line:
                hint += "; if the row above lacks a cell, add it (a line holding only | is an empty cell)"
            raise refuse(name, line, f"the task number {cell['task_no'].text!r} is not a whole number", hint)
        if not categories:
            raise refuse(name, line, f"task {number} comes before any category",
                         "add a category row such as 一、… above it")
        if tasks and number <= tasks[-1].task_no:
            previous = tasks[-1]
            repeats = "repeats" if number == previous.task_no else "is lower than"
            raise refuse(name, line, f"task number {number} {repeats} the one before it "
                                     f"({previous.task_no}, line {previous.line_start})",
                         "number the tasks in increasing order without repeats")
        tasks.append(Task(
            category_no=categories[-1].category_no, category=categories[-1].name, task_no=number,
            task=cell["task"].text, status=cell["status"].text,
            lead_units=split_lead_units(cell["lead_units"].text),
            line_start=row[0].line_start, line_end=row[-1].line_end))
        read += [(cell[c].line_start, f"task {number}", cell[c].text) for c in ("task", "status", "lead_units")]

    if not tasks:
        raise refuse(name, header.line, "no task rows below the header", "add the table's rows under the header")
    check_categories_have_tasks(categories, first_task, len(tasks), name)
    return categories, tasks, read


def check_categories_have_tasks(categories: list[Category], first_task: list[int], n_tasks: int,
                                name: str) -> None:
    for category, first, following in zip(categories, first_task, [*first_task[1:], n_tasks]):
        if first == following:
            raise refuse(name, category.line, f"category {category.category_no} ({category.name}) has no tasks",
                         "add its task rows below it or delete the category row")


def split_lead_units(text: str) -> tuple[str, ...]:
    return tuple(u for u in _LEAD_UNIT_SPLIT.split(text) if u)


def is_category(text: str) -> bool:
    return _category(text) is not None


def task_number(text: str) -> int | None:
    return _task_no(text)


# --- The report -------------------------------------------------------------------

def report(name: str, data_sha256: str, encoding: str, layout: str, title: tuple[str, int] | None,
           header_line: int, categories: list[Category], tasks: list[Task],
           note: tuple[int, str] | None = None, read: list[tuple[int, str, str]] = ()) -> Report:
    """The `Report`, with its warnings: text after the table (``note``: its line and
    text), a declared count that disagrees, cells holding control characters (``read``:
    the cells the records came from, (line, whose, text))."""
    title_text, title_line = title or ("", header_line)
    meta = title_metadata(title_text)
    warnings = []
    if note is not None:
        number, text = note
        shown = text if len(text) <= MAX_QUOTED_CHARS else text[:MAX_QUOTED_CHARS] + "…"
        warnings.append(Problem(name, number, f"text after the table was not read as tasks: {shown!r}",
                                "check nothing was lost"))
    declared = meta["declared_items"]
    # 20项 counts the categories (the seed); 十件民生实事 may count the tasks (成都 2022)
    if declared is not None and declared not in (len(categories), len(tasks)):
        warnings.append(Problem(
            name, title_line,
            f"the title declares {declared} items but {len(categories)} categories "
            f"and {len(tasks)} tasks were found",
            "check the count in the title and the category rows (一、二、…)"))
    warnings += _control_character_warnings(name, [(title_line, "the title", title_text), *read])
    return Report(
        report_id=PurePath(name).stem, source_file=name, title=title_text, **meta,
        encoding=encoding, sha256=data_sha256,
        categories=tuple(categories), tasks=tuple(tasks), warnings=tuple(warnings), layout=layout)


# C0 controls but tab and line feed, DEL, C1 controls (ESC of a terminal escape sequence
# is C0): they hide or garble text on screen, and no report writes them on purpose.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _control_character_warnings(name: str, cells: list[tuple[int, str, str]]) -> list[Problem]:
    found = []
    for line, whose, text in cells:
        if (m := _CONTROL.search(text)) and len(found) < MAX_CONTROL_WARNINGS:
            found.append(Problem(name, line, f"a control character ({m[0]!r}) in a cell of {whose}; "
                                             "the text is kept as written",
                                 "remove it from the source file: it can hide or garble text on screen"))
    return found


def title_of(lines: list[tuple[int, list[str]]]) -> tuple[str, int] | None:
    """The lines above the header (each as its cells with text), joined as one; less
    attachment labels (附件2) and note lines (填报单位：… 2021年10月15日)."""
    kept = []
    for number, cells in lines:
        cells = [cell for cell in cells if cell]
        text = "".join(cells)
        if cells and not _ATTACHMENT_LINE.fullmatch(text) and not is_note(cells[0]):
            kept.append((number, text))
    if not kept:
        return None
    return "".join(text for _, text in kept), kept[0][0]


def looks_like_title(text: str) -> bool:
    """A line above a table (in a page or a document) that may be its title: not a note,
    an attachment label or a date, not a sentence (。) or an introduction (…如下：)."""
    text = text.strip()
    return (0 < len(text) <= MAX_TITLE_CHARS and not is_note(text) and not _ATTACHMENT_LINE.fullmatch(text)
            and not re.search(r"[。：:]", text))


# --- Tables of documents: HTML, .docx, .xlsx ---------------------------------------

TITLE_WORDS = re.compile(r"民生|实事|實事|情况|情況|进展|進展|项目|項目|工程|推进|推進|表$")


def grid_report(tables: list[list[list[Cell]]], title_above, name: str, sha256: str, encoding: str,
                layout: str) -> Report | None:
    """The report in the first table with a header row, or None when no table has one.

    ``tables`` are a document's tables in order, spans already expanded, rows padded to
    one width, a line break inside a cell kept as ``\n``. Breaks are joined with no
    separator (`join_lines`) but in the lead units column, where each line is a unit
    (市民政局<br>市财政局). A later table whose header repeats the report's columns
    continues it (a table split in two, its header repeated). The title is in the rows
    above the header or, failing those, ``title_above(table_index)``: the reader's pick
    of the lines above the table.
    """
    for t, rows in enumerate(tables):
        for h, row in enumerate(rows):
            if columns := header_columns([join_lines(c.text) for c in row]):
                break
        else:
            continue
        labels = tuple(join_lines(c.text) for c in row)
        header = Header(h, h, row[0].line_start, columns, labels, row_per_line=True,
                        empty_cell="an empty table cell")
        body = rows[h + 1:]
        for following in tables[t + 1:]:
            for k, again in enumerate(following):
                if header_columns([join_lines(c.text) for c in again]) == columns:
                    body += following[k + 1:]
                    break
        body = [[Cell(_LINE_BREAK.sub(" ", c.text).strip() if i < len(columns) and columns[i] == "lead_units"
                      else join_lines(c.text), c.line_start, c.line_end) for i, c in enumerate(r)]
                for r in body]
        title = title_of([(r[0].line_start, [join_lines(c.text) for c in r]) for r in rows[:h] if r]) \
            or title_above(t)
        notes = grid_notes_start(body)
        categories, tasks, read = records(body[:notes], header, name)
        note = None
        if notes < len(body):
            note = (body[notes][0].line_start, " ".join(c.text for c in body[notes] if c.text))
        return report(name, sha256, encoding, layout, title, header.line, categories, tasks, note, read)
    return None


def check_size(cells: int, rows: list[list[Cell]], name: str, what: str) -> int:
    """``cells`` counted so far plus those of ``rows``; a document whose tables, spans
    expanded, are far beyond any report is refused."""
    cells += sum(len(row) for row in rows)
    if cells > MAX_DOCUMENT_CELLS:
        raise refuse(name, 0, f"the {what}'s tables hold {cells:,} cells (spans expanded), over "
                              f"{MAX_DOCUMENT_CELLS:,}", "this is not a report; save the report's own table")
    return cells


def choose_title(above: list[tuple[int, str, bool]], fallback: tuple[str, int] | None = None,
                 reach: int = 8) -> tuple[str, int] | None:
    """The title among the lines just above a table or a text, nearest first
    (``above``: (line, text, is a heading)), in document order.

    The nearest of the last ``reach`` lines with text that looks like a title
    (`looks_like_title`) and is a heading or names what a report title names (民生,
    实事, 情况, 进展 …); else ``fallback`` (a page's <title>); else the nearest that
    looks like a title at all. Navigation, dates, 单位：万元 and 现将…通报如下： are passed by.
    """
    near = [(line, text.strip(), heading) for line, text, heading in above if text.strip()][-reach:]
    candidates = [(line, text, heading) for line, text, heading in reversed(near) if looks_like_title(text)]
    for line, text, heading in candidates:
        if heading or TITLE_WORDS.search(text):
            return text, line
    if fallback:
        return fallback
    return (candidates[0][1], candidates[0][0]) if candidates else None


def join_lines(text: str) -> str:
    """A cell's lines joined with no separator, each stripped: a line break inside a cell
    (<br>, a paragraph, Alt+Enter) is layout, as a wrapped line of a text table is."""
    return "".join(part.strip() for part in _LINE_BREAK.split(text))


# --- Grammar helpers ----------------------------------------------------------------

def _category(text: str) -> re.Match[str] | None:
    return _CATEGORY.fullmatch(_ascii(text))


def _task_no(text: str) -> int | None:
    text = _ascii(text)
    return int(text) if _TASK_NO.fullmatch(text) else None


def _category_no(m: re.Match[str]) -> int:
    if m["arabic"]:
        return int(m["arabic"])
    return vocab.chinese_int(m["ordinal"] or m["bracketed"])


def _number(text: str) -> int:
    return vocab.chinese_int(text)


def _ascii(text: str) -> str:
    return text.translate(_FULLWIDTH_DIGITS)
