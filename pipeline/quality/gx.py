"""The Great Expectations runner: a batch's frames and the suites in, failing rows out.

Great Expectations is imported here and only inside functions (importing it costs
seconds); one ephemeral context per process, rebuilt when the suites' fingerprint or
the folders change. Results are stored under ``<out>/validation/results`` for Data Docs,
with every string taken from report text HTML-escaped first: GX renders result values
into its pages as markup.
"""
from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from ..schema import TABLES
from .suites import ROW, Suites, ValidationSetupError, expectation_columns

_CHUNK_REPORTS = 1000     # reports per GX run; each run costs ~0.2 s of GX set-up whatever its size
# the columns that say which report, task and figure an unexpected row is, in Data Docs'
# tables of unexpected rows (those a table has), after the row position the failures are read by
KEY_COLUMNS = ("report_id", "task_no", "fact_no", "progress_no")


class Context:
    """The process's one ephemeral GX context, its suites and validation definitions."""

    def __init__(self, suites: Suites, results_dir: Path):
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig, InMemoryStoreBackendDefaults, ProgressBarsConfig)

        def fs(root: Path, base: str, **extra) -> dict:
            return {"class_name": "TupleFilesystemStoreBackend", "root_directory": str(root),
                    "base_directory": base, **extra}

        self.key = (suites.folder, suites.fingerprint, results_dir)
        cfg = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            progress_bars=ProgressBarsConfig(globally=False),
            analytics_enabled=False)
        # the suites stay in memory, built from the JSON suites.py read and fingerprinted:
        # GX validates exactly those bytes and never writes to expectations/
        cfg.stores["validation_results_store"] = {
            "class_name": "ValidationResultsStore",
            "store_backend": fs(results_dir, "results", suppress_store_backend_id=True)}
        cfg.data_docs_sites = {"local": {
            "class_name": "SiteBuilder", "show_how_to_buttons": False,
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": fs(results_dir, "docs")}}
        self.ctx = gx.get_context(project_config=cfg, mode="ephemeral")
        source = self.ctx.data_sources.add_or_update_pandas("batch")
        self.vds = {}
        for name in TABLES:
            path = suites.folder / f"{name}.json"
            try:
                suite = self.ctx.suites.add(gx.ExpectationSuite(**suites.files[name]))
            except Exception as e:  # GX raises several types for a bad suite file
                raise ValidationSetupError(f"{path}: GX cannot load the suite: {e}") from e
            n_file = len(suites.expectations(name))
            if len(suite.expectations) != n_file:
                raise ValidationSetupError(
                    f"{path}: {n_file} expectations in the file, {len(suite.expectations)} loaded — an "
                    "unknown expectation type was dropped (see the log for InvalidExpectationConfigurationError)")
            bd = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("whole")
            self.vds[name] = self.ctx.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=f"{name}_validation", data=bd, suite=suite))


_CONTEXT: Context | None = None


def context(suites: Suites, results_dir: Path) -> Context:
    """One live context per process; a new one when the suites or the folders change."""
    global _CONTEXT
    if _CONTEXT is None or _CONTEXT.key != (suites.folder, suites.fingerprint, results_dir):
        _CONTEXT = None   # let the old context go before the new one is built
        _CONTEXT = Context(suites, results_dir)
    return _CONTEXT


def run(suites: Suites, frames: Mapping[str, pd.DataFrame], results_dir: Path,
        run_name: Callable[[Sequence[str]], str]) -> tuple[dict[str, dict[int, list[tuple[str, Mapping]]]], list]:
    """Run every table's suite over its frame (in parts of ``_CHUNK_REPORTS`` reports),
    each part's results stored under ``run_name(its report ids)``.

    Returns {table: {row: [(check, expectation kwargs)]}} for the failing rows and the
    stored results' identifiers."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier, ValidationResultIdentifier)

    state = context(suites, results_dir)
    order = list(dict.fromkeys(r for name in TABLES for r in frames[name]["report_id"].dropna().tolist()))
    chunk_of = {rid: i // _CHUNK_REPORTS for i, rid in enumerate(order)}
    n_chunks = max(1, -(-len(order) // _CHUNK_REPORTS))
    part_names = [run_name(order[k * _CHUNK_REPORTS:(k + 1) * _CHUNK_REPORTS]) for k in range(n_chunks)]
    run_time = datetime.now(timezone.utc)
    failing: dict[str, dict[int, list[tuple[str, Mapping]]]] = {name: {} for name in TABLES}
    result_ids = []
    for name in TABLES:
        df = frames[name]
        keys = [ROW, *(c for c in KEY_COLUMNS if c in df.columns)]
        df = df[list(dict.fromkeys([*(c for c in suites.columns(name) if c in df.columns), *keys]))]
        chunks = df["report_id"].map(chunk_of).fillna(0).astype("int64").to_numpy()
        for k in range(n_chunks):
            part = df[chunks == k]
            run_id = RunIdentifier(run_name=part_names[k], run_time=run_time)
            res = state.vds[name].run(
                batch_parameters={"dataframe": part},
                result_format={"result_format": "COMPLETE", "unexpected_index_column_names": keys,
                               "partial_unexpected_count": 20},
                run_id=run_id)
            result_id = ValidationResultIdentifier(
                batch_identifier=res.batch_id,
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=name), run_id=run_id)
            for r in res.results:
                for row, check, kwargs in _failing_rows(name, r, part):
                    failing[name].setdefault(row, []).append((check, kwargs))
                if r.result:
                    r.result = _escaped(r.result)
            state.ctx.validation_results_store.set(result_id, res)   # again, escaped
            result_ids.append(result_id)
    return failing, result_ids


def _failing_rows(table: str, r, part: pd.DataFrame):
    cfg = r.expectation_config
    meta = cfg.meta or {}
    if errs := _errored(r):
        raise ValidationSetupError(
            f"expectations/{table}.json: {cfg.type}({', '.join(expectation_columns(cfg.kwargs))}) "
            f"[{meta.get('check')}] did not evaluate: {'; '.join(errs)}")
    idx = (r.result or {}).get("unexpected_index_list")
    if idx:
        rows = set()
        for item in idx:
            v = item[ROW] if isinstance(item, Mapping) else item
            rows.update(v if isinstance(v, list) else [v])
    elif not r.success:   # an aggregate expectation: every row of the run fails it
        rows = set(part[ROW].tolist())
    else:
        return
    for row in rows:
        yield int(row), meta["check"], cfg.kwargs


def _errored(r) -> list[str]:
    info = r.exception_info or {}
    infos = [info] if "raised_exception" in info else list(info.values())
    return sorted({str(i.get("exception_message")) for i in infos
                   if isinstance(i, Mapping) and i.get("raised_exception")})


def _escaped(value):
    """A result with every string HTML-escaped (report text reaches Data Docs through it)."""
    if isinstance(value, str):
        return html.escape(value)
    if isinstance(value, Mapping):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_escaped(v) for v in value]
    return value
