"""A long-lived process (a notebook, a scheduler's worker) that runs the pipeline, sees
a vocabulary file or a suite change, and runs again, never leaves output stamped with
rules that did not make it: after any sequence of in-process and fresh runs, the output
equals a fresh run's.

The scenario runs on a copy of the package (its own resources and suites) in a
subprocess, so the repository's files are never edited.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest

PROJECT = Path(__file__).resolve().parent.parent
SEED = PROJECT / "tests" / "fixtures" / "linyi_2021_01-09.txt"


@pytest.fixture()
def project(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(PROJECT / "pipeline", root / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(PROJECT / "expectations", root / "expectations")
    (root / "raw").mkdir()
    shutil.copy(SEED, root / "raw")
    return root


def _python(root: Path, code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=root, capture_output=True,
                         text=True, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    assert out.returncode in (0, 1), out.stderr
    return out.stdout + out.stderr


def _facts(out: Path) -> list[tuple]:
    t = pq.read_table(out / "facts" / "linyi_2021_01-09.parquet")
    return sorted(zip(t["mention"].to_pylist(), t["start"].to_pylist(), t["dq_failures"].to_pylist()))


def _cli(root: Path, out: Path) -> str:
    return _python(root, f"import sys; from pipeline.cli import main; sys.exit(main(['run', '--out', {str(out)!r}]))")


LIVE = """
import pipeline
from pathlib import Path
out = {out!r}
pipeline.run(out=out)
{edit}
r = pipeline.run(out=out)
print("second run processed", r.processed)
"""


def test_vocabulary_edit_in_a_live_process(project, tmp_path):
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    edit = ("with open(Path(pipeline.__file__).parent / 'resources/extract/fixed_terms.txt', 'a', encoding='utf-8') as f:"
            " f.write('残疾人两项补贴\\n')")
    _python(project, LIVE.format(out=str(out), edit=edit))
    # the live process read the old vocabulary: its output and its stamp are the old ones …
    log = _cli(project, out)                      # … so a fresh process redoes the report
    assert "1 processed" in log, log
    _cli(project, fresh)
    assert _facts(out) == _facts(fresh)
    assert "两项" not in [m for m, *_ in _facts(out)]


def test_suite_edit_in_a_live_process(project, tmp_path):
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    # a new warning that fires on every percentage: visible in dq_failures
    edit = """
suite = Path('expectations/facts.json')
data = __import__('json').loads(suite.read_text('utf-8'))
data['expectations'].append({'type': 'expect_column_values_to_not_be_in_set',
    'kwargs': {'column': 'unit', 'value_set': ['%']},
    'meta': {'check': 'facts.no_percent', 'severity': 'warning'}})
suite.write_text(__import__('json').dumps(data, ensure_ascii=False), 'utf-8')
"""
    printed = _python(project, LIVE.format(out=str(out), edit=edit))
    assert "second run processed ['linyi_2021_01-09']" in printed, printed   # the new suite is used at once
    _cli(project, fresh)
    assert _facts(out) == _facts(fresh)
    assert any("facts.no_percent" in f for *_, f in _facts(out))
    assert "0 processed" in _cli(project, out)   # and its stamp is current
