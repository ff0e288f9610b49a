"""Ingest: the bytes of one raw report → a `Report` of categories and tasks.

``ingest(path)`` reads the file; ``parse(data, source_file)`` does the rest and is pure.
It works in three steps, refusing bad input with an `IngestError` that names the line:

1. bytes → text. NUL bytes (binary) and lines over 1 MiB are refused on the bytes,
   before anything is decoded or split. The encoding is detected: UTF-8 (with or
   without BOM), else GB18030 (a superset of GBK); undecodable and empty files are
   refused.
2. text → rows. The header is found by its labels (编号, 工作任务, …工作情况, 牵头单位;
   traditional forms too), and the header fixes the layout:
   *cell per line* (the seed: every cell on its own line ending in ``|``; a category
   is one cell, a task is one cell per header column but 类别) or *row per line* (a
   pipe table, outer pipes optional, Markdown ``|---|`` lines skipped). Where the
   table's lines end in ``|``, a line that does not is continued by the next one.
   Columns the header does not need (序号 beside 编号, 备注, 完成时限 …) are ignored.
   Notes under the table (注：… 备注：… 填报单位：… a date) end it, with a warning.
3. rows → records. Categories from their ordinals (一、… （一） 1、), tasks with their
   numbers checked, lead units split; metadata from the title (the lines above the
   header, less attachment labels 附件2 and note lines).

Cell text is kept exactly as written, stripped of surrounding whitespace only.
"""
from __future__ import annotations

import codecs
import hashlib
import os
import re
from dataclasses import dataclass
from itertools import chain
from pathlib import Path, PurePath

from .records import Category, Problem, Report, Task

__all__ = ["IngestError", "ingest", "parse"]

MAX_LINE_BYTES = 1 << 20
MAX_QUOTED_CHARS = 40        # of a note quoted in a warning
MAX_DATE_CHARS = 32          # a longer cell is no date line (2021年10月15日)


class IngestError(Exception):
    """A raw file refused; ``problem`` says where, what is wrong and what to do."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)          # args=(problem,): str() and pickling just work
        self.problem = problem


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

# Ingest reads its few numerals (category ordinals, a title's year, months and count)
# with these tables, not extract's numeral_value: importing extract compiles its whole
# unit grammar (~30 ms, twice ingest's own import), and ingest must stay light.
CHINESE_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4,
                  "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CHINESE_UNITS = {"十": 10, "百": 100}
YEAR_DIGITS = {**CHINESE_DIGITS, "○": 0}     # 二〇二一年, 二零二三年, 二○二一年

# Period words in a title → (first month, last month), from the vocabulary shared with
# extract; 全年 / 年度 only count when the title names no other period.
WHOLE_YEAR_WORDS = ("全年", "年度")
PERIOD_WORDS = {
    term: (int(first), int(last))
    for term, first, last in (line.split("\t") for line in
                              (Path(__file__).parent / "resources" / "periods.tsv").read_text("utf-8").splitlines()
                              if line and not line.startswith("#"))
    if term not in WHOLE_YEAR_WORDS}
# A declared count: 20项, 十件, 20項 on their own; 十大, 十个 only before what they count
# (十大民生工程, 十个为民项目), so that 二十大 (the party congress) is no count.
DECLARED_COUNT_WORDS = ("项", "項", "件")
COUNT_MEASURE_WORDS = ("个", "個", "大")
COUNTED_WORDS = ("重点", "重點", "民生", "实事", "實事", "为民", "為民", "惠民", "便民", "利民",
                 "项目", "項目", "工程", "事项", "事項")
REGION_SUFFIXES = ("特别行政区", "特別行政區", "自治区", "自治區", "自治州", "自治县",
                   "自治縣", "自治旗", "地区", "地區", "新区", "新區",
                   "省", "市", "区", "區", "县", "縣", "州", "盟", "旗")
# Words that never occur in a region name: the region ends before them
# (临沂市重点民生实事…, 福建省为民办实事…, 中共临沂市委…).
NOT_IN_REGION = (*COUNTED_WORDS, "人民政府", "政府", "委", "党委", "黨委", "办公", "辦公", "关于",
                 "關於", "年度", "工作", "推进", "推進", "进展", "進展", "完成", "情况", "情況")
# Words shaped like a region that are none: 2021年全市民生实事…
GENERIC_PLACES = ("全省", "全市", "全区", "全區", "全县", "全縣", "本省", "本市", "本区", "本區",
                  "本县", "本縣", "我省", "我市", "我区", "我區", "我县", "我縣", "各区", "各區",
                  "各县", "各縣", "各市", "城区", "城區", "市区", "市區", "县区", "縣區", "社区",
                  "社區", "地区", "地區", "辖区", "轄區")
LEAD_UNIT_SEPARATORS = r"\s、,，/／"


# --- Grammar ----------------------------------------------------------------------
# Everything below matches text whose full-width digits were made ASCII (``_ascii``);
# that maps one character to one, so spans stay valid in the text as written.

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_CN_NUMBER = f"[{''.join(CHINESE_DIGITS)}{''.join(CHINESE_UNITS)}]"
_MONTH = rf"(?:1[0-2]|0?[1-9]|{_CN_NUMBER}{{1,3}})"
_CN_YEAR_DIGIT = f"[{''.join(YEAR_DIGITS)}]"
_YEAR = rf"(?:(?:19|20)[0-9]{{2}}|[一二]{_CN_YEAR_DIGIT}{{3}})"    # 2021   二〇二一
_DAY = rf"(?:[0-3]?[0-9]|{_CN_NUMBER}{{1,3}})"

_PERIOD_RANGE = re.compile(rf"""
    (?<![0-9])(?P<start>{_MONTH}) \s* (?:月份?)?     # 1   1月
    \s* (?:-|－|—|–|―|‒|~|～|〜|至|到) \s*           # -   至   —   ~
    (?P<end>{_MONTH}) \s* 月                          # 9月  9月份
""", re.X)
_PERIOD_UNTIL = re.compile(rf"""
    (?:截至|截止)到? \s*                             # 截至9月底 → 1–9   截至9月30日
    (?:{_YEAR} \s* 年 \s*)?                          # 截至2021年9月底
    (?P<end>{_MONTH}) \s* 月
""", re.X)
_PERIOD_WORD = re.compile("|".join(sorted(PERIOD_WORDS, key=len, reverse=True)))
_WHOLE_YEAR = re.compile("|".join(WHOLE_YEAR_WORDS))
_YEAR_IN_TITLE = re.compile(rf"(?<![0-9]|{_CN_YEAR_DIGIT})(?P<year>{_YEAR})\s*年")
_DECLARED_COUNT = re.compile(rf"""
    (?<![0-9]|{_CN_NUMBER}) (?P<count>[0-9]{{1,3}}|{_CN_NUMBER}{{1,4}}) \s*     # 20   十
    (?: (?:{'|'.join(DECLARED_COUNT_WORDS)})                                  # 20项  十件
      | (?:{'|'.join(COUNT_MEASURE_WORDS)})? (?={'|'.join(COUNTED_WORDS)})     # 十大民生工程
    )
""", re.X)
_REGION_CHAR = rf"(?:(?!{'|'.join(NOT_IN_REGION)})[^\W\d_])"
_TITLE_REGION = re.compile(rf"""
    \s* (?:关于|關於)? \s* (?:中共)? \s*               # 关于临沂市…的通报   中共临沂市委
    (?:{_YEAR} \s* 年度? \s*)?                          # 2021年临沂市…   2023年度重庆市…
    (?!{'|'.join(GENERIC_PLACES)})                       # not 全市, 本区 …
    (?P<region>{_REGION_CHAR}{{1,15}}? (?:{'|'.join(REGION_SUFFIXES)}))   # 临沂市  重庆市万州区
    (?= {'|'.join(NOT_IN_REGION)} | {_CN_NUMBER} | [\W\d_] | $ )       # …2021年  …重点  …十件
""", re.X)

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
    [(（]? {_YEAR} \s* 年 \s* {_MONTH} \s* 月 \s* {_DAY} \s* [日号] [)）]?    # 2021年10月15日
""", re.X)
# (matched on the text as written: a title line is not made ASCII)
_ATTACHMENT_LINE = re.compile(rf"(?:{'|'.join(ATTACHMENT_LABELS)})\s*(?:[0-9０-９]+|{_CN_NUMBER}+)?\s*[:：]?")
_MARKDOWN_RULE = re.compile(r"\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)+\|?")   # |---|:--:|
_HEADING_MARK = re.compile(r"#+\s*")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BYTE_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


# --- Public entry points --------------------------------------------------------

def ingest(path: str | os.PathLike[str]) -> Report:
    """Read one raw report file; see `parse`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise IngestError(Problem(path.name, 0, f"cannot read the file: {e.strerror}",
                                  "check the path and its permissions")) from e
    return parse(data, path.name)


def parse(data: bytes, source_file: str) -> Report:
    """The report in ``data``, the bytes of the raw file named ``source_file``.

    Raises `IngestError` for input that is not a readable report table; problems that
    do not stop ingest (a declared count that disagrees) are in ``Report.warnings``.
    """
    name = PurePath(source_file).name
    text, encoding = _decode(data, name)
    lines = [(number, line.replace("｜", "|"))
             for number, line in enumerate(_LINE_BREAK.split(text), start=1)]
    lines = [(n, line) for n, line in lines
             if line.strip() and not _MARKDOWN_RULE.fullmatch(line.strip())]
    header = _find_header(lines, name)
    title, title_line = _title(lines[:header.first_index]) or ("", header.line)
    body = lines[header.last_index + 1:]
    notes = _notes_start(body, header)
    categories, tasks = _records(_rows(body[:notes], header), header, name)
    meta = _title_metadata(title)
    warnings = []
    if notes < len(body):
        number, line = body[notes]
        text = " ".join(cell for cell in _split(line, True, True) if cell)
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
    return Report(
        report_id=PurePath(name).stem, source_file=name, title=title, **meta,
        encoding=encoding, sha256=hashlib.sha256(data).hexdigest(),
        categories=tuple(categories), tasks=tuple(tasks), warnings=tuple(warnings))


# --- Step 1: bytes → text ---------------------------------------------------------

def _decode(data: bytes, name: str) -> tuple[str, str]:
    nul = data.find(b"\x00")
    if nul >= 0:
        raise IngestError(Problem(
            name, _line_at(data, nul), "a NUL byte: this is a binary file (or UTF-16), not a text table",
            "save the report as a UTF-8 text file with the table's cells separated by |"))
    if len(data) > MAX_LINE_BYTES:
        _refuse_long_lines(data, name)
    encodings = ("utf-8-sig",) if data.startswith(codecs.BOM_UTF8) else ("utf-8", "gb18030")
    failures = []
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as e:
            failures.append(e)
            continue
        if not text.strip():
            raise IngestError(Problem(name, 0, "the file is empty",
                                      "export the report table again; there is nothing to ingest"))
        return text, encoding
    furthest = max(failures, key=lambda e: e.start)    # nearest to the real fault
    raise IngestError(Problem(
        name, _line_at(data, furthest.start), f"undecodable bytes (tried {', '.join(encodings)})",
        "re-save the file as UTF-8; a file mixing encodings must be converted by hand"))


def _refuse_long_lines(data: bytes, name: str) -> None:
    """Scan line lengths on the bytes: no copy, time linear in the size."""
    start, number = 0, 1
    for brk in chain(_BYTE_LINE_BREAK.finditer(data), [None]):
        end = len(data) if brk is None else brk.start()
        if end - start > MAX_LINE_BYTES:
            raise IngestError(Problem(
                name, number, f"the line is {end - start:,} bytes long, over the 1 MiB limit",
                "this is not a report table; put each cell or each row on its own line"))
        if brk is not None:
            start, number = brk.end(), number + 1


def _line_at(data: bytes, offset: int) -> int:
    return 1 + len(_BYTE_LINE_BREAK.findall(data, 0, offset))


# --- Step 2: text → rows of cells -------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Cell:
    text: str
    line_start: int
    line_end: int


@dataclass(frozen=True, slots=True)
class _Header:
    first_index: int                   # into the non-blank lines
    last_index: int
    line: int                          # source line of the first header cell
    columns: tuple[str | None, ...]    # a task row's columns, in order (None: ignored)
    labels: tuple[str, ...]            # their header cells as written, for messages
    row_per_line: bool
    leading_pipe: bool                 # each row or cell opens with |
    trailing_pipe: bool                # each row or cell closes with |


def _find_header(lines: list[tuple[int, str]], name: str) -> _Header:
    for i, (number, line) in enumerate(lines):
        leading, trailing = line.lstrip().startswith("|"), line.rstrip().endswith("|")
        cells = _split(line, leading, trailing)
        columns = _first_of_each([_column_of(cell) for cell in cells])
        if len(cells) > 1 and REQUIRED_COLUMNS <= set(columns):
            return _Header(i, i, number, columns, tuple(cells), row_per_line=True,
                           leading_pipe=leading, trailing_pipe=trailing)
        if len(cells) == 1 and columns[0] in ("category", "task_no"):
            run: list[tuple[str | None, str]] = []       # (column, label), one cell per line
            for _, following in lines[i:i + MAX_HEADER_CELLS]:
                label = _split(following, False, True)
                if len(label) != 1:
                    break
                column, found = _column_of(label[0]), {c for c, _ in run}
                # a new column, a known one again before the header is complete (序号 then
                # 编号), or a column to ignore (备注, 责任领导, …); else the rows begin
                if (column is None or (column in found and REQUIRED_COLUMNS <= found)) \
                        and not _IGNORED_COLUMN.fullmatch(label[0]):
                    break
                run.append((column, label[0]))
            columns = _first_of_each([c for c, _ in run])
            if REQUIRED_COLUMNS <= set(columns):
                # the category column is merged in task rows: categories have rows of their own
                kept = [(c, label) for c, (_, label) in zip(columns, run) if c != "category"]
                return _Header(i, i + len(run) - 1, number, tuple(c for c, _ in kept),
                               tuple(label for _, label in kept), row_per_line=False,
                               leading_pipe=False, trailing_pipe=True)
    raise IngestError(Problem(
        name, 0, "no table header found",
        "the table needs a header with the labels 编号, 工作任务, …工作情况 and 牵头单位 "
        "(traditional 編號, 工作任務, …工作情況, 牽頭單位 work too)"))


def _first_of_each(columns: list[str | None]) -> tuple[str | None, ...]:
    """The columns with a repeat ignored: of 序号 and 编号 the first is the number."""
    seen: set[str | None] = set()
    first = []
    for column in columns:
        first.append(None if column in seen else column)
        seen.add(column)
    return tuple(first)


def _column_of(cell: str) -> str | None:
    if len(cell) <= MAX_LABEL_CHARS:
        for column, label in _HEADER_LABELS:
            if label.fullmatch(cell):
                return column
    return None


def _split(line: str, leading_pipe: bool, trailing_pipe: bool) -> list[str]:
    body = line.strip()
    if trailing_pipe and body.endswith("|"):
        body = body[:-1]
    if leading_pipe and body.startswith("|"):
        body = body[1:]
    return [cell.strip() for cell in body.split("|")]


def _notes_start(lines: list[tuple[int, str]], header: _Header) -> int:
    """Where the notes under the table begin (``len(lines)`` if there are none).

    Notes come after the last task number: they begin at the first line there that
    opens a cell with a note label or is a date line (`_is_note`). Where each cell is
    on its own line, such a cell is still part of the last task row while the row
    lacks cells, as its 工作情况 or 完成时限 (说明：…, 2021年12月31日), but not as its
    牵头单位: there it is a note under a row that lacks a cell. The rows above the
    notes are read as ever, so a task row cut short is still refused."""
    last = len(lines) - 1                   # the last line holding a task number
    while last >= 0 and not any(_task_no(c) is not None for c in _split(lines[last][1], True, True)):
        last -= 1
    column = 0                              # line i's place in the last task row (cell per line)
    for i in range(last + 1, len(lines)):
        above = lines[i - 1][1].rstrip() if i else "|"
        column += above.endswith("|")
        in_row = (not header.row_per_line and last >= 0 and column < len(header.columns)
                  and header.columns[column] != "lead_units")
        if not in_row and (not header.trailing_pipe or above.endswith("|")) \
                and _is_note(_split(lines[i][1], True, True)[0]):
            return i
    return len(lines)


def _is_note(cell: str) -> bool:
    """注：1.… 备注 说明：… 填报单位：… 联系电话：… or a date line 2021年10月15日."""
    head = _ascii(cell[:MAX_DATE_CHARS + 1])       # not the whole of a long cell
    return bool(_NOTE_LABEL.match(head) or _DATE_LINE.fullmatch(head))


def _rows(lines: list[tuple[int, str]], header: _Header) -> list[list[_Cell]]:
    logical = _join_continued(lines) if header.trailing_pipe else [(l, n, n) for n, l in lines]
    split = [[_Cell(text, start, end) for text in _split(line, header.leading_pipe, header.trailing_pipe)]
             for line, start, end in logical]
    if header.row_per_line:
        return split
    return _group_cells([cell for cells in split for cell in cells], header)


def _join_continued(lines: list[tuple[int, str]]) -> list[tuple[str, int, int]]:
    """Join a line that does not end in | with the lines after it, with no separator
    and without the whitespace around the break: the break was layout, not text."""
    logical, pending = [], []
    for number, line in lines:
        pending.append((number, line.strip()))
        if pending[-1][1].endswith("|"):
            logical.append(("".join(l for _, l in pending), pending[0][0], number))
            pending = []
    if pending:
        logical.append(("".join(l for _, l in pending), pending[0][0], pending[-1][0]))
    return logical


def _group_cells(cells: list[_Cell], header: _Header) -> list[list[_Cell]]:
    """Cells one per line → rows: a category cell alone, else one cell per column.

    A row ends early at a category cell, or at the next task's number (this number + 1)
    where 编号 comes first, so a missing cell is reported on its own row."""
    rows, i, width = [], 0, len(header.columns)
    while i < len(cells):
        row = [cells[i]]
        i += 1
        if not _category(row[0].text):
            number = _task_no(row[0].text) if header.columns[0] == "task_no" else None
            while len(row) < width and i < len(cells) and not (
                    _category(cells[i].text)
                    or (number is not None and _task_no(cells[i].text) == number + 1)):
                row.append(cells[i])
                i += 1
        rows.append(row)
    return rows


# --- Step 3: rows → categories and tasks ------------------------------------------

def _records(rows: list[list[_Cell]], header: _Header,
             name: str) -> tuple[list[Category], list[Task]]:
    categories: list[Category] = []
    first_task: list[int] = []                  # per category, the index of its first task
    category_cell = ""                          # the current category's cell as written
    tasks: list[Task] = []
    width = len(header.columns)

    def refuse(line: int, message: str, hint: str) -> IngestError:
        return IngestError(Problem(name, line, message, hint))

    def start_category(cell: _Cell) -> None:
        nonlocal category_cell
        m = _category(cell.text)
        if m is None:
            raise refuse(cell.line_start, f"the category {cell.text!r} has no ordinal",
                         "start each category with its number: 一、 二、 … or （一） or 1、")
        categories.append(Category(_category_no(m), cell.text[m.start("name"):], cell.line_start))
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
            empty = "nothing between two pipes" if header.row_per_line else "a line holding only |"
            raise refuse(
                row[0].line_start,
                f"{'the task row' if number is None else f'task {number}'} has {len(row)} "
                f"cell{'s' * (len(row) != 1)} but the header has {width}: {' | '.join(header.labels)}",
                f"add the missing cell (an empty cell is {empty}) or remove the stray |"
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
            raise refuse(line, f"the task number {cell['task_no'].text!r} is not a whole number", hint)
        if not categories:
            raise refuse(line, f"task {number} comes before any category",
                         "add a category row such as 一、… above it")
        if tasks and number <= tasks[-1].task_no:
            previous = tasks[-1]
            repeats = "repeats" if number == previous.task_no else "is lower than"
            raise refuse(line, f"task number {number} {repeats} the one before it "
                               f"({previous.task_no}, line {previous.line_start})",
                         "number the tasks in increasing order without repeats")
        tasks.append(Task(
            category_no=categories[-1].category_no, category=categories[-1].name, task_no=number,
            task=cell["task"].text, status=cell["status"].text,
            lead_units=tuple(u for u in _LEAD_UNIT_SPLIT.split(cell["lead_units"].text) if u),
            line_start=row[0].line_start, line_end=row[-1].line_end))

    if not tasks:
        raise refuse(header.line, "no task rows below the header", "add the table's rows under the header")
    for category, first, following in zip(categories, first_task, [*first_task[1:], len(tasks)]):
        if first == following:
            raise refuse(category.line, f"category {category.category_no} ({category.name}) has no tasks",
                         "add its task rows below it or delete the category row")
    return categories, tasks


def _category(text: str) -> re.Match[str] | None:
    return _CATEGORY.fullmatch(_ascii(text))


def _task_no(text: str) -> int | None:
    text = _ascii(text)
    return int(text) if _TASK_NO.fullmatch(text) else None


def _category_no(m: re.Match[str]) -> int:
    if m["arabic"]:
        return int(m["arabic"])
    return _chinese_int(m["ordinal"] or m["bracketed"])


# --- Title metadata -----------------------------------------------------------------

def _title(lines: list[tuple[int, str]]) -> tuple[str, int] | None:
    """The lines above the header, without heading marks and pipes, joined as one;
    less attachment labels (附件2) and note lines (填报单位：… 2021年10月15日)."""
    kept = []
    for number, line in lines:
        cells = [cell for cell in _split(_HEADING_MARK.sub("", line.strip(), count=1), True, True) if cell]
        text = "".join(cells)
        if cells and not _ATTACHMENT_LINE.fullmatch(text) and not _is_note(cells[0]):
            kept.append((number, text))
    if not kept:
        return None
    return "".join(text for _, text in kept), kept[0][0]


def _title_metadata(title: str) -> dict[str, object]:
    text = _ascii(title)
    region = _TITLE_REGION.match(text)
    year = _YEAR_IN_TITLE.search(text)
    declared = _DECLARED_COUNT.search(text)
    months = _period(text)
    return {
        "region": region and title[region.start("region"):region.end("region")],
        "year": year and _year(year["year"]),
        "period_start_month": months and months[0],
        "period_end_month": months and months[1],
        "declared_items": declared and _number(declared["count"]),
    }


def _period(text: str) -> tuple[int, int] | None:
    if m := _PERIOD_RANGE.search(text):
        months = (_number(m["start"]), _number(m["end"]))
    elif m := _PERIOD_UNTIL.search(text):
        months = (1, _number(m["end"]))
    elif m := _PERIOD_WORD.search(text):
        months = PERIOD_WORDS[m[0]]
    elif _WHOLE_YEAR.search(text):
        months = (1, 12)
    else:
        return None
    return months if 1 <= months[0] <= months[1] <= 12 else None


def _year(text: str) -> int:
    """2021 → 2021, 二〇二一 → 2021: a year is written digit by digit."""
    return int(text) if text.isascii() else int("".join(str(YEAR_DIGITS[ch]) for ch in text))


def _number(text: str) -> int:
    return int(text) if text.isascii() else _chinese_int(text)


def _chinese_int(text: str) -> int:
    """一 → 1, 十二 → 12, 二十一 → 21, 一百零五 → 105."""
    total, digit = 0, 0
    for ch in text:
        if ch in CHINESE_UNITS:
            total += (digit or 1) * CHINESE_UNITS[ch]
            digit = 0
        else:
            digit = CHINESE_DIGITS[ch]
    return total + digit


def _ascii(text: str) -> str:
    return text.translate(_FULLWIDTH_DIGITS)
