"""Ingest of HTML pages, .docx, .xlsx and prose: every text fixture rendered in each
format gives the cells and facts of its text file; hand-made files imitating real
exports give their expected reports; each refused input has its message."""
from __future__ import annotations

import io
import re
import time
import tracemalloc
import zipfile
from functools import cache
from pathlib import Path

import pytest
from format_renderers import RENDERERS, SUFFIXES, to_docx, to_html, to_xlsx
from hypothesis import given, settings
from hypothesis import strategies as st
from test_ingest import cells_per_line, random_tables

from pipeline.extract import extract
from pipeline.ingest import IngestError, ingest, parse
from pipeline.records import Category, Problem

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "linyi_2021_01-09.txt"
TEXT_FIXTURES = [SEED, *sorted(p for p in FIXTURES.glob("heldout*/*") if p.suffix in (".txt", ".md")
                                and p.name != "README.md")]
FORMATS = FIXTURES / "formats"


def content(report):
    return ([(c.category_no, c.name) for c in report.categories],
            [(t.category_no, t.category, t.task_no, t.task, t.status, t.lead_units) for t in report.tasks])


def metadata(report):
    return (report.title, report.region, report.year, report.period_start_month, report.period_end_month,
            report.declared_items)


def facts(report):
    """Every quantity of every cell, keyed by (task number, field)."""
    return {(t.task_no, field): extract(getattr(t, field)) for t in report.tasks for field in ("task", "status")}


@cache
def text_report(path: Path):
    return ingest(path)


@cache
def text_facts(path: Path):
    return facts(text_report(path))


# --- Every text fixture in every format ------------------------------------------------

@pytest.mark.parametrize("fmt", RENDERERS)
@pytest.mark.parametrize("path", TEXT_FIXTURES, ids=[p.name for p in TEXT_FIXTURES])
def test_every_fixture_in_every_format_gives_the_cells_and_facts_of_its_text(path, fmt):
    expected = text_report(path)
    data = RENDERERS[fmt](expected)
    report = parse(data, path.stem + SUFFIXES[fmt])
    assert report.layout == fmt
    assert content(report) == content(expected)
    assert metadata(report) == metadata(expected)
    assert [w.message for w in report.warnings] == [w.message for w in expected.warnings]
    assert facts(report) == text_facts(path)
    assert report.report_id == path.stem
    assert all(t.line_start > 0 and t.line_end >= t.line_start for t in report.tasks)


@pytest.mark.parametrize("fmt", RENDERERS)
@settings(max_examples=25, deadline=None)
@given(case=random_tables())
def test_random_reports_in_every_format_parse_back_unchanged(fmt, case):
    table, expected = case
    report = parse(cells_per_line(table).encode(), "random.txt")
    assert content(report) == expected
    assert content(parse(RENDERERS[fmt](report), "random" + SUFFIXES[fmt])) == expected


def test_layouts_of_text_files():
    assert text_report(SEED).layout == "pipe"
    assert text_report(FIXTURES / "heldout2" / "hangzhou_2023_01-09.md").layout == "markdown"


def test_the_html_page_is_gbk_and_its_lines_are_the_page_source_lines():
    data = to_html(text_report(SEED))
    report = parse(data, "seed.html")
    assert report.encoding == "gb18030"
    source = data.decode("gbk").split("\n")
    for task in report.tasks[:5]:
        assert source[task.line_start - 1] == "<tr>"
        assert source[task.line_start].endswith(f"<td>{task.task_no}</td>")


@pytest.mark.parametrize("declared, encode, encoding", [
    ("gb2312", lambda s: s.encode("gbk"), "gb18030"),
    ("gbk", lambda s: s.encode("utf-8"), "utf-8"),              # re-encoded, old declaration kept
    ("utf-8", lambda s: s.encode("gb18030"), "gb18030"),
    (None, lambda s: s.encode("gb18030"), "gb18030"),
    (None, lambda s: s.encode("utf-8-sig"), "utf-8-sig"),
    ("gbk", lambda s: s.encode("utf-16"), "utf-16"),            # a BOM wins
    ("big5", lambda s: s.encode("big5"), "big5hkscs"),
])
def test_the_charset_of_a_page(declared, encode, encoding):
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={declared}">' if declared else ""
    page = f"<html><head>{meta}<title>某某市2022年民生實事</title></head><body><table>" \
           "<tr><td>編號</td><td>工作任務</td><td>工作情況</td><td>牽頭單位</td></tr>" \
           "<tr><td colspan=4>一、民生保障</td></tr><tr><td>1</td><td>提高標準</td><td>已提高</td><td>市民政局</td></tr>" \
           "</table></body></html>"
    report = parse(encode(page), "r.html")
    assert report.encoding == encoding
    assert (report.title, report.tasks[0].task, report.tasks[0].lead_units) == ("某某市2022年民生實事", "提高標準",
                                                                                 ("市民政局",))


@pytest.mark.parametrize("name", ["seed.txt", "seed.xls", "seed.xlsx", "seed.doc"])
def test_a_page_under_another_name_is_read_as_a_page(name):
    """Sites serve HTML tables as report.xls; a page saved as .txt is a page too."""
    report = parse(to_html(text_report(SEED)), name)
    assert report.layout == "html" and content(report) == content(text_report(SEED))


# --- Hand-made files imitating real exports -------------------------------------------

def expected_tasks(*rows):
    return list(rows)


def test_government_cms_page():
    """Navigation, layout and footer tables around a report table split in two with a
    repeated header; categories as rows across the table; a lead unit spanning two
    tasks; <br> in a header; a notes row; the title in an <h2> above an introduction."""
    report = ingest(FORMATS / "cms_page.html")
    assert (report.layout, report.encoding) == ("html", "gb18030")
    assert metadata(report) == ("某某市2023年四件民生实事项目推进情况（1-9月）", "某某市", 2023, 1, 9, 4)
    assert report.categories == (Category(1, "教育医疗", 32), Category(2, "养老服务", 37))
    assert [(t.category_no, t.task_no, t.task, t.status, t.lead_units) for t in report.tasks] == [
        (1, 1, "新建改扩建中小学、幼儿园8所，新增学位4800个", "8所学校全部开工，其中5所已竣工投用，新增学位4,650个。",
         ("市教育局",)),
        (1, 2, "课后服务全覆盖", "全市1,126所中小学开展课后服务，参与学生62.4万人，覆盖率98.5%", ("市教育局",)),
        (2, 3, "新建社区老年食堂50个", "已建成42个，累计服务老人 18.6万人次", ("市民政局",)),
        (2, 4, "改造老旧小区3000户", "完成改造3,212户，完成率107.1%", ("市住建局", "市财政局")),
    ]
    assert report.warnings == (Problem(
        "cms_page.html", 46, "text after the table was not read as tasks: '注：表中数据为快报数，最终以统计部门公布为准。'",
        "check nothing was lost"),)


def test_word_saved_as_html():
    """mso- styles, <o:p>, conditional comments, the source wrapped inside the text,
    a cell of two paragraphs, lead units one per paragraph, an empty cell."""
    report = ingest(FORMATS / "word_saved.htm")
    assert metadata(report) == ("某某县2022年民生实事推进情况表（1-6月）", "某某县", 2022, 1, 6, None)
    assert [(c.category_no, c.name) for c in report.categories] == [(1, "稳就业保民生"), (2, "办好教育")]
    assert [(t.category_no, t.task_no, t.task, t.status, t.lead_units) for t in report.tasks] == [
        (1, 1, "城镇新增就业1.2万人", "全县城镇新增就业6,830人，完成年度目标的56.9%；发放创业担保贷款1.35亿元。",
         ("县人力社保局",)),
        (1, 2, "提高城乡低保标准", "城乡低保标准提高到每人每月780元，惠及1.1万人。", ("县民政局", "县财政局")),
        (2, 3, "新建幼儿园3所", "", ("县教育局",)),
    ]
    assert report.warnings == ()


def test_prose_news_release():
    """一、 headings over 1. and 1、 items, an item heading on its own paragraph, a deeper
    （1） item kept in the status, （牵头单位：…） read as lead units, the intro, 下一步…
    and the sign-off not read."""
    report = ingest(FORMATS / "prose_release.html")
    assert (report.layout, report.encoding) == ("prose", "utf-8")
    assert metadata(report) == ("某某市2021年民生实事前三季度进展情况", "某某市", 2021, 1, 9, None)
    assert [(c.category_no, c.name) for c in report.categories] == [(1, "就业和社会保障"), (2, "教育和卫生健康")]
    assert [(t.category_no, t.task_no, t.task, t.status, t.lead_units) for t in report.tasks] == [
        (1, 1, "城镇新增就业", "全市城镇新增就业1.6万人，完成年度目标的89%；城镇登记失业率控制在3%以内。",
         ("市人力资源社会保障局",)),
        (1, 2, "提高城乡低保标准", "城乡低保标准分别提高到每人每月780元和620元，累计发放低保金2.3亿元。",
         ("市民政局", "市财政局")),
        (2, 3, "新建改扩建中小学幼儿园", "新开工中小学、幼儿园12所，已竣工7所，新增学位5,400个。（1）城区学校项目全部按期开工；", ()),
        (2, 4, "建设紧密型县域医共体", "全市3个县全部建成紧密型县域医共体，基层就诊率达到66.2%。", ()),
    ]
    assert report.warnings == ()


PROSE_TEXT = """临沂市2021年民生实事进展情况
2021年10月15日
今年以来，全市扎实推进民生实事，现将进展情况通报如下：
一、加强特殊困难群体关爱服务保障
1.提高困难群众救助保障水平。全市发放救助资金10.83亿元，城乡低保标准提高10%。（牵头单位：市民政局）
2.实施残疾儿童康复救助。
全市救助残疾儿童3170名，完成年度目标的158.5%。（责任单位：市残联、市卫健委）
二、完善养老服务体系
（一）新增养老床位
新建养老机构床位2000张。
注：数据截至9月底。
"""


def test_prose_text_file():
    report = parse(PROSE_TEXT.encode("gb18030"), "prose.txt")
    assert (report.layout, report.encoding) == ("prose", "gb18030")
    assert metadata(report) == ("临沂市2021年民生实事进展情况", "临沂市", 2021, None, None, None)
    assert [(t.category_no, t.task_no, t.task, t.status, t.lead_units, t.line_start, t.line_end)
            for t in report.tasks] == [
        (1, 1, "提高困难群众救助保障水平", "全市发放救助资金10.83亿元，城乡低保标准提高10%。", ("市民政局",), 5, 5),
        (1, 2, "实施残疾儿童康复救助", "全市救助残疾儿童3170名，完成年度目标的158.5%。", ("市残联", "市卫健委"), 6, 7),
        (2, 3, "新增养老床位", "新建养老机构床位2000张。", (), 9, 10),
    ]
    [note] = report.warnings
    assert (note.line, note.message) == (11, "text after the table was not read as tasks: '注：数据截至9月底。'")


def test_a_prose_category_without_numbered_items_is_one_task():
    text = PROSE_TEXT.replace("二、完善养老服务体系\n（一）新增养老床位\n新建养老机构床位2000张。\n",
                              "二、完善养老服务体系。全市新增养老床位2000张，（牵头单位：市民政局）\n其中护理型床位1200张。\n")
    report = parse(text.encode(), "prose.txt")
    assert [(t.category_no, t.category, t.task_no, t.task, t.status, t.lead_units) for t in report.tasks][2:] == [
        (2, "完善养老服务体系", 3, "完善养老服务体系", "全市新增养老床位2000张，其中护理型床位1200张。", ("市民政局",))]


def test_prose_docx():
    import docx
    document = docx.Document()
    for line in PROSE_TEXT.splitlines():
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    report = parse(out.getvalue(), "prose.docx")
    assert report.layout == "prose"
    assert content(report) == content(parse(PROSE_TEXT.encode(), "prose.txt"))


def workbook_with_title_and_notes() -> bytes:
    """As a bureau exports it: a merged title, a 填报单位 line, 序号 and 备注 columns,
    category rows merged across, numbers stored as numbers (编号 3.0, a percentage,
    a count), an Alt+Enter line break, a spacer row, a merged notes row."""
    import openpyxl
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    rows = [
        ["某某区2022年十件民生实事进展情况表（截至6月底）"],
        ["填报单位：某某区发展改革局"],
        ["序号", "项目名称", "上半年进展情况", "责任单位", "备注"],
        ["一、社会保障"],
        [1, "城乡低保标准提高5%", "已提高到每人每月780元", "区民政局", None],
        [2, "城镇新增就业6000人", 3170, "区人社局\n区财政局", "单位：人"],
        [],
        ["二、教育"],
        [3.0, "学前三年毛入园率", 0.985, "区教育局", None],
        ["注：1.数据截至6月30日；2.完成率按年度目标计算。"],
    ]
    for row in rows:
        sheet.append(row)
    sheet.merge_cells("A1:E1")
    sheet.merge_cells("A2:E2")
    sheet.merge_cells("A4:E4")
    sheet.merge_cells("A8:E8")
    sheet.merge_cells("A10:E10")
    sheet["C9"].number_format = "0.0%"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_workbook_with_merged_title_and_notes_row():
    report = parse(workbook_with_title_and_notes(), "quxian_2022_01-06.xlsx")
    assert (report.layout, report.encoding) == ("xlsx", "utf-8")
    assert metadata(report) == ("某某区2022年十件民生实事进展情况表（截至6月底）", "某某区", 2022, 1, 6, 10)
    assert [(c.category_no, c.name, c.line) for c in report.categories] == [(1, "社会保障", 4), (2, "教育", 8)]
    assert [(t.category_no, t.task_no, t.task, t.status, t.lead_units, t.line_start) for t in report.tasks] == [
        (1, 1, "城乡低保标准提高5%", "已提高到每人每月780元", ("区民政局",), 5),
        (1, 2, "城镇新增就业6000人", "3170", ("区人社局", "区财政局"), 6),
        (2, 3, "学前三年毛入园率", "98.5%", ("区教育局",), 9),
    ]
    assert [(w.line, w.message) for w in report.warnings] == [
        (10, "text after the table was not read as tasks: '注：1.数据截至6月30日；2.完成率按年度目标计算。'"),
        (1, "the title declares 10 items but 2 categories and 3 tasks were found"),
    ]


def test_the_sheet_with_the_header_is_read():
    report = parse(to_xlsx(text_report(SEED)), "seed.xlsx")     # its first sheet is a cover note
    assert len(report.tasks) == 59 and report.tasks[0].line_start == 4


@pytest.mark.parametrize("value, number_format, shown", [
    (3170.0, "General", "3170"),
    (3170, "0", "3170"),
    (0.985, "0.0%", "98.5%"),
    (0.985, "0%", "99%"),
    (10.8, "0.00", "10.80"),
    (1234567.5, "#,##0.00", "1,234,567.50"),
    (10.83, '0.00"亿元"', "10.83亿元"),
    (0.1 + 0.2, "General", "0.3"),
    (23.5, "General", "23.5"),
])
def test_xlsx_numbers_as_a_person_reads_them(value, number_format, shown):
    from pipeline.ingest.xlsx import _formatted
    assert _formatted(value, number_format) == shown


def test_docx_table_continued_after_a_page_break_without_a_repeated_header():
    import docx
    from docx.enum.text import WD_BREAK
    seed = text_report(FIXTURES / "heldout" / "chengdu_2022_01-12.txt")
    document = docx.Document()
    document.add_paragraph(seed.title)
    halves = (seed.tasks[:5], seed.tasks[5:])
    for i, tasks in enumerate(halves):
        if i:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        table = document.add_table(rows=0, cols=4)
        if not i:
            for cell, label in zip(table.add_row().cells, ("编号", "工作任务", "工作情况", "牵头单位")):
                cell.text = label
        category = None if not i else halves[0][-1].category_no
        for t in tasks:
            if t.category_no != category:
                table.add_row().cells[0].text = f"（{'一二三四五六七八九十'[t.category_no - 1]}）{t.category}"
                category = t.category_no
            for cell, text in zip(table.add_row().cells, (str(t.task_no), t.task, t.status, "、".join(t.lead_units))):
                cell.text = text
    out = io.BytesIO()
    document.save(out)
    report = parse(out.getvalue(), "chengdu.docx")
    assert content(report) == content(seed)


# --- Two hardening rules: control characters, task numbers that do not fit ----------------

SEED_LINES = SEED.read_text("utf-8").split("\n")


@pytest.mark.parametrize("control", ["\x07", "\x1b[31m", "\x7f", "\u0085", "\u009b", "\x0b"])
def test_a_cell_with_control_characters_is_a_warning_naming_its_line(control):
    lines = SEED_LINES.copy()
    lines[9] = lines[9].replace("城乡低保", f"城乡{control}低保", 1)     # task 1's status, line 10
    report = parse("\n".join(lines).encode(), "r.txt")
    assert control in report.tasks[0].status                  # kept as written
    [warning] = report.warnings
    assert warning.line == 10 and "control character" in warning.message and "task 1" in warning.message
    assert str(warning).startswith("r.txt:10: ")


def test_a_control_character_in_a_prose_item_names_its_paragraph():
    report = parse(PROSE_TEXT.replace("3170名", "3170\x1b[0m名").encode(), "prose.txt")
    [warning] = report.warnings[1:]
    assert (warning.line, report.tasks[1].status.count("\x1b")) == (7, 1)


def test_control_character_warnings_are_bounded():
    text = SEED.read_text("utf-8").replace("全市", "全市\x07")
    assert len(parse(text.encode(), "r.txt").warnings) == 10


# --- Refused inputs -------------------------------------------------------------------

@cache
def seed_docx() -> bytes:
    return to_docx(text_report(SEED))


@cache
def seed_xlsx() -> bytes:
    return to_xlsx(text_report(SEED))


def ole(*streams: str) -> bytes:
    """The start of a Compound File: its magic, then directory entries named in UTF-16."""
    return (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
            + b"".join(s.encode("utf-16-le").ljust(128, b"\x00") for s in streams))


def rezip(data: bytes, part: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in source.infolist():
            body = source.read(info.filename)
            z.writestr(info.filename, change(body) if info.filename == part else body)
    return out.getvalue()


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("report.txt", "hello")
    return out.getvalue()


def docx_without_table() -> bytes:
    import docx
    document = docx.Document()
    document.add_paragraph("某某市2021年民生实事进展情况")
    document.add_paragraph("全市民生实事总体进展顺利。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_without_header() -> bytes:
    import openpyxl
    workbook = openpyxl.Workbook()
    workbook.active.append(["项目", "金额"])
    workbook.active.append(["低保", 10.83])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


REFUSED = [
    pytest.param(lambda: b"", "r.docx", "the .docx file is damaged or cut short", "download it again",
                 id="empty-docx"),
    pytest.param(lambda: seed_docx()[:len(seed_docx()) // 2], "r.docx", "the .docx file is damaged or cut short",
                 "save it again from Word as .docx", id="truncated-docx"),
    pytest.param(lambda: seed_xlsx()[:-100], "r.xlsx", "the .xlsx file is damaged or cut short",
                 "save it again from Excel as .xlsx", id="truncated-xlsx"),
    pytest.param(lambda: rezip(seed_docx(), "word/document.xml", lambda b: b[:len(b) // 2]), "r.docx",
                 "the .docx file is damaged or not a Word file", "download it again", id="corrupt-docx-part"),
    pytest.param(lambda: rezip(seed_xlsx(), "xl/workbook.xml", lambda b: b"<workbook"), "r.xlsx",
                 "the .xlsx file is damaged or not an Excel file", "download it again", id="corrupt-xlsx-part"),
    pytest.param(lambda: ole("Root Entry", "EncryptionInfo", "EncryptedPackage"), "r.xlsx",
                 "password-protected", "remove the password", id="password-protected-workbook"),
    pytest.param(lambda: ole("Root Entry", "WordDocument", "1Table"), "r.doc",
                 "an old binary Word document (.doc)", "save it as .docx", id="doc"),
    pytest.param(lambda: ole("Root Entry", "Workbook"), "r.xls",
                 "an old binary Excel workbook (.xls)", "save it as .xlsx", id="xls"),
    pytest.param(lambda: ole("Root Entry", "WordDocument"), "r.docx",
                 "an old binary Word document (.doc)", "save it as .docx", id="doc-named-docx"),
    pytest.param(lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "r.pdf", "a PDF, which is not read",
                 "copy its table into a .xlsx", id="pdf"),
    pytest.param(plain_zip, "r.zip", "a zip archive that is neither a Word .docx nor an Excel .xlsx",
                 "unpack it", id="other-zip"),
    pytest.param(lambda: b"<html><body><table><tr><td>\xe9\xa6\x96\xe9\xa1\xb5</td></tr></table>"
                         b"<p>\xe6\x96\xb0\xe9\x97\xbb</p></body></html>", "r.html",
                 "the page has neither a report table nor numbered paragraphs", "copy its table into a .xlsx",
                 id="page-without-table-or-prose"),
    pytest.param(docx_without_table, "r.docx", "the document has neither a report table nor numbered paragraphs",
                 "automatic list numbers", id="docx-without-table-or-prose"),
    pytest.param(xlsx_without_header, "r.xlsx", "no sheet holds a report table (no header row found)",
                 "编号, 工作任务", id="xlsx-without-header"),
    pytest.param(lambda: b'<html><meta charset="utf-8"><body>\xff\xfe\xfd</body></html>', "r.html",
                 "undecodable bytes", "save the page again", id="undecodable-page"),
]


@pytest.mark.parametrize("make, name, message, hint", REFUSED)
def test_refused_input_with_its_message(make, name, message, hint):
    with pytest.raises(IngestError) as caught:
        parse(make(), name)
    problem = caught.value.problem
    assert problem.file == name and problem.line == 0
    assert message in problem.message
    assert hint in problem.hint
    assert re.fullmatch(rf"{re.escape(name)}: .+ — .+", str(caught.value), re.S)   # no line: the whole file


def zip_bomb(kind: str) -> bytes:
    """A valid-looking .docx/.xlsx whose main part unzips to 1 GiB of zeros (~1 MiB zipped)."""
    part = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}[kind]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        info = zipfile.ZipInfo(part)
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as f:
            chunk = b"\x00" * (1 << 20)
            for _ in range(1024):
                f.write(chunk)
    return out.getvalue()


@cache
def bomb(kind: str) -> bytes:
    return zip_bomb(kind)


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_a_decompression_bomb_is_refused_in_bounded_time_and_memory(kind):
    data = bomb(kind)
    assert len(data) < 2 << 20
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(IngestError, match="decompression bomb"):
        parse(data, f"bomb.{kind}")
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 1.0 and peak < 4 * len(data) + (1 << 20)


def oversized_sheets() -> bytes:
    """A workbook whose sheet XML is 17 MiB (stored, so no bomb ratio)."""
    import os
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", os.urandom(17 << 20))
    return out.getvalue()


@pytest.mark.parametrize("make, name, message", [
    pytest.param(lambda: b"<html><body><table>" + b"<tr><td rowspan=1000 colspan=1000>a</td></tr>" * 3000
                 + b"</table></body></html>", "spans.html", "the page's tables hold 50,", id="span-bomb-page"),
    pytest.param(lambda: b"<html><body>" + b"<table><tr><td>a</td></tr></table>" * 120_000 + b"</body></html>",
                 "tables.html", "the page has 120,000 tables, over 1,000", id="many-tables"),
    pytest.param(lambda: b"<html><body><table>" + b"<tr><td>a</td><td>b</td></tr>" * 60_000 + b"</table></body></html>",
                 "rows.html", "the page's tables hold 50,", id="many-rows"),
    pytest.param(lambda: b"<html>" + b" " * (17 << 20), "big.html", "over the 16 MiB limit", id="page-over-16-mib"),
    pytest.param(oversized_sheets, "big.xlsx", "the workbook's sheets unzip to", id="sheets-over-16-mib"),
])
def test_documents_far_beyond_a_report_are_refused_in_bounded_time(make, name, message):
    data = make()
    start = time.perf_counter()
    with pytest.raises(IngestError, match=re.escape(message)):
        parse(data, name)
    assert time.perf_counter() - start < 5.0


# --- No entity expansion, no network or file access, by any parser ---------------------

DTD = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/hostname"><!ENTITY big "BIGBIGBIGBIG">]>'


def test_docx_entities_are_not_resolved():
    def inject(body: bytes) -> bytes:
        body = body.replace(b"?>", b"?>" + DTD, 1)
        return body.replace("提高困难群众救助保障水平".encode(), "提高&xxe;&big;".encode(), 1)
    try:
        report = parse(rezip(seed_docx(), "word/document.xml", inject), "x.docx")
    except IngestError:
        return                                           # refused is safe too
    assert report.tasks[0].task == "提高"


def test_xlsx_entities_are_refused():
    def inject(body: bytes) -> bytes:
        body = body.replace(b"<worksheet", DTD + b"<worksheet", 1)
        return body.replace(b"<t>&#25552;&#39640;", b"<t>&xxe;&big;&#25552;&#39640;", 1)
    with pytest.raises(IngestError, match="damaged or not an Excel file"):
        parse(rezip(seed_xlsx(), "xl/worksheets/sheet2.xml", inject), "x.xlsx")


def test_html_entities_are_not_resolved_and_nothing_is_fetched():
    page = (b'<?xml version="1.0"?>' + DTD + b'<html><head><link rel="stylesheet" href="http://192.0.2.1/x.css">'
            + b'</head><body><img src="http://192.0.2.1/x.png"><p>&xxe;&big;</p>'
            + to_html(text_report(SEED)).split(b"<body>", 1)[1])
    start = time.perf_counter()
    report = parse(page, "x.html")
    assert time.perf_counter() - start < 1.0
    assert content(report) == content(text_report(SEED))
    assert all("BIG" not in t.status and "BIG" not in t.task for t in report.tasks)


# --- The batch finds every format -------------------------------------------------------

def test_the_batch_finds_every_format(tmp_path):
    from pipeline.batch.inputs import find_inputs
    for name in ("a.txt", "b.md", "c.html", "d.HTM", "e.docx", "f.xlsx", "g.pdf", "h.doc", ".hidden.html"):
        (tmp_path / name).write_bytes(b"x")
    found, refused, excluded = find_inputs([tmp_path], tmp_path / "out")
    assert [p.name for p in found] == ["a.txt", "b.md", "c.html", "d.HTM", "e.docx", "f.xlsx"]
    assert (refused, excluded) == ([], 0)


def test_a_refused_docx_in_a_batch_worker_is_a_refusal(tmp_path):
    from pipeline.batch.workers import process_file
    path = tmp_path / "bad.docx"
    path.write_bytes(seed_docx()[:1000])
    result = process_file(path)
    assert result.tables is None and result.internal_error is None
    assert "damaged or cut short" in result.refusal.message


# --- Any input: a Report or an IngestError, never another exception ----------------------

TOKENS = st.sampled_from([
    "<table>", "</table>", "<tr>", "</tr>", "<td>", "</td>", "<th>", '<td rowspan="3">', '<td colspan="2">',
    '<td rowspan="0">', '<td colspan="x">', "<p>", "</p>", "<br>", "<h1>", "</h1>", "<caption>", "</caption>",
    "<title>", "</title>", "<script>", "</script>", "&nbsp;", "&#27;", "&amp;", "\n", " ",
    "编号", "工作任务", "工作情况", "牵头单位", "类别", "一、", "二、", "（一）", "1.", "2、", "（1）", "注：", "3",
    "民生实事", "某某市2021年", "（牵头单位：市民政局）", "。", "，", "下一步", "|",
])


@settings(max_examples=300, deadline=None)
@given(tokens=st.lists(TOKENS, max_size=60), name=st.sampled_from(["r.html", "r.txt"]))
def test_any_page_or_text_gives_a_report_or_an_ingest_error(tokens, name):
    data = ("<html><body>" if name == "r.html" else "").join(["", "".join(tokens)]).encode()
    try:
        report = parse(data, name)
    except IngestError as e:
        assert e.problem.file == name and e.problem.message and e.problem.hint
        return
    assert report.tasks and all(t.task_no > 0 for t in report.tasks)


@settings(max_examples=100, deadline=None)
@given(cut=st.integers(0, 100_000), flip=st.integers(0, 255))
def test_any_damaged_docx_or_xlsx_gives_a_report_or_an_ingest_error(cut, flip):
    for name, data in (("r.docx", seed_docx()), ("r.xlsx", seed_xlsx())):
        damaged = bytearray(data[:cut % len(data)] if cut % 3 == 0 else data)
        if damaged and cut % 3:
            damaged[cut % len(damaged)] ^= flip
        try:
            parse(bytes(damaged), name)
        except IngestError:
            pass
