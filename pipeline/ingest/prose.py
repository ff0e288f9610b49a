"""The prose reader: a report with no table, written as headed, numbered paragraphs,
in a text file, a web page or a .docx.

Four heading forms, outermost first: ``一、`` · ``（一）`` · ``1.`` / ``1、`` · ``（1）``.
The outermost form present makes the categories; in each category, the outermost form
inside it makes the tasks. Deeper items and plain paragraphs belong to the task above
them (joined with no separator, as a cell's lines are). A category with no numbered
items (一、就业形势稳定。全市新增就业…) is one task of its own, read as an item. Text
before the first category (the title, a date, an introduction) is not read as tasks,
nor is a paragraph between a category heading and its first item.

A task's text is the item's heading: its first sentence or clause (up to the first
。；：！？, else, in an item over 40 characters, its first ，), or a heading paragraph
of its own; the rest is its status. Lead units are read where the text names them
in brackets — （牵头单位：市民政局、市财政局） — and taken out of the status; else
they are empty. Tasks are numbered 1…n in order (items often restart at 1 in each
category). A note (注：…, a date line) ends the report, with a warning; a sign-off
(责任编辑：…, 来源：…), 下一步… or a page footer ends it silently.
"""
from __future__ import annotations

import re

from ..records import Category, Report, Task
from .table import (_CN_NUMBER, _HEADING_MARK, _ascii, _number, check_categories_have_tasks, choose_title,
                    is_note, report, split_lead_units)

MAX_HEADING_CHARS = 40       # a longer item with no 。；： has its first ，clause as the task
# The heading forms, outermost first; a number form must not be a decimal (1.5万人)
HEADINGS = (
    re.compile(rf"(?P<no>{_CN_NUMBER}{{1,3}})\s*[、．]\s*(?P<rest>.*)", re.S),              # 一、
    re.compile(rf"[(（]\s*(?P<no>{_CN_NUMBER}{{1,3}})\s*[)）]\s*(?P<rest>.*)", re.S),       # （一）
    re.compile(r"(?P<no>[0-9]{1,3})\s*(?:[、．]|\.(?![0-9]))\s*(?P<rest>.*)", re.S),        # 1.  1、
    re.compile(r"[(（]\s*(?P<no>[0-9]{1,3})\s*[)）]\s*(?P<rest>.*)", re.S),                 # （1）
)
# A paragraph opening with one of these ends a prose report: a page's sign-off, the
# outlook after the progress, the site's footer — read as nothing, with no warning.
_PROSE_END = re.compile(r"\s*[(（【]?\s*(?:责任编辑|責任編輯|编辑|編輯|来源|來源|审核|審核|校对|校對|下一步|"
                        r"打印本页|打印本頁|关闭窗口|關閉窗口|完\s*[)）])")
_SENTENCE_END = re.compile(r"[。；;：:！？!?]")
_CLAUSE_END = re.compile(r"[，,]")
_LEAD_UNITS = re.compile(r"""
    [(（] \s* (?:牵头|牽頭|责任|責任|主责|主責|承办|承辦|负责|負責|实施|實施){0,2}
    (?:单位|單位|部门|部門) \s* [:：] \s*
    (?P<units>[^()（）]{1,120}?) \s* [)）]
""", re.X)


def read_lines(lines: list[tuple[int, str]], name: str, sha256: str, encoding: str) -> Report | None:
    """A text file's non-blank lines as paragraphs; a Markdown # heading is a heading."""
    blocks = [(n, _HEADING_MARK.sub("", line.strip(), count=1), line.lstrip().startswith("#"))
              for n, line in lines]
    return read_blocks(blocks, name, sha256, encoding, "prose", None)


def read_blocks(blocks: list[tuple[int, str, bool]], name: str, sha256: str, encoding: str,
                layout: str, page_title: tuple[str, int] | None) -> Report | None:
    """The report in ``blocks`` (line, text, is a heading), or None when they hold no
    categories over numbered items. ``layout`` is the format the blocks came from;
    the report's layout is prose."""
    levels = [_level(text) for _, text, _ in blocks]
    present = sorted({level for level, _ in levels if level is not None})
    if len(present) < 2:
        return None
    category_level = present[0]
    first = next(i for i, (level, _) in enumerate(levels) if level == category_level)
    # in each category, its outermost item form numbers the tasks
    task_levels: list[int | None] = []
    for level, _ in levels[first:]:
        if level == category_level:
            task_levels.append(None)
        elif level is not None and (task_levels[-1] is None or level < task_levels[-1]):
            task_levels[-1] = level
    if all(level is None for level in task_levels):
        return None
    title = choose_title(blocks[:first], page_title)

    categories: list[Category] = []
    first_task: list[int] = []
    tasks: list[Task] = []
    item: list[tuple[int, str]] = []            # the open item's paragraphs (line, text)
    note = None

    items: list[list[tuple[int, str]]] = []    # each task's paragraphs

    def close_item() -> None:
        if item:
            tasks.append(_task(item, categories[-1], len(tasks) + 1))
            items.append(item.copy())
            item.clear()

    task_level = None
    for (line, text, _), (level, m) in zip(blocks[first:], levels[first:]):
        if level == category_level:
            close_item()
            task_level = task_levels[len(categories)]
            heading = m["rest"].strip()
            if end := _SENTENCE_END.search(heading):
                heading = heading[:end.start()].strip()
            categories.append(Category(_number(_ascii(m["no"])), heading, line))
            first_task.append(len(tasks))
            if task_level is None:             # no numbered items: the category is one task
                item.append((line, m["rest"].strip()))
        elif level is not None and level == task_level:
            close_item()
            item.append((line, m["rest"].strip()))
        elif is_note(text.strip()):
            note = (line, text.strip())
            break
        elif _PROSE_END.match(text):
            break
        elif item:
            item.append((line, text.strip()))
        # a paragraph between a category heading and its first item introduces it: not read
    close_item()
    if not tasks:
        return None
    check_categories_have_tasks(categories, first_task, len(tasks), name)
    read = [(c.line, f"category {c.category_no}", c.name) for c in categories]
    read += [(line, f"task {t.task_no}", text) for t, paragraphs in zip(tasks, items)
             for line, text in paragraphs]
    return report(name, sha256, encoding, "prose", title, blocks[first][0], categories, tasks, note, read)


def _level(text: str) -> tuple[int | None, re.Match[str] | None]:
    text = _ascii(text.strip())
    for level, pattern in enumerate(HEADINGS):
        if (m := pattern.fullmatch(text)) and m["rest"].strip():
            return level, m
    return None, None


def _task(paragraphs: list[tuple[int, str]], category: Category, number: int) -> Task:
    units: list[str] = []

    def take_units(text: str) -> str:
        for m in _LEAD_UNITS.finditer(text):
            units.extend(split_lead_units(m["units"]))
        return _LEAD_UNITS.sub("", text).strip()

    texts = [take_units(text) for _, text in paragraphs]
    head, rest = texts[0], "".join(texts[1:])
    end = _SENTENCE_END.search(head)
    if end is None and not rest and len(head) > MAX_HEADING_CHARS:
        end = _CLAUSE_END.search(head)
    if end is not None:
        task, status = head[:end.start()].strip(), (head[end.end():].strip() + rest)
    else:
        task, status = head, rest
    return Task(category_no=category.category_no, category=category.name, task_no=number,
                task=task, status=status, lead_units=tuple(units),
                line_start=paragraphs[0][0], line_end=paragraphs[-1][0])
