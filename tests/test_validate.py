"""The validate stage: every check catches a deliberately broken input.

One batch holds the clean seed report, a report of unusual-but-correct variants and
one broken report per case (each under its own report_id); GX runs once for it
(module fixture) — which also shows a report's result does not depend on the others.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from pipeline.records import Category, Quantity, Report, Task
from pipeline.schema import TABLES
from pipeline.tables import build_tables
from pipeline import vocab
from pipeline.quality import (DEFAULT_EXPECTATIONS, Failure, ReportChecks, Validation, ValidationSetupError,
                              exit_failed, load_suites, validate)
from pipeline.reporting import external_resources, summary

from validate_fixtures import concat, seed_tables, validate_and_report, with_report_id

SEED = "linyi_2021_01-09"


# --- building broken inputs ----------------------------------------------------------

def _edit(tables, table, column, row, value):
    """A copy of ``tables`` with one cell changed (row: index within that table)."""
    t = tables[table]
    i = t.schema.get_field_index(column)
    values = t[column].to_pylist()
    values[row] = value
    typ = t.schema.field(i).type
    arr = (pa.array(values, pa.string()).dictionary_encode() if pa.types.is_dictionary(typ)
           else pa.array(values, typ))
    return {**tables, table: t.set_column(i, t.schema.field(i), arr)}


def _fact_row(tables, mention):
    return tables["facts"]["mention"].to_pylist().index(mention)


def _drop_rows(tables, table, keep):
    return {**tables, table: tables[table].filter(pa.array(keep))}


def mini(report_id, status, quantities, *, task="开展民生实事", units=("市住建局",), **report_kw):
    """A one-task report whose status cell holds ``status`` and the given quantities."""
    task_rec = Task(1, "改善居住条件", 1, task, status, tuple(units), 8, 11)
    report = Report(report_id, report_id + ".txt", "某市2021年度10项民生实事推进情况表(1-6月份)", "某市", 2021, 1, 6,
                    report_kw.pop("declared_items", None), "utf-8", "0" * 64,
                    (Category(1, "改善居住条件", 7),), (task_rec,))
    report = dataclasses.replace(report, **report_kw)
    return build_tables(report, {(1, "status"): tuple(quantities)})


def q(text, mention, value, unit, dimension, *, occurrence=1, metric=None, **kw):
    start = -1
    for _ in range(occurrence):
        start = text.find(mention, start + 1)
    assert start >= 0, mention
    ms = text.find(metric) if metric else None
    return Quantity(mention, start, start + len(mention), float(value), kw.pop("value_high", None), unit,
                    kw.pop("approx", None), dimension, metric, ms, **kw)


S_SHARE = "全市民生支出469.1亿元,占全市财政支出的81.8%,增长17.1%"
S_BUILD = "新开工改造老旧小区120个,完工80个"
S_CHANGE = "基础养老金补助标准由142元/人/月提高至150元/人/月"


def _seed(rid):
    return with_report_id(seed_tables(), rid)


def _share(value, text=S_SHARE, mention="81.8%", rid="x"):
    return mini(rid, text, [q(text, "469.1亿元", 46910000000, "元", "currency", metric="民生支出"),
                            q(text, mention, value, "%", "percent", metric="财政支出"),
                            q(text, "17.1%", 17.1, "%", "percent")])


def _build(started, finished, rid="x"):
    text = f"新开工改造老旧小区{started}个,完工{finished}个"
    return mini(rid, text, [q(text, f"{started}个", started, "个", "count", metric="老旧小区"),
                            q(text, f"{finished}个", finished, "个", "count")])


def _change(before, after, rid="x", roles=("before", "after")):
    text = f"基础养老金补助标准由{before}元/人/月提高至{after}元/人/月"
    qs = [q(text, f"{before}元/人/月", before, "元/人/月", "rate", metric="基础养老金补助标准",
            change="increase", change_role=roles[0], change_group=1)]
    if roles[1]:
        qs.append(q(text, f"{after}元/人/月", after, "元/人/月", "rate", metric="基础养老金补助标准",
                    change="increase", change_role=roles[1], change_group=1))
    return mini(rid, text, qs)


def _mini_fact(text, mention, value, unit, dimension, rid="x", **kw):
    return mini(rid, text, [q(text, mention, value, unit, dimension, **kw)])


def _case_seed_fact(mention, column, value):
    def build(rid):
        t = _seed(rid)
        return _edit(t, "facts", column, _fact_row(t, mention), value)
    return build


def _case_seed(table, column, row, value):
    return lambda rid: _edit(_seed(rid), table, column, row, value)


def _progress_row_with_target_and_achieved(t) -> int:
    p = t["progress"]
    return next(i for i, (a, g) in enumerate(zip(p["achieved_fact_no"].to_pylist(), p["target_fact_no"].to_pylist()))
                if a is not None and g is not None and p["task_no"][i].as_py() != 1)


def _edit_progress_with(column, rid, value):
    """The seed with one cell of a progress record that has a target and an achievement changed."""
    t = _seed(rid)
    row = _progress_row_with_target_and_achieved(t)
    return _edit(t, "progress", column, row, value(t, row))


def _target_in_another_dimension(rid):
    """A record whose target figure is money while its achievement is a count."""
    t = _seed(rid)
    target = t["progress"]["target_fact_no"][_progress_row_with_target_and_achieved(t)].as_py()
    row = t["facts"]["fact_no"].to_pylist().index(target)
    return _edit(t, "facts", "dimension", row, "currency")


def _no_facts(rid):
    t = _seed(rid)
    t = _drop_rows(t, "facts", [False] * t["facts"].num_rows)
    return _edit(t, "reports", "n_facts", 0, 0)


def _no_tasks(rid):
    t = _no_facts(rid)
    t = _drop_rows(t, "tasks", [False] * t["tasks"].num_rows)
    return _edit(t, "reports", "n_tasks", 0, 0)


def _shift_span(rid):
    t = _seed(rid)
    row = _fact_row(t, "10.83亿元")
    t = _edit(t, "facts", "start", row, t["facts"]["start"][row].as_py() + 1)
    return _edit(t, "facts", "end", row, t["facts"]["end"][row].as_py() + 1)


def _dup_fact_no(rid):
    return _edit(_seed(rid), "facts", "fact_no", 1, 1)


# (id, build(report_id) -> tables, table, expected check, severity)
CASES = [
    ("reports.period_month_13", _case_seed("reports", "period_end_month", 0, 13), "reports", "reports.period_months", "error"),
    ("reports.period_start_after_end", _case_seed("reports", "period_start_month", 0, 10), "reports", "reports.period_months", "error"),
    ("reports.declared_items", _case_seed("reports", "declared_items", 0, 25), "reports",
     "reports.declared_items_match", "warning"),
    ("reports.year", _case_seed("reports", "year", 0, 1921), "reports", "reports.year_plausible", "warning"),
    # cross-period checks read the series context the batch stores on the row
    ("reports.period_repeats", _case_seed("reports", "period_clash", 0, "repeats linyi_2021_01-09a (1–9月)"),
     "reports", "reports.period_distinct", "warning"),
    ("facts.cumulative_fell", _case_seed_fact("10.83亿元", "previous_value", 1.2e9), "facts",
     "facts.cumulative_not_falling", "warning"),
    ("progress.completion_fell", lambda rid: _edit_progress_with(
        "previous_completion_pct", rid, lambda t, row: t["progress"]["completion_pct"][row].as_py() + 5.0),
     "progress", "progress.completion_not_falling", "warning"),
    ("reports.title_blank", _case_seed("reports", "title", 0, "  "), "reports", "reports.title_present", "error"),
    ("reports.no_facts", _no_facts, "reports", "reports.has_facts", "error"),
    ("reports.no_tasks", _no_tasks, "reports", "reports.has_tasks", "error"),
    ("reports.counts", _case_seed("reports", "n_tasks", 0, 58), "reports", "reports.counts_match_rows", "error"),
    ("tasks.key_null", _case_seed("tasks", "task_no", 3, None), "tasks", "schema.keys_not_null", "error"),
    ("tasks.duplicate_no", _case_seed("tasks", "task_no", 3, 3), "tasks", "tasks.task_no_unique", "error"),
    ("tasks.gap", _case_seed("tasks", "task_no", 58, 70), "tasks", "tasks.task_no_contiguous", "error"),
    ("tasks.no_lead_unit", _case_seed("tasks", "lead_units", 0, []), "tasks", "tasks.lead_units_present", "error"),
    ("tasks.lead_unit_not_agency", _case_seed("tasks", "lead_units", 0, ["市民政局", "各县区"]), "tasks",
     "tasks.lead_units_are_agencies", "error"),
    ("tasks.status_blank", _case_seed("tasks", "status", 6, " "), "tasks", "tasks.text_present", "error"),
    ("tasks.task_null", _case_seed("tasks", "task", 6, None), "tasks", "tasks.text_present", "error"),
    ("tasks.lines", _case_seed("tasks", "line_end", 2, 1), "tasks", "tasks.source_lines_ordered", "error"),
    ("facts.key_null", _case_seed_fact("3188万元", "fact_no", None), "facts", "schema.keys_not_null", "error"),
    ("facts.duplicate_no", _dup_fact_no, "facts", "facts.fact_no_unique", "error"),
    ("facts.span", _shift_span, "facts", "facts.span_matches_mention", "error"),
    ("facts.no_such_task", _case_seed_fact("3188万元", "task_no", 99), "facts", "facts.span_matches_mention", "error"),
    ("facts.value_negative", _case_seed_fact("3188万元", "value", -5.0), "facts", "facts.value_non_negative", "error"),
    ("facts.value_null", _case_seed_fact("3188万元", "value", None), "facts", "facts.value_non_negative", "error"),
    ("facts.value_signed_not_a_change", lambda rid: _mini_fact("完成投资-5亿元", "-5亿元", -5e8, "元", "currency",
                                                               rid=rid, metric="投资"),
     "facts", "facts.value_non_negative", "error"),
    ("facts.range_reversed", _case_seed_fact("3188万元", "value_high", 100.0), "facts", "facts.range_ordered", "error"),
    ("facts.unit_unknown", _case_seed_fact("3188万元", "unit", "斤两"), "facts", "facts.unit_in_vocabulary", "error"),
    # a magnitude left in a rate's numerator: the value is not in base units (万元/公里 → 元/公里)
    ("facts.rate_unit_with_magnitude", lambda rid: _mini_fact("每公里补助50万元/公里", "50万元/公里", 500000,
                                                              "万元/公里", "rate", rid=rid),
     "facts", "facts.unit_in_vocabulary", "error"),
    ("facts.rate_unit_per_age", lambda rid: _mini_fact("补助100元/岁", "100元/岁", 100, "元/岁", "rate", rid=rid),
     "facts", "facts.unit_in_vocabulary", "error"),
    ("facts.rate_unit_cut_short", lambda rid: _mini_fact("补助100元/", "100元/", 100, "元/", "rate", rid=rid),
     "facts", "facts.unit_in_vocabulary", "error"),
    ("facts.dimension_unknown", _case_seed_fact("3188万元", "dimension", "money"), "facts",
     "facts.dimension_in_vocabulary", "error"),
    ("facts.dimension_wrong", _case_seed_fact("3188万元", "dimension", "count"), "facts",
     "facts.dimension_matches_unit", "error"),
    ("facts.bare_number_as_ratio", lambda rid: _mini_fact("惠及群众156万", "156万", 1560000, "", "ratio", rid=rid),
     "facts", "facts.dimension_matches_unit", "error"),
    ("facts.fraction_as_count", lambda rid: _mini_fact("三分之二的村完成改造", "三分之二", 2 / 3, "", "count", rid=rid),
     "facts", "facts.dimension_matches_unit", "error"),
    ("facts.unit_not_written", _case_seed_fact("3188万元", "unit", "吨"), "facts", "facts.unit_in_mention", "error"),
    ("facts.share_over_100", lambda rid: _share(181.8, rid=rid), "facts", "facts.share_within_0_100", "error"),
    ("facts.rate_over_100", lambda rid: _mini_fact("全市城镇登记失业率为120%", "120%", 120, "%", "percent",
                                                   rid=rid, metric="城镇登记失业率"),
     "facts", "facts.share_within_0_100", "error"),
    ("facts.finished_above_started", lambda rid: _build(120, 150, rid=rid), "facts",
     "facts.finished_not_above_started", "error"),
    ("facts.change_falls", lambda rid: _change(150, 142, rid=rid), "facts", "facts.change_direction", "error"),
    ("facts.change_half_pair", lambda rid: _change(142, 150, rid=rid, roles=("after", None)), "facts",
     "facts.change_pair_complete", "error"),
    ("facts.mention_is_date", lambda rid: _mini_fact("2021年完成投资5亿元", "2021年", 2021, "", "none", rid=rid),
     "facts", "facts.mention_not_date", "error"),
    ("facts.mention_is_month", lambda rid: _mini_fact("截至9月底,完成投资5亿元", "9月", 9, "", "none", rid=rid),
     "facts", "facts.mention_not_date", "error"),
    ("facts.currency_without_numeral", lambda rid: _mini_fact("发放救助资金若干元", "若干元", 1e6, "元", "currency",
                                                              rid=rid), "facts", "facts.mention_has_numeral", "error"),
    ("facts.cut_from_a_longer_number", lambda rid: _mini_fact("开展培训3千6百余人次", "6百余人次", 600, "人次",
                                                              "count", rid=rid, approx="more_than"),
     "facts", "facts.mention_starts_the_number", "error"),
    ("facts.cut_before_rate_unit", lambda rid: _mini_fact("床位数达到7.2张/千人", "7.2张", 7.2, "张", "count",
                                                          rid=rid), "facts", "facts.mention_ends_the_figure", "error"),
    ("facts.cut_before_digits", lambda rid: _mini_fact("投入资金1234万元", "123", 123, "", "none", rid=rid),
     "facts", "facts.mention_ends_the_figure", "error"),
    ("facts.metric_is_a_number", lambda rid: _mini_fact("为60.4万名65岁以上老年人体检", "60.4万名", 604000, "名",
                                                        "count", rid=rid, metric="65"),
     "facts", "facts.metric_names_something", "error"),
    ("facts.metric_not_in_cell", _case_seed_fact("3188万元", "metric", "不存在的指标"), "facts",
     "facts.metric_in_cell", "error"),
    ("facts.approx_code", _case_seed_fact("3188万元", "approx", "roughly"), "facts", "facts.codes_valid", "error"),
    ("facts.period_month", _case_seed_fact("3188万元", "period_end_month", 14), "facts", "facts.period_months", "error"),
    ("progress.key_null", _case_seed("progress", "task_no", 0, None), "progress", "schema.keys_not_null", "error"),
    ("progress.duplicate_no", _case_seed("progress", "progress_no", 1, 1), "progress", "progress.progress_no_unique",
     "error"),
    ("progress.completion_absurd", _case_seed("progress", "completion_pct", 0, 1500.0), "progress",
     "progress.completion_plausible", "error"),
    ("progress.completion_negative", _case_seed("progress", "completion_pct", 0, -5.0), "progress",
     "progress.completion_plausible", "error"),
    ("progress.expected_over_100", _case_seed("progress", "expected_pct", 0, 125.0), "progress",
     "progress.expected_within_0_100", "error"),
    ("progress.status_code", _case_seed("progress", "status", 0, "late"), "progress", "progress.codes_valid", "error"),
    ("progress.scope_code", _case_seed("progress", "scope", 0, "region"), "progress", "progress.codes_valid", "error"),
    ("progress.basis_code", _case_seed("progress", "target_basis", 0, "guessed"), "progress", "progress.codes_valid",
     "error"),
    ("progress.ref_missing", lambda rid: _edit_progress_with("target_fact_no", rid, lambda t, row: 99999),
     "progress", "progress.fact_refs_in_task", "error"),
    ("progress.ref_other_task", lambda rid: _edit_progress_with("achieved_fact_no", rid, lambda t, row: 1),
     "progress", "progress.fact_refs_in_task", "error"),
    ("progress.target_other_dimension", _target_in_another_dimension, "progress", "progress.same_dimension", "error"),
    ("progress.stated_disagrees", lambda rid: _edit_progress_with("stated_pct", rid, lambda t, row: 50.0),
     "progress", "progress.stated_matches_figures", "warning"),
]


def _good(rid):
    """Unusual but correct: traditional / bracketed agencies, completion ratios (为计划的…,
    开工率) and a change over 100%, 完工 ≤ 开工, a rising 由…提高至… pair, ‰ and 成 shares."""
    t1 = "城镇新增就业3.2万人,为年度计划的128%,同比增长150%,覆盖率达9成,死亡率3‰,项目开工率106.7%"
    t2 = "新开工改造老旧小区120个,完工80个"
    t3 = S_CHANGE
    cells = {
        (1, "status"): (q(t1, "3.2万人", 32000, "人", "count", metric="城镇新增就业"),
                        q(t1, "128%", 128, "%", "percent"), q(t1, "150%", 150, "%", "percent"),
                        q(t1, "9成", 9, "成", "ratio", metric="覆盖率"),
                        q(t1, "3‰", 3, "‰", "permille", metric="死亡率"),
                        q(t1, "106.7%", 106.7, "%", "percent", metric="项目开工率")),
        (2, "status"): (q(t2, "120个", 120, "个", "count", metric="老旧小区"), q(t2, "80个", 80, "个", "count")),
        (3, "status"): (q(t3, "142元/人/月", 142, "元/人/月", "rate", metric="基础养老金补助标准",
                          change="increase", change_role="before", change_group=1),
                        q(t3, "150元/人/月", 150, "元/人/月", "rate", metric="基础养老金补助标准",
                          change="increase", change_role="after", change_group=1)),
    }
    t4 = "积水时间由2小时以上缩短到30分钟以内"      # a change that also changes unit
    cells[(4, "status")] = (
        q(t4, "2小时以上", 2, "小时", "time", approx="more_than", metric="积水时间",
          change="decrease", change_role="before", change_group=1),
        q(t4, "30分钟以内", 30, "分钟", "time", approx="less_than", metric="积水时间",
          change="decrease", change_role="after", change_group=1))
    tasks = (Task(1, "就业", 1, "稳就业", t1, ("市殘聯", "团市委"), 8, 11),
             Task(1, "就业", 2, "改造老旧小区", t2, ("市教育局（市体育局）", "市疾控中心"), 12, 15),
             Task(1, "就业", 3, "提高养老金", t3, ("市人社局",), 16, 19),
             Task(1, "就业", 4, "整治易涝点", t4, ("市住建局",), 20, 23))
    report = Report(rid, rid + ".txt", "某市2021年度1项民生实事", "某市", 2021, 1, 6, 1, "utf-8", "0" * 64,
                    (Category(1, "就业", 7),), tasks)
    return build_tables(report, cells)


# Composite units as extract writes them, each in a correct report: never a failure.
RATE_UNITS = [   # (cell text, mention, value, unit, dimension)
    ("城乡居民医保人均财政补助标准由610元/人·年提高至640元/人·年", "610元/人·年", 610, "元/人·年", "rate"),
    ("基础养老金最低标准达到142元/人/月", "142元/人/月", 142, "元/人/月", "rate"),
    ("每千人口床位数达到6.5张/千人", "6.5张/千人", 6.5, "张/千人", "rate"),
    ("每万人口全科医生达到3.2人/万人", "3.2人/万人", 3.2, "人/万人", "rate"),
    ("新增污水处理能力2万吨/日", "2万吨/日", 20000, "吨/日", "rate"),
    ("农村公路补助标准50万元/公里", "50万元/公里", 500000, "元/公里", "rate"),
    ("发放交通补贴20元／人", "20元／人", 20, "元/人", "rate"),
    ("物业补贴3元/平方米·月", "3元/平方米·月", 3, "元/平方米·月", "rate"),
    ("开展义诊服务1.2万人·次", "1.2万人·次", 12000, "人·次", "none"),
    ("每10万人口拥有全科医生3.5人/10万人", "3.5人/10万人", 3.5, "人/10万人", "rate"),
    ("全区三分之二以上的乡镇中心校建成标准化食堂", "三分之二以上", 2 / 3, "", "ratio"),
]


# Changes written with a minus sign: extract keeps the sign, and they are correct.
SIGNED_CHANGES = [   # (cell text, mention, value, unit, dimension, extra Quantity fields)
    ("社会消费品零售总额同比增长-2.3%", "-2.3%", -2.3, "%", "percent", {"change": "increase", "metric": "增长"}),
    ("工业增加值增速为-1.5%", "-1.5%", -1.5, "%", "percent", {"metric": "工业增加值增速"}),
    ("人口自然增长率-0.5‰", "-0.5‰", -0.5, "‰", "permille", {"metric": "人口自然增长率"}),
    ("失业率较上年-0.2个百分点", "-0.2个百分点", -0.2, "个百分点", "percentage_point", {}),
]


def _rates(rid):
    cells, tasks = {}, []
    figures = [(*f, {}) for f in RATE_UNITS] + SIGNED_CHANGES
    for no, (text, mention, value, unit, dim, kw) in enumerate(figures, 1):
        cells[(no, "status")] = (q(text, mention, value, unit, dim, **kw),)
        tasks.append(Task(1, "民生", no, "提高保障标准", text, ("市医保局",), 4 + 4 * no, 7 + 4 * no))
    report = Report(rid, rid + ".txt", "某市2023年民生实事", "某市", 2023, 1, 11, None, "utf-8", "0" * 64,
                    (Category(1, "民生", 7),), tuple(tasks))
    return build_tables(report, cells)


def _declares_tasks(rid):
    """十件民生实事 counting the 59 tasks, not the 20 categories (成都 2022)."""
    return _edit(_seed(rid), "reports", "declared_items", 0, 59)


def _rid(case_id):
    return "case_" + case_id.replace(".", "_")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One validate call over: clean seed, good variants, one report per broken case."""
    batch = concat(seed_tables(), _good("good_variants"), _rates("good_rates"), _declares_tasks("good_declares_tasks"),
                   *(build(_rid(cid)) for cid, build, *_ in CASES))
    cwd = tmp_path_factory.mktemp("cwd")
    out = tmp_path_factory.mktemp("out")
    before = _tree_hash(DEFAULT_EXPECTATIONS)
    old = os.getcwd()
    os.chdir(cwd)
    try:
        v, docs = validate_and_report(batch, out)
    finally:
        os.chdir(old)
    return {"v": v, "out": out, "cwd": cwd, "expectations_before": before, "batch": batch, "docs": docs}


def _tree_hash(d: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(d.rglob("*")):
        h.update(str(p.relative_to(d)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def _failed_checks(v, rid):
    return {(f.table, f.check, f.severity) for f in v.failures if f.report_id == rid}


def test_clean_seed_passes_every_check(run):
    v = run["v"]
    assert _failed_checks(v, SEED) == set()
    assert v.checks[SEED].failed == 0 and v.checks[SEED].passed == len(v.severities)


def test_unusual_but_correct_report_passes(run):
    assert _failed_checks(run["v"], "good_variants") == set()


def test_composite_rate_units_pass(run):
    assert _failed_checks(run["v"], "good_rates") == set()


def test_declared_count_may_be_the_tasks(run):
    assert _failed_checks(run["v"], "good_declares_tasks") == set()


def test_declared_count_failure_reads_well(run):
    [f] = [f for f in run["v"].failures if f.report_id == _rid("reports.declared_items")]
    assert "title declares 25; found 20 categories, 59 tasks" in f.context


@pytest.mark.parametrize("unit,known", [
    ("元/人·年", True), ("元/人/月", True), ("张/千人", True), ("人/万人", True), ("吨/日", True),
    ("元/公里", True), ("元/平方米·月", True), ("人/万人口", True), ("人·次", True), ("千瓦·时", True),
    ("人/10万人", True), ("元/2人", True), ("人·万次", True), ("元/万", False),
    ("万元/公里", False), ("亿元", False), ("元/岁", False), ("岁/人", False), ("元/", False), ("/人", False),
    ("元//人", False), ("元/千", False), ("斤两", False),
])
def test_unit_vocabulary_composites(unit, known):
    """is_unit is the very grammar extract reads units with: what it can write (a
    denominator with its own figure, 元/2人) passes; what it cannot does not."""
    assert vocab.is_unit(unit) is known


def test_validation_agrees_with_extract_on_every_unit_it_writes():
    """Every unit extract writes for the seed, the held-out reports and the composite
    phrases is in the vocabulary, with the dimension extract gave it."""
    from pipeline.extract import extract
    fixtures = Path(__file__).resolve().parent / "fixtures"
    texts = [t for t, *_ in RATE_UNITS] + ["补贴2元/人·次", "收费30元/吨", "每日500吨/天", "补助300元/户·年",
                                           "1000元/年", "5人/万人口", "发电3千瓦·时"]
    for path in [fixtures / "gold" / "linyi_2021_01-09.cells.jsonl", *sorted((fixtures / "heldout").glob("*.cells.jsonl"))]:
        texts += [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines() if line.strip()]
    seen = set()
    for text in texts:
        for qty in extract(text):
            seen.add(qty.unit)
            assert vocab.is_unit(qty.unit), (qty.unit, qty.mention, text)
            expected = vocab.RATIO if qty.unit == "" and "分之" in qty.mention else vocab.dimension_of(qty.unit)
            assert expected == qty.dimension in vocab.dimensions(), qty
    assert {"元/人·年", "元/人/月", "人/万人", "吨/日", "元/公里"} <= seen


@pytest.mark.parametrize("case_id,build,table,check,severity", CASES, ids=[c[0] for c in CASES])
def test_check_catches_broken_input(run, case_id, build, table, check, severity):
    v = run["v"]
    rid = _rid(case_id)
    assert (table, check, severity) in _failed_checks(v, rid)
    # the row is flagged, kept, and its dq columns agree with the failure records
    t = v.tables[table]
    ids = pc.cast(t["report_id"], pa.string()).to_pylist()
    rows = [i for i, r in enumerate(ids) if r == rid]
    flagged = [i for i in rows if check in t["dq_failures"][i].as_py()]
    assert flagged and all(not t["dq_passed"][i].as_py() for i in flagged)
    assert v.checks[rid].failed >= 1
    assert v.exit_failed("warning")
    assert v.exit_failed("error") == any(f.severity == "error" for f in v.failures)


def test_every_suite_check_has_a_case():
    names = {c[3] for c in CASES}
    for table in TABLES:
        suite = json.loads((DEFAULT_EXPECTATIONS / f"{table}.json").read_text())
        for e in suite["expectations"]:
            assert e["meta"]["check"] in names, e["meta"]["check"]


def test_failing_rows_kept_and_others_untouched(run):
    v, batch = run["v"], run["batch"]
    for name in batch:
        assert v.tables[name].num_rows == batch[name].num_rows
        assert v.tables[name].schema.equals(batch[name].schema)
        passed = v.tables[name]["dq_passed"].to_pylist()
        fails = v.tables[name]["dq_failures"].to_pylist()
        assert all(p == (not f) for p, f in zip(passed, fails))


def test_result_does_not_depend_on_the_rest_of_the_batch(run, tmp_path):
    v = run["v"]
    for rid, build in ((SEED, lambda r: seed_tables()), (_rid("facts.share_over_100"), dict(
            (c[0], c[1]) for c in CASES)["facts.share_over_100"])):
        alone = validate(build(rid), out_dir=tmp_path)
        assert alone.checks[rid] == v.checks[rid]
        for name in TABLES:
            t = v.tables[name]
            mine = t.filter(pc.equal(pc.cast(t["report_id"], pa.string()), rid))
            assert alone.tables[name]["dq_failures"].to_pylist() == mine["dq_failures"].to_pylist()
        assert sorted(alone.failures, key=repr) == sorted((f for f in v.failures if f.report_id == rid), key=repr)


def test_run_writes_only_under_out(run):
    assert _tree_hash(DEFAULT_EXPECTATIONS) == run["expectations_before"]
    assert list(run["cwd"].iterdir()) == []
    assert not (Path.cwd() / "gx").exists()
    assert sorted(p.name for p in run["out"].iterdir()) == ["review", "validation"]


def test_data_docs_offline_and_list_the_run(run):
    index = run["docs"]
    assert index.exists()
    pages = list(index.parent.rglob("*.html"))
    assert any("validations" in p.parts for p in pages)
    for p in pages:
        assert external_resources(p) == [], p
    assert (index.parent / "static" / "vendor" / "jquery" / "dist" / "jquery.min.js").exists()
    results = list((index.parent.parent / "results").rglob("*.json"))
    assert len(results) >= 3


def test_review_pages(run):
    v, out = run["v"], run["out"]
    assert sorted(p.stem for p in (out / "review").glob("*.html")) == sorted(v.checks)
    page = (out / "review" / f"{SEED}.html").read_text()
    assert page.count('<mark class="fig" title=') == 123 and 'class="fig failed" title=' not in page
    assert 'title="value: 1,083,000,000 元 · dimension: currency · metric: 救助资金"' in page
    bad = (out / "review" / f"{_rid('facts.share_over_100')}.html").read_text()
    assert 'class="fig failed" title=' in bad and "facts.share_within_0_100</sup>" in bad
    assert external_resources(out / "review" / f"{SEED}.html") == []


def test_review_page_escapes_report_text(tmp_path):
    from pipeline.reporting.review import render_report
    html = render_report({"report_id": "r<1>", "title": "<script>alert(1)</script>"},
                         [{"task_no": 1, "category": "&", "task": "<b>任务</b>", "status": "共10个\"x\"",
                           "lead_units": ["<i>局"], "failures": []}],
                         [{"task_no": 1, "field": "status", "mention": "10个", "start": 1, "end": 4, "value": 10.0,
                           "value_high": None, "unit": "个", "dimension": "count", "metric": "<m>", "approx": None,
                           "failures": ["x<y"]}], [], None, {"x<y": "error"})
    assert "<script>" not in html and "<b>任务" not in html and "<i>局" not in html and "x<y" not in html
    assert "&lt;script&gt;" in html and "metric: &lt;m&gt;" in html


def test_summary(run):
    s = summary(run["v"])
    assert s.splitlines()[0].startswith(f"validation: {len(run['v'].checks)} report(s)")
    assert f"{SEED}: {len(run['v'].severities)}/{len(run['v'].severities)} checks passed" in s
    assert "  failed checks:" in s and "more report(s) with failures" in s      # > 10 failing reports
    s = summary(run["v"], max_reports=len(run["v"].checks))
    line = next(ln for ln in s.splitlines() if "facts.share_within_0_100" in ln and "task 1" in ln)
    assert "«81.8%»" in line and "share_percent=181.8" in line and "财政支出" in line


def test_summary_caps_lines_per_report():
    fs = tuple(Failure("facts", "facts.value_non_negative", "error", "r1", 1, i, f"{i}个", "…") for i in range(1, 31))
    v = Validation({}, fs, {"r1": ReportChecks("r1", 33, 1, 1, 0)}, {f"c{i}": "error" for i in range(34)}, "run")
    s = summary(v, review_dir=Path("/out/review"))
    assert "and 25 more failing row(s): see /out/review/r1.html" in s
    assert len(s.splitlines()) == 1 + 1 + 5 + 1


def test_summary_is_bounded_for_large_batches():
    """1000 failing reports: a tally per check, 10 reports detailed (errors first), the
    rest counted — the summary stays a screenful."""
    fs, checks = [], {}
    for r in range(1000):
        rid = f"r{r:04d}"
        sev = "error" if r % 3 == 0 else "warning"
        fs += [Failure("facts", f"c{sev}", sev, rid, 1, i, f"{i}个", "…") for i in range(1, 8)]
        checks[rid] = ReportChecks(rid, 33, 1, int(sev == "error"), int(sev == "warning"))
    v = Validation({}, tuple(fs), checks, {"cerror": "error", "cwarning": "warning"}, "run")
    lines = summary(v, review_dir=Path("/out/review")).splitlines()
    assert len(lines) < 100
    assert lines[0] == "validation: 1000 report(s), 2 checks each; 334 with errors, 666 with warnings only, 0 clean"
    assert "    ERROR   cerror: 2338 row(s) in 334 report(s)" in lines
    assert "    WARNING cwarning: 4662 row(s) in 666 report(s)" in lines
    detailed = [ln for ln in lines if ln.startswith("  r")]
    assert len(detailed) == 10 and all("(1 error, 0 warning)" in ln for ln in detailed)
    assert "  … and 990 more report(s) with failures (324 with errors): see /out/review/<report_id>.html" in lines


def _validation(*severities):
    fs = tuple(Failure("reports", f"c{i}", sev, "r", None, None, None, "") for i, sev in enumerate(severities))
    return Validation({}, fs, {}, {}, "run")


@pytest.mark.parametrize("severities,fail_on,expected", [
    ((), "error", False), ((), "warning", False), ((), "never", False),
    (("warning",), "error", False), (("warning",), "warning", True), (("warning",), "never", False),
    (("error",), "error", True), (("error",), "warning", True), (("error", "warning"), "never", False),
])
def test_fail_on(severities, fail_on, expected):
    v = _validation(*severities)
    assert exit_failed(v.failures, fail_on) is expected
    assert v.exit_failed(fail_on) is expected


def test_fail_on_rejects_unknown_threshold():
    with pytest.raises(ValueError, match="error, warning, never"):
        exit_failed((), "critical")


def test_schema_checks_in_our_code(tmp_path):
    t = seed_tables()
    t["reports"] = t["reports"].drop_columns(["encoding"])
    t["tasks"] = t["tasks"].set_column(t["tasks"].schema.get_field_index("line_start"), "line_start",
                                       pc.cast(t["tasks"]["line_start"], pa.int64()))
    t = _edit(t, "facts", "mention", 2, None)
    v = validate(t, out_dir=tmp_path)
    got = {(f.table, f.check) for f in v.failures}
    assert {("reports", "schema.columns"), ("tasks", "schema.types"), ("facts", "schema.not_null")} <= got
    assert "encoding" in v.tables["reports"].column_names   # output keeps the one schema
    assert v.exit_failed("error")


def _broken_suites(tmp_path, edit):
    d = tmp_path / "expectations"
    shutil.copytree(DEFAULT_EXPECTATIONS, d)
    data = json.loads((d / "facts.json").read_text())
    edit(data)
    (d / "facts.json").write_text(json.dumps(data, ensure_ascii=False))
    return d


@pytest.mark.parametrize("edit,message", [
    (lambda s: s["expectations"].append({"type": "expect_column_values_to_be_frobnicated", "kwargs": {"column": "x"},
                                         "meta": {"check": "x", "severity": "error"}}), "expectations in the file, .* loaded"),
    (lambda s: s["expectations"][5]["kwargs"].update(column_B="no_such_column"), "did not evaluate"),
    (lambda s: s["expectations"][0]["meta"].pop("severity"), "needs meta.check and meta.severity"),
    (lambda s: s.pop("id"), "top-level \"id\""),
], ids=["unknown-type", "bad-column", "no-severity", "no-id"])
def test_broken_suite_raises(tmp_path, edit, message):
    d = _broken_suites(tmp_path, edit)
    with pytest.raises(ValidationSetupError, match=message):
        validate(seed_tables(), out_dir=tmp_path / "out", expectations_dir=d)


def test_suites_fingerprint_is_of_the_bytes_read(tmp_path):
    h = load_suites().fingerprint
    assert h == load_suites(DEFAULT_EXPECTATIONS).fingerprint and len(h) == 64
    d = tmp_path / "e"
    shutil.copytree(DEFAULT_EXPECTATIONS, d)
    assert load_suites(d).fingerprint == h
    (d / "tasks.json").write_text((d / "tasks.json").read_text() + " ")
    assert load_suites(d).fingerprint != h


def test_import_does_not_import_gx():
    code = "import sys, pipeline.quality, pipeline.reporting; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_vocabulary_fingerprint_follows_every_vocabulary_file(tmp_path, monkeypatch):
    """A changed vocabulary file (fixed terms, units, cues …) changes the fingerprint;
    the vendored Data Docs assets do not. The loaded lexicon carries the fingerprint of
    what it read."""
    resources = tmp_path / "resources"
    shutil.copytree(vocab.RESOURCES, resources)
    monkeypatch.setattr(vocab, "RESOURCES", resources)
    before = vocab.current_fingerprint()
    assert before == vocab.lexicon().fingerprint       # the package's own files, loaded unchanged
    (resources / "datadocs" / "VENDORED.md").write_text("edited", encoding="utf-8")
    assert vocab.current_fingerprint() == before
    for name in ("extract/fixed_terms.txt", "cues.tsv", "agency_suffixes.txt"):
        with open(resources / name, "a", encoding="utf-8") as f:
            f.write("一网统管\n")
        assert vocab.current_fingerprint() != before, name
        before = vocab.current_fingerprint()


def test_suites_explain_every_derived_column():
    """One check, one place: every column a suite reads is a schema column or a derived
    column made by one registered rule, and the expectation explains it in meta.derived."""
    from pipeline.quality import rules
    from pipeline.quality.suites import expectation_columns
    from pipeline.schema import TABLES, columns
    suites = load_suites()
    for table in TABLES:
        made = rules.derived_columns(table)
        for e in suites.expectations(table):
            derived = [c for c in expectation_columns(e["kwargs"]) if c not in columns(table)]
            assert set(derived) <= made, (table, e["meta"]["check"], derived)
            assert set(derived) == set(e["meta"].get("derived", {})), (table, e["meta"]["check"])


def test_suites_use_the_vocabulary():
    """The dimension set and numeral classes in facts.json are the vocabulary's."""
    suites = load_suites()
    by_check = {e["meta"]["check"]: e["kwargs"] for e in suites.expectations("facts")}
    assert set(by_check["facts.dimension_in_vocabulary"]["value_set"]) == vocab.dimensions()
    for check in ("facts.mention_has_numeral", "facts.mention_starts_the_number"):
        regex = by_check[check]["regex"]
        assert set(vocab.numeral_chars()) <= set(regex), (check, regex)


def test_fact_rules_share_one_string_per_cell():
    """Memory linear in the input: 10,000 figures in one cell once took 7.9 GB, each fact
    holding its own copy of the cell. Every fact of a cell now refers to one string
    (bench/bench_memory.py measures the curve)."""
    from pipeline.extract import extract
    from pipeline.quality import rules

    status = "".join(f"发放{i}万元，" for i in range(1, 2001))
    batch = rules.derive(mini("many_figures", status, extract(status)))
    cells = batch.facts.cell
    assert len(cells) == 2000 and cells[0] == status
    assert len({id(c) for c in cells}) == 1


def test_data_docs_escape_report_text(tmp_path):
    """A hostile lead unit and metric render as text in Data Docs, never as markup."""
    hostile = mini("hostile", "共发放10万元", [q("共发放10万元", "10万元", 100000, "元", "currency", metric="<plaintext>")],
                   units=("市民政局<b>x</b>", "<script>alert(1)</script>"))
    v, docs = validate_and_report(hostile, tmp_path)
    assert "tasks.lead_units_are_agencies" in {f.check for f in v.failures}
    pages = [p for p in (docs.parent / "validations").rglob("*.html")]
    text = "".join(p.read_text("utf-8") for p in pages)
    assert "&lt;b&gt;x&lt;/b&gt;" in text and "&lt;script&gt;" in text
    for page in pages:
        body = page.read_text("utf-8")
        assert "<b>x</b>" not in body and "<script>alert" not in body and "<plaintext>" not in body, page
        assert "&amp;lt;" not in body, page        # escaped once, not twice


@pytest.mark.parametrize("layout,flagged", [("prose", False), ("pipe", True), ("html", True)])
def test_lead_units_not_required_of_prose(tmp_path, layout, flagged):
    """A prose report (a news release) often names no lead unit: not an error there."""
    tables = mini(f"no_units_{layout}", "共发放10万元", [q("共发放10万元", "10万元", 100000, "元", "currency", metric="发放")],
                  units=(), layout=layout)
    v = validate(tables, out_dir=tmp_path)
    assert ("tasks.lead_units_present" in {f.check for f in v.failures}) is flagged
