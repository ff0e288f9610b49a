"""The workbook of ``python -m pipeline export --format xlsx``, as a colleague opens it:
with openpyxl and pandas (bilingual headers, frozen and filterable header row, percent,
number and boolean formats, columns wide enough for their values), and as a picture —
each sheet rendered to HTML from what openpyxl reads (widths, frozen row, number formats
applied) and screenshotted in headless Chromium (skipped where chromium is missing).
"""
from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

import pipeline
from pipeline.cli import main
from pipeline.views import MAX_WIDTH, PERCENT_FORMAT, _display_width, header

SEED = Path(__file__).resolve().parent.parent / "raw" / "linyi_2021_01-09.txt"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    raw = tmp_path_factory.mktemp("raw")
    (raw / SEED.name).write_bytes(SEED.read_bytes())
    out = tmp_path_factory.mktemp("processed")
    pipeline.run([raw], out=out, fail_on="never")
    book = out / "exports" / "minsheng.xlsx"
    assert main(["export", "--format", "xlsx", "--processed", str(out), "--out-file", str(book)]) == 0
    t = pipeline.load(out)
    return book, {"facts": pipeline.facts_view(tables=t), "progress": t["progress"]}


def test_the_workbook_opens_with_openpyxl(exported):
    book, frames = exported
    wb = load_workbook(book)
    assert wb.sheetnames == ["facts", "progress"]
    for name, df in frames.items():
        ws = wb[name]
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:{get_column_letter(len(df.columns))}{len(df) + 1}"
        heads = [c.value for c in ws[1]]
        assert heads == [header(name, c) for c in df.columns]
        for head, column in zip(heads, df.columns):
            zh, en = head.split("\n")
            assert en == column and re.search(r"[\u4e00-\u9fff]", zh), head
        assert ws.max_row == len(df) + 1
        for j, column in enumerate(df.columns, 1):
            cells = [ws.cell(row=i, column=j) for i in range(2, len(df) + 2)]
            if column.endswith("_pct"):
                shown = [(c.value, c.number_format) for c in cells if c.value is not None]
                expected = [(v / 100, PERCENT_FORMAT) for v in df[column].dropna()]
                assert shown == expected, column
            elif df[column].dtype == bool:
                assert all(c.number_format == '"TRUE";"TRUE";"FALSE"' for c in cells), column
            elif df[column].dtype.kind == "f":
                for c in cells:
                    if c.value is not None:
                        assert c.number_format == ("#,##0" if float(c.value).is_integer() else "#,##0.0###")
            # wide enough for every value (Chinese characters count two), up to the cap
            widest = max((_display_width(str(c.value)) for c in cells if isinstance(c.value, str)), default=0)
            assert ws.column_dimensions[get_column_letter(j)].width >= min(widest, MAX_WIDTH - 2), column
        assert any(column.endswith("_pct") for column in df.columns)


def test_the_workbook_reads_back_with_pandas(exported):
    book, frames = exported
    sheets = pd.read_excel(book, sheet_name=None)
    assert list(sheets) == ["facts", "progress"]
    for name, df in frames.items():
        back = sheets[name]
        assert [h.split("\n")[1] for h in back.columns] == list(df.columns)
        assert len(back) == len(df)
        pct = [h for h in back.columns if h.endswith("_pct")]
        for h in pct:
            column = h.split("\n")[1]
            assert back[h].dropna().tolist() == pytest.approx((df[column].dropna() / 100).tolist())
    facts = sheets["facts"].set_axis([h.split("\n")[1] for h in sheets["facts"].columns], axis=1)
    assert facts.mention.tolist() == frames["facts"].mention.tolist()       # the Chinese text, as written
    assert facts.task.tolist() == frames["facts"].task.tolist()


# --------------------------------------------------------------------------- the picture

def _shown(cell) -> str:
    """A cell's value as its number format shows it (the formats the export uses)."""
    v, fmt = cell.value, cell.number_format
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if fmt.endswith("%"):
        return f"{v * 100:.{len(fmt.split('.')[1]) - 1 if '.' in fmt else 0}f}%"
    if fmt == "#,##0":
        return f"{v:,.0f}"
    if fmt.startswith("#,##0.0"):
        return f"{v:,.4f}".rstrip("0")
    return str(v)


def sheet_html(ws, rows: int = 40) -> str:
    """One sheet as a page: the column widths, the frozen header row (sticky), the header's
    fill, bold and wrap, values as their number formats show them, numbers right-aligned."""
    px = [round((ws.column_dimensions[get_column_letter(j)].width or 8.43) * 7 + 5)
          for j in range(1, ws.max_column + 1)]
    frozen = ws.freeze_panes == "A2"
    head = "".join(
        f'<th style="background:#{c.fill.fgColor.rgb[-6:]};font-weight:{"bold" if c.font.b else "normal"};'
        f'white-space:{"pre-wrap" if c.alignment.wrap_text else "nowrap"};'
        f'{"position:sticky;top:0;" if frozen else ""}">{html.escape(str(c.value))}</th>' for c in ws[1])
    body = "".join(
        "<tr>" + "".join(
            f'<td style="text-align:{"right" if isinstance(c.value, (int, float)) and not isinstance(c.value, bool) else "left"}">'
            f"{html.escape(_shown(c))}</td>" for c in row) + "</tr>"
        for row in ws.iter_rows(min_row=2, max_row=min(ws.max_row, rows + 1)))
    return ("<!doctype html><meta charset='utf-8'><style>"
            "body{margin:0;font:12px 'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif}"
            "table{border-collapse:collapse;table-layout:fixed}"
            "th,td{border:1px solid #d0d7de;padding:1px 4px;overflow:hidden;text-overflow:clip;white-space:nowrap;"
            "vertical-align:top}</style><table><colgroup>"
            + "".join(f'<col style="width:{w}px">' for w in px) + f"</colgroup><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium; .ci/run installs it)")
@pytest.mark.parametrize("sheet", ["facts", "progress"])
def test_screenshot_of_each_sheet(exported, sheet, tmp_path):
    from test_review_browser import chromium
    book, frames = exported
    page = book.with_name(f"{sheet}.html")
    page.write_text(sheet_html(load_workbook(book)[sheet]), encoding="utf-8")
    png = book.with_name(f"{sheet}.png")
    chromium(tmp_path, page.as_uri(), f"--screenshot={png}", "--window-size=1600,900", "--hide-scrollbars")
    assert png.exists() and png.stat().st_size > 10_000
    dom = chromium(tmp_path, page.as_uri(), "--dump-dom")
    df = frames[sheet]
    first = df.iloc[0]
    assert html.escape(str(first["report_id"])) in dom
    pct = df["completion_pct"].dropna()
    assert f">{pct.iloc[0]:.1f}%<" in dom            # a percent cell as Excel shows it
    assert "position:sticky" in dom                    # the frozen header row
