"""What each figure of a cell measures (its metric) and whether it is a change.

A figure's metric is the shortest phrase of its clause naming what is measured:
the noun phrase before it (发放救助资金10.83亿元 → 救助资金), or the noun after its
classifier (为23.5万名城乡低保对象、城乡特困人员发放 → 城乡低保对象、城乡特困人员), or
the previous figure's when the figure only continues a list (3407户、8173人).
Only the few characters around each figure are part-of-speech tagged, with one
lazily built jieba tokenizer that owns our user dictionary.
"""
from __future__ import annotations

import logging
from functools import cache
from math import log
from typing import NamedTuple, Sequence

from .numbers import Number
from .units import lexicon

_LEX = lexicon()
_FRAME, _LIGHT, _LINK = (_LEX.metric_words[k] for k in ("frame", "light", "link"))
_CUT = _LEX.metric_words.get("cut", frozenset())   # 较 比 按: the metric ends before them
_MEASURE_NOUN_ENDS = ("率", "数", "量", "比例", "占比", "度")
# A clause ends at these; a space too (cells wrap: 建成运行 “如康家园”33处).
_CLAUSE_END = set("，,；;。：:！!？?\n\t \u3000")
_LIST = "、"
_HEAD_MARKS = {"等", "以上", "以下"}       # A、B等C / 省级以上C: the metric is C
_EDGE_PUNCT = set("、，,；;。：:“”\"'‘’ \u3000")
_QUOTES = {"“": "”", "\"": "\"", "‘": "’", "「": "」"}
_FROM, _TO = {"由", "从"}, {"至", "到", "为"}
_PER = "每"
_AFTER_REACH = 20                            # characters of noun phrase read after a classifier
_BEFORE_REACH = 24                           # characters of clause read before a figure
_BARE = _FRAME | _LIGHT | _EDGE_PUNCT
_NOUNISH = ("n", "vn", "an", "j", "l", "b", "nz", "eng")


class Link(NamedTuple):
    metric: str | None
    metric_start: int | None
    change: str | None
    change_role: str | None
    change_group: int | None


class _Token(NamedTuple):
    word: str
    flag: str
    start: int          # offset in the cell text


@cache
def _tagger():
    """One jieba part-of-speech tagger with our user dictionary, built on first use."""
    import jieba
    import jieba.posseg

    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.load_userdict(_LEX.jieba_userdict)
    tagger = jieba.posseg.POSTokenizer(tokenizer)
    tagger.makesure_userdict_loaded()
    return tagger


def warm_up() -> None:
    """Build the tagger now (it otherwise loads on the first figure)."""
    _tag("预热", 0, 2)


def _tag(text: str, start: int, end: int) -> list[_Token]:
    """Words of text[start:end] with their part of speech, offsets into text.

    The segmentation ``POSTokenizer.cut(HMM=False)`` gives — jieba's most probable
    route through its dictionary — computed in one backward pass over the tagger's
    own dictionary: we tag thousands of short windows per report, so jieba's
    per-call overhead (DAG dict, generators) would cost more than the words.
    """
    tagger = _tagger()
    freq, tags = tagger.tokenizer.FREQ, tagger.word_tag_tab
    log_total = log(tagger.tokenizer.total)
    sentence = text[start:end]
    n = len(sentence)
    route = [(0.0, 0)] * (n + 1)
    for k in range(n - 1, -1, -1):
        best, i, fragment = None, k, sentence[k]
        while i < n and fragment in freq:
            if freq[fragment]:
                candidate = (log(freq[fragment]) - log_total + route[i + 1][0], i)
                if best is None or candidate > best:
                    best = candidate
            i += 1
            fragment = sentence[k:i + 1]
        route[k] = best or (log(1) - log_total + route[k + 1][0], k)
    tokens: list[_Token] = []
    x = 0
    while x < n:
        y = route[x][1] + 1
        word = sentence[x:y]
        if word.isascii() and word.isalnum():
            if tokens and tokens[-1].flag == "eng":     # PM2.5, 4D: one English token
                tokens[-1] = _Token(tokens[-1].word + word, "eng", tokens[-1].start)
            else:
                tokens.append(_Token(word, "eng", start + x))
        else:
            tokens.append(_Token(word, tags.get(word, "x"), start + x))
        x = y
    return tokens


def _is_verb(token: _Token) -> bool:
    return token.flag.startswith("v") and token.flag != "vn"


def _is_noun(token: _Token) -> bool:
    return token.flag.startswith(_NOUNISH) or token.word in "“”()（）"


def _rate_words(tokens: list[_Token]) -> list[_Token]:
    """Without trailing 每人 每月 …: they qualify the unit, not the metric."""
    while tokens and tokens[-1].word.startswith(_PER):
        tokens = tokens[:-1]
    return tokens


def _phrase_before(tokens: list[_Token]) -> list[_Token]:
    """The metric in the words between the clause start and a figure, if any."""
    tokens = _rate_words(tokens)
    origin = next((i for i, t in enumerate(tokens) if t.word in _FROM), None)
    if origin:                 # 补助标准由142元…: the metric ends before 由
        tokens = tokens[:origin]
    cut = next((i for i, t in enumerate(tokens) if t.word in _CUT), None)
    if cut is not None:        # 接种率较上年同期提高 / 配套资金按…标准: the metric ends before 较, 按
        tokens = tokens[:cut]
    for i in range(len(tokens) - 1, -1, -1):
        if tokens[i].word in _HEAD_MARKS or (tokens[i].word in _LIGHT and i < len(tokens) - 1):
            tokens = tokens[i + 1:]
            break
    if tokens and tokens[-1].word in _TO and all(t.word in _LEX.change_verbs for t in tokens[:-1]):
        return []           # 由142元/人/月提高至150元/人/月: the second figure shares the metric
    while tokens:
        if tokens[0].word in _FRAME or tokens[0].word in _LIGHT or (tokens[0].word in _EDGE_PUNCT
                                                                    and not _opens_quote(tokens)):
            tokens = tokens[1:]
        elif len(tokens) > 2 and tokens[0].flag == "eng" and tokens[0].word.isdigit():
            tokens = tokens[2:] if tokens[1].flag in ("m", "t") else tokens[1:]   # 6月底…, 2022年…
        else:
            break
    # verbs opening the phrase before its noun (新增公办学位, 开工改造老旧小区, 惠及居民): the
    # metric is the noun phrase, the verb only where there is no noun
    lead = 0
    while lead < len(tokens) and _is_verb(tokens[lead]):
        lead += 1
    # — except before a measure noun that takes the verb in (参保人数, 在建小区配建率)
    if (lead and len(tokens) - lead > 1 and tokens[lead].flag.startswith("n")
            and not tokens[-1].word.endswith(_MEASURE_NOUN_ENDS)):
        tokens = tokens[lead:]
    while len(tokens) > 1 and (tokens[-1].word in _LINK or tokens[-1].word in _EDGE_PUNCT
                               or tokens[-1].flag == "d" or tokens[-1].word in _LEX.change_verbs
                               or tokens[-1].word in _TO):
        tokens = tokens[:-1]
    if tokens and (tokens[-1].word in _LINK or tokens[-1].word in _EDGE_PUNCT):
        return []
    return tokens


def _opens_quote(tokens: list[_Token]) -> bool:
    """An opening quote whose closing quote follows in the phrase: “两癌”筛查 keeps it."""
    closing = _QUOTES.get(tokens[0].word)
    return closing is not None and any(t.word == closing for t in tokens[1:])


def _phrase_after(tokens: list[_Token]) -> list[_Token]:
    """The noun phrase right after a classifier: 9个县 → 县; verbs lead in only before a noun."""
    phrase: list[_Token] = []
    seen_noun = False
    for token in tokens:
        if _is_noun(token) or (token.word == _LIST and seen_noun):
            phrase.append(token)
            seen_noun = seen_noun or token.word not in "“”()（）"
        elif _is_verb(token) and not seen_noun:
            phrase.append(token)
        else:
            break
        if seen_noun and _is_verb(token):
            break
    while phrase and (phrase[-1].word == _LIST or _is_verb(phrase[-1])):
        phrase.pop()
    return phrase if seen_noun else []


def _span(text: str, tokens: Sequence[_Token]) -> tuple[str, int] | None:
    if not tokens:
        return None
    start, end = tokens[0].start, tokens[-1].start + len(tokens[-1].word)
    for opening, closing in _QUOTES.items():   # “如康家园 → 如康家园: no half quotes at the edges
        if opening != closing and end - start > 1:
            if text[start] == opening and closing not in text[start + 1:end]:
                start += 1
            if text[end - 1] == closing and opening not in text[start:end - 1]:
                end -= 1
    if _QUOTES.get(text[start]) == text[end - 1] and end - start > 2:
        inner = text[start + 1:end - 1]
        if not any(q in inner for q in _QUOTES):      # “如康家园” → 如康家园
            start, end = start + 1, end - 1
    return text[start:end], start


def _change(tokens: list[_Token]) -> tuple[str | None, bool]:
    """(direction, reaches a level) from the words right before a figure.

    增长17.1% is a change; 提高至150元 reaches a level and is not one by itself.
    """
    words = [t.word for t in _rate_words(tokens) if t.word.strip()]
    reaches = bool(words) and words[-1] in _TO
    if reaches:
        words = words[:-1]
    while words and words[-1] in _LINK:
        words = words[:-1]
    return (_LEX.change_verbs.get(words[-1]) if words else None), reaches


def _clause_start(text: str, position: int, floor: int) -> int:
    i = position
    while i > floor and text[i - 1] not in _CLAUSE_END:
        i -= 1
    return i


def link(text: str, numbers: Sequence[Number]) -> list[Link]:
    """Metric, change and before/after role of each figure of one cell."""
    links: list[Link] = []
    consumed = 0                # end of the previous figure (and of the noun after it)
    previous: tuple[str, int] | None = None
    previous_clause = -1
    previous_from = False       # the previous figure followed 由/从
    group = 0
    for i, number in enumerate(numbers):
        clause = _clause_start(text, number.start, 0)
        start = max(clause, consumed, number.start - _BEFORE_REACH)
        if consumed > clause:   # a later figure of the same clause: 、 starts its own item
            item = text.rfind(_LIST, start, number.start)
            start = item + 1 if item >= 0 else start
        words = text[start:number.start].strip()
        # nothing to tag when only 为/全市/、… stands between the clause start and the figure
        before = _tag(text, start, number.start) if words and words not in _BARE else []
        metric = _span(text, _phrase_before(before))
        end = number.end
        ends_in_noun = bool(before) and before[-1].flag.startswith("n") and before[-1].word not in _FRAME
        if (metric is None or not ends_in_noun) and end < len(text) and text[end] not in _CLAUSE_END:
            reach = min(len(text), end + _AFTER_REACH, numbers[i + 1].start if i + 1 < len(numbers) else len(text))
            stop = end
            while stop < reach and text[stop] not in _CLAUSE_END:
                stop += 1
            after_tokens = _tag(text, end, stop)
            after = _phrase_after(after_tokens)
            if after:
                metric = _span(text, after)
                end = after[-1].start + len(after[-1].word)
            elif metric is None and after_tokens and _is_verb(after_tokens[0]):
                metric = (after_tokens[0].word, after_tokens[0].start)   # 21万人次参保 → 参保
        if metric is None and previous is not None and previous_clause == clause:
            metric = previous                        # 3407户、8173人: the same subject
        if metric is None:                           # 共发放1,560.8万元 → 发放
            verbs = [t for t in before if _is_verb(t) and t.word not in _TO]
            metric = (verbs[-1].word, verbs[-1].start) if verbs else None
        change, reaches = _change(before)
        role = None
        if reaches and previous_from and links and previous_clause == clause:
            group += 1
            links[-1] = links[-1]._replace(change=change, change_role="before", change_group=group)
            role = "after"
        elif reaches:
            change = None                            # 提高到42.1%: a level reached, not a change
        links.append(Link(metric[0] if metric else None, metric[1] if metric else None,
                          change, role, group if role else None))
        previous_from = any(t.word in _FROM for t in before)
        previous, previous_clause, consumed = metric, clause, end
    return links
