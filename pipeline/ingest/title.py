"""What a report's title says about it: region, year, period months, declared item count.

The grammar is built from the vocabulary (``pipeline/resources/title_words.tsv`` and
``periods.tsv`` through :mod:`pipeline.vocab`) and matched on the title with its
full-width digits made ASCII.
"""
from __future__ import annotations

import re
from functools import cache

from .. import vocab

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


@cache
def _grammar() -> dict[str, re.Pattern]:
    words = vocab.lexicon().title_words
    alt = vocab.alternation
    cn_number = f"[{vocab.numeral_chars('digit', financial=False)}{vocab.numeral_chars_worth(10, 100, financial=False)}]"
    not_in_region = alt([*words["not_in_region"], *words["counted"]])
    return {
        "year": re.compile(rf"(?<![0-9〇零○一二三四五六七八九])(?P<year>{vocab.YEAR})\s*年", re.X),
        # 20项  十件; 十大民生工程 (a measure word only before what it counts)
        "declared": re.compile(rf"""
            (?<![0-9]|{cn_number}) (?P<count>[0-9]{{1,3}}|{cn_number}{{1,4}}) \s*
            (?: {alt(words["declared_count"])} | (?:{alt(words["count_measure"])})? (?={alt(words["counted"])}) )
        """, re.X),
        "region": re.compile(rf"""
            \s* (?:关于|關於)? \s* (?:中共)? \s*                 # 关于临沂市…的通报   中共临沂市委
            (?:{vocab.YEAR} \s* 年度? \s*)?                      # 2021年临沂市…   2023年度重庆市…
            (?!{alt(words["generic_place"])})                     # not 全市, 本区 …
            (?P<region> (?:(?!{not_in_region})[^\W\d_]){{1,15}}? {alt(words["region_suffix"])} )   # 临沂市  重庆市万州区
            (?= {not_in_region} | {cn_number} | [\W\d_] | $ )     # …2021年  …重点  …十件
        """, re.X),
    }


def title_metadata(title: str) -> dict[str, object]:
    """region, year, period_start_month, period_end_month and declared_items of a title
    (each None where the title does not say)."""
    text = title.translate(_FULLWIDTH_DIGITS)
    g = _grammar()
    region = g["region"].match(text)
    year = g["year"].search(text)
    declared = g["declared"].search(text)
    months = _period(text)
    return {
        "region": region and title[region.start("region"):region.end("region")],
        "year": year and vocab.chinese_int(year["year"]),
        "period_start_month": months and months[0],
        "period_end_month": months and months[1],
        "declared_items": declared and vocab.chinese_int(declared["count"]),
    }


def _period(text: str) -> tuple[int, int] | None:
    """The title's period: a month range or 截至 wins over a named period (上半年), which
    wins over a whole-year word (全年, 年度) — 2021年度…(1-9月份) is 1–9."""
    whole_year = set(vocab.lexicon().title_words["whole_year"])
    found = {}
    for m, first, last in vocab.periods(text):
        kind = "named" if m["named"] else "numeric"
        if kind == "named" and m["named"] in whole_year:
            kind = "whole_year"
        found.setdefault(kind, (first, last))
    for kind in ("numeric", "named", "whole_year"):
        if kind in found:
            return found[kind]
    return (1, 12) if any(w in text for w in whole_year) else None
