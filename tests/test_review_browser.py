"""The review page and the Data Docs index render in headless Chromium, offline.

Skipped (with the reason) where the Debian package chromium is not installed.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

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
    from test_validate import _share
    from validate_fixtures import validate_and_report
    out = tmp_path_factory.mktemp("out")
    v, docs = validate_and_report(concat(seed_tables(), _share(181.8, rid="broken_share")), out)
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
