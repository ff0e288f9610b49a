"""The HTML reader: a report table (or numbered prose) in a web page.

- The charset from a byte-order mark; else UTF-8 when the bytes are valid UTF-8; else
  the page's <meta> (GB2312/GBK read as GB18030, their superset); else GB18030.
- Parsed by lxml's HTML parser with no network access; comments, scripts and styles
  passed over. HTML has no external entities to resolve; character references are text.
- The report table is the first table (nested ones included) with a header row;
  navigation and layout tables have none. ``rowspan`` copies a cell's text down (a
  category cell spanning its tasks, a merged 类别 column); ``colspan`` leaves the
  spanned cells empty (a category row across the table). A later table repeating the
  header continues the report.
- A cell's text as a browser shows it: whitespace runs collapsed, a source line break
  between two Chinese characters dropped (CSS segment-break rule), ``&nbsp;`` a space;
  ``<br>``, ``<p>`` and ``<div>`` breaks joined with no separator (in the lead units
  column, each line is a unit).
- The title from the rows above the header, a <caption>, else the nearest heading or
  title-like paragraph above the table, else <title>.
- A page without a report table is read as prose (`prose.py`).
"""
from __future__ import annotations

import codecs
import re

import lxml.html

from ..records import Report
from .table import Cell, check_size, choose_title, grid_report, join_lines, refuse, title_of

MAX_PAGE_BYTES = 16 << 20
MAX_SPAN = 1000              # rowspan / colspan beyond this are a broken or hostile page
MAX_COLUMNS = 200
MAX_TABLES = 1000            # a CMS page has tens (navigation, layout, the report)
SNIFF_BYTES = 4096           # where a <meta charset> must be

# Block elements: a break in the text where they open and close.
BLOCKS = frozenset("""address article aside blockquote body caption center dd div dl dt fieldset
    figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section
    table tbody td tfoot th thead title tr ul""".split())
HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
SKIPPED = ("script", "style", "noscript", "template", "object", "iframe", "select", "textarea")
# The charsets Chinese pages declare, read with the codec that accepts all they hold
CHARSETS = {"gb2312": "gb18030", "gbk": "gb18030", "gb_2312-80": "gb18030", "x-gbk": "gb18030",
            "cp936": "gb18030", "gb18030": "gb18030", "big5": "big5hkscs", "utf8": "utf-8"}

_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([-\w.:]+)""", re.I)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
_SITE_SUFFIX = re.compile(r"\s*[_|｜]+\s*|\s+[-—–]+\s+")   # 标题_某某市人民政府 / 标题 - 网站 (not 1—9月)


def read(data: bytes, name: str, sha256: str) -> Report:
    page, encoding = _decode(data, name)
    doc = _parse(page, name)
    tables = [t for t in doc.iter("table") if not any(a.tag in SKIPPED for a in t.iterancestors())]
    if len(tables) > MAX_TABLES:
        raise refuse(name, 0, f"the page has {len(tables):,} tables, over {MAX_TABLES:,}",
                     "this is not a report page; save the report's own page")
    grids, cells = [], [0]
    for table in tables:
        grids.append(_grid(table, cells, name))
    blocks, positions = _blocks(doc)
    page_title = _page_title(doc)

    def title_above(t: int) -> tuple[str, int] | None:
        caption = tables[t].find("caption")
        if caption is not None and (text := join_lines(_text(caption))):
            return title_of([(caption.sourceline or 0, [text])])
        return choose_title(blocks[:positions[tables[t]]], page_title)

    found = grid_report(grids, title_above, name, sha256, encoding, "html")
    if found is None:
        from . import prose
        found = prose.read_blocks(blocks, name, sha256, encoding, "html", page_title)
    if found is None:
        raise refuse(name, 0, "the page has neither a report table nor numbered paragraphs",
                     "a report table needs a header with 编号, 工作任务, …工作情况 and 牵头单位; "
                     "a prose report needs headings 一、… over numbered items 1. …; "
                     "save the page of the report itself (not a list of links), or copy its table into a .xlsx")
    return found


def _decode(data: bytes, name: str) -> tuple[str, str]:
    if len(data) > MAX_PAGE_BYTES:
        raise refuse(name, 0, f"the page is {len(data):,} bytes, over the {MAX_PAGE_BYTES >> 20} MiB limit",
                     "this is not a report page; save the report's own page")
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            candidates = [codec]
            break
    else:
        # Bytes that are valid UTF-8 are UTF-8 whatever the <meta> says (a CMS that
        # re-encodes its pages keeps the old declaration); GBK text almost never is.
        candidates = ["utf-8", "gb18030"]
        if m := _META_CHARSET.search(data[:SNIFF_BYTES]):
            declared = m[1].decode("ascii", "replace").lower()
            declared = CHARSETS.get(declared, declared)
            try:
                codecs.lookup(declared)
                candidates.insert(1, declared)
            except LookupError:
                pass
    for codec in dict.fromkeys(candidates):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        if not text.strip():
            raise refuse(name, 0, "the file is empty", "save the report page again; there is nothing to ingest")
        return text, codec
    raise refuse(name, 0, f"undecodable bytes (tried {', '.join(dict.fromkeys(candidates))})",
                 "save the page again from the browser (File › Save Page As, web page, HTML only)")


def _parse(page: str, name: str):
    parser = lxml.html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True,
                                  huge_tree=False, recover=True)
    try:
        doc = lxml.html.document_fromstring(_XML_DECLARATION.sub("", page, count=1), parser=parser)
    except Exception as e:  # lxml raises ParserError / XMLSyntaxError / ValueError on junk
        raise refuse(name, 0, f"the page cannot be parsed ({e})", "save the page again from the browser") from e
    return doc                       # SKIPPED elements are passed over, not removed: lxml
                                     # refuses to rewrite text holding control characters


def _page_title(doc) -> tuple[str, int] | None:
    title = doc.find(".//title")
    if title is None:
        return None
    text = _SITE_SUFFIX.split(join_lines(_text(title)).strip())[0]
    return (text, title.sourceline or 0) if text else None


# --- Text as a browser shows it -------------------------------------------------------

def _text(element) -> str:
    """The text of ``element`` with a line break at each block edge and <br>; nested tables left out."""
    parts: list[str] = []
    _collect(element, parts, top=True)
    return "\n".join(_inline(part) for part in parts)


def _collect(element, parts: list[str], top: bool = False) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if not top and (tag == "table" or tag in SKIPPED):
        return
    if tag in BLOCKS or tag == "br" or not parts:
        parts.append("")
    if element.text:
        parts[-1] += element.text
    for child in element:
        _collect(child, parts)
        if child.tail:
            parts[-1] += child.tail
    if tag in BLOCKS:
        parts.append("")


def _inline(text: str) -> str:
    """Whitespace as rendered: a run holding a line break between two wide characters
    (Chinese) disappears, any other run is one space; &nbsp; is a space."""
    if not _HTML_SPACE.search(text):
        return text.replace("\xa0", " ").strip()

    def space(m: re.Match[str]) -> str:
        before, after = text[m.start() - 1:m.start()], text[m.end():m.end() + 1]
        if "\n" in m[0] and before > "\u2e7f" and after > "\u2e7f":
            return ""
        return " "
    return _HTML_SPACE.sub(space, text).replace("\xa0", " ").strip()


def _cell_text(cell) -> str:
    """Its lines (<br>, <p>) as lines: `table.grid_report` joins them."""
    if not len(cell):                             # text only: most cells of big tables
        return _inline(cell.text or "")
    return "\n".join(part for part in _text(cell).split("\n") if part)


# --- Tables -------------------------------------------------------------------------

def _rows(table):
    for child in table.iterchildren("tr", "thead", "tbody", "tfoot"):
        if child.tag == "tr":
            yield child
        else:
            yield from child.iterchildren("tr")


def _grid(table, cells: list[int], name: str) -> list[list[Cell]]:
    """The table's own rows, rowspans copied down, colspans left empty, padded to one
    width; ``cells`` counts the cells of the page so far (refused past the limit)."""
    rows: list[list[Cell]] = []
    below: dict[int, list] = {}                  # column → [rows left, text] of a rowspan above
    for tr in _rows(table):
        texts: list[str] = []
        spanned = dict(below)                    # the spans reaching into this row
        below.clear()

        def from_above() -> None:
            while len(texts) in spanned:
                left, text = spanned.pop(len(texts))
                if left > 1:
                    below[len(texts)] = [left - 1, text]
                texts.append(text)

        for td in tr.iterchildren("td", "th"):
            from_above()
            if len(texts) >= MAX_COLUMNS:
                break
            text = _cell_text(td)
            rowspan, colspan = _span(td, "rowspan"), min(_span(td, "colspan"), MAX_COLUMNS - len(texts))
            for k in range(colspan):
                if rowspan > 1:
                    below[len(texts)] = [rowspan - 1, text if k == 0 else ""]
                texts.append(text if k == 0 else "")
        while spanned:                           # spans right of the row's last cell
            if len(texts) not in spanned:
                texts.append("")
            from_above()
        line = tr.sourceline or 0
        rows.append([Cell(text, line, line) for text in texts])
        cells[0] = check_size(cells[0], rows[-1:], name, "page")
    width = max((len(r) for r in rows), default=0)
    return [r + [Cell("", r[0].line_start, r[0].line_start)] * (width - len(r)) for r in rows if r]


def _span(cell, attribute: str) -> int:
    try:
        return min(max(int(cell.get(attribute, "1").strip() or 1), 1), MAX_SPAN)
    except ValueError:
        return 1


# --- Blocks of the page, for titles and prose ------------------------------------------

def _blocks(doc) -> tuple[list[tuple[int, str, bool]], dict]:
    """The page's text as blocks (line, text, is a heading) in document order, and for
    each table the number of blocks above it."""
    blocks: list[tuple[int, str, bool]] = []
    positions: dict = {}
    current: list = [0, "", False]

    def flush() -> None:
        text = _inline(current[1])
        if text:
            blocks.append((current[0], text, current[2]))
        current[1] = ""

    def walk(element) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag == "head" or tag in SKIPPED:
            return
        if tag in BLOCKS or tag == "br":
            flush()
            current[0], current[2] = element.sourceline or 0, tag in HEADINGS
        if tag == "table":
            positions[element] = len(blocks)
        if element.text:
            current[1] += element.text
        for child in element:
            walk(child)
            if child.tail:
                current[1] += child.tail
        if tag in BLOCKS:
            flush()

    body = doc.find("body")
    walk(body if body is not None else doc)
    flush()
    return blocks, positions


