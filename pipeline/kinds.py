"""What kind of amount a figure is (``facts.kind``), so a sum adds like with like.

One pure function, :func:`kind_of`, from a quantity and the cell it was found in. The
kinds, tried in this order (the first that applies wins):

- ``per_unit``: an amount per person, household, area or period — a composite unit
  (142元/人/月, 7.2张/千人) or a per-unit cue before it (人均月增150元, 每千人口…4.62个);
- ``change``: a difference against a base — extract's ``change`` is set (增长17.1%,
  下降0.3个百分点) or a change or comparison word ends the clause before it; the two
  values of 由50%提高至60% are levels, not changes, and are judged as levels;
- ``share``: a percentage, permille, 成 or ratio that is not a change (失业率2.46%, 占比40%,
  and completion ratios such as 为年度任务的116% — the progress table says which);
- ``target``: a planned amount — any figure of the task cell (工作任务), or a figure whose
  clause names a plan (计划改造140个, 年度目标(80场), 项目总投资5.6亿元);
- ``total``: everything else — an amount done, counted or spent (发放救助资金10.83亿元).

Cue words are data: ``resources/kinds.tsv`` (per_unit and target cues),
``resources/plan_words.txt``, ``resources/extract/change_verbs.tsv`` and the comparison /
rate-of-change words of ``resources/cues.tsv``.
"""
from __future__ import annotations

import re
from functools import cache

from . import vocab
from .records import Quantity

KINDS = ("total", "per_unit", "change", "share", "target")

_SHARE_DIMENSIONS = frozenset({"percent", "permille", "ratio"})
_CLAUSE_BREAK = re.compile(r".*[，,。；;：:！!？?\n]")


def clause_before(cell: str, start: int) -> str:
    """Up to 30 characters of ``cell`` before ``start``, from the last clause break."""
    prefix = cell[max(0, start - 30):max(0, start)]
    m = _CLAUSE_BREAK.match(prefix)
    return prefix[m.end():] if m else prefix


@cache
def _cues() -> dict[str, re.Pattern]:
    lex = vocab.lexicon()
    alt = vocab.alternation
    return {
        "per_unit": re.compile(alt(lex.kind_cues["per_unit"])),
        # a change verb or comparison word ending the clause (同比增长了), or a rate of change
        "change": re.compile(rf"(?:{alt([*lex.change_verbs, *lex.cues['comparison']])})了?$"
                             rf"|{alt(lex.cues['rate_of_change'])}"),
        "target": re.compile(alt([*lex.plan_words, *lex.kind_cues["target"]])),
    }


def kind_of(q: Quantity, cell: str, field: str) -> str:
    """The kind of amount ``q`` is: total, per_unit, change, share or target (see the
    module docstring). ``cell`` is the text ``q`` was extracted from, ``field`` its cell
    (``task`` or ``status``). Pure and total."""
    cues = _cues()
    before = vocab.simplified(clause_before(cell, q.start))
    metric = vocab.simplified(q.metric or "")
    if "/" in q.unit or "／" in q.unit or q.dimension == vocab.RATE \
            or cues["per_unit"].search(before) or cues["per_unit"].search(metric):
        return "per_unit"
    if q.change_role is None and (q.change is not None or q.dimension == "percentage_point"
                                  or cues["change"].search(before)):
        return "change"
    if q.dimension in _SHARE_DIMENSIONS or q.unit in ("%", "％", "‰", "成"):
        return "share"
    if field == "task" or cues["target"].search(before):
        return "target"
    return "total"
