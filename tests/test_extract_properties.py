"""Properties of extract over any text, and Chinese numerals round-tripping."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.extract import extract
from pipeline.extract.numbers import numeral_value

DIGITS = "零一二三四五六七八九"
REPORT_ALPHABET = st.sampled_from(list(
    "0123456789０１２３４５６７８９.,，%％‰-—~至到、；。 万亿萬億千百十零〇一二两兩三四五六七八九"
    "元名人次户个项余多约近超过以上下内左右第年月日份岁级个百分点成倍分之/每“”()两癌好农村路"))


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_on_any_text(text):
    extract(text)


@settings(max_examples=500, deadline=None)
@given(st.text(REPORT_ALPHABET, max_size=40))
def test_spans_slice_back(text):
    quantities = extract(text)
    for q in quantities:
        assert text[q.start:q.end] == q.mention
        if q.metric is not None:
            assert text[q.metric_start:q.metric_start + len(q.metric)] == q.metric
    assert [q.start for q in quantities] == sorted(q.start for q in quantities)
    assert all(a.end <= b.start for a, b in zip(quantities, quantities[1:]))


def chinese(n: int, two: str = "二") -> str:
    """Render 0 <= n < 1e12 in Chinese numerals, with 万/亿 sections and 零 for gaps."""
    if n == 0:
        return "零"

    def section(k: int, head: str) -> str:  # 0 < k < 10000
        out, zero = "", False
        for value, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            digit = k // value % 10
            if digit == 0:
                zero = bool(out)
                continue
            if zero:
                out += "零"
                zero = False
            if digit == 1 and value == 10 and not out and not head:
                out += "十"                 # 十二, not 一十二, at the head of a numeral
                continue
            out += (two if digit == 2 and value >= 1000 else DIGITS[digit]) + name
        return out

    parts, out = [(n // 10**8, "亿"), (n // 10**4 % 10**4, "万"), (n % 10**4, "")], ""
    for i, (k, name) in enumerate(parts):
        if k == 0:
            continue
        if out and k < 1000:
            out += "零"
        out += section(k, out) + name
    return out


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=0, max_value=10**12 - 1), st.sampled_from(["二", "两"]))
def test_chinese_numerals_round_trip(n, two):
    assert numeral_value(chinese(n, two)) == n


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=10**12 - 1))
def test_chinese_numerals_with_a_unit_extract(n):
    text = f"发放{chinese(n, '两')}元"
    (q,) = extract(text)
    assert q.value == n and q.unit == "元" and q.mention == text[2:]


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=99999), st.sampled_from(["万", "亿"]))
def test_arabic_with_magnitude_is_exact(n, magnitude):
    cents = f"{n / 100:.2f}"
    (q,) = extract(f"资金{cents}{magnitude}元")
    assert q.value == n * (10**4 if magnitude == "万" else 10**8) // 100


CONTROL = st.sampled_from([chr(c) for c in (*range(0x20), *range(0x7f, 0xa0))] + ["\u2028", "\u2029"])
TRADITIONAL = st.sampled_from(list("為發放萬億項類張臨時救助資金護理型床位達年度任務的"))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(REPORT_ALPHABET, CONTROL, TRADITIONAL), max_size=50).map("".join))
def test_metrics_are_verbatim_and_hold_no_control_character(text):
    """Whatever the text (traditional characters, control characters anywhere), every
    metric is the cell's own text at metric_start and holds no control character."""
    for q in extract(text):
        if q.metric is not None:
            assert text[q.metric_start:q.metric_start + len(q.metric)] == q.metric
            assert not any(ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 or c in "\u2028\u2029" for c in q.metric), q
            assert any(c.isalnum() for c in q.metric), q          # never punctuation alone
