"""Memory and time against figures per cell: one report whose status cell holds N figures.

    .venv/bin/python bench/bench_memory.py                    # N = 1,000, 10,000, 50,000
    .venv/bin/python bench/bench_memory.py --figures 2000 20000
    .venv/bin/python bench/bench_memory.py --shape plan bracket rate   # other clause shapes

Each N is one `python -m pipeline run FILE --out EMPTY_DIR --fail-on never` in a fresh
process (imports, validation, Data Docs and the review page included), timed from start
to exit; peak RSS is the largest process of the run (wait4's ru_maxrss). Memory must grow
linearly with the input: the figure per 1,000 figures is printed.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


# The clause each figure of the cell is written in: shapes that make the extractor and the
# progress stage look back over earlier figures (plans waiting for their achievement,
# bracketed ratios, completion rates, bare counts) as well as the plain one.
SHAPES = {
    "plain": "发放{}万元，",
    "plan": "计划新建{}个，",
    "bracket": "建成{}个(5%)，",
    "rate": "完成率{}%，",
    "count": "{}个，",
}


def report(n: int, shape: str = "plain") -> str:
    """A one-task report whose status cell repeats one clause shape n times (发放1万元，
    发放2万元，…)."""
    cell = "".join(SHAPES[shape].format(i % 997 + 1) for i in range(n))
    cells = ["某市2021年度民生实事推进情况表(1-9月份)", "类别", "编号", "工作任务", "1-9月份工作情况", "牵头单位",
             "一、民生保障", "1", "发放补贴", cell, "市民政局"]
    return "".join(f"{c} |\n" for c in cells)


def run(n: int, folder: Path, shape: str) -> tuple[float, int]:
    raw = folder / f"figures_{shape}_{n}.txt"
    raw.write_text(report(n, shape), encoding="utf-8")
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "run", str(raw), "--out", str(folder / f"out_{shape}_{n}"),
                             "--fail-on", "never"], cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"run on {n} figures failed: {proc.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--figures", type=int, nargs="+", default=[1000, 10000, 50000])
    ap.add_argument("--shape", nargs="+", choices=list(SHAPES), default=["plain"])
    args = ap.parse_args()
    for shape in args.shape:
        print(f"{shape}: {SHAPES[shape]!r}")
        print(f"{'figures':>8} {'bytes':>9} {'seconds':>8} {'peak MiB':>9}")
        with tempfile.TemporaryDirectory() as d:
            rows = []
            for n in args.figures:
                seconds, rss = run(n, Path(d), shape)
                rows.append((n, rss))
                print(f"{n:>8} {len(report(n, shape).encode()):>9} {seconds:>8.1f} {rss / 1024:>9.0f}", flush=True)
        if len(rows) > 1:
            (n0, r0), (n1, r1) = rows[0], rows[-1]
            print(f"peak RSS grows {(r1 - r0) / 1024 / ((n1 - n0) / 1000):.2f} MiB per 1,000 figures")


if __name__ == "__main__":
    main()
