"""Candidate measure words for pipeline/resources/extract/units.tsv, from jieba's dictionary.

usage: python bench/derive_units.py [--min-freq 5]

jieba tags classifiers and units ``q`` in its own dict.txt. This prints every ``q``
entry not yet in units.tsv or non_fact_units.txt, most frequent first, with a
suggested dimension (from how the unit is spelled) — for review, not for copying
blindly: jieba's ``q`` list also holds words that are not units (公元, 种种, 马里,
平儿 …) and units that clash with ordinary words after a numeral (方 as in 三方面,
里 as in 家里). The reviewed entries are kept in units.tsv as data; the grammar
never reads jieba's dictionary.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import jieba

from pipeline.vocab import lexicon

# Suggested dimension by the unit's spelling, most specific first.
SPELLINGS = [("平方", "area"), ("立方", "volume"), ("公顷", "area"), ("亩", "area"), ("升", "volume"),
             ("瓦时", "energy"), ("瓦小时", "energy"), ("卡", "energy"), ("瓦", "power"), ("伏", "power"),
             ("米", "length"), ("尺", "length"), ("里", "length"), ("克", "weight"), ("吨", "weight"),
             ("斤", "weight"), ("秒", "time"), ("钟", "time"), ("元", "currency"), ("镑", "currency")]


def suggest(word: str) -> str:
    return next((dim for part, dim in SPELLINGS if part in word), "count")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-freq", type=int, default=5)
    args = parser.parse_args()
    lex = lexicon()
    known = set(lex.units) | set(lex.non_fact_units)
    rows = []
    for line in (Path(jieba.__file__).parent / "dict.txt").read_text("utf-8").splitlines():
        word, freq, tag = line.split(" ")
        if tag == "q" and word not in known and int(freq) >= args.min_freq:
            rows.append((int(freq), word))
    for freq, word in sorted(rows, reverse=True):
        print(f"{word}\t{suggest(word)}\t# jieba q, freq {freq}")


if __name__ == "__main__":
    main()
