"""Series across runs: stored keys and context, cross-period checks, rewrites.

Generated series (tests/series_fixtures.py): four periods of the seed and of each held-out
text fixture, a task inserted in the third period, two reworded, one cumulative figure
lowered in the third period.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import series_fixtures as sf

import pipeline
from pipeline.series import context

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED = FIXTURES / "linyi_2021_01-09.txt"
BASES = [SEED, *sorted(p for d in ("heldout", "heldout2", "heldout3")
                       for p in (FIXTURES / d).iterdir() if p.suffix in (".txt", ".md") and p.name != "README.md")]
CROSS_PERIOD = ("facts.cumulative_not_falling", "progress.completion_not_falling", "reports.period_distinct")
STORED = {"tasks": ["task_key"], "facts": ["figure_key", "previous_value"],
          "reports": ["previous_report_id", "period_clash"], "progress": ["previous_completion_pct"]}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    raw = tmp_path_factory.mktemp("series_raw")
    periods = {}
    for base in BASES:
        stem = "_".join(base.stem.split("_")[:2])
        periods[stem] = sf.generate(base, stem)
        sf.write(periods[stem], raw)
    out = tmp_path_factory.mktemp("series_out")
    result = pipeline.run([raw], out=out, fail_on="never")
    assert not result.refused and not result.internal_errors
    return periods, out, result


def _failures(tables, check):
    rows = []
    for name, df in tables.items():
        for row in df[df.dq_failures.map(lambda f: check in f)].itertuples():
            rows.append((name, row.report_id, getattr(row, "task_no", None), getattr(row, "fact_no", None)))
    return rows


def _identities(periods, tables):
    """(series, base task, field, index in the cell) → {period: figure_key}: which figures
    are the same, from the generator, not from the keys."""
    facts = tables["facts"].sort_values(["report_id", "task_no", "field", "start"])
    facts = facts.assign(index=facts.groupby(["report_id", "task_no", "field"], observed=True).cumcount())
    by_report = {p.report_id: (stem, k, p) for stem, ps in periods.items() for k, p in enumerate(ps)}
    same: dict[tuple, dict[int, tuple[str, str]]] = {}
    for f in facts.itertuples():
        stem, k, period = by_report[f.report_id]
        origin = period.origin.get((int(f.task_no), f.field, f.index))
        if origin is not None:
            same.setdefault((stem, *origin), {})[k] = (f.figure_key, f.mention)
    return same


def test_a_figure_in_two_periods_keeps_its_key(generated):
    periods, out, _ = generated
    tables = pipeline.load(out)
    same = _identities(periods, tables)
    twice = {k: v for k, v in same.items() if len(v) >= 2}
    kept = [k for k, v in twice.items() if len({key for key, _ in v.values()}) == 1]
    share = len(kept) / len(twice)
    print(f"\nfigures in two or more periods: {len(twice)}; same figure_key in all: {len(kept)} ({share:.4f})")
    for k in sorted(set(twice) - set(kept))[:20]:
        print("  differs:", k, twice[k])
    assert len(twice) > 500
    assert share >= 0.98


def test_the_lowered_figure_is_flagged_and_nothing_else(generated):
    periods, out, result = generated
    tables = pipeline.load(out)
    facts = tables["facts"].sort_values(["report_id", "task_no", "field", "start"])
    facts = facts.assign(index=facts.groupby(["report_id", "task_no", "field"], observed=True).cumcount())
    lowered = {(p.report_id, *p.lowered) for ps in periods.values() for p in ps if p.lowered}
    assert len(lowered) == len(periods)          # one per series
    flagged = facts[facts.dq_failures.map(lambda f: "facts.cumulative_not_falling" in f)]
    assert {(r.report_id, int(r.task_no), r.field, r.index) for r in flagged.itertuples()} == lowered
    for check in CROSS_PERIOD[1:]:
        assert _failures(tables, check) == []
    # and it shows where every failure shows: the summary, the review page, the run index
    assert "facts.cumulative_not_falling" in result.summary
    for rid, *_ in lowered:
        assert "facts.cumulative_not_falling" in (out / "review" / f"{rid}.html").read_text("utf-8")
    assert "facts.cumulative_not_falling" in (out / "review" / "index.html").read_text("utf-8")


def test_stored_context_is_the_context_from_nothing(generated):
    _, out, _ = generated
    tables = pipeline.load(out)
    _assert_context_from_nothing(tables)


def _assert_context_from_nothing(tables):
    expected = context(tables)
    for name, columns in STORED.items():
        for column in columns:
            stored = tables[name][column].astype("object").where(tables[name][column].notna(), None)
            fresh = expected[column].astype("object").where(expected[column].notna(), None)
            pd.testing.assert_series_equal(stored.reset_index(drop=True), fresh.reset_index(drop=True),
                                           check_names=False, obj=f"{name}.{column}")


def test_the_review_page_lists_figures_with_their_change(generated):
    periods, out, _ = generated
    page = (out / "review" / f"{periods['linyi_2021'][1].report_id}.html").read_text("utf-8")
    assert '<ul class="figs">' in page and "→ <span class=\"m\">救助资金</span>" in page
    assert " since 1–3月</span>" in page
    first = (out / "review" / f"{periods['linyi_2021'][0].report_id}.html").read_text("utf-8")
    assert " since " not in first


# --------------------------------------------------------------------------- arrival order

@pytest.fixture(scope="module")
def seed_periods(tmp_path_factory):
    raw = tmp_path_factory.mktemp("seed_periods")
    return sf.write(sf.generate(SEED, "linyi_2021"), raw)


def _dq(tables):
    return {name: sorted((r, tuple(f)) for r, f in zip(df.report_id.astype(str), df.dq_failures) if f)
            for name, df in tables.items()}


@pytest.fixture(scope="module")
def one_run(seed_periods, tmp_path_factory):
    out = tmp_path_factory.mktemp("one_run")
    pipeline.run(seed_periods, out=out, fail_on="never")
    return pipeline.load(out)


ARRIVALS = {                      # runs, each a list of period indices (0 = 1-3月)
    "one-by-one": [[0], [1], [2], [3]],
    "reversed": [[3], [2], [1], [0]],
    "middle-last": [[0, 1, 3], [2]],
    "reversed-in-one-run": [[3, 2, 1, 0]],
}


@pytest.mark.parametrize("arrival", list(ARRIVALS), ids=list(ARRIVALS))
def test_stored_context_does_not_depend_on_arrival_order(arrival, seed_periods, one_run, tmp_path):
    out = tmp_path / "out"
    rewritten = []
    for batch in ARRIVALS[arrival]:
        before = {p.name: p.stat().st_mtime_ns for p in (out / "facts").glob("*.parquet")} if out.exists() else {}
        result = pipeline.run([seed_periods[i] for i in batch], out=out, fail_on="never")
        assert not result.internal_errors
        # a stored report earlier in the series than every new one is never rewritten
        first_new = min(batch)
        for i, path in enumerate(seed_periods):
            name = f"{path.stem}.parquet"
            if i < first_new and name in before:
                assert (out / "facts" / name).stat().st_mtime_ns == before[name], (arrival, path.stem)
        rewritten += result.rewritten
    tables = pipeline.load(out)
    _assert_context_from_nothing(tables)
    for name in STORED:
        pd.testing.assert_frame_equal(tables[name].drop(columns=["dq_passed"]).astype({"report_id": str}),
                                      one_run[name].drop(columns=["dq_passed"]).astype({"report_id": str}),
                                      obj=name)
    assert _dq(tables) == _dq(one_run)
    if arrival == "middle-last":
        # 1-12月 now follows 1-9月: its previous values change, 1-3月 and 1-6月 stay
        assert rewritten == [seed_periods[3].stem]


def test_a_kill_leaves_no_half_updated_series(seed_periods, tmp_path, monkeypatch):
    """A crash while the chunk and the rewritten reports move in: the folder still loads,
    as the run before it, and the next run completes the series."""
    import os

    out = tmp_path / "out"
    pipeline.run([seed_periods[i] for i in (0, 1, 3)], out=out, fail_on="never")
    before = pipeline.load(out)
    real, calls = os.replace, []

    def crash(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError("simulated crash")
        return real(src, dst)
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        pipeline.run([seed_periods[2]], out=out, fail_on="never")
    monkeypatch.setattr(os, "replace", real)
    try:
        after = pipeline.load(out)
    except pipeline.export.LoadError:
        after = None               # files moved without the manifest: load refuses to mix runs
    if after is not None:
        for name in STORED:
            assert len(after[name]) == len(before[name])
    pipeline.run(seed_periods, out=out, fail_on="never")
    _assert_context_from_nothing(pipeline.load(out))


def test_pruning_a_period_recomputes_the_reports_after_it(seed_periods, tmp_path):
    """--prune of a middle period: the next one's previous period becomes the one before."""
    raw = tmp_path / "raw"
    raw.mkdir()
    paths = [Path(shutil.copy(p, raw / p.name)) for p in seed_periods[:3]]
    out = tmp_path / "out"
    pipeline.run([raw], out=out, fail_on="never")
    paths[1].unlink()
    result = pipeline.run([raw], out=out, prune=True, fail_on="never")
    assert result.pruned == [paths[1].stem] and not result.internal_errors
    tables = pipeline.load(out)
    assert sorted(tables["reports"].report_id.astype(str)) == sorted([paths[0].stem, paths[2].stem])
    reports = tables["reports"].set_index(tables["reports"].report_id.astype(str))
    assert reports.loc[paths[2].stem, "previous_report_id"] == paths[0].stem
    _assert_context_from_nothing(tables)


# --------------------------------------------------------------------------- each check shows

def _repeat(periods):                  # a second report of 1-9月
    return [p.text for p in periods] + [periods[2].text]


def _overlap(periods):                 # 4-9月 after 1-6月
    return [periods[1].text, periods[2].text.replace("（1-9月）", "（4-9月）", 1)]


def _completion_falls(periods):        # the inserted task's completion ratio goes down
    later = periods[3].text.replace("完成年度任务的80%", "完成年度任务的30%", 1)
    assert later != periods[3].text
    return [periods[2].text, later]


@pytest.mark.parametrize(("check", "make", "table"), [
    ("reports.period_distinct", _repeat, "reports"),
    ("reports.period_distinct", _overlap, "reports"),
    ("progress.completion_not_falling", _completion_falls, "progress"),
], ids=["repeat", "overlap", "completion-falls"])
def test_each_cross_period_check_shows_everywhere(check, make, table, tmp_path):
    periods = sf.generate(SEED, "s", lower=False)
    raw = tmp_path / "raw"
    raw.mkdir()
    texts = make(periods)
    for i, text in enumerate(texts):
        (raw / f"s_{i}.txt").write_text(text, "utf-8")
    out = tmp_path / "out"
    result = pipeline.run([raw], out=out, fail_on="never")
    tables = pipeline.load(out)
    failed = {r for _, r, *_ in _failures(tables, check)}
    assert failed == {f"s_{len(texts) - 1}"}, failed          # on the later report only
    assert check in result.summary
    assert check in (out / "review" / f"s_{len(texts) - 1}.html").read_text("utf-8")
    assert check in (out / "review" / "index.html").read_text("utf-8")
    for other in set(CROSS_PERIOD) - {check}:
        assert _failures(tables, other) == []
    shutil.rmtree(out)
