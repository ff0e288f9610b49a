"""Progress stage: how far each task has got against its plan.

``link(report, quantities) -> tuple[Progress, ...]`` takes a report and the quantities
extract found in its cells (keyed by (task_no, field)) and returns one record per
piece of progress it states, per the scheme in ../shared/gold/PROGRESS.md. It is pure
and total, and never re-finds numbers: it reads the text around the figures.

A record links, inside one task row, up to three figures: the **achieved** one (已完成
120条), the **target** (126条…, 计划总投资277亿元, 年度目标(50场), or a target in the task
cell), and the **ratio** that states completion (完成率98.5%, 为年度任务的110%, (95%)
after a figure, 内部装饰完成60%). The forms, in the order they are read:

1. completion ratios in the status cell: after a plan word and 的 (为年度任务的Z%,
   年度目标(X、…)的Z%、…), after a completion rate (完成率, 开工率 …), after a done verb
   (完成60%), or alone in brackets right after a figure (120条(95%)); each takes the
   figure it completes (the nearest one before it in its sentence; by unit where
   bracketed targets are written; lists pair in order); a progress word with a subject
   of its own (工程形象进度达80%) is that work's state and stands alone;
2. a target and an achievement in one sentence of the status cell, same unit: a
   target whose clause opens with a plan word (计划…X…已完成Y, 项目总投资X…完成投资Y;
   also written after it: 新建Y，年度目标X), one written in the same item before an
   achievement verb (X中已完成Y, 126条…已完成120条), or one in brackets after it
   (Y(目标X)); a figure named as a plan is never an achievement; a plan clause with one
   figure of its unit serves every achievement of its sentence (已开工41个…已完工18个), up
   to a part of one (其中新建…);
3. a target in the task cell and an achievement in the status cell: same unit, and
   the same thing (metrics alike; a length, area … written once in each cell needs
   no more); a completion rate with no figure of its own completes the task's target.

What is never progress: population and service rates (失业率, 覆盖率, 建档率 — any rate
not listed as a completion rate), shares (占比, 占…支出的), changes (增长, 提高),
schedule ratios (序时进度), bare counts, forecasts (预计, 建成后), and figures after a
remainder word (其余3个, 在建2所), whose done ratio is one for that piece of work alone. The cue words are data files under
``pipeline/resources/progress/``.

Each record gets its figures' values, the stated and computed completion, an implied
target (achieved / ratio) where none is written, the share of the plan's period
elapsed at the report's period end (``expected_pct``: an annual plan at 1–9月 expects
75) and a status against it, with these margins (percentage points):
``done`` completion ≥ 100; ``ahead`` ≥ expected + 10; ``behind`` < expected − 10;
``on_track`` in between; ``unknown`` without a completion or an expected mark.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
import re
from bisect import bisect_left
from functools import cache, lru_cache

from .vocab import lexicon, simplified
from .records import FactRef, Progress, Quantity, Report, Task

__all__ = ["link", "status_of", "expected_pct", "MARGIN"]

MARGIN = 10.0        # points around the expected mark that still count as on track
_SIMILAR = 0.4       # Dice overlap of two metrics that name the same thing
# The figures of one record lie within this many figures of each other, and a task cell's
# targets among its first this many: it bounds the work on a cell of 50,000 figures
# (linear, not quadratic) and is far beyond any real sentence.
_FIGURE_REACH = 30
_TEXT_REACH = 400     # characters a sentence reaches either side of a figure, for the same reason
_BRACKET_GAP = 10    # characters between an achievement and a bracketed target after it (126公里(计划150公里))
_SENTENCE_END = frozenset("。；;！!？?\n")
_CLAUSE_END = _SENTENCE_END | frozenset("，,：:")
_ITEM_END = _CLAUSE_END | frozenset("、")
_OPEN, _CLOSE = "(（", ")）"
_PERCENT_UNITS = {"%": 1.0, "％": 1.0, "成": 10.0}
_NOT_AMOUNTS = frozenset({"percent", "permille", "percentage_point", "ratio", "rate"})
_ANY_THING = frozenset({"count", "currency", "none"})   # units many things share (个, 人, 元)
_PROGRESS_WORD = "进度"     # the completion rates that name a state of work (工程形象进度, 建设进度)


@dataclass(frozen=True)
class _Words:
    plan: tuple[str, ...]
    rates: tuple[str, ...]
    done: tuple[str, ...]
    achievement: tuple[str, ...]
    schedule: tuple[str, ...]
    category: tuple[str, ...]
    share: tuple[str, ...]
    link: tuple[str, ...]
    forecast: tuple[str, ...]
    level: tuple[str, ...]
    ratio_verbs: tuple[str, ...]
    remainder: tuple[str, ...]
    perfect: tuple[str, ...]
    shared_units: frozenset[str]
    joins: tuple[str, ...]
    subset: tuple[str, ...]
    synonyms: dict[str, frozenset[str]]          # unit → the units of its group


def _read(name: str) -> tuple[str, ...]:
    """The words of one list of resources/progress/, longest first (so a compound wins
    over its head), as the vocabulary loaded them."""
    return lexicon().progress_words[name.removesuffix(".txt")]


@cache
def _words() -> _Words:
    # ../plan_words.txt is shared with extract; plan totals (总投资) are plans here only
    plan = tuple(sorted(set(lexicon().plan_words + _read("plan_totals.txt")), key=lambda w: (-len(w), w)))
    return _Words(plan, _read("completion_rates.txt"), _read("done_verbs.txt"),
                  _read("achievement_verbs.txt"), _read("schedule_words.txt"),
                  _read("category_scope_words.txt"), _read("share_words.txt"), _read("link_words.txt"),
                  _read("forecast_words.txt"), _read("level_words.txt"), _read("ratio_verbs.txt"),
                  _read("remainder_words.txt"), _read("perfect_markers.txt"), frozenset(_read("shared_units.txt")),
                  ("、", *lexicon().metric_words["join"]),    # 的80.8%、58.5% / 的56%和54.5%
                  lexicon().metric_words["subset"],           # 其中: a part of the figure before
                  {u: frozenset(group) for group in map(str.split, _read("unit_synonyms.txt")) for u in group})


# --- the text around a figure ---------------------------------------------------------

@lru_cache(maxsize=1024)
def _bounds(text: str, ends: frozenset) -> tuple[int, ...]:
    """Where the sentences, clauses or items of a cell end (read once per cell)."""
    return tuple(m.start() for m in _boundary(ends).finditer(text))


@cache
def _boundary(ends: frozenset) -> re.Pattern:
    """Any of ``ends``, except an ASCII comma between digits: a thousands separator
    (1,620个(108%)) ends no clause."""
    rest = "".join(sorted(ends - {","}))
    comma = r"|(?<!\d),|,(?!\d)" if "," in ends else ""
    return re.compile("[" + re.escape(rest) + "]" + comma)


def _start(text: str, position: int, ends: frozenset) -> int:
    """The start of the sentence, clause or item holding ``position`` — at most
    ``_TEXT_REACH`` characters back: the cues read there are never further away, and a
    cell of one endless sentence then costs linear time, not quadratic."""
    bounds = _bounds(text, ends)
    k = bisect_left(bounds, position)
    return max(bounds[k - 1] + 1 if k else 0, position - _TEXT_REACH)


def _end(text: str, position: int, ends: frozenset) -> int:
    bounds = _bounds(text, ends)
    k = bisect_left(bounds, position)
    return min(bounds[k] if k < len(bounds) else len(text), position + _TEXT_REACH)


@cache
def _pattern(words: tuple[str, ...]) -> re.Pattern:
    return re.compile("|".join(map(re.escape, words)))


@cache
def _only_words(words: tuple[str, ...]) -> re.Pattern:
    return re.compile("(?:" + "|".join(map(re.escape, words)) + ")+")


def _has(words: tuple[str, ...], text: str, start: int, end: int) -> bool:
    """Whether one of ``words`` stands in text[start:end]."""
    return _pattern(words).search(text, start, max(start, end)) is not None


def _strip_links(cue: str) -> str:
    """The cue without the link words and spaces that may end it (完成率为 → 完成率)."""
    end = _links_at_end().search(cue)
    return cue[:end.start()] if end else cue


@cache
def _links_at_end() -> re.Pattern:
    return re.compile("(?:" + "|".join(map(re.escape, _words().link)) + r"|\s)+$")


@cache
def _suffix(words: tuple[str, ...]) -> re.Pattern:
    return re.compile("(?:" + "|".join(map(re.escape, words)) + ")$")


def _ends_with(cue: str, words: tuple[str, ...]) -> str | None:
    """The word of ``words`` (longest first) that ends the cue, if any."""
    end = _suffix(words).search(cue)
    return end.group() if end else None


def _pct(q: Quantity) -> float | None:
    """A percentage figure's value in percent (三成 → 30), else None."""
    scale = _PERCENT_UNITS.get(q.unit)
    if scale is None or q.change is not None:
        return None
    return q.value * scale


def _amount(q: Quantity, text: str) -> bool:
    """A figure that can be achieved or planned: a count, money, length … not a share,
    a rate, a change or a level per person (每千人口拥有托位数4.62个)."""
    if q.change is not None or q.dimension in _NOT_AMOUNTS or "/" in q.unit:
        return False
    return not _has(_words().level, text, _start(text, q.start, _CLAUSE_END), q.start)


def _forecast(q: Quantity, text: str) -> bool:
    """A figure its clause says is expected, not done (预计…新增学位约2.1万个)."""
    return _has(_words().forecast, text, _start(text, q.start, _CLAUSE_END), q.start)


def _unit(q: Quantity) -> str:
    """The figure's unit in simplified characters (戶 → 户), so scripts compare alike."""
    return simplified(q.unit)


def _synonym(a: Quantity, b: Quantity) -> bool:
    """b's unit is one of a's group in unit_synonyms.txt (名 and 人, 户 and 家庭)."""
    return _unit(b) in _words().synonyms.get(_unit(a), ())


def _bigrams(s: str) -> set[str]:
    return {s[i:i + 2] for i in range(len(s) - 1)} or set(s)


def _similar(a: str | None, b: str | None) -> float:
    if not a or not b:
        return 0.0
    if (a in b or b in a) and min(len(a), len(b)) >= 2:
        return 1.0
    x, y = _bigrams(a), _bigrams(b)
    return 2 * len(x & y) / (len(x) + len(y))


# --- one task row ---------------------------------------------------------------------

@dataclass
class _Record:
    scope: str = "task"
    achieved: tuple[str, int] | None = None      # (field, index)
    target: tuple[str, int] | None = None
    ratio: tuple[str, int] | None = None
    kind: str = ""                               # the ratio's kind, where there is one
    group: int = 0                               # the ratio's list (…的90%、63.3%), where there is one
    alone: bool = False                          # a ratio of a piece of work with its own subject


@dataclass
class _Ratio:
    index: int
    kind: str                                    # plan | rate | done | bracket
    scope: str = "task"
    group: int = 0                               # ratios of one list (…的80.8%、58.5%) share it
    targets: list[int] = field(default_factory=list)   # bracketed targets of the group (年度目标(146台、40公里))
    cue_start: int = 0                           # where the words that make it a ratio begin
    alone: bool = False                          # a piece of work with its own subject (内部装饰完成60%)


class _Row:
    """The figures of one task row and the records found among them."""

    def __init__(self, task: Task, quantities: Mapping[tuple[int, str], Sequence[Quantity]]):
        self.task = task
        # cues are read in simplified characters (完成年度任務的 → 完成年度任务的), offsets kept
        self.text = {"task": simplified(task.task), "status": simplified(task.status)}
        self.qs = {f: list(quantities.get((task.task_no, f), ())) for f in ("task", "status")}
        self.records: list[_Record] = []
        self._holder: dict[tuple[str, int], _Record] = {}   # figure → the first record holding it
        self.used: set[tuple[str, int]] = set()  # figures already achieved or target of a record

    def planned(self, k: int) -> bool:
        """A status figure its own item names as a plan (全年计划改造…2,100公里, (年度任务2000户)),
        unless an achievement verb comes first (完成年度计划投资9.6亿元)."""
        text, q, w = self.text["status"], self.qs["status"][k], _words()
        start = _start(text, q.start, _ITEM_END)
        if k:       # 计划的120所…中已开工113所: a plan word names the nearest figure after it
            start = max(start, self.qs["status"][k - 1].end)
        opening = max(text.rfind(c, start, q.start) for c in _OPEN)
        if opening >= 0 and not any(c in text[opening:q.start] for c in _CLOSE):
            start = opening + 1
        plan = _pattern(w.plan).search(text, start, q.start)
        return plan is not None and not _has(w.achievement, text, start, plan.start())

    def remainder(self, field_: str, k: int) -> bool:
        """A figure its item counts as not done yet (其余3个, 另2座, 在建4所)."""
        text, q = self.text[field_], self.qs[field_][k]
        return _has(_words().remainder, text, _start(text, q.start, _ITEM_END), q.start)

    def record_of(self, ref: tuple[str, int]) -> _Record | None:
        """The first record holding the figure (as achieved, target or ratio)."""
        return self._holder.get(ref)

    def add(self, rec: _Record) -> _Record:
        self.records.append(rec)
        for ref in (rec.achieved, rec.target, rec.ratio):
            if ref is not None:
                self._holder.setdefault(ref, rec)
        return rec

    def give(self, rec: _Record, role: str, ref: tuple[str, int]) -> None:
        """The record's achieved, target or ratio becomes the figure ``ref``."""
        setattr(rec, role, ref)
        self._holder.setdefault(ref, rec)

    # 1. completion ratios ------------------------------------------------------------

    def ratios(self) -> list[_Ratio]:
        text, qs, w = self.text["status"], self.qs["status"], _words()
        found: list[_Ratio] = []
        for i, q in enumerate(qs):
            if _pct(q) is None:
                continue
            clause = _start(text, q.start, _CLAUSE_END)
            if _has(w.schedule, text, clause, _end(text, q.end, _CLAUSE_END)):
                continue                                     # 达到75%的序时进度要求
            prev = found[-1] if found else None
            gap = text[qs[i - 1].end:q.start] if i else None
            if prev is not None and prev.index == i - 1 and gap is not None and gap.strip() in w.joins:
                found.append(_Ratio(i, prev.kind, prev.scope, prev.group, prev.targets, prev.cue_start, prev.alone))
                continue                                     # 分别完成…的80.8%、58.5%
            ratio = self._kind(i, q, clause)
            if ratio is None:
                continue
            if _has(w.category, text, _start(text, q.start, _SENTENCE_END), q.start):
                ratio.scope = "category"                     # 本类实事整体完成率为111.5%
            ratio.group = len(found) + 1
            found.append(ratio)
        return found

    def _kind(self, i: int, q: Quantity, clause: int) -> _Ratio | None:
        text, qs, w = self.text["status"], self.qs["status"], _words()
        if (q.start and text[q.start - 1] in _OPEN and q.end < len(text) and text[q.end] in _CLOSE):
            return _Ratio(i, "bracket", cue_start=q.start - 1)   # 已完成120条(95%)
        cue = _strip_links(text[clause:q.start])
        if _ends_with(cue, w.share):
            return None                                          # 占比40%, 比例达到96%
        rate = _ends_with(cue, w.rates)
        if rate:
            start = clause + len(cue) - len(rate)
            # 工程形象进度达80%: a progress word with a subject of its own is that piece of
            # work's state, not the completion of a figure before it (正在施工4个，…)
            alone = rate.endswith(_PROGRESS_WORD) and bool(self._subject(i, clause, start))
            return _Ratio(i, "rate", cue_start=start, alone=alone)
        plan = cue.removesuffix("的")
        de = plan != cue
        targets: list[int] = []
        if de and plan and plan[-1] in _CLOSE:                  # 年度目标(146台、40公里)的
            opening = max(plan.rfind(c) for c in _OPEN)
            if opening >= 0:
                inner = (clause + opening, clause + len(plan))
                targets = [k for k in range(max(0, i - _FIGURE_REACH), i)
                           if inner[0] < qs[k].start and qs[k].end < inner[1] and _amount(qs[k], text)]
                plan = plan[:opening]
        elif de and i and qs[i - 1].end == clause + len(plan) and _amount(qs[i - 1], text):
            # 完成年度计划投资12亿元的80%: the plan phrase holds its target
            words = text[clause:qs[i - 1].start]
            word = next((p for p in w.plan if p in words), None)
            if word:
                return _Ratio(i, "plan", targets=[i - 1], cue_start=clause + words.index(word))
        word = _ends_with(plan.rstrip(), w.plan)
        if word and not de and not plan.rstrip()[:-len(word)].endswith(w.done + w.ratio_verbs):
            word = None             # 超任务20%, 工程量均不足10%: without 的, only 完成/占/达 年度任务80%
        if word:
            return _Ratio(i, "plan", targets=targets, cue_start=clause + len(plan.rstrip()) - len(word))
        done = _ends_with(cue, w.done)
        if done:
            start = clause + len(cue) - len(done)
            # 主体工程完成45%, 其余3个主体工程完成80%: the work has its own subject
            return _Ratio(i, "done", cue_start=start, alone=bool(self._subject(i, clause, start)))
        return None

    def _subject(self, i: int, clause: int, cue_start: int) -> str:
        """The words naming what a ratio's cue is about, between the clause's start and the
        cue; after a figure of its clause, only the words past that figure."""
        text, qs = self.text["status"], self.qs["status"]
        previous = i and qs[i - 1].end > clause
        return _strip_links(text[qs[i - 1].end if previous else clause:cue_start]).strip()

    def link_ratios(self, ratios: list[_Ratio]) -> None:
        text, qs = self.text["status"], self.qs["status"]
        ratio_at = {r.index for r in ratios}
        groups: dict[int, list[_Ratio]] = {}
        for r in ratios:
            groups.setdefault(r.group, []).append(r)
        for group in groups.values():
            first = group[0]
            sentence = _start(text, qs[first.index].start, _SENTENCE_END)
            bracketed = set(first.targets)

            def candidates_from(sentence: int) -> list[int]:
                return [k for k in range(max(0, first.index - _FIGURE_REACH), first.index)
                        if k not in ratio_at and k not in bracketed
                        and _amount(qs[k], text) and not _forecast(qs[k], text) and not self.planned(k)
                        and qs[k].start >= sentence and ("status", k) not in self.used
                        and qs[k].end <= first.cue_start and not self.remainder("status", k)]
            candidates = candidates_from(sentence)
            if len(group) > 1 and len(candidates) < len(group) and sentence:
                # 已完工8所;配备图书4.1万册,分别完成…的80%、82%: a list may reach the sentence before
                candidates = candidates_from(_start(text, sentence - 1, _SENTENCE_END))
            if first.kind == "bracket":
                k = first.index - 1
                # the figure right before it in its item, however long the words after that
                # figure (120个村(95%), 已有21所学校通过…评审(70%))
                near = k in candidates and _start(text, first.cue_start, _ITEM_END) <= qs[k].start
                candidates = [k] if near else []
            if first.scope == "category" or first.alone:
                candidates = []
            achieved: list[int | None] = []
            if first.targets and len(first.targets) == len(group):
                # the bracketed targets of one unit take the last figures of that unit, in
                # order (完成A 8,260人、B 7,930人，分别完成年度目标(8000人、7000人)的…)
                for t in first.targets:
                    unit = [x for x in first.targets if _unit(qs[x]) == _unit(qs[t])]
                    same = [k for k in candidates if _unit(qs[k]) == _unit(qs[t])][-len(unit):]
                    n = unit.index(t) - (len(unit) - len(same))
                    achieved.append(same[n] if n >= 0 else None)
            else:
                picked = candidates[-len(group):] if candidates else []
                achieved = [None] * (len(group) - len(picked)) + picked
            for n, r in enumerate(group):
                rec = _Record(scope=r.scope, ratio=("status", r.index), kind=r.kind, group=r.group, alone=r.alone)
                if achieved[n] is not None:
                    rec.achieved = ("status", achieved[n])
                    self.used.add(rec.achieved)
                if first.targets and len(first.targets) == len(group):
                    rec.target = ("status", first.targets[n])
                    self.used.add(rec.target)
                self.add(rec)

    # 2. target and achievement in the status cell ---------------------------------------

    def _achievement(self, y: int) -> bool:
        """An achievement verb or a perfect marker in the figure's own item, before it
        (已完成120条, 已服务1,300人次), or a completion ratio that completes it (已筹集6950套，
        为计划的86.9%); never a remainder."""
        text, q = self.text["status"], self.qs["status"][y]
        if self.remainder("status", y):
            return False
        rec = self.record_of(("status", y))
        if rec is not None and rec.achieved == ("status", y) and rec.kind in ("plan", "rate", "bracket"):
            return True
        w = _words()
        return _has(w.achievement + w.perfect, text, _start(text, q.start, _ITEM_END), q.start)

    def link_status_targets(self) -> None:
        text, qs, w = self.text["status"], self.qs["status"], _words()
        for x, qx in enumerate(qs):
            if not _amount(qx, text) or ("status", x) in self.used:
                continue
            if self._bracketed_target(x):
                continue
            clause_x = _start(text, qx.start, _CLAUSE_END)
            item_x = _start(text, qx.start, _ITEM_END)
            planned = _has(w.plan, text, clause_x, qx.start)
            # X is no achievement itself (开工100个), though a verb may qualify it (纳入改造的2600户)
            own_item = not _ends_with(_strip_links(text[item_x:qx.start]), w.achievement)
            sentence_end = _end(text, qx.end, _SENTENCE_END)
            served = None       # the end of the last achievement x is the target of
            for y in range(x + 1, min(len(qs), x + 1 + _FIGURE_REACH)):
                qy = qs[y]
                if qy.start >= sentence_end or (served is not None and _has(w.subset, text, served, qy.start)):
                    break
                rec = self.record_of(("status", y))
                if (not _amount(qy, text) or qy.unit != qx.unit or not self._achievement(y) or _forecast(qy, text)
                        or (rec is not None and (rec.target is not None or rec.achieved != ("status", y)))):
                    continue
                clause_y = _start(text, qy.start, _CLAUSE_END)
                if clause_y != clause_x and _has(w.plan, text, clause_y, qy.start):
                    continue                             # a second plan figure, not an achievement
                if clause_y == clause_x and planned and not _has(w.perfect + w.done, text, qx.end, qy.start):
                    continue                             # 计划新建5个、改造120个: the plan's next item
                same_item = _start(text, qy.start, _ITEM_END) == item_x and own_item
                if planned or (same_item and _has(w.achievement, text, qx.end, qy.start)):
                    self._target(x, y)
                    if planned and self._sole_plan(x):
                        served = qy.end     # a plan serves every achievement of its sentence
                        continue            # (已开工41个…已完工18个), up to a part of one (其中新建…)
                break               # else only the first achievement of the unit
            if ("status", x) not in self.used and self.planned(x):
                # 完成1820户，年度目标2000户: a plan written after its achievement
                sentence = _start(text, qx.start, _SENTENCE_END)
                for y in range(x - 1, max(-1, x - 1 - _FIGURE_REACH), -1):
                    qy = qs[y]
                    if qy.start < sentence:
                        break
                    if not _amount(qy, text) or qy.unit != qx.unit:
                        continue
                    rec = self.record_of(("status", y))
                    if (self._achievement(y) and not self.planned(y) and not _forecast(qy, text)
                            and (rec is None or (rec.target is None and rec.achieved == ("status", y)))):
                        self._target(x, y)
                    break

    def _sole_plan(self, x: int) -> bool:
        """No other figure of x's unit in x's clause (计划新建5个、改造120个 is a list of plans)."""
        text, qs = self.text["status"], self.qs["status"]
        clause = (_start(text, qs[x].start, _CLAUSE_END), _end(text, qs[x].end, _CLAUSE_END))
        near = range(max(0, x - _FIGURE_REACH), min(len(qs), x + _FIGURE_REACH))
        return not any(k != x and qs[k].unit == qs[x].unit and clause[0] <= qs[k].start < clause[1] for k in near)

    def _target(self, x: int, y: int) -> None:
        """Status figure x is the target of the achievement y."""
        rec = self.record_of(("status", y)) or self.add(_Record(achieved=("status", y)))
        self.give(rec, "target", ("status", x))
        self.used.update({("status", x), ("status", y)})

    def _bracketed_target(self, x: int) -> bool:
        """完成改造1820户(目标2000户): a target in brackets right after its achievement."""
        text, qs = self.text["status"], self.qs["status"]
        qx = qs[x]
        opening = max(text.rfind(c, 0, qx.start) for c in _OPEN)
        if x == 0 or opening < 0 or any(c in text[opening:qx.start] for c in _CLOSE):
            return False
        y, qy = x - 1, qs[x - 1]
        if (qy.end > opening or opening - qy.end > _BRACKET_GAP or qy.unit != qx.unit or not _amount(qy, text)
                or _start(text, opening, _ITEM_END) > qy.start
                or not _has(_words().plan, text, opening, qx.start)):
            return False
        rec = self.record_of(("status", y))
        if rec is not None and (rec.target is not None or rec.achieved != ("status", y)):
            return False
        self._target(x, y)
        return True

    # 3. a target in the task cell --------------------------------------------------------

    def link_task_targets(self) -> None:
        task_qs, qs, text = self.qs["task"], self.qs["status"], self.text["status"]
        for x, qx in enumerate(task_qs[:_FIGURE_REACH]):
            if not _amount(qx, self.text["task"]):
                continue
            best, score = None, 0.0
            for y, qy in enumerate(qs):
                ref = ("status", y)
                rec = self.record_of(ref)
                if (not _amount(qy, text) or _forecast(qy, text) or self.planned(y) or self.remainder("status", y)
                        or (rec is not None and (rec.target is not None or rec.achieved != ref))):
                    continue
                if _unit(qy) != _unit(qx) and not ((_synonym(qx, qy) or qx.dimension == qy.dimension == "count")
                                                   and self._agrees(qx, qy, rec)):
                    continue                         # 名 and 人, 名 and 户 only where the stated ratio agrees
                s = self._same_thing(qx, qy, rec)
                if best is None or s > score:
                    best, score = y, s
            # a measure (公里, 亩, 吨 …) or a narrow classifier (所, 座, 套) written once in each
            # cell needs no alike metrics: 改造农村公路300公里 ↔ 完成提档升级256公里, 新建学校5所 ↔
            # 3所学校已竣工 (其余2所… is no second one); a count in 个/人 or money does
            shared = qx.dimension in _ANY_THING and _unit(qx) in _words().shared_units
            alone = (not shared and sum(1 for t in task_qs if _unit(t) == _unit(qx)) == 1
                     and sum(1 for k, q in enumerate(qs) if _unit(q) == _unit(qx)
                             and not self.remainder("status", k) and not _forecast(q, text)) == 1)
            if best is None or (score < _SIMILAR and not alone):
                continue
            rec = self.record_of(("status", best)) or self.add(_Record(achieved=("status", best)))
            self.give(rec, "target", ("task", x))
            self.used.update({("task", x), ("status", best)})
        # a completion rate with no figure of its own completes the task's one target (完成率86%)
        # and a list of such ratios completes the task's targets in order (口袋公园、绿道分别完成
        # 年度目标的90%、63.3% ↔ 新建口袋公园10个、绿道15公里)
        free = [x for x, qx in enumerate(task_qs) if _amount(qx, self.text["task"]) and ("task", x) not in self.used]
        alone = [r for r in self.records if r.ratio and not r.achieved and not r.target
                 and r.scope == "task" and r.kind in ("rate", "plan") and not r.alone]
        if len(alone) == len(free) and (len(free) == 1 or len({r.group for r in alone}) == 1):
            for rec, x in zip(alone, free):
                self.give(rec, "target", ("task", x))
                self.used.add(("task", x))
        # one task target for several parts, each stated against it (筛查20万人: 宫颈癌11.2万人
        # 56%, 乳腺癌10.9万人 54.5%): each record whose figures agree with it shares it
        for rec in self.records:
            if rec.target is None and rec.achieved and rec.ratio:
                qy = qs[rec.achieved[1]]
                shared = [x for x, qx in enumerate(task_qs) if ("task", x) in self.used and self._agrees(qx, qy, rec)
                          and (_unit(qx) == _unit(qy) or _synonym(qx, qy))]
                if len(shared) == 1:
                    self.give(rec, "target", ("task", shared[0]))

    def _same_thing(self, target: Quantity, achieved: Quantity, rec: _Record | None) -> float:
        """How surely a task-cell target and a status figure of its unit measure one thing:
        alike metrics; a status figure whose metric is only its verb (已建成24个: the task
        names the thing); or figures that agree with the ratio stated for the status figure
        (736户 of 800户 with 竣工率92%)."""
        metric = self._metric("status", achieved)
        w = _words()
        if self._agrees(target, achieved, rec):
            return 2.0                           # surer than alike metrics (危房改造 of 危房和农房改造)
        if _only_words(w.achievement + w.done).fullmatch(metric):
            return 1.0                           # 已完成改造升级24个: the verbs alone
        score = _similar(self._metric("task", target), metric)
        # 为残疾儿童提供康复救助120名 ↔ 已为131名残疾儿童…: the task's words name the status metric
        task = self.text["task"]
        clause = task[_start(task, target.start, _CLAUSE_END):_end(task, target.end, _CLAUSE_END)]
        if len(metric) >= 2 and simplified(metric) in clause:
            score = max(score, _SIMILAR)
        return score

    def _agrees(self, target: Quantity, achieved: Quantity, rec: _Record | None) -> bool:
        """100 · achieved / target is the ratio the record states, within a point."""
        if rec is None or rec.ratio is None or not target.value:
            return False
        stated = _pct(self.qs["status"][rec.ratio[1]])
        return stated is not None and abs(100 * achieved.value / target.value - stated) <= 1.0

    def _metric(self, field_: str, q: Quantity) -> str:
        """The figure's metric (in simplified characters, as the cell is read), or failing
        one the words of its item before it."""
        if q.metric:
            return simplified(q.metric)
        text = self.text[field_]
        return text[_start(text, q.start, _ITEM_END):q.start]


# --- records ----------------------------------------------------------------------------

def expected_pct(period_end_month: int | None) -> float | None:
    """The share of an annual plan's period elapsed at the end of ``period_end_month``."""
    if period_end_month is None or not 1 <= period_end_month <= 12:
        return None
    return round(100 * period_end_month / 12, 2)


def status_of(completion: float | None, expected: float | None) -> str:
    """done / ahead / on_track / behind / unknown, with the margins of the module doc."""
    if completion is None:
        return "unknown"
    if completion >= 100:
        return "done"
    if expected is None:
        return "unknown"
    if completion >= expected + MARGIN:
        return "ahead"
    if completion < expected - MARGIN:
        return "behind"
    return "on_track"


def _progress(report: Report, row: _Row, rec: _Record) -> Progress:
    def q(ref):
        return row.qs[ref[0]][ref[1]] if ref else None

    achieved, target, ratio = q(rec.achieved), q(rec.target), q(rec.ratio)
    stated = _pct(ratio) if ratio else None
    computed = None
    if achieved and target and target.value:
        computed = round(100 * achieved.value / target.value, 2)
    target_value, basis = (target.value, "stated") if target else (None, None)
    if target is None and achieved and stated:
        target_value, basis = achieved.value * 100 / stated, "implied"
    completion = stated if stated is not None else computed
    head = achieved or target or ratio
    start = next((x.period_start_month for x in (achieved, ratio) if x and x.period_end_month), None)
    end = next((x.period_end_month for x in (achieved, ratio) if x and x.period_end_month), None)
    if end is None:
        start, end = report.period_start_month, report.period_end_month
    expected = expected_pct(end)
    return Progress(
        category_no=row.task.category_no, task_no=row.task.task_no, scope=rec.scope,
        metric=head.metric, unit=head.unit, dimension=head.dimension,
        achieved=FactRef(*rec.achieved) if rec.achieved else None,
        target=FactRef(*rec.target) if rec.target else None,
        ratio=FactRef(*rec.ratio) if rec.ratio else None,
        achieved_value=achieved.value if achieved else None, target_value=target_value,
        target_basis=basis, stated_pct=stated, computed_pct=computed, completion_pct=completion,
        expected_pct=expected, status=status_of(completion, expected),
        period_start_month=start, period_end_month=end)


def _order(rec: _Record) -> tuple:
    anchor = rec.achieved or rec.ratio or rec.target
    return (anchor[0] != "status", anchor[1])


def link(report: Report, quantities: Mapping[tuple[int, str], Sequence[Quantity]]) -> tuple[Progress, ...]:
    """The progress records of one report, task by task, in the order of their figures.

    ``quantities`` maps (task_no, field) to the quantities extract found in that cell
    (field "task" or "status"), in the order extract returned them.
    """
    out: list[Progress] = []
    for task in report.tasks:
        row = _Row(task, quantities)
        if not row.qs["status"]:
            continue
        row.link_ratios(row.ratios())
        row.link_status_targets()
        row.link_task_targets()
        out += [_progress(report, row, rec) for rec in sorted(row.records, key=_order)]
    return tuple(out)
