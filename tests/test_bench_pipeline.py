"""The benchmark's corpus generator: distinct files that keep the seed's layout."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_pipeline.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_pipeline", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus(bench, tmp_path_factory):
    return bench.write_corpus(tmp_path_factory.mktemp("corpus"), 30)


def test_files_are_distinct_and_differ_from_the_seed(bench, corpus):
    seed = bench.SEED.read_text(encoding="utf-8")
    texts = [p.read_text(encoding="utf-8") for p in corpus]
    assert len(set(texts)) == len(texts) == 30
    assert seed not in texts
    assert len({p.name for p in corpus}) == 30 and all(p.suffix == ".txt" for p in corpus)


def test_every_file_keeps_the_seeds_layout(bench, corpus):
    seed_cells = bench._cells(bench.SEED.read_text(encoding="utf-8"))
    for path in corpus:
        text = path.read_text(encoding="utf-8")
        lines = text.split("\n")
        assert len(lines) == len(seed_cells) and all(line.endswith(" |") for line in lines)
        cells = bench._cells(text)
        assert [role for role, _ in cells] == [role for role, _ in seed_cells]
        for (role, cell), (_, seed_cell) in zip(cells, seed_cells):
            if role in ("header", "category", "number", "lead"):
                assert cell == seed_cell
            if role == "title":
                assert cell.endswith("2021年度20项重点民生实事推进情况表(1-9月份)")
            assert cell.strip() and "|" not in cell and "\n" not in cell


def test_years_and_periods_are_never_changed(bench, corpus):
    seed = bench.SEED.read_text(encoding="utf-8")
    allowed_years = set(re.findall(r"(?:19|20)\d\d", seed))
    allowed_periods = set(re.findall(r"\d+-\d+月", seed))
    for path in corpus:
        text = path.read_text(encoding="utf-8")
        assert set(re.findall(r"(?:19|20)\d\d年", text)) <= {y + "年" for y in allowed_years}
        assert set(re.findall(r"\d+-\d+月", text)) <= allowed_periods


def test_figures_and_wording_vary(bench, corpus):
    seed = bench.SEED.read_text(encoding="utf-8")
    texts = [p.read_text(encoding="utf-8") for p in corpus]
    assert sum("10.83亿元" not in t for t in texts) >= 25           # figures scaled
    assert any(w in t for t in texts for w in ("拨付", "兑付", "共计", "动工"))   # synonyms
    assert len({t.split("\n")[0] for t in texts}) > 5                # regions renamed
    assert all(t != seed for t in texts)


def test_generation_is_reproducible(bench):
    seed = bench.SEED.read_text(encoding="utf-8")
    assert bench.generate(seed, 7) == bench.generate(seed, 7)
    assert bench.generate(seed, 7) != bench.generate(seed, 7, seed=1)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_the_bench_measures_memory_from_outside_the_run(bench):
    """No statistics file from the pipeline: the bench reads VmHWM of the process tree."""
    import os
    import subprocess
    import sys
    import time

    child = subprocess.Popen([sys.executable, "-c", "import time; x = bytearray(64 << 20); time.sleep(5)"])
    try:
        deadline = time.monotonic() + 10
        while bench._peak_rss_kib(child.pid) < 64 << 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert bench._peak_rss_kib(child.pid) >= 64 << 10
        assert child.pid in bench._descendants(os.getpid())
    finally:
        child.kill()
        child.wait()
    assert bench._peak_rss_kib(child.pid) == 0
    assert "run_stats" not in BENCH.read_text(encoding="utf-8")
