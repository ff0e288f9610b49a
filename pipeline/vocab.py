"""The one vocabulary: every word list any stage uses, read from data files.

The lexicons live in ``pipeline/resources/`` (``extract/*.tsv|txt``, ``periods.tsv``,
``agency_suffixes.txt``) and are read by one function, :func:`lexicon`, once per
process. ``Lexicon.fingerprint`` is the sha256 of the bytes that load actually read:
output is stamped with the rules that made it, never with whatever the files hold by
the time the output is written (a long-lived process that loaded the old files stamps
the old fingerprint, so the next fresh run redoes its reports).

Also here: the grammar of units built from that vocabulary (plain units and the rates
and products extract writes: 元/人/月, 张/千人, 千瓦·时), and Chinese integers. Ingest,
extract and the quality checks all import this module; nothing touches jieba here.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

RESOURCES = Path(__file__).resolve().parent / "resources"
_DATADOCS = "datadocs"        # vendored web assets, not vocabulary

# Dimensions extract assigns itself; all others come from units.tsv.
RATE, RATIO, NONE = "rate", "ratio", "none"

# Folded before matching, one character for one (offsets carry over): ２．４６％ → 2.46%.
HALF_WIDTH = str.maketrans("０１２３４５６７８９．％‰，－～／−", "0123456789.%‰,-~/-")
_UNIT_SEPARATORS = str.maketrans({"・": "·", "•": "·", "‧": "·"})      # 元/人・年 as 元/人·年


@dataclass(frozen=True)
class Lexicon:
    numerals: Mapping[str, tuple[int, str]]    # 万 → (10000, "big"), 两 → (2, "digit")
    financial_numerals: frozenset[str]         # 壹 贰 … 拾 佰 仟: amounts, never ordinals
    units: Mapping[str, str]                   # unit → dimension
    non_fact_units: frozenset[str]             # 年 月份 岁 级 …: the number is not a fact
    phase_units: frozenset[str]                # 期: 二期工程 names a phase, not a count
    rate_words: frozenset[str]                 # 月 日 学期 人口 …: per what, after / or · (元/人/月)
    approx_markers: Mapping[str, tuple[str, str]]  # marker → (position, approx)
    fixed_terms: tuple[str, ...]               # 两癌 四好农村路 …
    periods: Mapping[str, tuple[int, int]]     # 上半年 → (1, 6)
    change_verbs: Mapping[str, str]            # 增长 → increase
    metric_words: Mapping[str, frozenset[str]] # kind (frame, light, link, …) → words
    jieba_userdict: bytes                      # the jieba user dictionary, as read
    duration_cues: tuple[str, ...]             # 连续 年限 为期 …: N年 after them is a duration
    false_markers: tuple[str, ...]             # 节约 签约 附近 …: a marker inside an ordinary word
    agency_suffixes: tuple[str, ...]           # 局 委 办 …: what a lead unit ends with
    cues: Mapping[str, tuple[str, ...]]        # kind → clause cue words (cues.tsv)
    title_words: Mapping[str, tuple[str, ...]] # kind → words a title is read with (title_words.tsv)
    simplified: Mapping[int, str]              # str.translate table, traditional → simplified, one char each
    plan_words: tuple[str, ...]                # 年度任务 计划 目标 …, longest first: never a metric
    progress_words: Mapping[str, tuple[str, ...]]  # progress/<list>.txt → its lines, longest first
    kind_cues: Mapping[str, tuple[str, ...]]   # kind (per_unit, target) → cue words (kinds.tsv)
    fingerprint: str                           # sha256 over every resource file read

    def markers(self, position: str) -> list[str]:
        return [m for m, (pos, _) in self.approx_markers.items() if pos == position]


def _read_all() -> dict[str, bytes]:
    """Every vocabulary file under resources/, by relative path."""
    return {p.relative_to(RESOURCES).as_posix(): p.read_bytes()
            for p in sorted(RESOURCES.rglob("*"))
            if p.is_file() and p.relative_to(RESOURCES).parts[0] != _DATADOCS}


def _fingerprint(files: Mapping[str, bytes]) -> str:
    h = hashlib.sha256()
    for name, data in sorted(files.items()):
        h.update(f"{name}\0{len(data)}\0".encode() + data)
    return h.hexdigest()


def current_fingerprint() -> str:
    """The fingerprint the vocabulary files have now (which may differ from what this
    process loaded: see :attr:`Lexicon.fingerprint`)."""
    return _fingerprint(_read_all())


@cache
def lexicon() -> Lexicon:
    """All word lists, loaded once per process."""
    files = _read_all()

    def rows(name: str) -> list[list[str]]:
        """Tab-separated rows of a resource file, without comments and blank lines."""
        return [line.split("\t") for line in files[name].decode("utf-8").splitlines()
                if line.strip() and not line.startswith("#")]

    traditional = str.maketrans(dict(rows("extract/traditional.tsv")))
    t2s = rows("extract/t2s.tsv")
    units = dict(rows("extract/units.tsv"))
    return Lexicon(
        numerals=MappingProxyType({c: (int(v), kind) for c, v, kind, _ in rows("extract/numerals.tsv")}),
        financial_numerals=frozenset(c for c, *_, form in rows("extract/numerals.tsv") if form == "financial"),
        units=MappingProxyType({**{u.translate(traditional): d for u, d in units.items()}, **units}),
        non_fact_units=frozenset(v for w, in rows("extract/non_fact_units.txt") for v in _scripts(w, t2s)),
        phase_units=frozenset(w for w, in rows("extract/phase_units.txt")),
        rate_words=frozenset(w for w, in rows("extract/rate_words.txt")),
        approx_markers=MappingProxyType({m: (pos, a) for m, pos, a in rows("extract/approx_markers.tsv")}),
        fixed_terms=tuple(t for t, in rows("extract/fixed_terms.txt")),
        periods=MappingProxyType({t: (int(a), int(b)) for t, a, b in rows("periods.tsv")}),
        change_verbs=MappingProxyType(dict(rows("extract/change_verbs.tsv"))),
        metric_words=MappingProxyType({k: frozenset(v) for k, v in _grouped(rows("extract/metric_words.tsv")).items()}),
        jieba_userdict=files["extract/jieba_userdict.txt"],
        duration_cues=tuple(w for w, in rows("extract/duration_cues.txt")),
        false_markers=tuple(w for w, in rows("extract/false_markers.txt")),
        agency_suffixes=tuple(w for w, in rows("agency_suffixes.txt")),
        cues=MappingProxyType(_grouped(rows("cues.tsv"))),
        title_words=MappingProxyType(_grouped(rows("title_words.tsv"))),
        simplified=MappingProxyType(str.maketrans(dict(rows("extract/t2s.tsv")))),
        plan_words=_longest_first(w for w, in rows("plan_words.txt")),
        progress_words=MappingProxyType({
            name[len("progress/"):-len(".txt")]: _longest_first("\t".join(r) for r in rows(name))
            for name in files if name.startswith("progress/") and name.endswith(".txt")}),
        kind_cues=MappingProxyType(_grouped(rows("kinds.tsv"))),
        fingerprint=_fingerprint(files),
    )


def _scripts(word: str, t2s: list[list[str]]) -> set[str]:
    """The word with each character in any of its scripts (周岁 → 周歲, 週歲 …): reports
    mix them. ``t2s``: the (traditional, simplified) character pairs."""
    forms = {""}
    for c in word:
        variants = {c} | {t for t, s in t2s if s == c}
        forms = {f + v for f in forms for v in variants}
    return forms


def _longest_first(words) -> tuple[str, ...]:
    """Distinct words, longest first (so a compound wins over its head), then in order."""
    return tuple(sorted({w.strip() for w in words if w.strip()}, key=lambda w: (-len(w), w)))


def _grouped(rows: list[list[str]]) -> dict[str, tuple[str, ...]]:
    """(word, kind) rows → kind → words, in file order."""
    out: dict[str, list[str]] = {}
    for word, kind in rows:
        out.setdefault(kind, []).append(word)
    return {k: tuple(v) for k, v in out.items()}


def simplified(text: str) -> str:
    """The text in simplified characters, one character for one (extract/t2s.tsv, from
    OpenCC): same length, so every offset into it is an offset into the text as written."""
    return text.translate(lexicon().simplified)


# --- numerals ---------------------------------------------------------------------

POINT = "点點"                        # 三点五万 → 35000: the decimal point of Chinese numerals
_TOKEN = re.compile(r"[0-9][0-9,]*(?:\.[0-9]+)?|.")          # an Arabic section or one character
_PLAIN_ARABIC = re.compile(r"[0-9]+(?:\.[0-9]+)?")             # digits alone, no separator
_ZERO = Decimal(0)


def numeral_chars(kind: str | None = None, *, financial: bool = True) -> str:
    """The Chinese numeral characters of one kind (digit, small, big), or all of them;
    without the financial forms (壹 拾 …) when ``financial`` is false."""
    lex = lexicon()
    return "".join(c for c, (_, k) in lex.numerals.items()
                   if (kind is None or k == kind) and (financial or c not in lex.financial_numerals))


def numeral_chars_worth(*values: int, financial: bool = True) -> str:
    """The numeral characters worth one of ``values`` (十 拾 for 10)."""
    lex = lexicon()
    return "".join(c for c, (v, _) in lex.numerals.items()
                   if v in values and (financial or c not in lex.financial_numerals))


def numeral_value(numeral: str) -> Decimal:
    """The exact value of a numeral without markers: 2万4千 → 24000, 十二万五千 → 125000.

    Arabic sections and Chinese digits mix freely; 万 and 亿 close a section and
    multiply all before them (2万亿 → 2e12, 1亿2千万 → 120000000); digits in a row
    read positionally (二〇二一 → 2021).
    """
    if _PLAIN_ARABIC.fullmatch(numeral):     # 1234, 10.83: most figures, one Decimal
        return _ZERO + (Decimal(numeral) or 0)     # as the sums below end, to the digit
    numerals = lexicon().numerals
    if any(point in numeral for point in POINT):
        numeral = _chinese_decimal().sub(_arabic_decimal, numeral)
    yi = wan = section = Decimal(0)
    current: Decimal | None = None
    after_digit = False
    last_magnitude = 0          # the magnitude of the previous token, 0 if it was a digit
    trailing = 0                # the magnitude a lone digit directly follows (三万五 → 万), else 0
    for token in _TOKEN.findall(numeral):
        if token[0].isdigit():
            current, after_digit = Decimal(token.replace(",", "")), False
            trailing = last_magnitude if len(token) == 1 else 0
            last_magnitude = 0
            continue
        value, kind = numerals[token]
        if kind == "digit":
            if after_digit and current is not None:
                current, trailing = current * 10 + value, 0
            else:
                current, trailing = Decimal(value), last_magnitude if value else 0
            after_digit, last_magnitude = True, 0
            continue
        after_digit, last_magnitude, trailing = False, value, 0
        if kind == "small":
            section += (Decimal(1) if current is None else current) * value
        elif value == 10_000:
            wan = (wan + section + (current or 0)) * value
            section = Decimal(0)
        else:
            yi = (yi + wan + section + (current or 0)) * value
            wan = section = Decimal(0)
        current = None
    if current is not None and trailing > 10:   # 三万五 → 35000, 两千五 → 2500: the next lower place
        current *= Decimal(trailing) / 10
    return yi + wan + section + (current or 0)


@cache
def _chinese_decimal() -> re.Pattern:
    return re.compile(rf"([^{numeral_chars('big')}]*)[{POINT}]([{numeral_chars('digit')}]+)")   # 十二点五 (万)


def _arabic_decimal(m: re.Match) -> str:
    """十二点五 → 12.5, so the magnitudes after it apply as to any Arabic decimal."""
    whole = numeral_value(m[1]) if m[1] else Decimal(0)
    return f"{whole}." + "".join(str(lexicon().numerals[c][0]) for c in m[2])


def chinese_int(text: str) -> int | None:
    """A whole number written in Chinese numerals or ASCII digits (十二, 一百零五, 二〇二一,
    12), or None. ○, often typed for 〇 in a year (二○二一), reads as 〇."""
    numerals = lexicon().numerals
    text = text.replace("○", "〇")
    if not text or any(c not in numerals and not "0" <= c <= "9" for c in text):
        return None
    value = numeral_value(text)
    return int(value) if value == int(value) else None


# --- periods --------------------------------------------------------------------------

_MONTH = r"(?: 1[0-2] | 0?[1-9] | 十[一二]? | [一二三四五六七八九] )"
YEAR = r"(?: (?:19|20)[0-9]{2} | [一二][〇零○一二三四五六七八九]{3} )"      # 2021   二〇二一  二○二一
_RANGE_TO = r"(?: - | － | — | – | ― | ‒ | ~ | ～ | 〜 | 至 | 到 )"


@cache
def _period_pattern() -> re.Pattern:
    heads = "0123456789十一二三四五六七八九截" + "".join(w.translate(HALF_WIDTH)[0] for w in lexicon().periods)
    return re.compile(rf"""
        (?=[{re.escape("".join(sorted(set(heads))))}])            # what a period opens with: a cheap first test
        (?: (?<![0-9]) (?P<first> {_MONTH} ) \s* (?: 月份? )? \s* {_RANGE_TO} \s* (?P<last> {_MONTH} ) \s* 月   # 1-9月份  1至8月
      | (?: 截至 | 截止 ) 到? \s* (?: {YEAR} \s* 年 \s* )? (?P<until> {_MONTH} ) \s* 月              # 截至9月底  截止2021年9月
      | (?P<named> {alternation(lexicon().periods)} )                                            # 上半年  前三季度  全年
        )
    """, re.X)


def periods(text: str):
    """Each period phrase of ``text`` (digits ASCII) as (match, first month, last month),
    in order; a phrase naming no real span of months (13月, 9-3月) is skipped."""
    named = lexicon().periods
    for m in _period_pattern().finditer(text):
        if m["named"]:
            first, last = named[m["named"]]
        elif m["until"]:
            first, last = 1, chinese_int(m["until"])
        else:
            first, last = chinese_int(m["first"]), chinese_int(m["last"])
        if 1 <= first <= last <= 12:
            yield m, first, last


# --- units ------------------------------------------------------------------------

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


def alternation(words) -> str:
    """Words as one regex, factored into a trie (人(?:次|口)?): Python's re tries the
    branches of a flat alternation one by one, and the unit list has hundreds. At each
    node longer words are tried first, so 人次 wins over 人 and 个百分点 over 个."""
    trie: dict = {}
    for word in set(words):
        node = trie
        for char in word.translate(HALF_WIDTH):
            node = node.setdefault(char, {})
        node[""] = {}

    def pattern(node: dict) -> str:
        branches = [re.escape(c) + pattern(child) for c, child in sorted(node.items()) if c]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 and len(branches[0]) == 1 else f"(?:{'|'.join(branches)})"
        return body + "?" if "" in node else body

    return pattern(trie)


@cache
def unit_grammar() -> str:
    """The unit grammar as ``re.VERBOSE`` text, on half-width text: a plain unit, or a
    rate or product of units (元/人/月, 元/人·年, 元/公里, 千瓦·时), a denominator
    optionally with its own figure or magnitude (张/千人, 人/10万人)."""
    lex = lexicon()
    head = alternation(set(lex.units) | lex.non_fact_units)     # 2021年 is read, then dropped as no fact
    per = alternation(set(lex.units) | lex.rate_words)
    magnitudes = numeral_chars("small") + numeral_chars("big")
    denominator = rf"(?: [0-9]* [{magnitudes}]{{0,2}} )"
    return rf"(?: (?:{head}) (?: [/·] {denominator} (?:{per}) )* )"


@cache
def unit_chars() -> str:
    """Every character the unit grammar can match (its words, separators and denominator
    figures): a lookahead over these skips a unit without reading it."""
    lex = lexicon()
    words = set(lex.units) | lex.non_fact_units | lex.rate_words
    chars = {c for w in words for c in w.translate(HALF_WIDTH)}
    return "".join(sorted(chars | set("/·0123456789" + numeral_chars("small") + numeral_chars("big"))))


@cache
def _unit_pattern() -> re.Pattern:
    return re.compile(unit_grammar(), re.X)


def is_unit(unit: str) -> bool:
    """Whether extract's unit grammar can write ``unit``: a plain unit whose head is a
    measure (not 年 or 岁 alone), or a composite one; "" is a bare number."""
    if unit == "":
        return True
    folded = unit.translate(HALF_WIDTH).translate(_UNIT_SEPARATORS)
    head = re.split(r"[/·]", folded, maxsplit=1)[0]
    return head in lexicon().units and _unit_pattern().fullmatch(folded) is not None
