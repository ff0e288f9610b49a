"""Write extract's predictions for a cells file as the JSONL facts score.py reads.

usage: python bench/score_seed.py CELLS.jsonl OUT.jsonl
then:  python <score.py> OUT.jsonl GOLD.jsonl --show-errors 50
"""
from __future__ import annotations

import json
import sys

from pipeline.extract import extract


def predictions(cells_path: str) -> list[dict]:
    rows = []
    with open(cells_path, encoding="utf-8") as cells:
        for line in cells:
            if not line.strip():
                continue
            cell = json.loads(line)
            for q in extract(cell["text"]):
                rows.append({"doc": cell["doc"], "task_no": cell["task_no"], "field": cell["field"],
                             "mention": q.mention, "start": q.start, "value": q.value,
                             "unit": q.unit, "approx": q.approx, "metric": q.metric})
    return rows


def main(argv: list[str] | None = None) -> int:
    cells_path, out_path = (argv if argv is not None else sys.argv[1:])
    with open(out_path, "w", encoding="utf-8") as out:
        for row in predictions(cells_path):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
