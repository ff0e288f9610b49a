"""End-to-end batch benchmark: generate a corpus, time one `python -m pipeline run`.

    .venv/bin/python bench/bench_pipeline.py                  # 200 and 1,000 reports, --jobs 2
    .venv/bin/python bench/bench_pipeline.py --sizes 50 --jobs 1

The corpus varies the seed report's figures and wording (never its years or periods):
every figure is scaled and jittered, verbs swapped for synonyms, status clauses shuffled,
dropped or repeated, and the region in the title renamed; every file is distinct and keeps
the seed's layout. Each size is timed from process start to exit of one
`python -m pipeline run CORPUS --out EMPTY_DIR --jobs N` — imports, validation, Data Docs
and review pages included. The bench measures memory itself (the pipeline writes no
statistics): it polls the peak RSS (VmHWM in /proc/<pid>/status) of the run and of every
process under it while the run lasts, and takes wait4()'s ru_maxrss (the largest process
of the tree) as the overall peak.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
SEED = PROJECT / "raw" / "linyi_2021_01-09.txt"
CELL_END = " |"

TARGET_RATE = 20.0          # reports/s at 1,000 reports with --jobs 2
TARGET_RSS_GROWTH = 1.1     # peak RSS at 1,000 ≤ 1.1 × at 200

REGIONS = ["济南市", "青岛市", "淄博市", "枣庄市", "东营市", "烟台市", "潍坊市", "济宁市",
           "泰安市", "威海市", "日照市", "滨州市", "德州市", "聊城市", "菏泽市", "兰山区",
           "罗庄区", "河东区", "沂南县", "郯城县", "沂水县", "兰陵县", "费县", "平邑县",
           "莒南县", "蒙阴县", "临沭县"]

# Interchangeable wordings of the seed's verbs and connectives (first = seed's word).
SYNONYMS = [
    ["发放", "拨付", "兑付"],
    ["累计", "共计", "合计"],
    ["开工", "动工"],
    ["开展", "组织开展", "举办"],
    ["建成", "建设完成"],
    ["提供", "给予"],
    ["惠及", "覆盖"],
    ["推进", "推动"],
    ["实现", "达成"],
]

# An Arabic figure (whole number or decimal) not glued to another digit.
NUMBER = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)(?![\d.])")
CLAUSE = re.compile(r"(?<=[,，;；])")
CATEGORY = re.compile(r"^[一二三四五六七八九十]+、")
TITLE = re.compile(r"^(?P<region>.*?)(?P<rest>\d{4}年度.*)$")


def _protected(text: str, start: int, end: int) -> bool:
    """Figures that are not quantities: years, months and periods, ages, codes (4D+)."""
    before, after = text[start - 1:start], text[end:end + 1]
    number = text[start:end]
    if re.fullmatch(r"(19|20)\d\d", number):
        return True
    if after in ("月", "年", "岁", "-") or before == "-":
        return True
    return after.isascii() and after.isalpha()


def _perturb(number: str, factor: float, unit_after: str) -> str:
    decimals = len(number.split(".")[1]) if "." in number else 0
    value = float(number) * factor
    if unit_after == "%":
        value = min(value, 100.0)
    if unit_after in ("千", "百", "十"):           # 2万4千: the digit before 千 stays a digit
        return str(min(9, max(1, round(value))))
    text = f"{value:.{decimals}f}"
    if decimals == 0 and int(text) < 1:
        text = "1"
    return text


def _vary_figures(text: str, factor: float, rng: random.Random) -> str:
    """Scale every figure of a cell by one factor (the region's, jittered per cell), so a
    cell's figures keep their order: 由142元提高至150元 stays an increase."""
    factor *= rng.uniform(0.9, 1.1)

    def sub(m: re.Match) -> str:
        if _protected(m.string, m.start(), m.end()):
            return m.group()
        return _perturb(m.group(), factor, m.string[m.end():m.end() + 1])
    return NUMBER.sub(sub, text)


def _vary_wording(text: str, rng: random.Random) -> str:
    for group in SYNONYMS:
        if group[0] in text and rng.random() < 0.5:
            text = text.replace(group[0], rng.choice(group[1:]))
    clauses = [c for c in CLAUSE.split(text) if c]
    if len(clauses) >= 2:
        ends = clauses[-1][-1] if clauses[-1][-1] in ",，;；。" else ""
        body = [c.rstrip(",，;；") for c in clauses]
        roll = rng.random()
        if roll < 0.25:
            rng.shuffle(body)
        elif roll < 0.40:
            del body[rng.randrange(len(body))]
        elif roll < 0.55:
            i = rng.randrange(len(body))
            body.insert(i + 1, body[i])
        text = ",".join(body) + ends
    return text


def _cells(seed_text: str) -> list[tuple[str, str]]:
    """Each line of the seed → (role, cell text): title, header, category, number, task, status, lead."""
    lines = seed_text.split("\n")
    roles, expect = [], None
    for i, line in enumerate(lines):
        cell = line[:-len(CELL_END)] if line.endswith(CELL_END) else line
        if i == 0:
            role = "title"
        elif expect:
            role, expect = expect[0], expect[1:]
        elif CATEGORY.match(cell):
            role = "category"
        elif cell.strip().isdigit():
            role, expect = "number", ["task", "status", "lead"]
        else:
            role = "header"
        roles.append((role, cell))
    return roles


def generate(seed_text: str, index: int, *, seed: int = 0) -> str:
    """The ``index``-th variant of the seed report: same layout, other figures and wording."""
    rng = random.Random(f"{seed}:{index}")
    factor = rng.uniform(0.5, 2.0)             # the region's size, shared by its figures
    out = []
    for role, cell in _cells(seed_text):
        if role == "title":
            m = TITLE.match(cell)
            cell = rng.choice(REGIONS) + m["rest"] if m else cell
        elif role == "status":
            cell = _vary_wording(_vary_figures(cell, factor, rng), rng)
        elif role == "task" and rng.random() < 0.5:
            cell = _vary_figures(cell, factor, rng)
        out.append(cell + CELL_END)
    return "\n".join(out)


def write_corpus(folder: Path, n: int, *, seed: int = 0, seed_file: Path = SEED) -> list[Path]:
    """n distinct variants of the seed under ``folder`` (created)."""
    seed_text = seed_file.read_text(encoding="utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    seen = {hashlib.sha256(seed_text.encode()).hexdigest()}
    paths, index = [], 0
    while len(paths) < n:
        text = generate(seed_text, index, seed=seed)
        index += 1
        digest = hashlib.sha256(text.encode()).hexdigest()
        if digest in seen:                      # vanishingly rare; keep every file distinct
            continue
        seen.add(digest)
        path = folder / f"bench{len(paths):05d}_2021_01-09.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def _descendants(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [d for c in map(int, children) for d in (c, *_descendants(c))]


def _peak_rss_kib(pid: int) -> int:
    """A process's peak resident set so far (VmHWM), 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_pipeline(corpus: Path, out: Path, jobs: int, log: Path, *, poll_seconds: float = 0.1) -> dict:
    """Time one `python -m pipeline run` from process start to exit; its peak RSS,
    parent and largest worker apart, measured from outside the run."""
    cmd = [sys.executable, "-m", "pipeline", "run", str(corpus), "--out", str(out), "--jobs", str(jobs)]
    peaks: dict[int, int] = {}
    with open(log, "wb") as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=PROJECT, stdout=sink, stderr=subprocess.STDOUT)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            for p in (proc.pid, *_descendants(proc.pid)):
                peaks[p] = max(peaks.get(p, 0), _peak_rss_kib(p))
            time.sleep(poll_seconds)
        elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    parent = max(peaks.get(proc.pid, 0), 0)
    workers = [kib for p, kib in peaks.items() if p != proc.pid]
    if not parent:                               # no /proc: wait4 gives the largest process of the tree
        return {"seconds": elapsed, "status": proc.returncode, "parent_kib": usage.ru_maxrss,
                "worker_kib": 0, "rss_source": "wait4 (largest process)", "cmd": cmd}
    return {"seconds": elapsed, "status": proc.returncode, "parent_kib": parent,
            "worker_kib": max(workers, default=0), "tree_kib": usage.ru_maxrss,
            "rss_source": "/proc", "cmd": cmd}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="random seed of the corpus")
    parser.add_argument("--workdir", type=Path, help="keep corpora, outputs and logs here")
    args = parser.parse_args(argv)

    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_pipeline-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"python -m pipeline run CORPUS --out EMPTY_DIR --jobs {args.jobs}  "
          f"[{os.cpu_count()} CPUs, Python {platform.python_version()}, seed {SEED.name}]")
    print(f"{'reports':>8} {'wall s':>8} {'reports/s':>10} {'parent RSS MiB':>15} "
          f"{'largest worker MiB':>19} {'exit':>5}")
    results = {}
    try:
        for n in args.sizes:
            corpus, out = work / f"corpus-{n}", work / f"out-{n}"
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(corpus, ignore_errors=True)
            write_corpus(corpus, n, seed=args.seed)
            r = run_pipeline(corpus, out, args.jobs, work / f"run-{n}.log")
            results[n] = r
            print(f"{n:>8} {r['seconds']:>8.1f} {n / r['seconds']:>10.1f} "
                  f"{r['parent_kib'] / 1024:>15.0f} {r['worker_kib'] / 1024:>19.0f} {r['status']:>5}"
                  + ("" if r["rss_source"] == "/proc" else f"  (RSS: {r['rss_source']})"),
                  flush=True)
            if r["status"] not in (0, 1, 3):
                tail = (work / f"run-{n}.log").read_text(encoding="utf-8", errors="replace")[-2000:]
                print(f"run failed (exit {r['status']}); last output:\n{tail}", file=sys.stderr)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)

    if 1000 in results and args.jobs == 2:
        rate = 1000 / results[1000]["seconds"]
        print(f"target ≥ {TARGET_RATE:.0f} reports/s at 1,000 with --jobs 2: {rate:.1f} → "
              f"{'met' if rate >= TARGET_RATE else 'NOT met'}")
    if 200 in results and 1000 in results:
        for key, label in (("parent_kib", "parent"), ("worker_kib", "largest worker")):
            small, big = results[200][key], results[1000][key]
            if small:
                growth = big / small
                print(f"target {label} peak RSS at 1,000 ≤ {TARGET_RSS_GROWTH} × at 200: "
                      f"{growth:.2f}× → {'met' if growth <= TARGET_RSS_GROWTH else 'NOT met'}")
    return 0 if all(r["status"] in (0, 1, 3) for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
