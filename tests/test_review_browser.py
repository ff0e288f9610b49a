"""The review page and the Data Docs index render in headless Chromium, offline.

Skipped (with the reason) where the Debian package chromium is not installed.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.reporting import external_resources
from pipeline.schema import TABLES
from validate_fixtures import concat, seed_tables

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium; .ci/run installs it)")
SEED = "linyi_2021_01-09"


def chromium(tmp_path: Path, url: str, *extra: str) -> str:
    """Run headless Chromium on a file URL; the network namespace is cut where unshare allows."""
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
           "--virtual-time-budget=5000", *extra, url]
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        cmd = [unshare, "-n", *cmd]          # prove "offline": no network at all
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    from test_validate import _edit_progress_with, _share
    from validate_fixtures import validate_and_report
    out = tmp_path_factory.mktemp("out")
    disagreeing = _edit_progress_with("stated_pct", "broken_progress", lambda t, row: 50.0)
    v, docs = validate_and_report(concat(seed_tables(), _share(181.8, rid="broken_share"), disagreeing), out)
    return v, out


def test_review_page_shows_highlighted_and_failing_figures(validated, tmp_path):
    v, out = validated
    dom = chromium(tmp_path, (out / "review" / f"{SEED}.html").as_uri(), "--dump-dom")
    figures = re.findall(r'<mark class="fig" title="([^"]*)">([^<]*)</mark>', dom)
    assert len(figures) == 123
    assert ("value: 1,083,000,000 元 · dimension: currency · metric: 救助资金", "10.83亿元") in figures
    dom = chromium(tmp_path, (out / "review" / "broken_share.html").as_uri(), "--dump-dom")
    failed = re.findall(r'<mark class="fig failed" title="([^"]*)">([^<]*)</mark><sup class="chk">([^<]*)</sup>', dom)
    assert [(m, c) for _, m, c in failed] == [("81.8%", "facts.share_within_0_100")]
    assert "FAILED: facts.share_within_0_100" in failed[0][0]


def test_data_docs_index_lists_the_run_offline(validated, tmp_path):
    v, out = validated
    dom = chromium(tmp_path, (out / "validation" / "docs" / "index.html").as_uri(), "--dump-dom")
    # the rows exist only once bootstrap-table (vendored under static/vendor/) has run
    rows = re.findall(r'<tr class="clickable-row" data-href="([^"]+)" data-index="\d+">(.*?)</tr>', dom, flags=re.S)
    ours = {href.split("/")[1]: cells for href, cells in rows if v.run_name in href}
    assert set(ours) == set(TABLES)
    assert "ge-failed-icon" in ours["facts"]          # the broken share
    assert "ge-success-icon" in ours["tasks"]         # icons render from the vendored Font Awesome classes


def test_screenshot_of_review_page(validated, tmp_path):
    v, out = validated
    png = out / "review" / "broken_share.png"
    chromium(tmp_path, (out / "review" / "broken_share.html").as_uri(), f"--screenshot={png}",
             "--window-size=1400,900", "--hide-scrollbars")
    assert png.exists() and png.stat().st_size > 5000


def test_review_page_shows_progress_bars(validated, tmp_path):
    v, out = validated
    n_records = sum(1 for r in v.tables["progress"]["report_id"].to_pylist() if r == SEED)
    dom = chromium(tmp_path, (out / "review" / f"{SEED}.html").as_uri(), "--dump-dom")
    assert len(re.findall(r'<div class="pg [a-z_]+">', dom)) == n_records > 0
    assert re.search(r"progress: (<span class=\"st\">[a-z_]+</span>\d+ · )*<span class=\"st\">[a-z_]+</span>\d+ "
                     rf"of {n_records} record", dom)
    dom = chromium(tmp_path, (out / "review" / "broken_progress.html").as_uri(), "--dump-dom")
    failed = re.findall(r'<div class="pg [a-z_]+ failed">.*?</div></div>[^<]*<sup class="chk w">([^<]*)</sup>', dom)
    assert failed == ["progress.stated_matches_figures"]


def test_run_index_lists_every_report_newest_first(tmp_path):
    """The run's index page, opened offline: every report of the folder, the newest period
    first, hostile text shown as text."""
    import pipeline
    raw = tmp_path / "raw"
    raw.mkdir()
    seed = (Path(__file__).resolve().parent / "fixtures" / "linyi_2021_01-09.txt").read_text("utf-8")
    (raw / "linyi_2021_01-09.txt").write_text(seed, "utf-8")
    title = seed.splitlines()[0]
    later = seed.replace(title, "<script>alert(1)</script>临沂市2023年度20项重点民生实事推进情况表(1-6月份) |", 1)
    (raw / "linyi_2023_01-06.txt").write_text(later, "utf-8")
    out = tmp_path / "out"
    pipeline.run([raw], out=out, fail_on="never")
    dom = chromium(tmp_path, (out / "review" / "index.html").as_uri(), "--dump-dom")
    rows = re.findall(r'<tr><td><a href="([^"]+)\.html">', dom)
    assert rows == ["linyi_2023_01-06", "linyi_2021_01-09"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom and "<script>alert" not in dom
    assert external_resources(out / "review" / "index.html") == []
