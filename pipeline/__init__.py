"""民生实事 progress reports → typed, validated quantity and progress data.

Importing the package loads nothing heavy: jieba and Great Expectations are imported
by the stage that needs them.
"""
from __future__ import annotations

from importlib import import_module
from pathlib import Path

__version__ = "0.3.0"

# raw/, processed/, expectations/ and docs/ default to the project's own folders, not
# the working directory, so a cron job can run from anywhere
PROJECT_DIR = Path(__file__).resolve().parent.parent

# The stages' own functions live in their modules (from pipeline.extract import extract):
# re-exported here under the module's name they would be shadowed by the module as
# soon as it is imported.
__all__ = ["run", "load", "facts_view", "Report", "Category", "Task", "Quantity", "Progress", "FactRef", "Problem", "__version__"]

_HOMES = {"run": "batch", "load": "export", "facts_view": "views", "Report": "records", "Category": "records",
          "Task": "records", "Quantity": "records", "Progress": "records", "FactRef": "records",
          "Problem": "records"}


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
