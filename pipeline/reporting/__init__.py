"""Reporting: what a reviewer reads of a validation — the terminal summary, Data Docs,
the review pages and the run index. It reads the quality stage's results and never decides them;
the batch calls it."""
from __future__ import annotations

from .datadocs import build_docs, external_resources
from .index import run_index
from .review import review_pages
from .summary import summary

__all__ = ["summary", "build_docs", "external_resources", "review_pages", "run_index"]
