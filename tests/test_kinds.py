"""What kind of amount a figure is (facts.kind): invented cells, one per rule of pipeline/kinds.py.

Each case is a cell, the cell it is (task or status), one of its figures and its kind.
"""
from __future__ import annotations

import pytest
from conftest import SEED

from pipeline.extract import extract
from pipeline.ingest import ingest
from pipeline.kinds import KINDS, kind_of

CASES = [
    # total: an amount done, counted or spent
    pytest.param("发放救助资金10.83亿元", "status", "10.83亿元", "total", id="total-money-spent"),
    pytest.param("新增就业2万人", "status", "2万人", "total", id="total-new-is-not-change"),
    pytest.param("计划改造140个，已开工128个", "status", "128个", "total", id="total-after-plan-clause"),
    pytest.param("累计为2.3万名老年人建立健康档案", "status", "2.3万名", "total", id="total-cumulative"),
    # per_unit: a composite unit, or a per-unit cue before the figure
    pytest.param("城乡低保标准达到650元/人/月", "status", "650元/人/月", "per_unit", id="per-unit-rate-unit"),
    pytest.param("由142元/人/月提高至150元/人/月", "status", "150元/人/月", "per_unit", id="per-unit-before-after"),
    pytest.param("城乡低保标准人均月增150元，发放救助资金10.83亿元", "status", "150元", "per_unit",
                 id="per-unit-wins-over-change"),
    pytest.param("每千人口拥有托位数4.62个", "status", "4.62个", "per_unit", id="per-unit-mei"),
    pytest.param("农村居民户均增收3000元", "status", "3000元", "per_unit", id="per-unit-household"),
    # change: extract's change, a percentage point, a comparison word ending the clause
    pytest.param("新增养老床位4869张，增长17.1%", "status", "17.1%", "change", id="change-growth-percent"),
    pytest.param("城镇登记失业率2.46%，同比下降0.3个百分点", "status", "0.3个百分点", "change",
                 id="change-percentage-point"),
    pytest.param("财政收入比上年增加3.2亿元", "status", "3.2亿元", "change", id="change-money"),
    pytest.param("养老金标准提高10%", "task", "10%", "change", id="change-in-task-cell"),
    # share: a rate or ratio that is not a change
    pytest.param("城镇登记失业率2.46%，同比下降0.3个百分点", "status", "2.46%", "share", id="share-rate"),
    pytest.param("财政资金占比40%", "status", "40%", "share", id="share-proportion"),
    pytest.param("完成投资3.1亿元，为年度任务的116%", "status", "116%", "share", id="share-completion-ratio"),
    pytest.param("计划改造140个，已开工128个，开工率91.4%", "status", "91.4%", "share", id="share-completion-rate"),
    pytest.param("由50%提高至60%", "status", "60%", "share", id="share-level-after-change"),
    pytest.param("义务教育巩固率达到98%", "task", "98%", "share", id="share-in-task-cell"),
    # target: the task cell, or a plan clause
    pytest.param("新建养老床位2000张", "task", "2000张", "target", id="target-task-cell"),
    pytest.param("计划改造140个，已开工128个", "status", "140个", "target", id="target-plan-clause"),
    pytest.param("年度目标(80场)的75%", "status", "80场", "target", id="target-plan-in-brackets"),
    pytest.param("项目总投资5.6亿元，完成投资3.1亿元", "status", "5.6亿元", "target", id="target-plan-total"),
    pytest.param("项目总投资5.6亿元，完成投资3.1亿元", "status", "3.1亿元", "total", id="total-after-plan-total"),
    pytest.param("力争新增学位2.1万个", "status", "2.1万个", "target", id="target-forecast"),
    pytest.param("年度計劃改造140個", "status", "140個", "target", id="target-traditional"),
]


@pytest.mark.parametrize(("cell", "field", "mention", "kind"), CASES)
def test_kind(cell, field, mention, kind):
    quantities = [q for q in extract(cell) if q.mention == mention]
    assert quantities, f"extract found no {mention} in {cell}"
    assert kind_of(quantities[0], cell, field) == kind


def test_every_figure_of_the_seed_has_a_known_kind():
    report = ingest(SEED)
    kinds = set()
    for task in report.tasks:
        for field in ("task", "status"):
            cell = getattr(task, field)
            kinds.update(kind_of(q, cell, field) for q in extract(cell))
    assert kinds <= set(KINDS)
    assert {"total", "target", "share"} <= kinds
