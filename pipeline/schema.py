"""The one Arrow schema of each output table, with a bilingual description per field.

It is the single source of the Parquet files, of `pipeline.load`'s dtypes and of
docs/schema.md. Categorical strings are dictionary-encoded.
"""
from __future__ import annotations

from functools import cache

import pyarrow as pa

DICT = pa.dictionary(pa.int32(), pa.string())

# (name, type, nullable, 中文说明, English description, example)
_COMMON = [
    ("report_id", DICT, False, "报告编号（原始文件名去扩展名）", "report id: the raw file's stem", "linyi_2021_01-09"),
    ("source_file", DICT, False, "原始文件名", "raw file name", "linyi_2021_01-09.txt"),
]
_DQ = [
    ("dq_passed", pa.bool_(), False, "是否通过全部数据质量检查", "true when the row passed every data-quality check", "true"),
    ("dq_failures", pa.list_(pa.string()), False, "未通过的检查名称", "names of the checks the row failed", "[]"),
]

FIELDS: dict[str, list[tuple]] = {
    "reports": _COMMON + [
        ("title", pa.string(), False, "报告标题", "report title as written", "临沂市2021年度20项重点民生实事推进情况表(1-9月份)"),
        ("series_id", pa.string(), False, "系列编号：地区|年度|去掉统计期的标题（同一计划各期报告相同）",
         "series: region|year|title without its period — the same for every period's report of one plan", "临沂市|2021|临沂市2021年度20项重点民生实事推进情况表"),
        ("previous_report_id", pa.string(), True, "同一系列中的上一期报告（统计期截止月更早的最近一期）",
         "the report before this one in its series: the nearest strictly earlier period end (pipeline.series); null for the first period", "linyi_2021_01-06"),
        ("period_clash", pa.string(), True, "与本系列更早报告的统计期重复（截止月相同）或交叉（起始月不同且相交）",
         "the earlier report of the series whose period this one repeats (same end) or overlaps (intersects with another start); null when none", "repeats linyi_2021_01-09b (1–9月)"),
        ("region", DICT, True, "地区", "region named in the title", "临沂市"),
        ("year", pa.int16(), True, "年度", "year of the report", "2021"),
        ("period_start_month", pa.int8(), True, "统计期起始月", "first month of the reporting period", "1"),
        ("period_end_month", pa.int8(), True, "统计期截止月", "last month of the reporting period", "9"),
        ("declared_items", pa.int16(), True, "标题声明的事项数", "item count declared in the title (20项), null if none", "20"),
        ("n_categories", pa.int16(), False, "类别数", "number of categories found", "20"),
        ("n_tasks", pa.int16(), False, "任务数", "number of tasks found", "59"),
        ("n_facts", pa.int32(), False, "数值事实数", "number of quantity facts extracted", "120"),
        ("encoding", DICT, False, "检测到的文件编码", "detected text encoding of the raw file", "utf-8"),
        ("layout", DICT, False, "读取格式：pipe 竖线表格 / markdown / html 网页 / docx / xlsx / prose 分段文字",
         "reader used: pipe, markdown, html, docx, xlsx or prose (numbered paragraphs, no table)", "pipe"),
        ("sha256", pa.string(), False, "原始文件SHA-256", "sha256 of the raw file bytes", "9f2c…"),
    ] + _DQ,
    "tasks": _COMMON + [
        ("category_no", pa.int16(), False, "类别序号", "category number (一 → 1)", "1"),
        ("category", pa.string(), False, "类别名称", "category name", "加强特殊困难群体关爱服务保障"),
        ("task_no", pa.int16(), False, "任务编号", "task number (编号)", "1"),
        ("task_key", pa.string(), False, "任务键：同一系列各期报告中同一任务相同（按编号和任务文字匹配）",
         "the task's key, the same in every report of its series (matched by number and task text: pipeline.series)", "临沂市|2021|…#09-1"),
        ("task", pa.string(), False, "工作任务（原文）", "task text as written (often a target)", "提高困难群众救助保障水平"),
        ("status", pa.string(), False, "工作情况（原文）", "status / progress text as written", "…发放救助资金10.83亿元"),
        ("lead_units", pa.list_(pa.string()), False, "牵头单位列表", "lead units", "['市民政局']"),
        ("line_start", pa.int32(), False, "原文起始行号", "first source line of the row", "12"),
        ("line_end", pa.int32(), False, "原文结束行号", "last source line of the row", "15"),
    ] + _DQ,
    "facts": _COMMON + [
        ("fact_no", pa.int32(), False, "事实序号（报告内）", "fact number within the report, 1-based", "1"),
        ("figure_key", pa.string(), False, "数值键：任务键|所在单元格|指标|单位|序号，同一数值各期相同",
         "task_key|field|metric|unit|n: the same figure of the same task in every period of the series", "临沂市|2021|…#09-1|status|救助资金|元|0"),
        ("category_no", pa.int16(), False, "类别序号", "category number", "1"),
        ("task_no", pa.int16(), False, "任务编号", "task number", "1"),
        ("field", DICT, False, "所在单元格：task 工作任务 / status 工作情况", "cell the figure is in: task or status", "status"),
        ("mention", pa.string(), False, "数值原文", "the exact text of the figure", "10.83亿元"),
        ("start", pa.int32(), False, "在单元格中的起始位置", "start offset in the cell text", "63"),
        ("end", pa.int32(), False, "在单元格中的结束位置", "end offset in the cell text (text[start:end] == mention)", "70"),
        ("value", pa.float64(), False, "以基本单位计的数值（区间取下限）", "value in base units; low end of a range", "1083000000.0"),
        ("value_high", pa.float64(), True, "区间上限", "high end of a range, else null", "null"),
        ("previous_value", pa.float64(), True, "上一期报告中同一数值键的数值",
         "the value of the same figure_key in the report before this one in its series (reports.previous_report_id), else null", "980000000.0"),
        ("unit", DICT, False, "单位（去掉万、亿等量级）", "unit as written, magnitude removed; '' for a bare number", "元"),
        ("approx", DICT, True, "约数标记：more_than 超过 / less_than 不足 / about 约", "approximation: more_than, less_than, about or null", "more_than"),
        ("dimension", DICT, False, "量纲", "dimension: currency, count, percent, …", "currency"),
        ("kind", DICT, False, "数值类型：total 总量 / per_unit 人均等单位量 / change 增减量 / share 比率 / target 目标（计划数）",
         "what kind of amount: total, per_unit (人均, 元/人/月), change (增长…), share (a rate or ratio) or target (a planned amount); sum only like with like", "total"),
        ("metric", pa.string(), True, "所度量的指标（单元格原文子串）", "what the figure measures: a substring of the cell", "救助资金"),
        ("metric_start", pa.int32(), True, "指标在单元格中的起始位置", "start offset of the metric in the cell text", "56"),
        ("change", DICT, True, "变化方向：increase 增加 / decrease 减少", "increase or decrease where the figure is a change", "increase"),
        ("change_role", DICT, True, "由…提高至…中的前值/后值", "before or after in a 由…提高至… change", "after"),
        ("change_group", pa.int32(), True, "前后值配对编号（报告内）", "id shared by a before/after pair within the report", "1"),
        ("period_start_month", pa.int8(), True, "数值所属统计期起始月", "first month of the period the figure covers", "1"),
        ("period_end_month", pa.int8(), True, "数值所属统计期截止月", "last month of the period the figure covers", "9"),
    ] + _DQ,
    "progress": _COMMON + [
        ("progress_no", pa.int32(), False, "进度记录序号（报告内）", "progress record number within the report, 1-based", "1"),
        ("category_no", pa.int16(), False, "类别序号", "category number", "15"),
        ("task_no", pa.int16(), False, "任务编号（记录所在行）", "task number of the row the record is written in", "42"),
        ("scope", DICT, False, "范围：task 本项任务 / category 整个类别", "what the record is about: the task, or its whole category (本类实事整体完成率)", "task"),
        ("metric", pa.string(), True, "所度量的指标（完成数，否则目标数、完成比例的指标）", "what is measured: the achieved figure's metric, else the target's, else the ratio's", "农村地区清洁取暖建设"),
        ("unit", DICT, False, "单位（完成数，否则目标数、比例的单位）", "unit of the achieved figure, else of the target, else of the ratio", "户"),
        ("dimension", DICT, False, "量纲", "dimension of that figure", "count"),
        ("achieved_fact_no", pa.int32(), True, "完成数所在事实序号（facts.fact_no）", "fact_no of the achieved figure (已完成120条), else null", "88"),
        ("target_fact_no", pa.int32(), True, "目标数所在事实序号", "fact_no of the written target (126条…, 年度目标(50场), a task-cell target), else null", "null"),
        ("ratio_fact_no", pa.int32(), True, "完成比例所在事实序号", "fact_no of the stated completion ratio (开工率98.5%, 为年度任务的110%), else null", "89"),
        ("achieved_value", pa.float64(), True, "完成数（基本单位）", "achieved value in base units", "147900.0"),
        ("target_value", pa.float64(), True, "目标数（基本单位；写明或推算）", "target value in base units: written, or implied as achieved / ratio", "150152.28"),
        ("target_basis", DICT, True, "目标来源：stated 写明 / implied 由完成数÷比例推算", "stated (written) or implied (achieved / ratio); null without a target", "implied"),
        ("stated_pct", pa.float64(), True, "报告写明的完成比例（%）", "completion ratio as written, in percent (三成 → 30)", "98.5"),
        ("computed_pct", pa.float64(), True, "按完成数÷目标数计算的完成比例（%）", "100 · achieved / target where both are written", "null"),
        ("completion_pct", pa.float64(), True, "完成比例（%）：写明的优先，否则计算值", "completion in percent: stated, else computed", "98.5"),
        ("previous_completion_pct", pa.float64(), True, "上一期报告中同一记录的完成比例（%）（按完成数、否则完成比例的数值键匹配）",
         "completion_pct of the same record in the report before this one (keyed by the figure_key of its achieved fact, else of its ratio fact), else null", "80.0"),
        ("expected_pct", pa.float64(), True, "按时间进度应完成的比例（%）：年度计划1-9月为75", "share of the plan's period elapsed at the period end (annual plan at 1–9月 → 75)", "75.0"),
        ("status", DICT, False, "进度状态：done 已完成 / ahead 超前 / on_track 正常 / behind 滞后 / unknown 未知", "done (≥100%), ahead (≥ expected + 10), on_track (within 10 points), behind (< expected − 10), unknown", "ahead"),
        ("period_start_month", pa.int8(), True, "统计期起始月", "first month of the period the record covers", "1"),
        ("period_end_month", pa.int8(), True, "统计期截止月", "last month of the period the record covers", "9"),
    ] + _DQ,
}

TABLES = tuple(FIELDS)


@cache
def schema(table: str) -> pa.Schema:
    """The Arrow schema of one output table, descriptions in each field's metadata."""
    return pa.schema([
        pa.field(name, typ, nullable=nullable, metadata={
            "description_zh": zh, "description_en": en, "example": example})
        for name, typ, nullable, zh, en, example in FIELDS[table]
    ])


def columns(table: str) -> list[str]:
    return [f[0] for f in FIELDS[table]]
