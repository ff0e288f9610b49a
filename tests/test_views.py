"""The analysts' facts view (pipeline.facts_view) on a run of the seed."""
from __future__ import annotations

import pandas as pd
import pytest
from conftest import SEED

import pipeline
from pipeline.views import PROGRESS_ROLES, VIEW_COLUMNS, describe, facts_view


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    out = tmp_path_factory.mktemp("processed")
    result = pipeline.run([SEED], out=out)
    assert result.status == 0
    return out


@pytest.fixture(scope="module")
def tables(processed):
    return pipeline.load(processed)


@pytest.fixture(scope="module")
def view(processed):
    return pipeline.facts_view(processed)


def test_one_row_per_fact_in_load_order(view, tables):
    facts = tables["facts"]
    assert len(view) == len(facts) > 100
    assert view.fact_no.tolist() == facts.fact_no.tolist()
    assert list(view.columns) == [name for name, _, _ in VIEW_COLUMNS]
    shared = [c for c in facts.columns if c not in ("lead_units",)]
    pd.testing.assert_frame_equal(view[shared], facts[shared])


def test_task_text_category_and_lead_units_come_from_the_task(view, tables):
    tasks = tables["tasks"].set_index(["report_id", "task_no"])
    for row in view.itertuples():
        task = tasks.loc[(row.report_id, row.task_no)]
        assert (row.task, row.category, row.lead_units) == (task.task, task.category, task.lead_units)
    first = view[view.task_no == 1].iloc[0]
    assert first.task == "提高困难群众救助保障水平" and first.category == "加强特殊困难群体关爱服务保障"


def test_region_year_and_the_reports_own_period(view):
    assert set(view.region) == {"临沂市"} and set(view.year) == {2021}
    assert set(view.report_period_start_month) == {1} and set(view.report_period_end_month) == {9}
    # a cell's own period (1-8月份) stays on the figure; the report's period is beside it
    own = view[view.period_end_month == 8]
    assert len(own) and set(own.report_period_end_month) == {9}


def test_progress_columns_name_the_facts_record_and_role(view, tables):
    progress = tables["progress"]
    linked = view[view.progress_no.notna()]
    assert len(linked) >= len(progress)
    for p in progress.itertuples():
        for role in PROGRESS_ROLES:
            fact_no = getattr(p, f"{role}_fact_no")
            if pd.isna(fact_no):
                continue
            row = view[(view.report_id == p.report_id) & (view.fact_no == fact_no)].iloc[0]
            if row.progress_no == p.progress_no:       # a fact in several records shows the first
                assert (row.progress_role, row.completion_pct, row.progress_status) == (
                    role, p.completion_pct, p.status)
            else:
                assert row.progress_no < p.progress_no
    ratio = view[(view.task_no == 42) & (view.mention == "98.5%")].iloc[0]
    assert (ratio.progress_role, ratio.completion_pct, ratio.progress_status) == ("ratio", 98.5, "ahead")
    assert view[view.progress_no.isna()].progress_role.isna().all()


def test_kind_restricts_a_money_sum_to_totals(view):
    money = view[(view.unit == "元")]
    totals = money[money.kind == "total"]
    assert len(totals) < len(money)                                  # per-person amounts left out
    assert "150元" not in set(totals.mention)                        # 人均月增150元
    assert totals.value.sum() > 0


def test_tables_as_given_and_an_empty_folder(tables, tmp_path):
    assert facts_view(tables=tables).equals(facts_view(tables=tables))
    empty = facts_view(tmp_path)
    assert empty.empty and list(empty.columns) == [name for name, _, _ in VIEW_COLUMNS]


def test_every_view_column_is_described_in_both_languages():
    for name, _, _ in VIEW_COLUMNS:
        zh, en = describe("facts_view", name)
        assert zh and en, name
    assert describe("facts_view", "progress_status") == describe("progress", "status")


# --------------------------------------------------------------------------- export

def test_export_xlsx_opens_with_openpyxl_and_pandas(processed, view, tables, tmp_path, capsys):
    import openpyxl

    from pipeline.cli import main

    book_path = tmp_path / "out" / "minsheng.xlsx"
    assert main(["export", "--processed", str(processed), "--out-file", str(book_path)]) == 0
    assert f"wrote {book_path}" in capsys.readouterr().err
    book = openpyxl.load_workbook(book_path)
    assert book.sheetnames == ["facts", "progress"]
    facts, progress = book["facts"], book["progress"]
    assert facts.freeze_panes == progress.freeze_panes == "A2"
    headers = [c.value for c in facts[1]]
    assert headers[0] == "报告编号\nreport_id" and "数值类型\nkind" in headers
    assert [h.split("\n")[1] for h in headers] == list(view.columns)
    assert "what kind of amount" in facts.cell(1, headers.index("数值类型\nkind") + 1).comment.text
    assert facts.max_row == len(view) + 1 and progress.max_row == len(tables["progress"]) + 1
    # a percentage is a percent cell: 98.5 → 0.985 shown as 98.5%
    column = [c.value for c in progress[1]].index("完成比例\ncompletion_pct") + 1
    cells = [progress.cell(i, column) for i in range(2, progress.max_row + 1)]
    assert all("%" in c.number_format for c in cells if c.value is not None)
    assert sorted(c.value for c in cells if c.value is not None) == pytest.approx(
        sorted(tables["progress"].completion_pct.dropna() / 100))
    frames = pd.read_excel(book_path, sheet_name=None)
    assert list(frames) == ["facts", "progress"] and len(frames["facts"]) == len(view)
    assert frames["facts"]["工作任务\ntask"].tolist() == view.task.tolist()
    assert frames["facts"]["数值原文\nmention"].tolist() == view.mention.tolist()


def test_export_csv_writes_one_file_per_table(processed, view, tables, tmp_path, capsys):
    from pipeline.cli import main

    assert main(["export", "--processed", str(processed), "--format", "csv",
                 "--out-file", str(tmp_path / "minsheng.csv")]) == 0
    facts = pd.read_csv(tmp_path / "minsheng-facts.csv", encoding="utf-8-sig")
    progress = pd.read_csv(tmp_path / "minsheng-progress.csv", encoding="utf-8-sig")
    assert list(facts.columns) == list(view.columns) and len(facts) == len(view)
    assert len(progress) == len(tables["progress"])
    assert (tmp_path / "minsheng-facts.csv").read_bytes().startswith(b"\xef\xbb\xbf")   # Excel reads UTF-8
    assert facts.lead_units.iloc[0] == "、".join(view.lead_units.iloc[0])


def test_export_of_no_processed_folder_is_an_error(tmp_path, capsys):
    from pipeline.cli import main

    assert main(["export", "--processed", str(tmp_path / "none"), "--out-file", str(tmp_path / "x.xlsx")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and "python -m pipeline run" in err
    assert not (tmp_path / "x.xlsx").exists()


def test_report_text_stays_text_in_the_workbook(tables, tmp_path):
    import openpyxl

    from pipeline.views import write_views

    edited = dict(tables)
    edited["tasks"] = tables["tasks"].assign(
        task=["=HYPERLINK(\"http://x\",\"y\")"] + ["a\x1bb"] * (len(tables["tasks"]) - 1))
    path, = write_views(tmp_path / "x.xlsx", "xlsx", tables=edited)
    ws = openpyxl.load_workbook(path)["facts"]
    column = [c.value for c in ws[1]].index("工作任务\ntask") + 1
    values = {ws.cell(i, column).value for i in range(2, ws.max_row + 1)}
    assert values == {"=HYPERLINK(\"http://x\",\"y\")", "a\\x1bb"}
    assert {ws.cell(i, column).data_type for i in range(2, ws.max_row + 1)} == {"s"}
