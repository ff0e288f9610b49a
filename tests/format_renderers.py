"""Render a report read from its text file as the other formats governments publish:
an HTML page (GBK, CMS markup, rowspan categories), a .docx (merged cells, split by a
page break) and an .xlsx (merged title and categories, numeric 编号, spacer rows).
Used by tests/test_ingest_formats.py and bench/bench_formats.py."""
from __future__ import annotations

import html
import io

from pipeline.records import Report

HEADER = ("类别", "编号", "工作任务", "工作进展情况", "牵头单位")


def _categories(report: Report):
    """(category cell, its tasks) in order."""
    groups = []
    for task in report.tasks:
        cell = f"{_ordinal(task.category_no)}、{task.category}"
        if not groups or groups[-1][0] != cell:
            groups.append((cell, []))
        groups[-1][1].append(task)
    return groups


def _ordinal(n: int) -> str:
    digits = "零一二三四五六七八九"
    tens, ones = divmod(n, 10)
    return (f"{'' if tens == 1 else digits[tens]}十" if tens else "") + (digits[ones] if ones else "")


def _halves(text: str) -> tuple[str, str] | None:
    """A long cell cut in two where neither side is whitespace (a wrapped line)."""
    middle = len(text) // 2
    for cut in range(middle, len(text) - 1):
        if cut > 0 and not text[cut - 1].isspace() and not text[cut].isspace():
            return text[:cut], text[cut:]
    return None


def lead(task) -> str:
    return "、".join(task.lead_units)


# --- HTML -------------------------------------------------------------------------

def _h(text: str) -> str:
    return html.escape(text, quote=False)


def _html_cell(text: str) -> str:
    """CMS markup: spans and fonts, a long text broken with <br> and <p>."""
    parts = _halves(text) if len(text) > 30 else None
    if parts:
        a, b = parts
        return (f'<p style="text-indent:2em"><span style="font-family:仿宋_GB2312">{_h(a)}</span><br/>'
                f'<font size="3">{_h(b)}</font></p>')
    return f'<span style="font-size:14px">{_h(text)}</span>' if text else "&nbsp;"


def to_html(report: Report) -> bytes:
    rows = []
    for cell, tasks in _categories(report):
        for i, t in enumerate(tasks):
            category = f'<td rowspan="{len(tasks)}" valign="middle">{_html_cell(cell)}</td>' if i == 0 else ""
            rows.append(f"<tr>\n  {category}<td>{t.task_no}</td>\n  <td>{_html_cell(t.task)}</td>\n"
                        f"  <td>{_html_cell(t.status)}</td><td>{_html_cell(lead(t))}</td></tr>")
    header = "".join(f"<th><p><b>{h}</b></p></th>" for h in HEADER)
    page = f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />
<title>{_h(report.title)}_政府信息公开</title>
<script type="text/javascript">var nav = "<table><tr><td>编号</td></tr></table>";</script>
<style>td {{ border: 1px solid #000 }}</style></head>
<body>
<table class="nav" width="100%"><tr><td><a href="/">首页</a></td><td><a href="/zwgk/">政务公开</a></td>
<td><a href="/tzgg/">通知公告</a></td></tr></table>
<div class="main"><table width="1000" align="center"><tr><td>
<div class="position">当前位置：<a href="/">首页</a> &gt; 政务公开 &gt; 通知公告</div>
<h1 class="title">{_h(report.title)}</h1>
<div class="info">发布时间：2021-10-15 &nbsp; 来源：发展改革委 &nbsp; 浏览次数：<span id="hits">1024</span></div>
<div class="content" id="zoom">
<p>附件</p>
<p style="text-align:right">单位：万元</p>
<table border="1" cellspacing="0" cellpadding="0" width="100%">
<tbody>
<tr>{header}</tr>
{chr(10).join(rows)}
</tbody></table>
<p>&nbsp;</p>
</div></td></tr></table></div>
<table class="footer"><tr><td>主办单位：某某市人民政府办公室</td><td>网站标识码：3713000001</td></tr></table>
</body></html>
"""
    return page.encode("gbk", errors="xmlcharrefreplace")


# --- .docx --------------------------------------------------------------------------

def to_docx(report: Report) -> bytes:
    import docx
    from docx.enum.text import WD_BREAK

    document = docx.Document()
    document.add_paragraph("附件2")
    document.add_heading(report.title, level=1)
    document.add_paragraph("单位：万元")
    groups = _categories(report)
    rows = [(cell, t) for cell, tasks in groups for t in tasks]
    split = len(rows) // 2 if len(rows) > 6 else len(rows)
    for part in (rows[:split], rows[split:]):
        if not part:
            continue
        if part is not rows[:split] and part[0] is not rows[0]:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        table = document.add_table(rows=1 + len(part), cols=len(HEADER))
        for cell, label in zip(table.rows[0].cells, HEADER):
            cell.text = label
        start = 1
        for i, (category, t) in enumerate(part, start=1):
            cells = table.rows[i].cells
            if i == 1 or part[i - 2][0] != category:
                cells[0].text = category
                start = i
            cells[1].text = str(t.task_no)
            for cell, text in ((cells[2], t.task), (cells[3], t.status)):
                halves = _halves(text) if len(text) > 30 else None
                if halves:
                    cell.text = halves[0]
                    cell.add_paragraph(halves[1])
                else:
                    cell.text = text
            cells[4].text = lead(t)
            last = i == len(part) or part[i][0] != category
            if last and i > start:
                table.cell(start, 0).merge(table.cell(i, 0))
    document.add_paragraph("注：数据截至报告期末。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- .xlsx --------------------------------------------------------------------------

def to_xlsx(report: Report) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    cover = workbook.active
    cover.title = "说明"
    cover["A1"] = "本表由各牵头单位填报"
    sheet = workbook.create_sheet("进展情况")
    sheet.append([report.title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet.append(["单位：万元"])
    sheet.append(list(HEADER))
    row = 3
    for category, tasks in _categories(report):
        first = row + 1
        for t in tasks:
            sheet.append([category if t is tasks[0] else None, t.task_no, t.task, t.status, lead(t)])
        row += len(tasks)
        if len(tasks) > 1:
            sheet.merge_cells(start_row=first, start_column=1, end_row=row, end_column=1)
        sheet.append([])                                    # a spacer row
        row += 1
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


RENDERERS = {"html": to_html, "docx": to_docx, "xlsx": to_xlsx}
SUFFIXES = {"html": ".html", "docx": ".docx", "xlsx": ".xlsx"}
