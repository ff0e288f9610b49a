"""Ingest time of the seed report as text against the same report as an HTML page,
a .docx and an .xlsx (rendered by tests/format_renderers.py, as the tests do).

    .venv/bin/python bench/bench_formats.py            # best of 5 rounds of 20 parses each
    .venv/bin/python bench/bench_formats.py --rounds 3 --repeat 10

Each figure is the best round's mean time of one `pipeline.ingest.parse(bytes, name)`
(imports and first-use costs excluded: one warm-up parse per format). Target: each
format within 50 ms of the text form.
"""
from __future__ import annotations

import argparse
import importlib.util
import platform
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
SEED = PROJECT / "raw" / "linyi_2021_01-09.txt"
TARGET_EXTRA_MS = 50.0


def _renderers():
    spec = importlib.util.spec_from_file_location("format_renderers", PROJECT / "tests" / "format_renderers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)

    from pipeline.ingest import ingest, parse
    renderers = _renderers()
    report = ingest(SEED)
    inputs = {"text": (SEED.read_bytes(), SEED.name)}
    for fmt, render in renderers.RENDERERS.items():
        inputs[fmt] = (render(report), SEED.stem + renderers.SUFFIXES[fmt])

    timings = {}
    for fmt, (data, name) in inputs.items():
        assert len(parse(data, name).tasks) == len(report.tasks)          # warm-up and check
        best = float("inf")
        for _ in range(args.rounds):
            start = time.perf_counter()
            for _ in range(args.repeat):
                parse(data, name)
            best = min(best, (time.perf_counter() - start) / args.repeat)
        timings[fmt] = best * 1000

    print(f"ingest of the seed ({len(report.tasks)} tasks), Python {platform.python_version()}, "
          f"best of {args.rounds} × {args.repeat}")
    failed = False
    for fmt, ms in timings.items():
        size = len(inputs[fmt][0])
        extra = ms - timings["text"]
        verdict = "" if fmt == "text" else (f"+{extra:6.1f} ms " + ("ok" if extra < TARGET_EXTRA_MS else "OVER TARGET"))
        failed |= fmt != "text" and extra >= TARGET_EXTRA_MS
        print(f"  {fmt:5} {size:>8,} bytes  {ms:7.1f} ms  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
