"""docs/analysis.ipynb runs, top to bottom, on the shipped report plus a generated second
period of it, and draws every chart; its parameters resolve as documented.

Executed with nbclient in an ipykernel of this interpreter (matplotlib renders through the
inline backend, i.e. Agg), against a folder the pipeline wrote in tmp.
"""
from __future__ import annotations

import base64
import json
import os
import re
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

import pipeline

PROJECT = Path(__file__).resolve().parent.parent
NOTEBOOK = PROJECT / "docs" / "analysis.ipynb"
SEED = PROJECT / "raw" / "linyi_2021_01-09.txt"
ENV = "MINSHENG_PROCESSED"

# An Arabic figure not glued to another digit, not a percentage, month or period bound (1-9月)
_FIGURE = re.compile(r"(?<![\d.\-])(\d+(?:\.\d+)?)(?![\d.%\-])(?!月)(?!个百分点)")


def full_year(text: str, factor: float = 12 / 9) -> str:
    """The seed as its 1-12月 report: the period in the title, header and status cells
    moved to December, every count and amount of the status cells scaled up (rates,
    periods and task cells unchanged). A figure's own earlier period (1-8月份) stays."""
    lines = text.split("\n")
    status = {i + 2 for i, line in enumerate(lines) if re.fullmatch(r"\d+ \|", line)}   # no, task, status

    def scaled(m: re.Match) -> str:
        decimals = len(m.group(1).partition(".")[2])
        return f"{float(m.group(1)) * factor:.{decimals}f}"

    out = []
    for i, line in enumerate(lines):
        if i in status:
            line = _FIGURE.sub(scaled, line)
        if i in status or i < 6:           # the title and the header's 1-9月份工作情况
            line = line.replace("1-9月", "1-12月")
        out.append(line)
    return "\n".join(out)


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    seed = SEED.read_text("utf-8")
    (raw / SEED.name).write_text(seed, "utf-8")
    (raw / "linyi_2021_01-12.txt").write_text(full_year(seed), "utf-8")
    out = tmp_path_factory.mktemp("processed")
    result = pipeline.run([raw], out=out, fail_on="never")
    assert sorted(result.processed) == ["linyi_2021_01-09", "linyi_2021_01-12"]
    return out


def _kernel_env(monkeypatch, processed: Path | None) -> None:
    # the kernel imports this checkout's pipeline, whatever is installed
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    if processed is None:
        monkeypatch.delenv(ENV, raising=False)
    else:
        monkeypatch.setenv(ENV, str(processed))


def _execute(nb, upto: int | None = None):
    if upto is not None:
        nb.cells = nb.cells[:upto]
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    return nb


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream"
                   and o.get("name") == "stdout")


def _parameters_at(nb) -> int:
    at = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(at) == 1, "one cell tagged parameters (papermill's convention)"
    return at[0]


def _setup_end(nb) -> int:
    """Index after the cell that resolves the processed folder."""
    return next(i for i, c in enumerate(nb.cells) if "processed folder:" in c.source) + 1


@pytest.fixture(scope="module")
def executed(processed, tmp_path_factory):
    """The notebook run on the two periods, with a probe cell reading the over-periods
    chart back from the kernel."""
    with pytest.MonkeyPatch.context() as mp:
        _kernel_env(mp, processed)
        nb = nbformat.read(NOTEBOOK, as_version=4)
        probe = nbformat.v4.new_code_cell(
            "import json\n"
            "print(json.dumps({'periods': sorted({float(x) for ax in periods_fig.axes for line in ax.get_lines()\n"
            "                                    for x in line.get_xdata()}),\n"
            "                  'lines': sum(len(ax.get_lines()) for ax in periods_fig.axes),\n"
            "                  'figures': len(over_periods), 'task_key': task_key,\n"
            "                  'money': money_by_category.sum().to_dict()}, ensure_ascii=False))")
        nb.cells.append(probe)
        started = time.monotonic()
        _execute(nb)
        seconds = time.monotonic() - started
    return nb, json.loads(_stdout(nb.cells[-1])), seconds


def test_notebook_runs_and_draws_every_chart(executed):
    nb, _, seconds = executed
    assert seconds < 60
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    charts = [c for c in nb.cells if "chart" in c.metadata.get("tags", [])]
    assert len(charts) == 3        # money by category, behind schedule, one task over periods
    for cell in charts:
        images = [o["data"]["image/png"] for o in cell.outputs if "image/png" in o.get("data", {})]
        assert len(images) == 1, cell.source[:80]
        assert base64.b64decode(images[0])[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_over_periods_chart_has_both_periods(executed, processed):
    _, probe, _ = executed
    assert probe["periods"] == [9.0, 12.0]
    # every figure of the task followed is drawn, one line each, and it is a task of the data
    assert probe["lines"] == probe["figures"] > 1
    v = pipeline.facts_view(processed)
    assert probe["task_key"] in set(v.task_key)
    assert v[v.task_key == probe["task_key"]].figure_key.nunique() == probe["figures"]


def test_money_by_category_sums_totals_of_each_report(executed, processed):
    """The generated year scales every amount of the status cells by 12/9: the full year's
    money is 4/3 of the nine months' (within rounding), so the sum kept one report's totals
    per column and never mixed the two reports."""
    _, probe, _ = executed
    money = probe["money"]
    assert set(money) == {"临沂市2021 1-9月", "临沂市2021 1-12月"}
    assert money["临沂市2021 1-12月"] == pytest.approx(money["临沂市2021 1-9月"] * 12 / 9, rel=0.01)
    # only totals: the per-person amount 人均月增150元 is not in it
    v = pipeline.facts_view(processed)
    seed = v[(v.report_id == "linyi_2021_01-09") & (v.unit == "元") & (v.field == "status")]
    assert (seed.kind == "per_unit").any()
    assert money["临沂市2021 1-9月"] * 1e4 == pytest.approx(seed[seed.kind == "total"].value.sum())
    assert money["临沂市2021 1-9月"] * 1e4 < seed.value.sum()


@pytest.mark.parametrize("how", ["parameter", "environment", "default"])
def test_the_processed_folder_comes_from_a_parameter_the_environment_or_the_project(how, processed, monkeypatch):
    _kernel_env(monkeypatch, processed if how == "environment" else None)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    if how == "parameter":        # what papermill -p processed DIR does: a cell after the parameters
        nb.cells.insert(_parameters_at(nb) + 1, nbformat.v4.new_code_cell(f"processed = {str(processed)!r}"))
    nb = _execute(nb, upto=_setup_end(nb))
    expected = PROJECT / "processed" if how == "default" else processed
    assert f"processed folder: {expected}\n" in _stdout(nb.cells[-1])


def test_a_folder_without_reports_stops_with_a_message(tmp_path, monkeypatch):
    _kernel_env(monkeypatch, tmp_path)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    load_cell = next(i for i, c in enumerate(nb.cells) if "pipeline.load(" in c.source)
    with pytest.raises(CellExecutionError) as failed:
        _execute(nb, upto=load_cell + 1)
    assert f"no reports in {tmp_path}: run `make run`" in str(failed.value)
    assert "Traceback" not in str(failed.value)
