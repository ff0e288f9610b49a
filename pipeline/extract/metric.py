"""What each figure of a cell measures (its metric) and whether it is a change.

A figure's metric is the shortest phrase of its clause naming what is measured:
the noun phrase before it (发放救助资金10.83亿元 → 救助资金), or the noun after its
classifier (为23.5万名城乡低保对象、城乡特困人员发放 → 城乡低保对象、城乡特困人员), or
the previous figure's when the figure only continues a list (3407户、8173人).
Only the few characters around each figure are part-of-speech tagged, with one
lazily built jieba tokenizer that owns our user dictionary.
"""
from __future__ import annotations

import io
import logging
import re
from bisect import bisect_left
from functools import cache, lru_cache
from math import log
from typing import NamedTuple, Sequence

from .numbers import Number
from ..vocab import lexicon

_LEX = lexicon()
# The word lists of metric_words.tsv, which says what each kind does to a metric.
_FRAME = _LEX.metric_words["frame"]     # 全市 共 累计: stripped from the front
_LIGHT = _LEX.metric_words["light"]     # 发放 开展: their object is the metric
_LINK = _LEX.metric_words["link"]       # 达到 的 已: stripped from the end
_CUT = _LEX.metric_words["cut"]         # 较 比 按: the metric ends before them
_SCOPE = _LEX.metric_words["scope"]     # 共 其中: the metric's part of the clause starts after them
_LEAD = _LEX.metric_words["lead"]       # 新增 惠及: dropped before a noun
_JOIN = _LEX.metric_words["join"]       # 和 及 与: 增长5.2%和6.1%
_QUALIFIER = _LEX.metric_words["qualifier"]   # 65岁以上: skipped between a classifier and its noun
_PLAN = frozenset(_LEX.plan_words)             # 计划 年度任务 …: never at the edge of a metric
_PLAN_WORD = re.compile("|".join(map(re.escape, _LEX.plan_words)))
# a cell without one of these has no plan word and no bracket (a cheap test, most cells)
_CUE_CHARS = re.compile("[" + re.escape("".join(sorted({w[-1] for w in _LEX.plan_words})) + "(（") + "]")
_TRADITIONAL = frozenset(map(chr, _LEX.simplified))   # faster to test than a regex class this large
_MEASURE_NOUN_ENDS = ("率", "数", "量", "比例", "占比", "度")
_STANDARD_HEADS = _MEASURE_NOUN_ENDS + ("标准", "水平", "能力")
# A clause ends at these; a space too (cells wrap: 建成运行 “如康家园”33处), and any control
# character, so no metric ever holds one.
_CONTROL = {chr(c) for c in (*range(0x20), *range(0x7f, 0xa0))} | {"\u2028", "\u2029"}
_CLAUSE_END = set("，,；;。：:！!？?\n\t \u3000") | _CONTROL
_SENTENCE_END = frozenset("。；;！!？?\n") | _CONTROL
_OPENING, _CLOSING = "(（", ")）"
_LIST = "、"
_HEAD_MARKS = {"等", "以上", "以下"}       # A、B等C / 省级以上C: the metric is C
_EDGE_PUNCT = set("、，,；;。：:“”\"'‘’ \u3000")
_BRACKET_WORDS = "“”()（）"               # inside a noun phrase: 精神(心理)门诊, “两癌”筛查
_QUOTES = {"“": "”", "\"": "\"", "‘": "’", "「": "」"}
_PAIRS = {**_QUOTES, "(": ")", "（": "）", "《": "》", "【": "】"}
_PAIR_MARKS = frozenset(_PAIRS) | frozenset(_PAIRS.values())
_FROM, _TO = {"由", "从"}, {"至", "到", "为"}
_POINTS = "个百分点"                          # 提高3个百分点: always a change
_RANGE_MARKS = {"-", "－", "—", "~", "～", "至", "到"}    # 1-8月, 1至8月: a range of months
_PER = "每"
_RECIPIENT = {"为", "对", "向", "给"}         # 为A、B发放…: the list after them is the metric
_AFTER_REACH = 20                            # characters of noun phrase read after a classifier
_BEFORE_REACH = 24                           # characters of clause read before a figure
_CONTEXT = 6                                 # characters tagged before a cut window, for word boundaries
_FIGURE_REACH = 30      # figures looked back over for the one a figure takes its thing from (linear
                        # work in a cell of 50,000 figures; far beyond any real sentence)
_LONG = 12                                   # a metric longer than this is trimmed to its head
_HEAD_REACH = 9                              # … to at most this many characters of whole words
# the progress stage's verbs of work done (改造 整治 救助 开工 …): jieba tags some of them as
# nouns (整治/n, 救助/vn), but opening a metric they are the work, and their object the thing
_WORK_VERBS = frozenset(_LEX.progress_words["achievement_verbs"] + _LEX.progress_words["done_verbs"])
_BARE = _FRAME | _LIGHT | _EDGE_PUNCT | _JOIN
_NOUNISH = ("n", "vn", "an", "j", "l", "b", "nz", "eng")


class Link(NamedTuple):
    """What one figure measures (and where that is written) and its part in a change."""

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
    tokenizer.load_userdict(io.BytesIO(_LEX.jieba_userdict))   # the bytes the fingerprint covers
    tagger = jieba.posseg.POSTokenizer(tokenizer)
    tagger.makesure_userdict_loaded()
    return tagger


@cache
def _log_freq() -> tuple[dict, dict, float]:
    """The tagger's word tags, each dictionary entry's log probability (False for a
    mere prefix of a word) and an unknown character's, computed once."""
    tagger = _tagger()
    log_total = log(tagger.tokenizer.total)
    logp = {w: (log(f) - log_total if f else False) for w, f in tagger.tokenizer.FREQ.items()}
    return tagger.word_tag_tab, logp, -log_total


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
    tags, logp, unknown = _log_freq()
    sentence = text[start:end]
    n = len(sentence)
    get = logp.get
    # best[k]: log probability of the best route through sentence[k:]; ties go to the
    # longer word, as in jieba.
    best = [0.0] * (n + 1)
    last = list(range(1, n + 2))      # last[k]: where that first word ends (exclusive)
    for k in range(n - 1, -1, -1):
        top = None
        i = k + 1                      # the candidate word is sentence[k:i]
        p = get(sentence[k])
        while p is not None:           # None: no dictionary word starts with sentence[k:i]
            if p is not False:         # False: a mere prefix of a word
                score = p + best[i]
                if top is None or score >= top:
                    top, last[k] = score, i
            if i == n:
                break
            i += 1
            p = get(sentence[k:i])
        best[k] = unknown + best[k + 1] if top is None else top
    tokens: list[_Token] = []
    x = 0
    while x < n:
        y = last[x]
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


def _is_digits(token: _Token) -> bool:
    return token.flag == "eng" and token.word.isdigit()


def _is_verb(token: _Token) -> bool:
    return token.flag.startswith("v") and token.flag != "vn"


def _is_noun(token: _Token) -> bool:
    return token.flag.startswith(_NOUNISH) or token.word in _BRACKET_WORDS


def _rate_words(tokens: list[_Token]) -> list[_Token]:
    """Without trailing 每人 每月 …: they qualify the unit, not the metric.

    标准为每生每天5元 → 标准为: the phrase ends before the first 每 of its last four words.
    """
    for i in range(max(len(tokens) - 4, 0), len(tokens)):
        if tokens[i].word.startswith(_PER):
            return tokens[:i]
    return tokens


def _phrase_before(tokens: list[_Token]) -> list[_Token]:
    """The metric in the words between the clause start and a figure, if any."""
    if not tokens:
        return []
    tokens = _rate_words(tokens)
    while len(tokens) > 1 and tokens[-1].word in _PLAN:   # 高标准农田建设任务260万亩: the plan is not the thing
        tokens = tokens[:-1]
    tokens = tokens[:_phrase_end(tokens)]
    opened = False             # the phrase follows a support verb or 为/对/向: 发放A、B、C
    for i in range(len(tokens) - 1, -1, -1):
        word = tokens[i].word
        if word in _HEAD_MARKS or (i < len(tokens) - 1 and (
                (word in _LIGHT and not all(_is_verb(t) for t in tokens[i + 1:]))   # 管网建设改造
                or (word in _SCOPE and not (i and _is_verb(tokens[i - 1]))))):
            tokens = tokens[i + 1:]   # …行动共排查房屋: the metric starts after 共, 发放, 等 (not 占全市…)
            opened = word in _LIGHT
            break
    if tokens and tokens[-1].word in _TO and all(t.word in _LEX.change_verbs for t in tokens[:-1]):
        return []           # 由142元/人/月提高至150元/人/月: the second figure shares the metric
    while tokens:
        word = tokens[0].word
        if word in _FRAME or word in _LIGHT or word in _JOIN or (word in _EDGE_PUNCT and not _opens_quote(tokens)):
            opened = opened or word in _RECIPIENT
            tokens = tokens[1:]
        elif len(tokens) > 1 and (word in _LEX.periods or word in _PLAN):   # 一季度已开工, 计划改造…
            tokens = tokens[1:]
        elif len(tokens) > 2 and _is_digits(tokens[0]):
            if len(tokens) > 3 and tokens[1].word in _RANGE_MARKS and _is_digits(tokens[2]):
                tokens = tokens[2:]                # 1-8月新增城镇就业: a period is never part of a metric
            else:
                tokens = tokens[2:] if tokens[1].flag in ("m", "t") else tokens[1:]   # 6月底…, 2022年…
        elif len(tokens) > 4 and word in _QUOTES and _is_digits(tokens[1]) and tokens[2].flag in ("m", "t", "q"):
            tokens = tokens[3:]                    # “15分钟社区生活圈”: the leading measure only qualifies the name
        else:
            break
    while len(tokens) > 1 and (tokens[-1].word in _LINK or tokens[-1].word in _EDGE_PUNCT
                               or tokens[-1].flag == "d" or tokens[-1].word in _LEX.change_verbs
                               or tokens[-1].word in _TO or _reaches(tokens[-1].word)
                               or tokens[-1].word in _PLAN):       # …监督抽查计划68批次
        tokens = tokens[:-1]
    if tokens and (tokens[-1].word in _LINK or tokens[-1].word in _EDGE_PUNCT):
        return []
    # verbs opening the phrase before a compound noun (开工改造老旧小区, 新建护理型床位, 整治黑臭
    # 水体): the metric is the noun phrase — a compound of several words, or one dictionary word
    # of four characters or more after verbs of work (改造老旧小区, 救助困难群众); but a verb
    # with a shorter one-word object stays (开工幼儿园, 加装电梯, 出动检查人员)
    lead = 0
    while lead < len(tokens) and (_is_verb(tokens[lead]) or tokens[lead].word in _WORK_VERBS):
        lead += 1
    # — and so does one a measure noun takes in (参保人数, 在建小区配建率)
    chain = sum(t.word not in _LEAD for t in tokens[:lead])     # 开工改造老旧小区, not 新增就业岗位
    compound = len(tokens) - lead > 1 or (
        _chars(tokens[lead:]) >= 4 and all(t.word in _WORK_VERBS for t in tokens[:lead]))
    if (lead and (chain > 1 or compound)
            and lead < len(tokens) and _is_noun(tokens[-1])
            and not tokens[-1].word.endswith(_MEASURE_NOUN_ENDS)):
        tokens = tokens[lead:]
    # verbs that only introduce what is counted go in any case (新增学位, 惠及居民)
    lead = 0
    while lead < len(tokens) and tokens[lead].word in _LEAD:
        lead += 1
    if lead < len(tokens) and (_is_noun(tokens[-1]) or _opens_quote(tokens[lead:])):
        tokens = tokens[lead:]
    if opened and any(t.word == _LIST for t in tokens):
        return tokens          # 发放伤残津贴、护理费、供养亲属抚恤金: the whole list
    return _head(tokens)


def _phrase_end(tokens: list[_Token]) -> int:
    """Where the metric ends, in one scan: before the first 由/从 (补助标准由142元…) unless
    it opens the words, and before a 较/按 ahead of that (接种率较上年同期提高, 配套资金按…标准)."""
    origin_seen = False
    for i, t in enumerate(tokens):
        word = t.word
        if word in _CUT:
            return i
        if word in _FROM and not origin_seen:
            if i:
                return i
            origin_seen = True
    return len(tokens)


def _reaches(word: str) -> bool:
    """A change verb fused with 到/至/为 (降到, 提高至): it links a metric to the level reached."""
    return len(word) > 1 and word[-1] in _TO and word[:-1] in _LEX.change_verbs


def _chars(tokens: Sequence[_Token]) -> int:
    return tokens[-1].start + len(tokens[-1].word) - tokens[0].start if tokens else 0


def _head(tokens: list[_Token]) -> list[_Token]:
    """A long phrase trimmed to its head noun phrase, the one closest to the figure.

    安全生产、自然灾害隐患大排查大整治行动派出检查组 → 检查组: the metric starts after the
    last verb taking an object (a verb tag, two characters or more, before a noun that
    is not a measure or standard head: not 报销比例, 补助标准); failing that, it keeps
    the last whole words of the compound, a bracketed gloss with the word it glosses.
    """
    if _chars(tokens) <= _LONG:
        return tokens
    for i in range(len(tokens) - 2, 0, -1):
        verb, nxt = tokens[i], tokens[i + 1]
        if ((verb.flag == "v" and len(verb.word) > 1) or verb.word == _LIST) and _is_noun(nxt) \
                and not nxt.word.endswith(_STANDARD_HEADS) and _chars(tokens[i + 1:]) >= 2:
            tokens = tokens[i + 1:]
            break
    if _chars(tokens) <= _LONG:
        return tokens
    k = len(tokens) - 1
    while k > 0 and _chars(tokens[k - 1:]) <= _HEAD_REACH:
        k -= 1
    depth = 0
    for t in tokens[k:]:
        depth += t.word in "(（“"
        depth -= t.word in ")）”"
    while k > 0 and depth < 0:         # 精神(心理)门诊…: the gloss goes with its word
        k -= 1
        depth += tokens[k].word in "(（“"
        if depth == 0 and k > 0:
            k -= 1
    while k < len(tokens) - 1 and (tokens[k].word in _EDGE_PUNCT or tokens[k].flag.startswith("u")):
        k += 1
    return tokens[k:]


def _opens_quote(tokens: list[_Token]) -> bool:
    """An opening quote whose closing quote follows in the phrase: “两癌”筛查 keeps it."""
    closing = _QUOTES.get(tokens[0].word)
    return closing is not None and any(t.word == closing for t in tokens[1:])


def _is_numeric(token: _Token) -> bool:
    return token.word.isdigit() or token.flag == "m"


def _phrase_after(tokens: list[_Token]) -> list[_Token]:
    """The noun phrase right after a classifier: 9个县 → 县; verbs lead in only before a noun."""
    phrase: list[_Token] = []
    seen_noun = False
    skip = 0
    if tokens and _is_numeric(tokens[0]):   # 60.4万名65岁以上老年人: past the qualifier
        while skip < len(tokens) - 1 and (_is_numeric(tokens[skip]) or tokens[skip].word in _QUALIFIER):
            skip += 1
    while skip < len(tokens) - 1 and (tokens[skip].word == "的" or tokens[skip].flag == "d"):
        skip += 1              # 三分之二以上的乡镇中心校, 3-5万元一次性租房补贴
    if skip and not (_is_noun(tokens[skip]) or tokens[skip].flag == "a"):
        return []
    rest = tokens[skip:]
    for i, token in enumerate(rest):
        if seen_noun and token.flag == "vn" and i + 1 < len(rest) and _is_verb(rest[i + 1]):
            break                      # 老年人免费体检: a verbal noun before a verb starts the predicate
        if _is_noun(token) or (token.word == _LIST and seen_noun) or (seen_noun and _inside_noun(rest, i)):
            phrase.append(token)
            seen_noun = seen_noun or token.word not in _BRACKET_WORDS
        elif (_is_verb(token) or token.flag == "a") and not seen_noun:
            phrase.append(token)       # 9个新建项目, 一次性稳岗补贴
        else:
            break
        if seen_noun and _is_verb(token):
            break
    while phrase and (phrase[-1].word == _LIST or _is_verb(phrase[-1])):
        phrase.pop()
    return phrase if seen_noun else []


def _inside_noun(tokens: list[_Token], i: int) -> bool:
    """Adjectives between two nouns of one phrase (126条农村黑臭水体: 黑, 臭)."""
    j = i
    while j < len(tokens) and tokens[j].flag == "a":
        j += 1
    return j > i and j < len(tokens) and _is_noun(tokens[j])


def _span(text: str, tokens: Sequence[_Token]) -> tuple[str, int] | None:
    if not tokens:
        return None
    start, end = tokens[0].start, tokens[-1].start + len(tokens[-1].word)
    if _PAIR_MARKS.isdisjoint(text[start:end]):     # most phrases: no quote or bracket at all
        return text[start:end], start
    start, end = _balanced(text, start, end)
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


def _balanced(text: str, start: int, end: int) -> tuple[int, int]:
    """text[start:end] with every quote and bracket closed inside it.

    An opening mark whose closing one follows right after the span takes it in
    (“四好农村路 → “四好农村路”); otherwise the unbalanced part is dropped: the part
    from an unclosed opening mark (服务事项“跨省 → 服务事项), the part up to an
    unopened closing mark (…”服务事项 → 服务事项).
    """
    if _PAIR_MARKS.isdisjoint(text[start:end]):
        return start, end
    for opening, closing in _PAIRS.items():
        if opening == closing or (opening not in text[start:end] and closing not in text[start:end]):
            continue
        depth, last_open, last_close = 0, -1, -1
        for i in range(start, end):
            if text[i] == opening:
                depth, last_open = depth + 1, (i if depth == 0 else last_open)
            elif text[i] == closing:
                if depth:
                    depth -= 1
                else:
                    last_close = i
        if last_close >= 0 and last_close + 1 < end:
            start = last_close + 1
        if depth:
            if end < len(text) and text[end] == closing and depth == 1:
                end += 1
            elif last_open > start:
                end = last_open
            elif last_open + 1 < end:
                start = last_open + 1
    return start, end


def _change(tokens: list[_Token]) -> tuple[str | None, bool]:
    """(direction, reaches a level) from the words right before a figure.

    增长17.1% is a change; 提高至150元 reaches a level and is not one by itself.
    """
    if not tokens:
        return None, False
    words = [t.word for t in _rate_words(tokens) if t.word.strip()]
    reaches = bool(words) and words[-1] in _TO
    if reaches:
        words = words[:-1]
    while words and words[-1] in _LINK:
        words = words[:-1]
    return (_LEX.change_verbs.get(words[-1]) if words else None), reaches


def _after_verb(tokens: list[_Token]) -> bool:
    """The change verb right before a figure follows a verb of its own (改造提升, 建设提升):
    one compound naming the work, whose count is no change."""
    words = [t for t in _rate_words(tokens) if t.word.strip()]
    return (len(words) > 1 and (words[-2].flag == "v" or words[-2].word in _WORK_VERBS)
            and words[-2].word not in _LEX.change_verbs
            and words[-1].word in _LEX.change_verbs)


def _clause_start(text: str, position: int) -> int:
    i = position
    while i > 0 and text[i - 1] not in _CLAUSE_END:
        i -= 1
    return i


def _tag_from(text: str, start: int, end: int, floor: int) -> list[_Token]:
    """_tag of text[start:end], cut on jieba's word boundaries when start is a reach limit.

    A few characters before start are tagged too, and a word straddling start is
    dropped, so a metric never begins inside a word (城乡低保、… never gives 保、…).
    """
    if start <= floor:
        return _tag(text, start, end)
    tokens = _tag(text, max(floor, start - _CONTEXT), end)
    return [t for t in tokens if t.start >= start]


def _continues(text: str, clause: int, consumed: int) -> bool:
    """A figure opening its clause right after the previous figure's clause (、 or ，)."""
    return 0 < clause and consumed <= clause and text[clause - 1] in "，,、" and not text[consumed:clause - 1].strip()


def link(text: str, numbers: Sequence[Number]) -> list[Link]:
    """Metric, change and before/after role of each figure of one cell.

    A cell in traditional characters is read in simplified ones (jieba's dictionary is
    simplified; the map keeps every offset) and its metrics cut from the text as written.
    """
    if _TRADITIONAL.isdisjoint(text):            # most cells: nothing to convert
        return _link(text, numbers)
    plain = text.translate(_LEX.simplified)
    links = _link(plain, numbers)
    return [k._replace(metric=text[k.metric_start:k.metric_start + len(k.metric)]) if k.metric else k
            for k in links]


def _link(text: str, numbers: Sequence[Number]) -> list[Link]:
    links: list[Link] = []
    consumed = 0                # end of the previous figure (and of the noun after it)
    previous: tuple[str, int] | None = None
    previous_clause = -1
    previous_from = False       # the previous figure followed 由/从
    group = 0
    for i, number in enumerate(numbers):
        clause = _clause_start(text, number.start)
        start = max(clause, consumed, number.start - _BEFORE_REACH)
        if consumed > clause:   # a later figure of the same clause: 、 starts its own item
            item = text.rfind(_LIST, start, number.start)
            start = item + 1 if item >= 0 else start
        words = text[start:number.start].strip()
        # nothing to tag when only 为/全市/、… stands between the clause start and the figure
        before = _tag_from(text, start, number.start, max(clause, consumed)) if words and words not in _BARE else []
        metric = _span(text, _phrase_before(before))
        end = number.end
        ends_in_noun = bool(before) and before[-1].flag.startswith("n") and before[-1].word not in _FRAME
        classifier = number.dimension == "count"
        if ((metric is None or not ends_in_noun or classifier)
                and end < len(text) and text[end] not in _CLAUSE_END):
            reach = min(len(text), end + _AFTER_REACH, numbers[i + 1].start if i + 1 < len(numbers) else len(text))
            stop = end
            while stop < reach and text[stop] not in _CLAUSE_END:
                stop += 1
            after_tokens = _tag(text, end, stop)
            after = _phrase_after(after_tokens)
            # 3项待遇水平, 两项补贴: the noun right after a classifier names what is counted
            if after and after[-1].start + len(after[-1].word) == stop == reach and i + 1 < len(numbers):
                # …156个行政村、开工率60%: the words before the next figure are its own
                while after and after[-1].word != _LIST:
                    after.pop()
                while after and after[-1].word == _LIST:
                    after.pop()
            if after and (metric is None or not ends_in_noun or _is_noun(after[0])):
                metric = _span(text, after)
                end = after[-1].start + len(after[-1].word)
            elif metric is None and after_tokens and _is_verb(after_tokens[0]):
                metric = (after_tokens[0].word, after_tokens[0].start)   # 21万人次参保 → 参保
        if words in _JOIN and previous is not None:
            metric = previous                        # 分别增长5.2%和6.1%: joined to the figure before
        if metric is None and previous is not None and (
                previous_clause == clause or (not words and _continues(text, clause, consumed))):
            metric = previous                        # 3407户、8173人 / 285个项目，4.94万户: the same subject
        change, reaches = _change(before)
        if metric is None:                           # 共发放1,560.8万元 → 发放
            verbs = [t for t in before if _is_verb(t) and t.word not in _TO]
            metric = (verbs[-1].word, verbs[-1].start) if verbs else None
        if change and not _is_share(number) and number.unit != _POINTS and _after_verb(before):
            change = None                            # 改造提升10个, 改造提升236公里: the work done (an upgrade)
        if words in _JOIN and links:
            change = links[-1].change                # 分别增长5.2%和6.1%: both are increases
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
    links = _named_thing(text, numbers, _what_is_completed(text, numbers, links))
    return _respective(text, numbers, links)


# --- figures whose own words name a plan, a bracket or a verb: they measure another figure's thing

def _plan_cue(text: str, clause: int, position: int) -> tuple[int, int | None] | None:
    """(start of the plan phrase right before ``position``, start of its bracketed
    targets or None) for 为年度任务的, 超任务, 年度目标(146台、40公里)的; else None."""
    cue = text[clause:position].rstrip()
    de = cue.endswith("的")
    cue = cue.removesuffix("的").rstrip()
    bracket = None
    if de and cue and cue[-1] in _CLOSING:
        opening = max(cue.rfind(c) for c in _OPENING)
        if opening < 0:
            return None
        bracket, cue = clause + opening, cue[:opening].rstrip()
    word = next((w for w in _LEX.plan_words if cue.endswith(w)), None)
    return None if word is None else (clause + len(cue) - len(word), bracket)


def _open_bracket(text: str, clause: int, position: int) -> int | None:
    """The unclosed bracket of the clause before ``position``, if any."""
    depth = 0
    for k in range(position - 1, clause - 1, -1):
        if text[k] in _CLOSING:
            depth += 1
        elif text[k] in _OPENING:
            if depth == 0:
                return k
            depth -= 1
    return None


def _is_share(number: Number) -> bool:
    return number.dimension in ("percent", "permille") or number.unit == "成"


def _only_verbs(text: str, metric: str, start: int) -> bool:
    """Verbs and adverbs only (治理, 改造已完工): the phrase names no thing."""
    tokens = _tag(text, start, start + len(metric))
    return any(_is_verb(t) for t in tokens) and all(_is_verb(t) or t.flag == "d" for t in tokens)


def _what_is_completed(text: str, numbers: Sequence[Number], links: list[Link]) -> list[Link]:
    """A completion ratio measures what the figure it completes measures (新增养老床位4869张，
    达年度任务的243.5% → 养老床位; 分别完成年度目标(146台、40公里)的80.8%、58.5% pair in
    order); a target bracketed after a plan word (年度目标(146台…)) the figure of its unit
    before it; a bracketed ratio right after a figure (已完成120条(95%)) and a verb after a
    figure of the same item and unit (126条…治理已完成120条) that figure's; a metric is never a plan
    word or punctuation alone (None when nothing names the thing)."""
    cue = _CUE_CHARS.search(text) is not None
    planned = cue and _PLAN_WORD.search(text) is not None
    brackets = cue and ("(" in text or "（" in text)
    if not (planned or brackets) and all(
            numbers[i].unit != numbers[i - 1].unit or _is_share(numbers[i]) for i in range(1, len(numbers))) \
            and all(not k.metric or k.metric[0].isalnum() or any(c.isalnum() for c in k.metric) for k in links):
        return links                                   # most cells: nothing here concerns them
    out = list(links)
    plan_of: dict[int, tuple[int, int | None]] = {}    # ratio index → its plan cue
    group: dict[int, list[int]] = {}                   # first ratio of a list → the list

    def metric_of(k: int) -> tuple[str | None, int | None]:
        return out[k].metric, out[k].metric_start

    def before_cue(clause: int, cue: int) -> tuple[str | None, int | None]:
        words = text[clause:cue].strip()
        if not words or words in _BARE:
            return None, None
        span = _span(text, _phrase_before(_tag(text, clause, cue)))
        if not span or _only_verbs(text, span[0], span[1]):
            return None, None                          # 占任务的80%: 占 names nothing
        return span

    for i, number in enumerate(numbers):
        share = _is_share(number)
        # most figures need none of this: only plan words, brackets or a repeated unit call for it
        if not (planned or brackets) and (share or not i or numbers[i - 1].unit != number.unit
                                          or not out[i].metric or out[i].metric == out[i - 1].metric):
            if out[i].metric and not any(c.isalnum() for c in out[i].metric):
                out[i] = out[i]._replace(metric=None, metric_start=None)
            continue
        clause = _clause_start(text, number.start)
        opening = _open_bracket(text, clause, number.start) if brackets else None
        if planned and opening is not None and (plan := _plan_cue(text, clause, opening)) is not None:
            # 年度目标(146台、40公里): the achieved figure of the same unit names the thing
            sentence = _start_of(text, number.start, _SENTENCE_END)
            same = [k for k in range(i) if numbers[k].start >= sentence and numbers[k].end <= plan[0]
                    and numbers[k].unit == number.unit and not _is_share(numbers[k]) and out[k].change is None]
            # 筛查8260人、7930人…年度目标(8000人、7000人): the k-th target of the bracket, the k-th figure
            inside = [k for k, n in enumerate(numbers) if opening < n.start and _open_bracket(text, opening, n.start) == opening]
            if len(inside) > 1 and len(same) >= len(inside):
                same = same[:len(same) - len(inside) + inside.index(i) + 1]
            out[i] = out[i]._replace(**dict(zip(("metric", "metric_start"),
                                               metric_of(same[-1]) if same else before_cue(clause, plan[0]))))
            continue
        if share:
            gap = text[numbers[i - 1].end:number.start].strip() if i else None
            head = next((h for h, members in group.items() if members[-1] == i - 1), None)
            if head is not None and (gap == _LIST or gap in _JOIN):
                group[head].append(i)
                continue
            plan = _plan_cue(text, clause, number.start) if planned else None
            if plan is not None:
                plan_of[i] = plan
                group[i] = [i]
                continue
            if (i and opening == number.start - 1 and number.end < len(text) and text[number.end] in _CLOSING
                    and numbers[i - 1].end > clause and out[i - 1].metric):
                out[i] = out[i]._replace(metric=out[i - 1].metric, metric_start=out[i - 1].metric_start)
                continue                               # 已完成120条(95%)
        elif (i and out[i].metric and out[i - 1].metric and out[i].metric != out[i - 1].metric
              and numbers[i - 1].unit == number.unit and numbers[i - 1].end > clause
              and _LIST not in text[numbers[i - 1].end:number.start]
              and _only_verbs(text, out[i].metric, out[i].metric_start)):
            out[i] = out[i]._replace(metric=out[i - 1].metric, metric_start=out[i - 1].metric_start)
            continue                                   # 126条农村黑臭水体治理已完成120条
        if out[i].metric and not any(c.isalnum() for c in out[i].metric):
            out[i] = out[i]._replace(metric=None, metric_start=None)
    for head, members in group.items():
        cue, bracket = plan_of[head]
        clause = _clause_start(text, numbers[head].start)
        sentence = _start_of(text, numbers[head].start, _SENTENCE_END)
        if bracket is not None:
            targets = [k for k, n in enumerate(numbers) if bracket < n.start < numbers[head].start]
            sources = targets if len(targets) == len(members) else []
        else:
            sources = [k for k in range(head) if numbers[k].start >= sentence and numbers[k].end <= cue
                       and not _is_share(numbers[k]) and out[k].change is None][-len(members):]
        for n, i in enumerate(members):
            if len(sources) == len(members):
                metric = metric_of(sources[n])
            elif sources:
                metric = metric_of(sources[-1])
            else:
                metric = before_cue(clause, cue)
            out[i] = out[i]._replace(metric=metric[0], metric_start=metric[1])
    return out


# The progress stage's cue lists (resources/progress/), read here for what a figure measures:
# a completion rate (开工率94.2%) measures what the figure it completes measures.
_COMPLETION_RATES = _LEX.progress_words["completion_rates"]
_CATEGORY_WORDS = _LEX.progress_words["category_scope_words"]   # 本类实事整体完成率: the category
_DONE_VERBS = frozenset(_LEX.progress_words["done_verbs"])   # 完成 建成: the plan's work, done
_EDGE_WORDS = _LEX.progress_words["link_words"]     # 为 达到 整体 …: trimmed from a metric's end
_PARTICLES = ("d", "f", "p", "c", "u")        # 已, 中, 在 …: words around a verb that name nothing
_AMONG = "中"                                   # 15个精品村中: among those things
_SUBSET = _LEX.metric_words["subset"]           # 其中: what follows is part of the same thing


def _names_nothing(text: str, metric: str | None, start: int | None) -> bool:
    """No metric, or one of verbs and particles only (中已开工, 建成运营, 中): no thing named.
    A verb of doing jieba tags as a noun verb (整治, 运营) is a verb here."""
    return not metric or _only_verbs_and_particles(metric)


@lru_cache(maxsize=1 << 12)      # metrics recur across cells and reports (完成, 开工, 建成运营)
def _only_verbs_and_particles(metric: str) -> bool:
    return all(_is_verb(t) or t.word in _WORK_VERBS or t.flag.startswith(_PARTICLES) for t in _tag(metric, 0, len(metric)))


def _trim_end(metric: str, words: Sequence[str]) -> str:
    """The metric without the words of ``words`` and the edge words that end it."""
    changed = True
    while changed:
        changed = False
        for w in (*words, *_EDGE_WORDS):
            if len(metric) > len(w) and metric.endswith(w):
                metric, changed = metric[:-len(w)], True
                break
    return metric


def _named_thing(text: str, numbers: Sequence[Number], links: list[Link]) -> list[Link]:
    """The thing a figure's sentence names, where its own metric names none:

    - a figure named only by verbs (年度计划新建村卫生室1500个，已完工1086个; 120所…中已开工
      113所) measures what the figure of its unit before it in the sentence measures;
    - a completion rate or a bare done ratio (已完成41.5公里，完成率66.9%; 已建成运营4个，完成
      66.7%) what the figure it completes measures; a category's rate with no figure before
      it, the category (本类实事整体完成率 → 本类实事).

    Not where the figure before names other things or other stages: 立项项目151个、开工100个
    (each stage named by its verb, unless the first is a plan), 156个行政村、开工率60% (the
    noun after a classifier counts the villages, not the work started).
    """
    out = list(links)
    inherited: set[int] = set()
    renamed: dict[tuple[str, int], tuple[str, int]] = {}   # a figure's old metric → its new one
    for i, number in enumerate(numbers):
        metric, start = out[i].metric, out[i].metric_start
        if out[i].change is not None:
            continue
        if (metric, start) in renamed:               # 已完成41.5公里，完成年度计划的66.9%: the
            new = renamed[(metric, start)]           # ratio follows the figure it completes
            out[i] = out[i]._replace(metric=new[0], metric_start=new[1])
            continue
        share = _is_share(number)
        rate = bool(metric) and share and _ends_in(metric, _COMPLETION_RATES)
        if not rate and not (i and _SENTENCE_END.isdisjoint(text[numbers[i - 1].start:number.start])):
            continue                                 # no figure before it in its sentence to name it
        # a percentage named by its own verb keeps it (提高7.6%, 预约就诊率) unless it is a completion rate
        if not (rate or (not metric if share else _names_nothing(text, metric, start))):
            continue
        sentence = _start_of(text, number.start, _SENTENCE_END)
        source = next((k for k in range(i - 1, max(-1, i - 1 - _FIGURE_REACH), -1) if numbers[k].start >= sentence
                       and not _is_share(numbers[k]) and out[k].change is None
                       and (share or numbers[k].unit == number.unit)), None)
        planned = source is not None and _PLAN_WORD.search(
            text, _clause_start(text, numbers[source].start), numbers[source].start) is not None
        among = source is not None and _among(text, numbers[source], out[source])   # 15个精品村中已完成9个
        if source is not None and (
                not out[source].metric
                or (_names_nothing(text, out[source].metric, out[source].metric_start)
                    and not (rate and not metric.startswith(out[source].metric))   # 已完成体检X，完成率Y
                    and not (planned and metric in _DONE_VERBS) and source not in inherited)   # 计划体检…,已完成…
                or (share and out[source].metric_start > numbers[source].start)
                or (not share and source not in inherited and not planned and not among
                    and not any(w in text[numbers[source].end:number.start] for w in _SUBSET))):
            # 立项项目151个、开工100个: two stages of one thing, each named by its verb;
            # 156个行政村、开工率60%: the villages counted are not the work started
            source = None
        if source is not None:
            if metric:
                renamed[(metric, start)] = (out[source].metric, out[source].metric_start)
            out[i] = out[i]._replace(metric=out[source].metric, metric_start=out[source].metric_start)
            inherited.add(i)
        elif rate and any(w in metric for w in _CATEGORY_WORDS):
            trimmed = _trim_end(metric, _COMPLETION_RATES)     # 危房改造完成率 keeps its name
            if trimmed != metric and len(trimmed) >= 2:
                out[i] = out[i]._replace(metric=trimmed)
    return out


def _among(text: str, number: Number, link: Link) -> bool:
    """The figure is named by the words after it, then 中 (15个精品村中…): what follows in
    its sentence counts among those things."""
    if not link.metric or link.metric_start is None or link.metric_start < number.end:
        return False
    return text.startswith(_AMONG, link.metric_start + len(link.metric))


def _ends_in(metric: str, words: Sequence[str]) -> bool:
    return metric.endswith(tuple(words))


def _start_of(text: str, position: int, ends: frozenset[str]) -> int:
    """Where the sentence (or clause) holding ``position`` starts."""
    bounds = _bounds(text, ends)
    k = bisect_left(bounds, position)
    return bounds[k - 1] + 1 if k else 0


@lru_cache(maxsize=4)       # the cell at hand: its figures look up their sentences in it
def _bounds(text: str, ends: frozenset[str]) -> tuple[int, ...]:
    """The positions of the characters of ``ends`` in the text, found once per cell (a
    walk back from each figure would be quadratic in a cell of 50,000 figures)."""
    return tuple(m.start() for m in _any_of(ends).finditer(text))


@cache
def _any_of(chars: frozenset[str]) -> re.Pattern:
    return re.compile("[" + re.escape("".join(sorted(chars))) + "]")


# --- lists paired in order: 口袋公园、绿道分别完成年度目标(20个、30公里)的85%、73.3%

_RESPECTIVE = tuple(_LEX.metric_words["respective"])     # 分别: the lists around it pair in order
_RESPECTIVE_WORD = re.compile("|".join(map(re.escape, _RESPECTIVE)))


def _runs(text: str, numbers: Sequence[Number]) -> list[list[int]]:
    """Figures written one after another, joined by 、 or a join word (8个、17个 / 5%和6%)."""
    runs: list[list[int]] = []
    for i, number in enumerate(numbers):
        gap = text[numbers[i - 1].end:number.start].strip() if i else None
        if runs and (gap == _LIST or gap in _JOIN or (gap[:1] == _LIST and gap[1:].startswith(_PER))):   # 602元、每人每年4560元
            runs[-1].append(i)
        else:
            runs.append([i])
    return [run for run in runs if len(run) > 1]


def _items(text: str, metric: str, start: int) -> list[tuple[str, int]]:
    """The items of a 、 list metric, each with its offset."""
    items, at = [], start
    for item in metric.split(_LIST):
        items.append((item, at))
        at += len(item) + 1
    return items


def _respective(text: str, numbers: Sequence[Number], links: list[Link]) -> list[Link]:
    """A list of N figures after 分别 pairs in order with the list before it:

    - with a 、 list of N things all the figures share as metric (污水管网、碧道分别完成
      …120公里、40公里 → 污水管网, 碧道); where the list is of modifiers of one head
      (城市、农村低保平均标准: one-noun items, then one item of several words opening with
      a noun) every figure takes the head (低保平均标准);
    - with the N figures listed before it in the sentence (已建成公园8个、驿站17个，完成率
      分别为80%、85%), where all N share the last one's metric.
    """
    if len(numbers) < 2 or _RESPECTIVE_WORD.search(text) is None:
        return links
    out = list(links)
    for run in _runs(text, numbers):
        metric, start = out[run[0]].metric, out[run[0]].metric_start
        if not metric or any(out[k].metric_start != start for k in run):
            continue
        first = numbers[run[0]].start
        sentence = _start_of(text, first, _SENTENCE_END)
        cue = max(text.rfind(w, sentence, first) for w in _RESPECTIVE)
        if cue < 0:
            continue
        paired: list[tuple[str, int]] = []
        if _LIST in metric and start + len(metric) <= cue:
            items = _items(text, metric, start)
            words = [_tag(text, at, at + len(item)) for item, at in items]
            if (len(items) > 1 and all(len(w) == 1 and _is_noun(w[0]) for w in words[:-1])
                    and len(words[-1]) > 2 and _is_noun(words[-1][0])):
                head = words[-1][1]             # 城市、农村低保平均标准 → 低保平均标准
                paired = [(text[head.start:items[-1][1] + len(items[-1][0])], head.start)] * len(run)
            elif len(items) == len(run):
                paired = items
        elif start < cue:
            # the N figures before 分别 in its sentence, each with a metric of its own
            before = [k for k in range(run[0]) if sentence <= numbers[k].start < cue
                      and not _is_share(numbers[k]) and out[k].change is None][-len(run):]
            if (len(before) == len(run) and out[before[-1]].metric_start == start and all(out[k].metric for k in before)
                    and len({out[k].metric_start for k in before}) == len(run)):
                paired = [(out[k].metric, out[k].metric_start) for k in before]
        for k, (name, at) in zip(run, paired):
            out[k] = out[k]._replace(metric=name, metric_start=at)
    return out

