"""The number grammar: where a cell writes a quantity, and what it is worth.

The grammar is one ``re.VERBOSE`` pattern assembled from named fragments (digits,
Chinese numerals, magnitudes, approximation markers, units), compiled once when this
module is imported. Its vocabulary comes from the data files behind
:func:`pipeline.vocab.lexicon`; this module never touches jieba.

Matching runs on a copy of the text with full-width digits and signs folded to
ASCII one character for one, so every span found in the copy is a span of the
original (``text[start:end]`` is the mention as written).
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import NamedTuple

from ..vocab import (HALF_WIDTH as _HALF_WIDTH, RATIO, alternation as _alternation, dimension_of, lexicon,
                     numeral_chars, numeral_chars_worth, numeral_value, periods, POINT, unit_chars,
                     unit_grammar)

_LEX = lexicon()

# --- Numeral characters, from numerals.tsv ------------------------------------------

_DIGIT, _SMALL, _BIG = numeral_chars("digit"), numeral_chars("small"), numeral_chars("big")
_ZERO, _TEN = numeral_chars_worth(0), numeral_chars_worth(10)
_HUNDRED_OR_THOUSAND = numeral_chars_worth(100, 1000)
_POINT = POINT                   # 三点五万 → 35000: the decimal point of Chinese numerals
_UNIT_WORDS = set(_LEX.units) | _LEX.non_fact_units
# A unit spelled with a magnitude character (千瓦, 百分点) is read as that unit, so
# 5千瓦 is 5 千瓦 and not 5000 瓦.
_MAGNITUDE_UNITS = [u for u in _UNIT_WORDS if u[0] in _SMALL + _BIG]
_NOT_A_UNIT = rf"(?!{_alternation(_MAGNITUDE_UNITS)})" if _MAGNITUDE_UNITS else ""


# --- The grammar, from the digits up ------------------------------------------------
# Each fragment is re.VERBOSE text for QUANTITY: whitespace outside [...] is ignored.

ARABIC = r"""
    (?: [0-9]{1,3} (?: ,[0-9]{3} (?![0-9]) )+   # 1,234: a separator is followed by exactly three digits
      | [0-9]+ )                                 # 1234
    (?: \.[0-9]+ )?                              # .83
"""
SMALL_MAGNITUDE = rf"(?: {_NOT_A_UNIT} [{_SMALL}] )"            # 十 百 千
BIG_MAGNITUDE = rf"(?: {_NOT_A_UNIT} [{_BIG}] )"                # 万 亿
# A section: digits with their 十 百 千, Arabic or Chinese.
SECTION = rf"""
    (?: {ARABIC}
        (?: {SMALL_MAGNITUDE}+                                  # 3千
            (?: [{_ZERO}]? [0-9] {SMALL_MAGNITUDE}+ )*          # 3千6百  2千零5十: places in sequence
            (?: [{_ZERO}] [0-9] )?                              # 2千零5
        )?
      | [{_TEN}{_DIGIT}] (?: [{_DIGIT}] | {SMALL_MAGNITUDE} )*  # 十二  两千  五千零五
        (?: [{_POINT}] [{_DIGIT}]+ )?                           # 三点五  十二点五
    )
"""
# A numeral may open with a bare 百 or 千 (百万, 千余, 逾千人) — like 十 (十余个); the
# fact filter then asks for a unit or a 万/亿 after it, so 百姓 or 千方百计 stay words.
BARE_HEAD = rf"(?: {_NOT_A_UNIT} [{_HUNDRED_OR_THOUSAND}] )"
# Sections and magnitudes alternate, so the pattern cannot backtrack exponentially.
NUMERAL = rf"""
    (?: (?: {SECTION} | {BARE_HEAD} )
        (?: {BIG_MAGNITUDE}+ {SECTION} )*      # 2万4千  1亿2千万: sections joined by 万 / 亿
        {BIG_MAGNITUDE}*                       # 1.2万  3千万  10.83亿: a magnitude may close it
    )
"""
_INSIDE_MARKERS = _LEX.markers("inside")
INSIDE = _alternation(_INSIDE_MARKERS)
_INSIDE_HEADS = frozenset(m[0] for m in _INSIDE_MARKERS)
# A numeral with an approximation marker inside: 2万4千余, 45多万, 十余.
AMOUNT = rf"(?: {NUMERAL} (?: {INSIDE} )? {BIG_MAGNITUDE}* )"
# A unit, possibly a rate: 元/人/月, 元/人·年, 元/公里, 人/万人 (the vocabulary's unit grammar).
UNIT = unit_grammar()
# A minus sign, not a range's dash: nothing number-like or Latin right before it.
SIGN = rf"(?: (?<![0-9A-Za-z.%{_DIGIT}{_SMALL}{_BIG}]) - (?=[0-9]) )"
RANGE_TO = r"[-~—至到]"
# Lookaheads that skip a branch the text cannot take before the grammar reads the number
# in full (a figure would otherwise be read as a fraction, then as a range, then as
# itself): what a fraction's denominator or a range's low end can be made of, then 分之
# or the range's dash.
_NUMERAL_CHARS = ("0123456789,." + _DIGIT + _SMALL + _BIG + _ZERO + _TEN + _POINT
                  + _HUNDRED_OR_THOUSAND)
# Each looks at most _AHEAD characters on: unbounded, it would scan a whole cell of
# "1个,2个,3个,…" from every figure (quadratic in a cell of 50,000 figures); no numeral
# with its unit is that long.
_AHEAD = 48
FRACTION_AHEAD = rf"(?= [{re.escape(_NUMERAL_CHARS)}]{{0,{_AHEAD}}} 分之 )"
RANGE_AHEAD = rf"(?= [{re.escape(_NUMERAL_CHARS + ''.join(_INSIDE_MARKERS) + unit_chars())}]{{0,{_AHEAD}}} {RANGE_TO} )"


def _before_markers() -> str:
    """Markers before a number, each unless it ends an ordinary word (节约, 签约, 附近)."""
    alternatives = []
    for marker in sorted(_LEX.markers("before"), key=len, reverse=True):
        heads = {w[-len(marker) - 1] for w in _LEX.false_markers if w.endswith(marker) and len(w) > len(marker)}
        guard = f"(?<![{re.escape(''.join(sorted(heads)))}])" if heads else ""
        alternatives.append(guard + re.escape(marker))
    return "|".join(alternatives)


# Every quantity starts with a digit, a numeral, 百分之/千分之 or a marker: checking
# that first lets the scan skip other characters cheaply.
_FIRST = re.escape("".join(sorted(set("0123456789-" + _HUNDRED_OR_THOUSAND + _DIGIT + _TEN)
                                    | {m[0] for m in _LEX.markers("before")})))

QUANTITY = re.compile(rf"""
    (?=[{_FIRST}])
    (?P<before> {_before_markers()} )?                  # 超过35万人, 近3万人, 不足10% (not 节约, 签约)
    (?:
        (?P<per> 百分之 | 千分之 ) (?P<per_amount> {AMOUNT} )   # 百分之四十 → 40 %
      | {FRACTION_AHEAD} (?P<denominator> {NUMERAL} ) 分之 (?P<numerator> {NUMERAL} )  # 三分之一 → 0.333…
      | (?: {RANGE_AHEAD} (?P<low> {AMOUNT} ) (?P<low_unit> {UNIT} )? {RANGE_TO} )?  # 3-  6%-  3至  (a range's low end)
        (?P<sign> {SIGN} )? (?P<amount> {AMOUNT} ) (?P<unit> {UNIT} )?   # 10.83亿元  2万4千余次  -2.3%
    )
    (?P<after> {_alternation(_LEX.markers("after"))} )?    # 以上 以下 以内 左右
""", re.VERBOSE)


# --- What makes a match no fact (see _is_quantity) ----------------------------------

# A 以上/以下 followed by a noun it qualifies makes a threshold (10亿元以上项目), not a
# fact; these characters instead continue the clause after a fact (达10亿元以上，…).
_CLAUSE_GOES_ON = set("和及与并且均等")
_THRESHOLD_MARKERS = {m for m, (pos, a) in _LEX.approx_markers.items()
                      if pos == "after" and a != "about"}
_CHANGE_VERB = re.compile(_alternation(_LEX.change_verbs))
_ORDINAL = "第"
_COUNTING_TWO = "两"                      # 两期培训 counts sessions; a phase is 二期
_PER = "每"                              # 每千人口, 每10万人: a denominator, not a count
# 数百人, 几十个, 上千人: no figure is given (上 only before 百/千: 新上十个 counts)
_VAGUE = {"数": _SMALL, "几": _SMALL, "上": _HUNDRED_OR_THOUSAND}
# Quoted names and titles: opening → (closing, longest content of a name).
_NAME_QUOTES = {"“": ("”", 12), "「": ("」", 12), "『": ("』", 12), "《": ("》", 40)}
# After N年 these make it a date or a name: 3年底, 21年1月, 三年行动, 5年来.
_DATE_GOES_ON = set("底末初中前后来起月春夏秋冬行计规攻级第0123456789")
_PROPORTIONS = {"%", "‰", "成"}
# A lookahead, so every term is found, also one overlapping another (一件事 / 一件事一次办).
_FIXED_TERM = re.compile("(?=[%s])(?=(%s))" % (re.escape("".join(sorted({t[0] for t in _LEX.fixed_terms}))),
                                               _alternation(_LEX.fixed_terms)))
_QUOTE_OPENINGS = frozenset(_NAME_QUOTES)
_BIG_CHARS = frozenset(_BIG)


class Number(NamedTuple):
    """One quantity the grammar found: a span of the text and what it is worth."""

    start: int
    end: int
    value: float
    value_high: float | None
    unit: str
    approx: str | None
    dimension: str


def _read_amount(amount: str) -> tuple[Decimal, str | None]:
    """Value and inside-marker approximation of an amount such as 45多万 or 十余."""
    if _INSIDE_HEADS.isdisjoint(amount):          # most amounts: no marker inside
        return numeral_value(amount), None
    for marker in _INSIDE_MARKERS:
        head, found, tail = amount.partition(marker)
        if found and head:
            return numeral_value(head + tail), _LEX.approx_markers[marker][1]
    return numeral_value(amount), None


def _trailing_magnitude(amount: str) -> int:
    """The product of the magnitudes closing an amount: 5万 → 10000, 3千万 → 1e7."""
    product = 1
    for char in reversed(amount):
        value, kind = _LEX.numerals.get(char, (0, "digit"))
        if kind == "digit":
            break
        product *= value
    return product


def _fixed_terms(folded: str) -> list[tuple[int, int]]:
    """The span of every fixed term of a cell (overlapping ones too); a figure inside one is none."""
    return [m.span(1) for m in _FIXED_TERM.finditer(folded)]


def _inside_quotes(folded: str, start: int, end: int) -> bool:
    """Whether the figure sits inside a short quoted name or a title: “一件事一次办”, 《…30条》."""
    for opening, (closing, reach) in _NAME_QUOTES.items():
        left = folded.rfind(opening, max(0, start - reach), start)
        if left < 0 or closing in folded[left + 1:start]:
            continue
        right = folded.find(closing, end, end + reach)
        if right >= 0 and opening not in folded[end:right] and right - left - 1 <= reach:
            return True
    return False


def _is_duration(folded: str, m: re.Match, start: int) -> bool:
    """N年 as a length of time (连续3年, 服务年限5年, 3年内) rather than a date or period.

    Only a small whole number (not 2021, 二〇二一), after a duration word or followed
    by 内 / a marker such as 以上, and not continued as a date or name (3年底, 三年行动).
    """
    if m["unit"] != "年" or m["low"] or m["sign"]:
        return False
    amount = m["amount"]
    if not (amount.isdigit() and len(amount) <= 2
            or all(c in _DIGIT + _TEN for c in amount) and not set(amount) & set(_ZERO) and len(amount) <= 3):
        return False
    following = folded[m.end():m.end() + 1]
    if following and following in _DATE_GOES_ON:
        return False
    cued = any(folded.endswith(cue, 0, start) for cue in _LEX.duration_cues)
    return cued or bool(m["after"]) or following == "内"


def _is_threshold(folded: str, after: str | None, end: int) -> bool:
    if after not in _THRESHOLD_MARKERS or end >= len(folded):
        return False
    following = folded[end]
    return ("\u4e00" <= following <= "\u9fff" and following not in _CLAUSE_GOES_ON
            and not _CHANGE_VERB.match(folded, end))       # 由2小时以上缩短至…: a figure, then its change


def _is_quantity(folded: str, m: re.Match, terms: list[tuple[int, int]], quoted: bool) -> bool:
    """Whether a grammar match is a fact rather than a date, rank, name or threshold.

    ``terms`` are the spans of the cell's fixed terms; ``quoted``, whether it has a quote.
    """
    unit, low_unit, per, numerator, amount, before, after, low = m.group(
        "unit", "low_unit", "per", "numerator", "amount", "before", "after", "low")
    unit = unit or low_unit or ""
    end = m.end()
    plain_unit = unit.partition("/")[0].partition("·")[0]
    start = m.start("per") if per else m.start() + len(before or "")
    if plain_unit in _LEX.non_fact_units and not _is_duration(folded, m, start):
        return False                                   # 2021年, 1-9月份, 65岁, 二级
    if not (unit or per or numerator or not _BIG_CHARS.isdisjoint(amount)):
        return False                                   # a bare number without 万/亿: 4D+, 5G, 10.31, 十分
    if start:
        previous = folded[start - 1]
        if previous == _ORDINAL or previous == _PER or previous.isascii() and previous.isalnum():
            return False                               # 第五届, 第7位, G20, 每千人口
        if amount and amount[0] in _VAGUE.get(previous, "") and not low:
            return False                               # 数百人, 几十个, 上千人
    following = folded[end:end + 1]
    if (plain_unit in _LEX.phase_units and amount and not before and not after
            and all(c in _LEX.numerals and c != _COUNTING_TWO for c in amount)
            and "\u4e00" <= following <= "\u9fff"):
        return False                                   # 二期主体工程, 三期项目: a phase, an ordinal
    if amount == "一" and following == "一":
        return False                                   # 一村一品, 一人一岗: an idiom, not a count
    proportion = per or numerator or plain_unit in _PROPORTIONS
    if not proportion and _is_threshold(folded, after, end):
        return False                                   # 10亿元以上项目, 65岁以上老年人 (but 三分之二以上的村)
    return not (any(s < end and e > m.start() for s, e in terms)
                or quoted and _inside_quotes(folded, m.start(), end))


def _approx(m: re.Match, inside: str | None) -> str | None:
    for marker in (m["before"], m["after"]):
        if marker:
            return _LEX.approx_markers[marker][1]
    return inside


def _number(m: re.Match) -> Number:
    """Read a match the grammar found into value, range, unit and approximation."""
    if m["per"]:
        value, inside = _read_amount(m["per_amount"])
        unit = "%" if m["per"] == "百分之" else "‰"
        return Number(m.start(), m.end(), float(value), None, unit, _approx(m, inside), dimension_of(unit))
    if m["numerator"]:
        value = numeral_value(m["numerator"]) / numeral_value(m["denominator"])
        return Number(m.start(), m.end(), float(value), None, "", _approx(m, None), RATIO)
    amount, sign, low_amount, unit, low_unit = m.group("amount", "sign", "low", "unit", "low_unit")
    value, inside = _read_amount(amount)
    if sign:
        value = -value
    high = None
    if low_amount:
        low, low_inside = _read_amount(low_amount)
        if not any(c in _SMALL + _BIG for c in low_amount):   # 3-5万元: the low end shares 万
            low *= _trailing_magnitude(amount)
        value, high, inside = low, value, inside or low_inside
    unit = unit or low_unit or ""
    return Number(m.start(), m.end(), float(value), None if high is None else float(high),
                  unit, _approx(m, inside), dimension_of(unit))


def read_cell(text: str) -> tuple[list[Number], list[tuple[int, int, int]]]:
    """The numbers and the periods of one cell, in order.

    Numbers are every quantity the text writes, without dates, ranks, names and
    thresholds; periods are (end offset, first month, last month) of each period
    the cell gives for its figures (1-8月份, 截至9月底, 上半年) — none when it gives no figure.
    """
    folded = text.translate(_HALF_WIDTH)
    numbers = _numbers(folded)
    return numbers, _periods(folded) if numbers else []


def _numbers(folded: str) -> list[Number]:
    numbers = []
    terms, quoted = _fixed_terms(folded), not _QUOTE_OPENINGS.isdisjoint(folded)   # once per cell
    for m in QUANTITY.finditer(folded):
        if _is_quantity(folded, m, terms, quoted):
            try:
                numbers.append(_number(m))
            except ArithmeticError:                    # 零分之一: not a number we can give
                continue
    return numbers


def _periods(folded: str) -> list[tuple[int, int, int]]:
    return [(m.end(), first, last) for m, first, last in periods(folded)]
