"""The extraction vocabulary: every word list extract uses, read from data files.

All lexicons live in ``pipeline/resources/extract/`` and are loaded by one function,
:func:`lexicon`, once per process. Nothing here touches jieba or tables.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

RESOURCES = Path(__file__).resolve().parent.parent / "resources" / "extract"

# Dimensions extract assigns itself; all others come from units.tsv.
RATE, RATIO, NONE = "rate", "ratio", "none"


@dataclass(frozen=True)
class Lexicon:
    numerals: Mapping[str, tuple[int, str]]    # 万 → (10000, "big"), 两 → (2, "digit")
    units: Mapping[str, str]                   # unit → dimension
    non_fact_units: frozenset[str]             # 年 月份 岁 级 …: the number is not a fact
    approx_markers: Mapping[str, tuple[str, str]]  # marker → (position, approx)
    fixed_terms: tuple[str, ...]               # 两癌 四好农村路 …
    periods: Mapping[str, tuple[int, int]]     # 上半年 → (1, 6)
    change_verbs: Mapping[str, str]            # 增长 → increase
    metric_words: Mapping[str, frozenset[str]] # kind (frame, light, link, …) → words
    jieba_userdict: str                        # path of the jieba user dictionary
    duration_cues: tuple[str, ...]             # 连续 年限 为期 …: N年 after them is a duration
    false_markers: tuple[str, ...]             # 节约 签约 附近 …: a marker inside an ordinary word
    simplified: Mapping[int, str]              # str.translate table, traditional → simplified, one char each
    plan_words: tuple[str, ...]                # 年度任务 计划 目标 …, longest first: never a metric

    def markers(self, position: str) -> list[str]:
        return [m for m, (pos, _) in self.approx_markers.items() if pos == position]


def _rows(name: str) -> list[list[str]]:
    """Tab-separated rows of a resource file, without comments and blank lines."""
    text = (RESOURCES / name).read_text("utf-8")
    return [line.split("\t") for line in text.splitlines()
            if line.strip() and not line.startswith("#")]


@cache
def lexicon() -> Lexicon:
    """All extraction word lists, loaded once."""
    metric_words: dict[str, set[str]] = {}
    for word, kind in _rows("metric_words.tsv"):
        metric_words.setdefault(kind, set()).add(word)
    return Lexicon(
        numerals=MappingProxyType({c: (int(v), kind) for c, v, kind in _rows("numerals.tsv")}),
        units=MappingProxyType(_with_traditional(dict(_rows("units.tsv")))),
        non_fact_units=frozenset(w for w, in _rows("non_fact_units.txt")),
        approx_markers=MappingProxyType({m: (pos, a) for m, pos, a in _rows("approx_markers.tsv")}),
        fixed_terms=tuple(t for t, in _rows("fixed_terms.txt")),
        periods=MappingProxyType({t: (int(a), int(b)) for t, a, b in _rows("../periods.tsv")}),   # shared with ingest
        change_verbs=MappingProxyType(dict(_rows("change_verbs.tsv"))),
        metric_words=MappingProxyType({k: frozenset(v) for k, v in metric_words.items()}),
        jieba_userdict=str(RESOURCES / "jieba_userdict.txt"),
        duration_cues=tuple(w for w, in _rows("duration_cues.txt")),
        false_markers=tuple(w for w, in _rows("false_markers.txt")),
        simplified=MappingProxyType(str.maketrans(dict(_rows("t2s.tsv")))),
        plan_words=tuple(sorted((w.strip() for w, in _rows("../plan_words.txt")), key=lambda w: (-len(w), w))),   # shared with progress
    )


def simplified(text: str) -> str:
    """The text in simplified characters, one character for one (t2s.tsv, from OpenCC):
    same length, so every offset into it is an offset into the text as written."""
    return text.translate(lexicon().simplified)


def _with_traditional(units: dict[str, str]) -> dict[str, str]:
    """The units plus their traditional spellings (公顷 → 公頃), from traditional.tsv."""
    table = str.maketrans(dict(_rows("traditional.tsv")))
    return {**{u.translate(table): dim for u, dim in units.items()}, **units}


def vocabulary() -> dict[str, str]:
    """Unit → dimension for every unit extract can emit as a plain unit ("" → none).

    Composite units (元/人/月) are not listed: their dimension is always ``rate``.
    """
    return {"": NONE, **lexicon().units}


def dimensions() -> frozenset[str]:
    """The dimension vocabulary: every value ``Quantity.dimension`` can take."""
    return frozenset(vocabulary().values()) | {RATE, RATIO}


def dimension_of(unit: str) -> str:
    """The dimension of a unit as extract writes it (plain, composite or "")."""
    if "/" in unit or "／" in unit:
        return RATE
    return lexicon().units.get(unit, NONE) if unit else NONE
