"""Ingest: the seed's facts, every layout / encoding / line ending built from the seed,
bad input with its message, title metadata, and random reports parsed back unchanged."""
from __future__ import annotations

import json
import re
import time
import tracemalloc
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pipeline.ingest import IngestError, ingest, parse

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "linyi_2021_01-09.txt"
SEED_LINES = SEED.read_text("utf-8").split("\n")       # SEED_LINES[n - 1] is line n
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
CATEGORY_CELL = re.compile(r"[一二三四五六七八九十]+、")


# --- A report as a table, and the layouts it can be written in ---------------------

@dataclass(frozen=True)
class Table:
    title: str
    header: tuple[str, ...]            # 类别, 编号, 工作任务, …工作情况, 牵头单位
    rows: tuple[str | tuple[str, ...], ...]   # a category cell, or a task's four cells


def seed_table() -> Table:
    """The seed read without the code under test: one cell per line, ' |' at the end."""
    cells = [line.removesuffix(" |") for line in SEED_LINES]
    rows, rest = [], cells[6:]
    while rest:
        if CATEGORY_CELL.match(rest[0]):
            rows.append(rest.pop(0))
        else:
            rows.append(tuple(rest[:4]))
            del rest[:4]
    return Table(cells[0], tuple(cells[1:6]), tuple(rows))


def wrapped(cell: str, width: int) -> str:
    """A long cell broken over lines without a pipe, as a PDF export does (never next
    to a space: whitespace around a break is layout and is dropped)."""
    if not width or re.search(r"\s", cell):
        return cell
    return "\n".join(cell[i:i + width] for i in range(0, len(cell), width)) or cell


def cells_per_line(t: Table, *, category_header: bool = True, wrap: int = 0) -> str:
    header = t.header if category_header else t.header[1:]
    cells = [t.title, *header]
    for row in t.rows:
        cells += [row] if isinstance(row, str) else row
    return "\n".join(f"{wrapped(c, wrap)} |" if c else "|" for c in cells)


def rows_per_line(t: Table, *, outer: bool = True, padded_categories: bool = False,
                  category_column: bool = False, markdown: bool = False, wrap: int = 0) -> str:
    width = len(t.header) if category_column else len(t.header) - 1

    def row(cells) -> str:
        body = " | ".join(cells)
        return f"| {body} |" if outer or markdown else body

    lines = [f"# {t.title}", ""] if markdown else [t.title]
    lines.append(row(t.header if category_column else t.header[1:]))
    if markdown:
        lines.append(row(["---"] * width))
    category = None
    for r in t.rows:
        if isinstance(r, str):
            category = r
            if not category_column:
                lines.append(row([r] + [""] * (width - 1) if padded_categories else [r]))
            continue
        cells = [r[0], *(wrapped(c, wrap) for c in r[1:3]), *r[3:]]   # 编号 工作任务 …工作情况 …
        if category_column:
            cells.insert(0, category or "")
            category = None            # merged: the column is empty below the first row
        lines.append(row(cells))
    return "\n".join(lines)


LAYOUTS = {
    "cells": cells_per_line,
    "cells-without-category-header": lambda t: cells_per_line(t, category_header=False),
    "cells-wrapped": lambda t: cells_per_line(t, wrap=9),
    "rows-outer-pipes": rows_per_line,
    "rows-no-outer-pipes": lambda t: rows_per_line(t, outer=False),
    "rows-padded-categories": lambda t: rows_per_line(t, padded_categories=True),
    "rows-no-outer-pipes-padded": lambda t: rows_per_line(t, outer=False, padded_categories=True),
    "rows-wrapped": lambda t: rows_per_line(t, wrap=9),
    "rows-category-column": lambda t: rows_per_line(t, category_column=True),
    "markdown": lambda t: rows_per_line(t, markdown=True),
}


def traditional(t: Table) -> Table:
    return replace(t, title="臨沂市2021年度20項重點民生實事推進情況表(1-9月份)",
                   header=("類別", "編號", "工作任務", "1-9月份工作情況", "牽頭單位"))


def relabelled(status: str, lead: str):
    return lambda t: replace(t, header=(t.header[0], t.header[1], t.header[2], status, lead))


def fullwidth_digits(t: Table) -> Table:
    return Table(t.title.translate(FULLWIDTH), t.header,
                 tuple(r.translate(FULLWIDTH) if isinstance(r, str)
                       else tuple(c.translate(FULLWIDTH) for c in r) for r in t.rows))


def utf8(text: str) -> bytes:
    return text.encode("utf-8")


def same(t: Table) -> Table:
    return t


# (change to the table, text → bytes, encoding ingest must detect)
VARIANTS = [
    pytest.param(same, utf8, "utf-8", id="utf-8-lf"),
    pytest.param(same, lambda s: s.encode("utf-8-sig"), "utf-8-sig", id="utf-8-bom"),
    pytest.param(same, lambda s: s.encode("gb18030"), "gb18030", id="gb18030"),
    pytest.param(same, lambda s: s.encode("gbk"), "gb18030", id="gbk"),
    pytest.param(same, lambda s: utf8(s.replace("\n", "\r\n")), "utf-8", id="crlf"),
    pytest.param(same, lambda s: utf8(s.replace("\n", "\r")), "utf-8", id="cr"),
    pytest.param(same, lambda s: s.replace("\n", "\r\n").encode("gb18030"), "gb18030", id="gb18030-crlf"),
    pytest.param(same, lambda s: utf8(s.replace("\n", "\n\n \t\n") + "\n\n"), "utf-8", id="blank-lines"),
    pytest.param(same, lambda s: utf8("\n".join(f"  {l}\t " for l in s.split("\n"))), "utf-8",
                 id="indented"),
    pytest.param(same, lambda s: utf8(s.replace("|", "｜")), "utf-8", id="fullwidth-pipes"),
    pytest.param(fullwidth_digits, utf8, "utf-8", id="fullwidth-digits"),
    pytest.param(traditional, utf8, "utf-8", id="traditional"),
    pytest.param(traditional, lambda s: s.encode("gb18030"), "gb18030", id="traditional-gb18030"),
    pytest.param(relabelled("1至6月份进展情况", "責任單位"), utf8, "utf-8", id="labels-1至6月份进展情况"),
    pytest.param(relabelled("截至9月底完成情况", "责任单位"), utf8, "utf-8", id="labels-截至9月底完成情况"),
    pytest.param(relabelled("全年完成情况", "牵头单位"), utf8, "utf-8", id="labels-全年完成情况"),
    pytest.param(relabelled("工作进展", "牵头单位"), utf8, "utf-8", id="labels-工作进展"),
    pytest.param(relabelled("完成情况", "责任单位"), utf8, "utf-8", id="labels-完成情况"),
]


def content(report):
    """What must survive any layout, encoding or line ending."""
    return ([(c.category_no, c.name) for c in report.categories],
            [(t.category_no, t.category, t.task_no, t.task, t.status, t.lead_units)
             for t in report.tasks])


SEED_REPORT = ingest(SEED)


# --- The seed -----------------------------------------------------------------------

def test_seed_facts():
    r = SEED_REPORT
    assert (r.report_id, r.source_file, r.encoding) == ("linyi_2021_01-09", SEED.name, "utf-8")
    assert r.title == "临沂市2021年度20项重点民生实事推进情况表(1-9月份)"
    assert (r.region, r.year, r.period_start_month, r.period_end_month, r.declared_items) == (
        "临沂市", 2021, 1, 9, 20)
    assert len(r.categories) == 20 and [c.category_no for c in r.categories] == list(range(1, 21))
    assert r.categories[0].name == "加强特殊困难群体关爱服务保障" and r.categories[0].line == 7
    assert [t.task_no for t in r.tasks] == list(range(1, 60))
    assert r.tasks[15].lead_units == ("市发改委", "市教育局")
    assert (r.tasks[0].line_start, r.tasks[0].line_end) == (8, 11)
    assert (r.tasks[-1].line_start, r.tasks[-1].line_end) == (259, 262)
    assert r.tasks[-1].category_no == 20 and r.tasks[-1].category == "强化民生资金保障"
    assert r.warnings == ()
    assert len(r.sha256) == 64 and r.sha256 == parse(SEED.read_bytes(), SEED.name).sha256


def test_seed_cells_equal_the_gold_cell_texts():
    tasks = {t.task_no: t for t in SEED_REPORT.tasks}
    expected = [json.loads(line) for line in (FIXTURES / "gold" / "linyi_2021_01-09.cells.jsonl").open(encoding="utf-8")]
    assert len(expected) == 2 * 59
    assert [getattr(tasks[c["task_no"]], c["field"]) for c in expected] == [c["text"] for c in expected]


def test_seed_parses_in_a_few_milliseconds():
    data = SEED.read_bytes()
    start = time.perf_counter()
    for _ in range(50):
        parse(data, SEED.name)
    assert (time.perf_counter() - start) / 50 < 0.02


# --- Every layout × encoding / line ending / labels, built from the seed ---------------

@pytest.mark.parametrize("change, encode, encoding", VARIANTS)
@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_layouts_and_encodings_give_the_seed_tasks(layout, change, encode, encoding):
    table = change(seed_table())
    data = encode(layout(table))
    report = parse(data, SEED.name)
    expected = content(SEED_REPORT)
    if change is fullwidth_digits:     # cell text keeps its full-width digits; numbers are ints
        expected = ([(no, name.translate(FULLWIDTH)) for no, name in expected[0]],
                    [(c, category.translate(FULLWIDTH), no, task.translate(FULLWIDTH),
                      status.translate(FULLWIDTH), tuple(u.translate(FULLWIDTH) for u in units))
                     for c, category, no, task, status, units in expected[1]])
    assert content(report) == expected
    assert report.encoding == encoding
    assert (report.year, report.period_start_month, report.period_end_month, report.declared_items) == (
        2021, 1, 9, 20)
    assert report.region in ("临沂市", "臨沂市")
    assert report.title == table.title
    # each task's source lines hold its texts (wrapped ones joined with no separator)
    lines = re.split(r"\r\n|\r|\n", data.decode(encoding))
    for t in report.tasks:
        source = re.sub(r"\s", "", "".join(lines[t.line_start - 1:t.line_end]))
        assert re.sub(r"\s", "", t.task) in source and re.sub(r"\s", "", t.status) in source


@pytest.mark.parametrize("encode", [
    pytest.param(lambda s: s.encode("utf-8-sig"), id="utf-8-bom"),
    pytest.param(lambda s: s.encode("gb18030"), id="gb18030"),
    pytest.param(lambda s: utf8(s.replace("\n", "\r\n")), id="crlf"),
    pytest.param(lambda s: utf8(s.replace("\n", "\r")), id="cr"),
    pytest.param(lambda s: utf8(s.replace("|", "｜")), id="fullwidth-pipes"),
])
@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_line_numbers_do_not_depend_on_encoding_or_line_ends(layout, encode):
    text = layout(seed_table())
    assert parse(encode(text), "r.txt").tasks == parse(utf8(text), "r.txt").tasks


def test_row_layout_line_numbers():
    report = parse(utf8(LAYOUTS["markdown"](seed_table())), "r.md")
    # title, blank, header, rule, category 一, task 1 …
    assert [(t.line_start, t.line_end) for t in report.tasks[:2]] == [(6, 6), (7, 7)]
    assert report.categories[1].line == 12       # after tasks 1–6


def test_an_empty_cell_is_a_line_holding_only_the_pipe():
    lines = SEED_LINES.copy()
    lines[9] = "|"                       # task 1's status
    report = parse(utf8("\n".join(lines)), "r.txt")
    assert report.tasks[0].status == "" and report.tasks[0].lead_units == ("市民政局",)
    assert content(report)[1][1:] == content(SEED_REPORT)[1][1:]


@pytest.mark.parametrize("cell, units", [
    ("市发改委 市教育局", ("市发改委", "市教育局")),
    ("市发改委、市教育局", ("市发改委", "市教育局")),
    ("市发改委,市教育局，市财政局", ("市发改委", "市教育局", "市财政局")),
    ("市发改委/市教育局", ("市发改委", "市教育局")),
    ("市发改委　、 市教育局 ", ("市发改委", "市教育局")),
    ("", ()),
])
def test_lead_units_split(cell, units):
    lines = SEED_LINES.copy()
    lines[10] = f"{cell} |" if cell else "|"
    assert parse(utf8("\n".join(lines)), "r.txt").tasks[0].lead_units == units


@pytest.mark.parametrize("cell, number, name", [
    ("一、加强关爱", 1, "加强关爱"),
    ("二十、资金保障", 20, "资金保障"),
    ("二十一、新类别", 21, "新类别"),
    ("十、 空格之后", 10, "空格之后"),
    ("（三）括号序号", 3, "括号序号"),
    ("(四)半角括号", 4, "半角括号"),
    ("5、阿拉伯序号", 5, "阿拉伯序号"),
    ("６、全角序号", 6, "全角序号"),
])
def test_category_ordinals(cell, number, name):
    lines = SEED_LINES.copy()
    lines[6] = f"{cell} |"
    category = parse(utf8("\n".join(lines)), "r.txt").categories[0]
    assert (category.category_no, category.name, category.line) == (number, name, 7)


# --- Title metadata -------------------------------------------------------------------

@pytest.mark.parametrize("title, region, year, months, declared", [
    ("临沂市2021年度20项重点民生实事推进情况表(1-9月份)", "临沂市", 2021, (1, 9), 20),
    ("福建省2021年为民办实事项目进展情况（1-11月）", "福建省", 2021, (1, 11), None),
    ("万州区2021年重点民生实事1至6月进展情况", "万州区", 2021, (1, 6), None),
    ("某某市2021年民生实事1—6月进展情况", "某某市", 2021, (1, 6), None),
    ("某某县2021年十件民生实事上半年完成情况", "某某县", 2021, (1, 6), 10),
    ("某某自治州2021年前三季度十大民生工程推进情况", "某某自治州", 2021, (1, 9), 10),
    ("某某市2021年第一季度民生实事进展", "某某市", 2021, (1, 3), None),
    ("某某市2021年一季度15件民生实事进展", "某某市", 2021, (1, 3), 15),
    ("某某市2021年度民生实事完成情况", "某某市", 2021, (1, 12), None),
    ("某某市2021年民生实事全年完成情况", "某某市", 2021, (1, 12), None),
    ("某某市2021年民生实事截至9月底完成情况", "某某市", 2021, (1, 9), None),
    ("某某市2021年民生实事推进情况", "某某市", 2021, (None, None), None),
    ("臨沂市２０２１年度20項重點民生實事推進情況表(１-９月份)", "臨沂市", 2021, (1, 9), 20),
    ("重庆市万州区2021年12件民生实事进展", "重庆市万州区", 2021, (None, None), 12),
    ("某某市人民政府2021年民生实事(1-9月)", "某某市", 2021, (1, 9), None),
    ("某某县民生实事推进情况(一至九月)", "某某县", None, (1, 9), None),
    ("2021年民生实事推进情况(1-9月份)", None, 2021, (1, 9), None),
    # the year first, or a 关于…的 / 中共…委 prefix
    ("2021年临沂市重点民生实事推进情况", "临沂市", 2021, (None, None), None),
    ("2023年度重庆市万州区重点民生实事进展情况（1-11月）", "重庆市万州区", 2023, (1, 11), None),
    ("关于临沂市2021年重点民生实事推进情况的通报", "临沂市", 2021, (None, None), None),
    ("关于2021年临沂市民生实事进展情况的通报", "临沂市", 2021, (None, None), None),
    ("中共临沂市委 临沂市人民政府关于2021年十件民生实事的通报", "临沂市", 2021, (None, None), 10),
    ("2021年全市民生实事推进情况", None, 2021, (None, None), None),
    ("广州市重点民生实事进展", "广州市", None, (None, None), None),
    ("全州县2021年民生实事进展", "全州县", 2021, (None, None), None),
    ("黔东南苗族侗族自治州2022年民生实事进展", "黔东南苗族侗族自治州", 2022, (None, None), None),
    # a year in Chinese numerals
    ("二〇二一年临沂市民生实事推进情况(一至九月)", "临沂市", 2021, (1, 9), None),
    ("二零二三年某某市十大民生实事进展", "某某市", 2023, (None, None), 10),
    ("二○二一年某某市民生实事进展", "某某市", 2021, (None, None), None),
    # a count before what it counts; 二十大 the party congress is none
    ("学习贯彻党的二十大精神 某某市2023年民生实事推进情况", None, 2023, (None, None), None),
    ("某某市2023年贯彻二十大精神十件民生实事进展", "某某市", 2023, (None, None), 10),
    ("某某市2023年十大民生工程推进情况", "某某市", 2023, (None, None), 10),
    ("某某市2023年十个为民项目推进情况", "某某市", 2023, (None, None), 10),
    ("某某市2023年12件民生实事推进情况", "某某市", 2023, (None, None), 12),
    ("某某市2023年二十大惠民工程推进情况", "某某市", 2023, (None, None), 20),
    # period forms
    ("某某市2021年民生实事1—9月进展", "某某市", 2021, (1, 9), None),
    ("某某市2021年民生实事1~9月进展", "某某市", 2021, (1, 9), None),
    ("某某市2021年民生实事1～9月进展", "某某市", 2021, (1, 9), None),
    ("某某市2021年民生实事一至九月进展", "某某市", 2021, (1, 9), None),
    ("某某市2021年民生实事1月至9月进展", "某某市", 2021, (1, 9), None),
    ("某某市2021年民生实事截至9月30日进展", "某某市", 2021, (1, 9), None),
    ("某某市民生实事进展(截至2021年9月底)", "某某市", 2021, (1, 9), None),
    ("某某市2021年民生实事第三季度进展", "某某市", 2021, (7, 9), None),
    ("某某市2021年民生实事前两个季度进展", "某某市", 2021, (1, 6), None),
    ("某某市2021年民生实事前三个季度进展", "某某市", 2021, (1, 9), None),
    ("某某市２０２１年民生实事１-９月份进展", "某某市", 2021, (1, 9), None),
    ("某某市２０２１年民生实事１－９月份进展", "某某市", 2021, (1, 9), None),
])
def test_title_metadata(title, region, year, months, declared):
    table = replace(seed_table(), title=title)
    report = parse(utf8(cells_per_line(table)), "r.txt")
    assert report.title == title
    assert (report.region, report.year, (report.period_start_month, report.period_end_month),
            report.declared_items) == (region, year, months, declared)


def test_markdown_heading_is_the_title():
    report = parse(utf8(LAYOUTS["markdown"](seed_table())), "r.md")
    assert report.title == SEED_REPORT.title and report.region == "临沂市"


def test_declared_count_that_disagrees_is_a_warning():
    lines = SEED_LINES.copy()
    lines[0] = lines[0].replace("20项", "19项")
    report = parse(utf8("\n".join(lines)), "r.txt")
    assert len(report.tasks) == 59
    [warning] = report.warnings
    assert warning.line == 1 and "19" in warning.message and "20 categories" in warning.message
    assert "59 tasks" in warning.message
    assert str(warning).startswith("r.txt:1: ")


@pytest.mark.parametrize("declared, warns", [
    ("20项", False),        # the seed: 20 categories
    ("59项", False),        # the tasks found (成都 2022: 十件 = 10 tasks in 4 categories)
    ("21项", True),
    ("58项", True),
])
def test_declared_count_may_be_the_categories_or_the_tasks(declared, warns):
    lines = SEED_LINES.copy()
    lines[0] = lines[0].replace("20项", declared)
    report = parse(utf8("\n".join(lines)), "r.txt")
    assert (len(report.categories), len(report.tasks)) == (20, 59)
    assert bool(report.warnings) == warns


def test_heldout_chengdu_declares_its_tasks():
    report = parse((FIXTURES / "heldout" / "chengdu_2022_01-12.txt").read_bytes(), "chengdu_2022_01-12.txt")
    assert (report.declared_items, len(report.categories), len(report.tasks)) == (10, 4, 10)
    assert report.warnings == ()


@pytest.mark.parametrize("above, below", [
    pytest.param(["附件2"], [], id="附件2"),
    pytest.param(["附件："], [], id="附件-colon"),
    pytest.param(["附件１："], [], id="附件-fullwidth"),
    pytest.param(["附表1 |"], [], id="附表-cell"),
    pytest.param(["附件二", ""], [], id="附件二-blank"),
    pytest.param(["附件2"], ["填报单位：临沂市发改委  2021年10月15日 |"], id="填报单位-under-the-title"),
    pytest.param([], ["单位：亿元"], id="单位-under-the-title"),
])
def test_attachment_and_note_lines_are_not_the_title(above, below):
    """附件2 above the title, 填报单位… between it and the header: not the title."""
    lines = [*above, SEED_LINES[0], *below, *SEED_LINES[1:]]
    report = parse(utf8("\n".join(lines)), "r.txt")
    assert report.title == SEED_REPORT.title
    assert (report.region, report.year, report.declared_items) == ("临沂市", 2021, 20)
    assert content(report) == content(SEED_REPORT) and report.warnings == ()


# --- Notes under the table --------------------------------------------------------------

NOTES = [
    pytest.param(["注：1.数据截至9月底；2.资金单位为亿元"], id="注"),
    pytest.param(["註：1.數據截至9月底"], id="註-traditional"),
    pytest.param(["备注：无"], id="备注"),
    pytest.param(["备注"], id="备注-alone"),
    pytest.param(["说明：", "1、数据截至9月底", "2、资金单位为亿元"], id="说明-numbered-lines"),
    pytest.param(["数据来源：市统计局"], id="数据来源"),
    pytest.param(["填报单位：临沂市发改委 填报人：张三 联系电话：0539-8123456"], id="contact"),
    pytest.param(["联系人：张三", "联系电话：0539-8123456"], id="contact-lines"),
    pytest.param(["2021年10月15日"], id="date"),
    pytest.param(["２０２１年１０月１５日"], id="date-fullwidth"),
    pytest.param(["二〇二一年十月十五日"], id="date-chinese"),
    pytest.param(["注：数据截至9月底", "2021年10月15日"], id="note-and-date"),
]

# how a note line is written: as a cell, a line without pipes, a row with empty cells
NOTE_STYLES = {
    "cells": (cells_per_line, lambda note: f"{note} |"),
    "cells-bare-line": (cells_per_line, lambda note: note),
    "rows-outer-pipes": (rows_per_line, lambda note: f"| {note} |"),
    "rows-bare-line": (rows_per_line, lambda note: note),
    "rows-empty-cells": (rows_per_line, lambda note: f"| {note} | | | |"),
    "rows-no-outer-pipes": (lambda t: rows_per_line(t, outer=False), lambda note: note),
    "markdown": (lambda t: rows_per_line(t, markdown=True), lambda note: note),
}


@pytest.mark.parametrize("notes", NOTES)
@pytest.mark.parametrize("layout, as_line", NOTE_STYLES.values(), ids=NOTE_STYLES.keys())
def test_notes_under_the_table_end_it_with_a_warning(layout, as_line, notes):
    text = layout(seed_table())
    note_line = text.count("\n") + 3                # after a blank line
    report = parse(utf8(text + "\n\n" + "\n".join(as_line(n) for n in notes) + "\n"), "r.txt")
    assert content(report) == content(SEED_REPORT)
    [warning] = report.warnings
    assert warning.line == note_line
    assert warning.message == f"text after the table was not read as tasks: {notes[0]!r}"
    assert str(warning) == f"r.txt:{note_line}: {warning.message} — check nothing was lost"


def test_a_long_note_is_quoted_shortened():
    report = parse(utf8("\n".join([*SEED_LINES, "注：" + "甲" * 100 + " |"])), "r.txt")
    [warning] = report.warnings
    assert f"'注：{'甲' * 38}…'" in warning.message


@pytest.mark.parametrize("edit, task, expected", [
    # the last task's 工作情况 may open like a note: it is still a cell of the row
    pytest.param(lambda lines: lines.__setitem__(260, "说明：全市民生支出469.1亿元 |"), 59,
                 ("status", "说明：全市民生支出469.1亿元"), id="status-说明"),
    pytest.param(lambda lines: lines.__setitem__(260, "2021年9月30日 |"), 59,
                 ("status", "2021年9月30日"), id="status-date"),
    # a note label inside the table, above the last task number, is text
    pytest.param(lambda lines: lines.__setitem__(9, "注：标准再提高10% |"), 1,
                 ("status", "注：标准再提高10%"), id="status-注-mid-table"),
])
def test_note_like_cells_in_the_table_are_cells(edit, task, expected):
    lines = SEED_LINES.copy()
    edit(lines)
    report = parse(utf8("\n".join(lines)), "r.txt")
    assert getattr(report.tasks[task - 1], expected[0]) == expected[1]
    assert len(report.tasks) == 59 and report.warnings == ()


# --- Small tables in the styles of other cities -----------------------------------------

CITY_TABLES = [
    pytest.param("""附件1
2023年度某某市十件民生实事项目推进情况（截至2023年9月30日）
| 序号 | 项目名称 | 目标任务 | 进展情况 | 责任单位 | 完成时限 | 备注 |
|---|---|---|---|---|---|---|
| 一、教育 | | | | | | |
| 1 | 新建幼儿园 | 10所 | 已完工8所 | 市教育局、市住建局 | 2023年12月 | |
| 2 | 课后服务 | 全覆盖 | 覆盖率98% | 市教育局 | 2023年9月 | 按计划 |
| 二、养老 | | | | | | |
| 3 | 社区食堂 | 50个 | 建成42个 | 市民政局 | 2023年12月 | |
注：1.数据截至9月30日；2.完成时限为计划时间。
填报单位：某某市发改委　　联系电话：0571-12345678
""", ("某某市", 2023, 1, 9, 10), [(1, "教育"), (2, "养老")],
                 [(1, "新建幼儿园", "已完工8所", ("市教育局", "市住建局")), (2, "课后服务", "覆盖率98%", ("市教育局",)),
                  (3, "社区食堂", "建成42个", ("市民政局",))], 10, id="附件-序号-目标-完成时限-备注-注-填报单位"),
    pytest.param("""二〇二二年臺中市重點民生實事推進情況表（一至六月）|
序號 |
工作任務 |
完成情況 |
責任單位 |
完成時限 |
（一）強化保障 |
1 |
提高低保標準 |
已提高10% |
市社會局 |
2022年6月30日 |
2 |
發放補貼 |
說明：已發放1.2億元 |
市財政局 |
2022年12月31日 |
二〇二二年七月十日 |
""", ("臺中市", 2022, 1, 6, None), [(1, "強化保障")],
                 [(1, "提高低保標準", "已提高10%", ("市社會局",)), (2, "發放補貼", "說明：已發放1.2億元", ("市財政局",))],
                 18, id="traditional-cells-序號-完成時限-chinese-date"),
    pytest.param("""# 关于万州区2021年重点民生实事1—9月进展情况的通报

编号 | 工作任务 | 截至9月底完成情况 | 牵头单位 | 责任领导
一、就业 | | | |
1 | 城镇新增就业1.8万人 | 已完成1.6万人 | 区人力社保局 | 张三
2 | 职业技能培训 | 培训2.1万人次 | 区人力社保局 | 张三

说明：
1.表中数据为快报数。
2021年10月8日
""", ("万州区", 2021, 1, 9, None), [(1, "就业")],
                 [(1, "城镇新增就业1.8万人", "已完成1.6万人", ("区人力社保局",)),
                  (2, "职业技能培训", "培训2.1万人次", ("区人力社保局",))], 8, id="关于-rows-责任领导-说明"),
]


@pytest.mark.parametrize("text, meta, categories, tasks, note_line", CITY_TABLES)
def test_tables_in_other_cities_styles(text, meta, categories, tasks, note_line):
    report = parse(utf8(text), "r.txt")
    assert (report.region, report.year, report.period_start_month, report.period_end_month,
            report.declared_items) == meta
    assert [(c.category_no, c.name) for c in report.categories] == categories
    assert [(t.task_no, t.task, t.status, t.lead_units) for t in report.tasks] == tasks
    assert report.warnings[0].line == note_line
    assert report.warnings[0].message.startswith("text after the table was not read as tasks: ")


# --- Columns the header does not need -------------------------------------------------

EXTRA_COLUMNS = [
    pytest.param(("序号",), (), lambda no: (no,), id="序号-before-编号"),
    pytest.param((), ("备注",), lambda no: ("",), id="备注-empty"),
    pytest.param((), ("备注",), lambda no: ("说明：按计划推进",), id="备注-text"),
    pytest.param((), ("完成时限", "备注"), lambda no: ("2021年12月31日", ""), id="完成时限-备注"),
    pytest.param((), ("责任领导",), lambda no: ("张三",), id="责任领导"),
    pytest.param(("序号",), ("配合单位", "备注"), lambda no: (no, "市财政局", "无"), id="序号-配合单位-备注"),
]


@pytest.mark.parametrize("before, after, fill", EXTRA_COLUMNS)
@pytest.mark.parametrize("layout", [
    pytest.param(cells_per_line, id="cells"),
    pytest.param(lambda t: cells_per_line(t, category_header=False), id="cells-without-category-header"),
    pytest.param(rows_per_line, id="rows-outer-pipes"),
    pytest.param(lambda t: rows_per_line(t, outer=False), id="rows-no-outer-pipes"),
    pytest.param(lambda t: rows_per_line(t, markdown=True), id="markdown"),
])
def test_extra_columns_are_ignored(layout, before, after, fill):
    """Columns ``before`` 编号 and ``after`` 牵头单位, filled by ``fill(task number)``."""
    def row(cells: tuple[str, ...]) -> tuple[str, ...]:
        return (*fill(cells[0])[:len(before)], *cells, *fill(cells[0])[len(before):])
    seed = seed_table()
    table = Table(seed.title, (seed.header[0], *before, *seed.header[1:], *after),
                  tuple(r if isinstance(r, str) else row(r) for r in seed.rows))
    report = parse(utf8(layout(table)), "r.txt")
    assert content(report) == content(SEED_REPORT)
    assert report.warnings == ()


# --- Bad input ------------------------------------------------------------------------

def seed_edited(edit) -> bytes:
    lines = SEED_LINES.copy()
    edit(lines)
    return utf8("\n".join(lines))


def line_of(cell: str) -> int:
    return SEED_LINES.index(f"{cell} |") + 1


def delete_line(n):
    return lambda lines: lines.pop(n - 1)


def set_line(n, text):
    return lambda lines: lines.__setitem__(n - 1, text)


def insert_line(n, text):
    return lambda lines: lines.insert(n - 1, text)


def bad_row_table() -> bytes:
    text = LAYOUTS["rows-outer-pipes"](seed_table())
    return utf8(text.replace("| 5 | 提高退役军人优抚对象待遇 |", "| 5 |"))


def extra_cell_table() -> bytes:
    text = LAYOUTS["rows-outer-pipes"](seed_table())
    return utf8(text.replace("| 5 | 提高退役军人优抚对象待遇 |", "| 5 | 提高退役军人优抚对象待遇 | 多余 |"))


BAD_INPUTS = [
    pytest.param(b"", 0, "the file is empty", id="empty"),
    pytest.param(b" \n\r\n\t\n", 0, "the file is empty", id="blank-only"),
    pytest.param(b"\xef\xbb\xbf\n", 0, "the file is empty", id="bom-only"),
    pytest.param(seed_edited(set_line(5, "1-9月份工作\x00情况 |")), 5, "NUL byte", id="binary"),
    pytest.param(SEED.read_text("utf-8").encode("utf-16"), 1, "NUL byte", id="utf-16"),
    pytest.param(SEED.read_bytes().replace("城乡低保".encode(), b"\xff\xfe", 1), 10,
                 "undecodable bytes", id="undecodable-utf-8"),
    pytest.param(SEED.read_text("utf-8").encode("gb18030").replace("城乡低保".encode("gb18030"), b"\xff", 1),
                 10, "undecodable bytes", id="undecodable-gb18030"),
    pytest.param(seed_edited(lambda lines: lines.__delitem__(slice(1, 6))), 0, "no table header",
                 id="no-header"),
    pytest.param(seed_edited(delete_line(line_of("5") + 2)), line_of("5"),
                 "task 5 has 3 cells but the header has 4: 编号 | 工作任务 | 1-9月份工作情况 | 牵头单位",
                 id="missing-cell"),
    pytest.param(seed_edited(delete_line(line_of("59") + 3)), line_of("59"), "task 59 has 3 cells",
                 id="missing-cell-at-end"),
    pytest.param(seed_edited(lambda lines: (lines.pop(), lines.append("注：数据截至9月底 |"))), 259,
                 "task 59 has 3 cells but the header has 4", id="missing-cell-at-end-then-note"),
    pytest.param(seed_edited(lambda lines: (lines.pop(), lines.append("注：数据截至9月底"))), 259,
                 "task 59 has 3 cells but the header has 4", id="missing-cell-at-end-then-note-line"),
    pytest.param(seed_edited(lambda lines: (lines.pop(), lines.append("2021年10月15日 |"))), 259,
                 "task 59 has 3 cells but the header has 4", id="missing-cell-at-end-then-date"),
    pytest.param(utf8(LAYOUTS["rows-outer-pipes"](seed_table()).rsplit(" | ", 1)[0] + " |\n注：数据截至9月底"),
                 81, "task 59 has 3 cells", id="missing-cell-at-end-row-layout-then-note"),
    pytest.param(seed_edited(lambda lines: lines.append("二十一、没有任务的类别 |\n注：数据截至9月底 |")), 263,
                 "category 21 (没有任务的类别) has no tasks", id="category-without-tasks-then-note"),
    pytest.param(seed_edited(insert_line(line_of("59"), "注：数据截至9月底 |")), line_of("59"),
                 "the task number '注：数据截至9月底' is not a whole number", id="note-above-a-task"),
    pytest.param(bad_row_table(), 8, "task 5 has 3 cells", id="missing-cell-row-layout"),
    pytest.param(extra_cell_table(), 8, "task 5 has 5 cells but the header has 4", id="extra-cell-row-layout"),
    pytest.param(seed_edited(set_line(line_of("6"), "5 |")), line_of("6"),
                 "task number 5 repeats the one before it (5, line", id="duplicate-task-number"),
    pytest.param(seed_edited(set_line(line_of("7"), "3 |")), line_of("7"),
                 "task number 3 is lower than the one before it (6, line", id="decreasing-task-number"),
    pytest.param(seed_edited(set_line(line_of("3"), "三 |")), line_of("3"),
                 "the task number '三' is not a whole number", id="non-integer-task-number"),
    pytest.param(seed_edited(set_line(line_of("3"), "3a |")), line_of("3"),
                 "the task number '3a' is not a whole number", id="non-integer-task-number-mixed"),
    pytest.param(seed_edited(insert_line(33, "三、没有任务的类别 |")), 32,
                 "category 2 (巩固拓展脱贫攻坚成果) has no tasks", id="category-without-tasks"),
    pytest.param(seed_edited(lambda lines: lines.append("二十一、没有任务的类别 |")), 263,
                 "category 21 (没有任务的类别) has no tasks", id="last-category-without-tasks"),
    pytest.param(seed_edited(delete_line(7)), 7, "task 1 comes before any category",
                 id="task-before-category"),
    pytest.param(utf8("\n".join(SEED_LINES[:6])), 2, "no task rows below the header", id="header-only"),
    pytest.param(seed_edited(insert_line(100, "甲" * 400_000 + " |")), 100, "over the 1 MiB limit",
                 id="line-over-1-mib"),
]


@pytest.mark.parametrize("data, line, message", BAD_INPUTS)
def test_bad_input_is_refused_with_line_and_message(data, line, message):
    with pytest.raises(IngestError) as caught:
        parse(data, "bad.txt")
    problem = caught.value.problem
    assert (problem.file, problem.line) == ("bad.txt", line)
    assert message in problem.message
    assert problem.hint
    where = rf"bad\.txt:{line}" if line else r"bad\.txt"      # no line for a whole-file problem
    assert re.fullmatch(rf"{where}: .+ — .+", str(caught.value), re.S)


def test_a_long_line_is_refused_in_bounded_time_and_memory():
    data = b"x" * (64 << 20)              # 64 MiB without a line break
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(IngestError, match="over the 1 MiB limit"):
        parse(data, "huge.txt")
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 1.0 and peak < (1 << 20)


def test_unreadable_path_is_refused(tmp_path):
    with pytest.raises(IngestError) as caught:
        ingest(tmp_path / "missing.txt")
    assert caught.value.problem.line == 0 and caught.value.problem.file == "missing.txt"


# --- Random reports in every layout parse back unchanged --------------------------------

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
OTHER = st.sampled_from("0123456789０１２３４５６７８９，。；：？！“”（）《》%.-~·、")
LOOKS_LIKE_NOTE = re.compile(r"(?:注|註|备注|說明|说明|单位|電話|电话|联系|填报|制表|审核|数据来源|资料来源|计量单位)"
                             r"|[0-9０-９〇零一二]{4}年")
LOOKS_LIKE_CATEGORY = re.compile(r"[〇零一二两兩三四五六七八九十百0-9０-９]+\s*[^\w\s]|[(（]")


def cell_text(min_size: int = 0, alphabet=st.one_of(CJK, OTHER)):
    """Cell text that is not itself a task number or a category cell: in the
    cell-per-line layout those start a new row."""
    return st.text(alphabet, min_size=min_size, max_size=25).filter(
        lambda s: not s.isdigit() and not LOOKS_LIKE_CATEGORY.match(s))


LEAD_UNIT = st.builds(str.__add__, CJK, st.text(st.one_of(CJK, st.sampled_from("0123456789（）")), max_size=7))


def chinese(n: int) -> str:
    digits = "零一二三四五六七八九"
    tens, ones = divmod(n, 10)
    return (f"{'' if tens == 1 else digits[tens]}十" if tens else "") + (digits[ones] if ones else "")


@st.composite
def random_tables(draw):
    rows, expected_categories, expected_tasks, number = [], [], [], 0
    for category_no in range(1, draw(st.integers(1, 23)) + 1):
        name = draw(cell_text(min_size=1))
        rows.append(f"{chinese(category_no)}、{name}")
        expected_categories.append((category_no, name))
        for _ in range(draw(st.integers(1, 3))):
            number += draw(st.integers(1, 3))
            task, status = draw(cell_text()), draw(cell_text())
            units = tuple(draw(st.lists(LEAD_UNIT, max_size=3)))
            lead = draw(st.sampled_from(["、", " ", "，", ",", "/"])).join(units)
            assume(not LOOKS_LIKE_CATEGORY.match(lead))
            assume(not LOOKS_LIKE_NOTE.match(lead))      # a note in its place ends the table
            shown = str(number).translate(FULLWIDTH) if draw(st.booleans()) else str(number)
            rows.append((shown, task, status, lead))
            expected_tasks.append((category_no, name, number, task, status, units))
    header = ("类别", "编号", "工作任务", "1-9月份工作情况", "牵头单位")
    table = Table("某某市2021年度民生实事推进情况表(1-9月份)", header, tuple(rows))
    return table, (expected_categories, expected_tasks)


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=LAYOUTS.keys())
@settings(max_examples=40, deadline=None)
@given(case=random_tables(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
       newline=st.sampled_from(["\n", "\r\n", "\r"]))
def test_random_reports_parse_back_unchanged(layout, case, encoding, newline):
    table, expected = case
    report = parse(layout(table).replace("\n", newline).encode(encoding), "random.txt")
    assert content(report) == expected
    assert report.encoding == encoding
    assert (report.region, report.year, report.period_start_month, report.period_end_month) == (
        "某某市", 2021, 1, 9)
