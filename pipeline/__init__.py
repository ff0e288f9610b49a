"""民生实事 progress reports → typed, validated quantity data.

Importing the package loads nothing heavy: jieba and Great Expectations are imported
by the stage that needs them.
"""
from __future__ import annotations

from importlib import import_module
from pathlib import Path

__version__ = "0.1.0"

# raw/, processed/, expectations/ and docs/ default to the project's own folders, not
# the working directory, so a cron job can run from anywhere
PROJECT_DIR = Path(__file__).resolve().parent.parent

__all__ = ["ingest", "extract", "validate", "export", "run", "load", "__version__"]

_HOMES = {"ingest": "ingest", "extract": "extract", "validate": "validate",
          "export": "export", "load": "export", "run": "batch"}


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
