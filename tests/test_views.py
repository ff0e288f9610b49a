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

