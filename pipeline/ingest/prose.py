"""Prose reports (headed, numbered paragraphs without a table): not read yet."""
from __future__ import annotations


def read_lines(lines, name, sha256, encoding):
    return None
