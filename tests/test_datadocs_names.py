"""Data Docs say which report and series a validation run is, and which report, task and
figure each unexpected row is (GX's unexpected_index_column_names), with report text
escaped."""
from __future__ import annotations

import html
import re

import pytest

from pipeline.quality import run_name
from test_validate import _share, mini, q
from validate_fixtures import concat, seed_tables, validate_and_report

SEED = "linyi_2021_01-09"
LINYI = "临沂市|2021|临沂市2021年度20项重点民生实事推进情况表"


@pytest.mark.parametrize("ids, series, expected", [
    ([SEED], {SEED: LINYI}, f"{SEED}__临沂市_2021_临沂市2021年度20项重点民生实事推进情况表"),
    ([SEED, "linyi_2021_01-12"], {SEED: LINYI, "linyi_2021_01-12": LINYI},
     f"{SEED}..linyi_2021_01-12__2-reports__临沂市_2021_临沂市2021年度20项重点民生实事推进情况表"),
    (["a", "b", "c"], {"a": "x|2021|p", "b": "y|2021|p", "c": "x|2021|p"}, "a..c__3-reports__2-series"),
    (["r"], {"r": "某市|2021|<script>alert(1)</script>/../#?计划"}, "r__某市_2021_script_alert_1_script_.._计划"),
    (["r"], {}, "r__no-series"),
], ids=["one", "series", "two-series", "hostile", "no-series"])
def test_run_name_says_which_reports_and_series(ids, series, expected):
    assert run_name(ids, series) == expected


def test_a_long_run_name_is_cut_to_a_folder_name():
    name = run_name(["r"], {"r": "某市|2021|" + "民生实事" * 100})
    assert len(name.encode()) <= 200 and name.startswith("r__某市_2021_民生实事")


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    v, index = validate_and_report(concat(seed_tables(), _share(181.8, rid="broken_share")), out)
    return v, index


def test_runs_are_named_by_their_reports_and_series(docs):
    v, index = docs
    assert v.run_name == f"{SEED}..broken_share__2-reports__2-series"
    runs = {p.name for p in (index.parent / "validations").glob("*/*")}
    assert runs == {v.run_name}
    assert v.run_name in index.read_text("utf-8")


def test_unexpected_rows_say_their_report_task_and_figure(docs):
    v, index = docs
    failure = next(f for f in v.failures if f.check == "facts.share_within_0_100")
    page = next((index.parent / "validations" / "facts").rglob("*.html")).read_text("utf-8")
    # the table of unexpected rows: the value, its count, then the key columns
    block = page[page.index("Unexpected Value"):]
    block = block[:block.index("</table>")]
    heads = [html.unescape(h) for h in re.findall(r"<th[^>]*>\s*(.*?)\s*</th>", block, flags=re.S)]
    assert {"report_id", "task_no", "fact_no"} <= set(heads)
    cells = [re.sub(r"<[^>]+>|\s+", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", block, flags=re.S)]
    assert failure.report_id in cells and str(failure.task_no) in cells and str(failure.fact_no) in cells


def test_key_columns_and_run_names_stay_escaped(tmp_path):
    title = "<script>alert(1)</script>某市2021年度10项民生实事推进情况表(1-6月份)"
    hostile = mini("hostile", "共发放10万元", [q("共发放10万元", "10万元", 100000, "元", "currency", metric="<plaintext>")],
                   units=("市民政局<b>x</b>",), title=title)
    v, index = validate_and_report(hostile, tmp_path)
    assert "<" not in v.run_name and "script" in v.run_name
    for page in [index, *(index.parent / "validations").rglob("*.html")]:
        body = page.read_text("utf-8")
        assert "<script>alert" not in body and "<b>x</b>" not in body and "<plaintext>" not in body, page
