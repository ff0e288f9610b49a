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


# --------------------------------------------------------------------------- series keys

from pipeline.series import match_tasks, plan_title, series_id  # noqa: E402

PLAN = "临沂市2021年度20项重点民生实事推进情况表"


@pytest.mark.parametrize("title", [
    f"{PLAN}(1-9月份)", f"{PLAN}（1-6月份）", f"{PLAN}（截至9月底）", f"{PLAN}", f"{PLAN}(１-３月)",
    f"{PLAN} 1至6月",
])
def test_the_plan_title_drops_the_period(title):
    assert plan_title(title) == PLAN


def test_series_id_names_region_year_and_plan():
    assert series_id(f"{PLAN}(1-9月份)", "临沂市", 2021) == f"临沂市|2021|{PLAN}"
    assert series_id("某某报告", None, None) == "||某某报告"


KNOWN = [("k1", 1, "提高困难群众救助保障水平"), ("k2", 2, "提高工伤保险待遇水平"),
         ("k3", 3, "免费康复救助2000名残疾儿童"), ("k4", 4, "推进农村地区清洁取暖建设")]


@pytest.mark.parametrize(("tasks", "expected"), [
    pytest.param([(1, "提高困难群众救助保障水平"), (2, "提高工伤保险待遇水平"), (3, "免费康复救助2000名残疾儿童"),
                  (4, "推进农村地区清洁取暖建设")], {1: "k1", 2: "k2", 3: "k3", 4: "k4"}, id="same"),
    pytest.param([(1, "提高困难群众救助保障水平"), (2, "新建城市书房20个"), (3, "提高工伤保险待遇水平"),
                  (4, "免费康复救助2000名残疾儿童"), (5, "推进农村地区清洁取暖建设")],
                 {1: "k1", 3: "k2", 4: "k3", 5: "k4"}, id="inserted-task-renumbers"),
    pytest.param([(1, "提高困难群众救助保障水平"), (2, "免费康复救助2000名残疾儿童"), (3, "推进农村地区清洁取暖建设")],
                 {1: "k1", 2: "k3", 3: "k4"}, id="dropped-task"),
    pytest.param([(1, "提高困难群众救助保障标准"), (2, "提高工伤保险各项待遇水平"), (3, "免费康复救助3000名残疾儿童"),
                  (4, "推进农村清洁取暖工程建设")], {1: "k1", 2: "k2", 3: "k3", 4: "k4"}, id="small-rewordings"),
    pytest.param([(1, "新建城市书房20个"), (2, "开展农村生活污水治理")], {}, id="new-tasks-match-nothing"),
])
def test_tasks_match_by_number_and_text(tasks, expected):
    assert match_tasks(KNOWN, tasks) == expected


def _earlier_period(tables: dict, *, dropped: int, reworded: tuple[int, ...]) -> dict:
    """The seed as a 1-6月 report of its series, without task ``dropped`` (so the 1-9月
    report seems to insert it, renumbering the tasks after it) and with tasks ``reworded``
    slightly."""
    rid = "linyi_2021_01-06"
    reports = tables["reports"].astype({"report_id": object}).assign(
        report_id=rid, title=f"{PLAN}(1-6月份)", period_end_month=6)
    reports["series_id"] = [series_id(t, r, y) for t, r, y in zip(reports.title, reports.region, reports.year)]

    def renumbered(df):
        df = df[df.task_no != dropped].astype({"report_id": object}).assign(report_id=rid)
        return df.assign(task_no=df.task_no.where(df.task_no < dropped, df.task_no - 1))
    tasks = renumbered(tables["tasks"])
    tasks["task"] = [text[:-2] + "工作" if no in reworded else text
                     for no, text in zip(tasks.task_no, tasks.task)]
    return {"reports": reports, "tasks": tasks, "facts": renumbered(tables["facts"]),
            "progress": renumbered(tables["progress"])}


def test_a_figure_keeps_its_key_across_periods(tables):
    """The keys from nothing (pipeline.series.context) over the seed and an earlier
    period of it, a task inserted and two reworded in between."""
    from pipeline.series import context

    earlier = _earlier_period(tables, dropped=5, reworded=(10, 20))
    both = {name: pd.concat([earlier[name], tables[name].astype({"report_id": object})], ignore_index=True)
            for name in tables}
    keys = context(both)
    facts = both["facts"].assign(figure_key=keys["figure_key"], previous_value=keys["previous_value"])
    tasks = both["tasks"].assign(task_key=keys["task_key"])
    before = facts[facts.report_id == "linyi_2021_01-06"].set_index("fact_no")
    after = facts[facts.report_id == "linyi_2021_01-09"].set_index("fact_no")
    same = (before.figure_key == after.figure_key.reindex(before.index))
    assert same.mean() >= 0.98, before[~same][["task_no", "mention", "figure_key"]]
    assert same.all()
    # the task inserted in the later report starts a key of its own
    later = tasks[tasks.report_id == "linyi_2021_01-09"]
    inserted = later[later.task_no == 5].task_key.unique()
    assert len(inserted) == 1 and inserted[0] not in set(tasks[tasks.report_id == "linyi_2021_01-06"].task_key)
    assert inserted[0].endswith("#09-5")
    assert (facts.groupby("report_id").figure_key.nunique() == facts.groupby("report_id").size()).all()
    # the later report's figures have the earlier one's values beside them
    assert (after.previous_value == before.value.reindex(after.index)).mean() >= 0.95
