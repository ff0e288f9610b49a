"""Extract every quantity of a task or status cell: ``extract(text) -> list[Quantity]``.

Three parts: the number grammar (:mod:`.numbers`) finds each figure and its value,
unit and approximation; the vocabulary (:mod:`pipeline.vocab`) comes from data files; the
clause analysis (:mod:`.metric`) links each figure to what it measures and marks
changes. ``extract`` is pure and total: any string gives a (possibly empty) list.
"""
from __future__ import annotations

from ..records import Quantity
from .metric import link
from .numbers import read_cell
from ..vocab import dimensions, vocabulary

__all__ = ["extract", "vocabulary", "dimensions"]


def extract(text: str) -> list[Quantity]:
    """Every quantity mention of one cell, sorted by start (``text[start:end] == mention``)."""
    if not isinstance(text, str) or not text:
        return []
    numbers, periods = read_cell(text)
    if not numbers:                    # most task cells: no figure, nothing to link
        return []
    quantities = []
    for number, linked in zip(numbers, link(text, numbers)):
        period = next((p for p in reversed(periods) if p[0] <= number.start), None) if periods else None
        quantities.append(Quantity(
            mention=text[number.start:number.end], start=number.start, end=number.end,
            value=number.value, value_high=number.value_high, unit=number.unit,
            approx=number.approx, dimension=number.dimension,
            metric=linked.metric, metric_start=linked.metric_start,
            change=linked.change, change_role=linked.change_role, change_group=linked.change_group,
            period_start_month=period[1] if period else None,
            period_end_month=period[2] if period else None,
        ))
    return quantities
