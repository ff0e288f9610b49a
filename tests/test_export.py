"""Export: Parquet round-trips, determinism, incremental runs, crash safety, the lock,
readers (pandas, pyarrow.dataset, DuckDB, polars), pipeline.load and docs/schema.md.

Tables are built with pipeline.tables.build_tables from small hand-made records, so these
tests do not depend on ingest or extract.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import pipeline
from pipeline import export as ex
from pipeline.export import LockedError, Manifest, export, load, lock, prune
from pipeline.records import Category, Quantity, Report, Task
from pipeline.schema import TABLES, schema
from pipeline.progress import link
from pipeline.tables import build_tables

TESTS = Path(__file__).resolve().parent
SUITES = "suites-v1"


# --------------------------------------------------------------------------- fixtures


def q(text: str, mention: str, value: float, unit: str, dimension: str, **kw) -> Quantity:
    start = text.index(mention)
    metric = kw.pop("metric", None)
    return Quantity(mention=mention, start=start, end=start + len(mention), value=value,
                    value_high=kw.pop("value_high", None), unit=unit, approx=kw.pop("approx", None),
                    dimension=dimension, metric=metric,
                    metric_start=text.index(metric) if metric else None, **kw)


def make_report(report_id: str = "linyi_2021_01-09", *, region: str | None = "临沂市",
                end_month: int = 9, people: str = "23.5", flavour: str = "a"):
    """One small report; ``flavour`` "b" uses other units, approx markers and lead units, so
    its dictionaries differ from "a"'s."""
    s1 = f"1-{end_month}月份,共为{people}万名城乡低保对象发放救助资金10.83亿元"
    t2 = "免费康复救助2000名残疾儿童"
    s2 = "依托42家定点康复机构为1980名残疾儿童提供康复训练" if flavour == "a" else "基础养老金由142元/人/月提高至150元/人/月"
    cats = (Category(1, "加强特殊困难群体关爱服务保障", 7), Category(2, "提升养老待遇水平", 13))
    tasks = (
        Task(1, cats[0].name, 1, "提高困难群众救助保障水平", s1,
             ("市民政局",) if flavour == "a" else ("市人社局", "市财政局"), 8, 11),
        Task(2, cats[1].name, 2, t2, s2, ("市残联",), 14, 17),
    )
    sha = hashlib.sha256(f"{report_id}{region}{end_month}{people}{flavour}".encode()).hexdigest()
    report = Report(report_id=report_id, source_file=f"{report_id}.txt",
                    title=f"{region or ''}2021年度20项重点民生实事推进情况表(1-{end_month}月份)",
                    region=region, year=2021, period_start_month=1, period_end_month=end_month,
                    declared_items=20 if flavour == "a" else None, encoding="utf-8", sha256=sha,
                    categories=cats, tasks=tasks)
    quantities = {
        (1, "status"): [q(s1, f"{people}万名", float(people) * 1e4, "名", "count", metric="城乡低保对象"),
                        q(s1, "10.83亿元", 1.083e9, "元", "currency", metric="救助资金")],
        (2, "task"): [q(t2, "2000名", 2000.0, "名", "count", metric="残疾儿童")],
    }
    if flavour == "a":
        quantities[(2, "status")] = [q(s2, "42家", 42.0, "家", "count", approx="about"),
                                     q(s2, "1980名", 1980.0, "名", "count", metric="残疾儿童")]
    else:
        quantities[(2, "status")] = [
            q(s2, "142元/人/月", 142.0, "元/人/月", "currency_rate", change="increase",
              change_role="before", change_group=1),
            q(s2, "150元/人/月", 150.0, "元/人/月", "currency_rate", change="increase",
              change_role="after", change_group=1)]
    # flavour a: 1980 of the 2000 children in the task cell, a progress record
    return build_tables(report, quantities, link(report, quantities))


def same_type(got: pa.DataType, want: pa.DataType) -> bool:
    """Equal types, except that Parquet names a list's child "element" where Arrow says "item"."""
    if pa.types.is_list(want):
        return pa.types.is_list(got) and got.value_type == want.value_type
    return got == want


def parquet_files(out: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every Parquet file under the table folders → (inode, mtime_ns, bytes)."""
    found = {}
    for table in TABLES:
        for p in sorted((out / table).glob("*.parquet")):
            st = p.stat()
            found[str(p.relative_to(out))] = (st.st_ino, st.st_mtime_ns, p.read_bytes())
    return found


def consistent(out: Path) -> dict[str, bool]:
    """Report id → whether the on-disk manifest vouches for its files as they are now."""
    m = Manifest.load(out)
    return {r: m.outputs_match(r) for r in m.reports}


@pytest.fixture
def two_reports():
    return {"linyi_2021_01-09": make_report(),
            "jinan_2021_01-06": make_report("jinan_2021_01-06", region="济南市", end_month=6,
                                            people="8.1", flavour="b")}


@pytest.fixture
def out(tmp_path) -> Path:
    return tmp_path / "processed"


# --------------------------------------------------------------------------- round trip


def test_schema_round_trips(out, two_reports):
    export(out, two_reports, manifest=Manifest.load(out), suites_hash=SUITES)
    for report_id, tables in two_reports.items():
        for name in TABLES:
            path = out / name / f"{report_id}.parquet"
            read = pq.read_table(path)
            target = schema(name)
            assert read.schema.names == target.names
            for got, want in zip(read.schema, target):
                assert got.nullable == want.nullable and got.metadata == want.metadata, (name, got)
                assert b"description_zh" in got.metadata and b"description_en" in got.metadata
                assert same_type(got.type, want.type), (name, got, want)
            assert read.cast(target).equals(tables[name]), name
            meta = pq.read_metadata(path).metadata
            assert meta[b"pipeline_version"] == pipeline.__version__.encode()
            assert meta[b"source_sha256"] == tables["reports"]["sha256"][0].as_py().encode()
            pf = pq.ParquetFile(path)
            assert pf.metadata.row_group(0).column(0).compression == "ZSTD" if pf.metadata.num_rows else True


def test_empty_table_is_written(out):
    tables = make_report()
    tables["facts"] = tables["facts"].slice(0, 0)
    export(out, {"linyi_2021_01-09": tables}, manifest=Manifest.load(out), suites_hash=SUITES)
    assert pq.read_table(out / "facts" / "linyi_2021_01-09.parquet").num_rows == 0
    assert len(load(out)["facts"]) == 0


@pytest.mark.parametrize("mutate, message", [
    (lambda t: t.drop_columns(["unit"]), "missing columns"),
    (lambda t: t.set_column(t.schema.get_field_index("unit"), "unit",
                            pa.array([None] * t.num_rows, pa.string())), "not nullable"),
], ids=["missing-column", "null-in-required"])
def test_bad_tables_are_refused(out, mutate, message):
    tables = make_report()
    tables["facts"] = mutate(tables["facts"])
    with pytest.raises(ValueError, match=message):
        export(out, {"linyi_2021_01-09": tables}, manifest=Manifest.load(out), suites_hash=SUITES)
    assert not list(out.glob("*/*.parquet")) and not (out / "manifest.json").exists()


@pytest.mark.parametrize("report_id", ["", ".hidden", "../escape", "a/b"])
def test_report_id_must_be_a_file_name(out, report_id):
    with pytest.raises(ValueError, match="file name"):
        export(out, {report_id: make_report()}, manifest=Manifest.load(out), suites_hash=SUITES)


# --------------------------------------------------------------------------- determinism


def test_byte_identical_in_fresh_folders(tmp_path, two_reports):
    a, b = tmp_path / "a", tmp_path / "b"
    export(a, two_reports, manifest=Manifest.load(a), suites_hash=SUITES)
    export(b, two_reports, manifest=Manifest.load(b), suites_hash=SUITES)
    fa, fb = parquet_files(a), parquet_files(b)
    assert len(fa) == 2 * len(TABLES) and {k: v[2] for k, v in fa.items()} == {k: v[2] for k, v in fb.items()}


def test_byte_identical_across_processes(tmp_path):
    """Another interpreter (another hash seed, another pid, another second) writes the same bytes."""
    code = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(TESTS)!r})
        from pathlib import Path
        from test_export import make_report
        from pipeline.export import Manifest, export
        out = Path(sys.argv[1])
        export(out, {{"linyi_2021_01-09": make_report()}}, manifest=Manifest.load(out), suites_hash="x")
    """)
    for name, seed in (("p1", "1"), ("p2", "2")):
        subprocess.run([sys.executable, "-c", code, str(tmp_path / name)], check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed})
    one, two = parquet_files(tmp_path / "p1"), parquet_files(tmp_path / "p2")
    assert {k: v[2] for k, v in one.items()} == {k: v[2] for k, v in two.items()}
    # the run-dependent part lives in the manifest only
    assert "processed_at" in json.loads((tmp_path / "p1" / "manifest.json").read_text())["reports"]["linyi_2021_01-09"]


def test_bytes_do_not_depend_on_how_dictionaries_were_built(out):
    tables = make_report()
    facts = tables["facts"]
    i = facts.schema.get_field_index("unit")
    values = facts.column("unit").cast(pa.string()).to_pylist()
    # same values, a dictionary in another order, the column in two chunks
    dictionary = sorted(set(values), reverse=True)
    unit = pa.DictionaryArray.from_arrays(pa.array([dictionary.index(v) for v in values], pa.int32()),
                                          pa.array(dictionary))
    rebuilt = facts.set_column(i, facts.schema.field(i), pa.chunked_array([unit.slice(0, 1), unit.slice(1)]))
    assert rebuilt.column("unit").to_pylist() == facts.column("unit").to_pylist()
    assert ex.parquet_bytes("facts", facts, source_sha256="s") == ex.parquet_bytes("facts", rebuilt, source_sha256="s")


# --------------------------------------------------------------------------- incremental runs


def plan(manifest: Manifest, inputs: dict[str, dict], *, version=pipeline.__version__, suites=SUITES):
    """What a batch run does: the reports that are not current."""
    return [r for r, t in inputs.items()
            if not manifest.is_current(r, t["reports"]["sha256"][0].as_py(), version, suites)]


def test_rerun_with_nothing_new_rewrites_nothing(out, two_reports):
    export(out, two_reports, manifest=Manifest.load(out), suites_hash=SUITES)
    before = parquet_files(out)
    manifest_stat = (out / "manifest.json").stat()
    manifest = Manifest.load(out)
    todo = plan(manifest, two_reports)
    assert todo == []
    export(out, {r: two_reports[r] for r in todo}, manifest=manifest, suites_hash=SUITES)
    assert parquet_files(out) == before
    after = (out / "manifest.json").stat()
    assert (after.st_ino, after.st_mtime_ns) == (manifest_stat.st_ino, manifest_stat.st_mtime_ns)


def test_forced_rerun_leaves_identical_files_in_place(out, two_reports):
    export(out, two_reports, manifest=Manifest.load(out), suites_hash=SUITES)
    before = parquet_files(out)
    export(out, two_reports, manifest=Manifest.load(out), suites_hash=SUITES)   # --force
    assert parquet_files(out) == before


@pytest.mark.parametrize("change", ["raw-bytes", "pipeline-version", "suites", "output-edited",
                                    "output-deleted", "not-in-manifest"])
def test_what_makes_a_report_stale(out, two_reports, change):
    export(out, two_reports, manifest=Manifest.load(out), suites_hash=SUITES)
    rid = "linyi_2021_01-09"
    sha = two_reports[rid]["reports"]["sha256"][0].as_py()
    args = [rid, sha, pipeline.__version__, SUITES]
    assert Manifest.load(out).is_current(*args)
    facts = out / "facts" / f"{rid}.parquet"
    if change == "raw-bytes":
        args[1] = "0" * 64
    elif change == "pipeline-version":
        args[2] = "0.0.0-other"
    elif change == "suites":
        args[3] = "suites-v2"
    elif change == "output-edited":
        data = bytearray(facts.read_bytes())
        data[-20] ^= 1
        facts.write_bytes(bytes(data))
    elif change == "output-deleted":
        facts.unlink()
    elif change == "not-in-manifest":
        args[0] = "heze_2021_01-03"
    assert not Manifest.load(out).is_current(*args)
    assert Manifest.load(out).is_current("jinan_2021_01-06",
                                         two_reports["jinan_2021_01-06"]["reports"]["sha256"][0].as_py(),
                                         pipeline.__version__, SUITES)


def test_manifest_records_sources_and_dq_status(out, two_reports):
    tables = dict(two_reports["jinan_2021_01-06"])
    dq = tables["facts"].column("dq_passed").to_pylist()
    dq[0] = False
    tables["facts"] = tables["facts"].set_column(tables["facts"].schema.get_field_index("dq_passed"),
                                                 schema("facts").field("dq_passed"), pa.array(dq))
    inputs = {"linyi_2021_01-09": two_reports["linyi_2021_01-09"], "jinan_2021_01-06": tables}
    export(out, inputs, manifest=Manifest.load(out), suites_hash=SUITES,
           sources={"linyi_2021_01-09": Path("raw/linyi_2021_01-09.txt"),
                    "jinan_2021_01-06": ("raw/jinan_2021_01-06.txt", "ab" * 32)})
    m = Manifest.load(out)
    linyi, jinan = m.reports["linyi_2021_01-09"], m.reports["jinan_2021_01-06"]
    assert linyi["source"] == "raw/linyi_2021_01-09.txt" and jinan["source"] == "raw/jinan_2021_01-06.txt"
    assert linyi["sha256"] == two_reports["linyi_2021_01-09"]["reports"]["sha256"][0].as_py()
    assert jinan["sha256"] == "ab" * 32     # the caller's hash of the raw file wins
    assert pq.read_metadata(out / "facts" / "jinan_2021_01-06.parquet").metadata[b"source_sha256"] == b"ab" * 32
    assert linyi["dq_passed"] and not jinan["dq_passed"]
    assert jinan["dq_failed_rows"] == {"reports": 0, "tasks": 0, "facts": 1, "progress": 0}
    assert m.failed() == ["jinan_2021_01-06"]
    assert linyi["pipeline_version"] == pipeline.__version__ and linyi["suites_hash"] == SUITES
    for name in TABLES:
        out_entry = linyi["outputs"][name]
        assert out_entry["path"] == f"{name}/linyi_2021_01-09.parquet"
        assert out_entry["sha256"] == hashlib.sha256((out / out_entry["path"]).read_bytes()).hexdigest()


def test_prune_removes_exactly_the_reports_it_is_given(out, two_reports):
    export(out, two_reports, manifest=Manifest.load(out), suites_hash=SUITES)
    m = Manifest.load(out)
    gone = ["jinan_2021_01-06"]
    prune(out, m, gone)
    assert not any((out / t / "jinan_2021_01-06.parquet").exists() for t in TABLES)
    assert list(Manifest.load(out).reports) == ["linyi_2021_01-09"]
    assert consistent(out) == {"linyi_2021_01-09": True}
    assert list(load(out)["reports"]["report_id"]) == ["linyi_2021_01-09"]


# --------------------------------------------------------------------------- crash safety


def _second_run(two_reports):
    """The run that gets killed: linyi changed (new figures) and a new report heze."""
    return {"linyi_2021_01-09": make_report(people="24.9"),
            "heze_2021_01-03": make_report("heze_2021_01-03", region="菏泽市", end_month=3)}


N_REPLACES = 2 * len(TABLES) + 1      # one Parquet file per table and report, then the manifest


def _crash_on_replace(monkeypatch, crash_after: int) -> list:
    """os.replace that raises (a simulated crash) on its call number ``crash_after``; the
    destinations moved before that are listed in the returned list."""
    real_replace, calls = os.replace, []

    def replace(src, dst):
        if len(calls) == crash_after:
            raise OSError("simulated crash")
        calls.append(dst)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    return calls


@pytest.mark.parametrize("crash_after", range(N_REPLACES))
def test_crash_between_writes_leaves_outputs_readable_and_manifest_consistent(
        out, two_reports, monkeypatch, crash_after):
    export(out, two_reports, manifest=Manifest.load(out), suites_hash=SUITES)
    manifest_before = (out / "manifest.json").read_bytes()
    _crash_on_replace(monkeypatch, crash_after)
    with pytest.raises(OSError, match="simulated crash"):
        export(out, _second_run(two_reports), manifest=Manifest.load(out), suites_hash=SUITES)
    monkeypatch.undo()

    # the manifest is the old one, untouched; every file present is complete and readable
    assert (out / "manifest.json").read_bytes() == manifest_before
    for table in TABLES:
        assert pd.read_parquet(out / table).shape[0] > 0
        for p in (out / table).glob("*.parquet"):
            pq.read_table(p)
    assert not list(out.glob(".tmp-*"))
    state = consistent(out)
    assert state["jinan_2021_01-06"] is True                 # untouched by the crashed run
    assert state["linyi_2021_01-09"] is (crash_after == 0)   # any replaced file → stale
    # the next run redoes exactly what is stale or new, and ends consistent
    m = Manifest.load(out)
    inputs = {**two_reports, **_second_run(two_reports)}
    todo = plan(m, inputs)
    assert set(todo) == {"linyi_2021_01-09", "heze_2021_01-03"}
    export(out, {r: inputs[r] for r in todo}, manifest=m, suites_hash=SUITES)
    assert consistent(out) == dict.fromkeys(inputs, True)
    assert plan(Manifest.load(out), inputs) == []


def test_sigkill_mid_run_leaves_previous_outputs_intact(out, two_reports):
    export(out, two_reports, manifest=Manifest.load(out), suites_hash=SUITES)
    before = parquet_files(out)
    code = textwrap.dedent(f"""
        import os, signal, sys; sys.path.insert(0, {str(TESTS)!r})
        from pathlib import Path
        from test_export import make_report
        from pipeline.export import Manifest, export
        real = os.replace
        def replace(src, dst):
            if str(dst).endswith("manifest.json"):
                os.kill(os.getpid(), signal.SIGKILL)
            real(src, dst)
        os.replace = replace
        out = Path(sys.argv[1])
        export(out, {{"heze_2021_01-03": make_report("heze_2021_01-03", region="菏泽市")}},
               manifest=Manifest.load(out), suites_hash={SUITES!r})
    """)
    proc = subprocess.run([sys.executable, "-c", code, str(out)])
    assert proc.returncode == -signal.SIGKILL
    leftovers = list(out.glob(".tmp-*"))
    assert leftovers                                   # the killed run's staging folder …
    assert parquet_files(out).items() >= before.items()  # … earlier outputs untouched
    for table in TABLES:                               # nothing stray inside the table folders
        assert {p.name for p in (out / table).iterdir()} == {
            "linyi_2021_01-09.parquet", "jinan_2021_01-06.parquet", "heze_2021_01-03.parquet"}
    assert set(Manifest.load(out).reports) == set(two_reports)
    assert pd.read_parquet(out / "facts").shape[0] > 0
    with lock(out):                                    # the next run cleans the dead run's folder
        pass
    assert not list(out.glob(".tmp-*"))


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_only_temporary_folders_we_made_are_removed(out):
    """Issue 9, attack 12: a folder named like ours, without our marker, is the user's."""
    out.mkdir(parents=True)
    pid = _dead_pid()
    theirs = out / f".tmp-{pid}-mine"
    (theirs / "sub").mkdir(parents=True)
    (theirs / "sub" / "precious.txt").write_text("keep me", encoding="utf-8")
    forged = out / f".tmp-{pid}-forged"            # a marker naming another pid
    forged.mkdir()
    (forged / ex.files.TMP_MARKER).write_text(f"minsheng-pipeline {pid + 1}\n", encoding="ascii")
    ours = out / f".tmp-{pid}-abcd"
    ours.mkdir()
    (ours / ex.files.TMP_MARKER).write_text(f"minsheng-pipeline {pid}\n", encoding="ascii")
    (ours / "facts.x.parquet").write_bytes(b"partial")
    ex.files._clean_dead_tmp(out)
    assert (theirs / "sub" / "precious.txt").exists() and forged.exists()
    assert not ours.exists()


def test_live_runs_tmp_folders_are_kept(out):
    out.mkdir(parents=True)
    live = out / f".tmp-{os.getppid()}-abcd"       # our parent (pytest's launcher) is alive
    live.mkdir()
    (live / ex.files.TMP_MARKER).write_text(f"minsheng-pipeline {os.getppid()}\n", encoding="ascii")
    ex.files._clean_dead_tmp(out)
    assert live.exists()


# --------------------------------------------------------------------------- lock


def test_lock_refuses_a_second_holder(out):
    with lock(out):
        with pytest.raises(LockedError, match=str(out)) as info:
            with lock(out):        # a second open file description, as another run would have
                pass
        assert str(os.getpid()) in str(info.value)
    with lock(out):                 # released on exit
        pass


def test_lock_held_by_another_process_and_released_when_it_dies(out):
    code = textwrap.dedent("""
        import sys, time
        from pipeline.export import lock
        with lock(sys.argv[1]):
            print("locked", flush=True)
            time.sleep(60)
    """)
    holder = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(LockedError, match="another pipeline run"):
            with lock(out):
                pass
    finally:
        holder.kill()                # a killed run: its .lock file stays behind …
        holder.wait()
    assert (out / ".lock").exists()
    with lock(out):                  # … and does not block the next run
        pass


def test_cli_exits_4_when_locked(out, tmp_path):
    from pipeline import cli
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "linyi_2021_01-09.txt").write_bytes(
        (Path(pipeline.__file__).resolve().parent.parent / "raw" / "linyi_2021_01-09.txt").read_bytes())
    with lock(out):
        assert cli.main(["run", str(raw), "--out", str(out)]) == 4


# --------------------------------------------------------------------------- readers


def test_pandas_and_pyarrow_dataset_read_all_reports(out, two_reports):
    export(out, two_reports, manifest=Manifest.load(out), suites_hash=SUITES)
    facts = pd.read_parquet(out / "facts")
    assert len(facts) == sum(t["facts"].num_rows for t in two_reports.values())
    assert isinstance(facts["unit"].dtype, pd.CategoricalDtype)
    assert {"元", "名", "家", "元/人/月"} <= set(facts["unit"].cat.categories)   # dictionaries unified
    table = ds.dataset(out / "facts", format="parquet").to_table()
    assert table.num_rows == len(facts)
    assert pa.types.is_dictionary(table.schema.field("unit").type)
    assert sorted(table.column("unit").to_pylist()) == sorted(facts["unit"].astype(str))
    reports = pd.read_parquet(out / "reports")
    assert sorted(reports["period_end_month"]) == [6, 9]


def test_duckdb_reads_the_output(out, two_reports):
    duckdb = pytest.importorskip("duckdb")
    export(out, two_reports, manifest=Manifest.load(out), suites_hash=SUITES)
    con = duckdb.connect()
    rows = con.execute(
        "select report_id, unit, count(*) from read_parquet(?) group by all order by all",
        [str(out / "facts" / "**" / "*.parquet")]).fetchall()
    assert ("jinan_2021_01-06", "元/人/月", 2) in rows and ("linyi_2021_01-09", "家", 1) in rows
    lead = con.execute("select lead_units from read_parquet(?) where report_id = 'jinan_2021_01-06' "
                       "order by task_no limit 1", [str(out / "tasks" / "*.parquet")]).fetchone()[0]
    assert lead == ["市人社局", "市财政局"]


def test_polars_reads_the_output(out, two_reports):
    pl = pytest.importorskip("polars")
    export(out, two_reports, manifest=Manifest.load(out), suites_hash=SUITES)
    facts = pl.read_parquet(out / "facts" / "*.parquet")
    assert facts.height == sum(t["facts"].num_rows for t in two_reports.values())
    by_unit = dict(facts.group_by(pl.col("unit").cast(pl.String)).len().iter_rows())
    assert by_unit["元/人/月"] == 2 and by_unit["家"] == 1
    tasks = pl.scan_parquet(out / "tasks" / "*.parquet").collect()
    assert tasks.schema["lead_units"] == pl.List(pl.String)


# --------------------------------------------------------------------------- pipeline.load


def test_load_gives_documented_dtypes_and_python_lists(out, two_reports):
    export(out, two_reports, manifest=Manifest.load(out), suites_hash=SUITES)
    frames = pipeline.load(out)
    assert list(frames) == list(TABLES)
    for name, df in frames.items():
        assert {c: str(t) for c, t in df.dtypes.items()} == ex.pandas_dtypes(name), name
    reports, tasks, facts = frames["reports"], frames["tasks"], frames["facts"]
    assert list(reports["report_id"]) == ["jinan_2021_01-06", "linyi_2021_01-09"]   # sorted
    assert reports["declared_items"].isna().tolist() == [True, False]
    assert tasks.loc[0, "lead_units"] == ["市人社局", "市财政局"]
    assert facts["dq_failures"].map(type).eq(list).all()
    assert facts.groupby(["report_id", "fact_no"], observed=True).size().eq(1).all()
    # month-over-month progress is a one-line groupby over the period columns
    progress = facts[facts["metric"] == "救助资金"].groupby(
        ["region" if "region" in facts else "report_id", "period_end_month"], observed=True)["value"].sum()
    assert len(progress) == 2


@pytest.mark.parametrize("layout", ["missing-folder", "empty-folders"])
def test_load_without_data_gives_empty_typed_tables(tmp_path, layout):
    if layout == "empty-folders":
        for name in TABLES:
            (tmp_path / name).mkdir()
    frames = load(tmp_path / "processed" if layout == "missing-folder" else tmp_path)
    for name, df in frames.items():
        assert df.empty and list(df.columns) == schema(name).names
        assert {c: str(t) for c, t in df.dtypes.items()} == ex.pandas_dtypes(name)


def test_load_defaults_to_the_projects_processed_folder():
    assert ex.default_processed_dir() == Path(pipeline.__file__).resolve().parent.parent / "processed"


# --------------------------------------------------------------------------- docs


def test_schema_doc_is_current():
    from pipeline.docs import DOC_PATH, render_markdown

    assert DOC_PATH.read_text(encoding="utf-8") == render_markdown(), (
        "docs/schema.md is out of date: run `python -m pipeline.docs`")


def test_schema_doc_covers_every_column():
    from pipeline.docs import render_markdown

    doc = render_markdown()
    for name in TABLES:
        assert f"## {name}" in doc
        for field in schema(name):
            assert f"| `{field.name}` |" in doc


# --------------------------------------------------------------------------- load trusts the manifest (issue 9 #7)


def test_load_skips_and_warns_about_files_the_manifest_does_not_list(out, two_reports):
    export(out, two_reports, manifest=Manifest.load(out), suites_hash=SUITES)
    stray = out / "reports" / "mine.parquet"
    stray.write_bytes((out / "reports" / "linyi_2021_01-09.parquet").read_bytes())
    with pytest.warns(UserWarning, match="mine.parquet: not in the manifest"):
        frames = load(out)
    assert sorted(frames["reports"]["report_id"]) == ["jinan_2021_01-06", "linyi_2021_01-09"]
    assert len(frames["reports"]) == 2


def test_load_verify_catches_a_byte_edited_file(out, two_reports):
    export(out, two_reports, manifest=Manifest.load(out), suites_hash=SUITES)
    facts = out / "facts" / "linyi_2021_01-09.parquet"
    table = pq.read_table(facts)
    values = table["value"].to_pylist()
    edited = bytearray(facts.read_bytes())
    # change one float's bytes in place, the file keeps its size
    import struct
    needle = struct.pack("<d", values[0])
    at = bytes(edited).index(needle)
    edited[at:at + 8] = struct.pack("<d", values[0] + 1)
    facts.write_bytes(bytes(edited))
    with pytest.raises(ex.LoadError, match="sha256 differs"):
        load(out, verify=True)


def test_load_refuses_to_mix_two_runs(out, two_reports, monkeypatch):
    """A run killed in the replace loop: new facts beside the old tasks and manifest."""
    export(out, two_reports, manifest=Manifest.load(out), suites_hash=SUITES)
    _crash_on_replace(monkeypatch, 1)
    with pytest.raises(OSError):
        export(out, _second_run(two_reports), manifest=Manifest.load(out), suites_hash=SUITES)
    monkeypatch.undo()
    with pytest.raises(ex.LoadError, match="linyi_2021_01-09.parquet: .*(size differs|another version of the raw file)"):
        load(out)


@pytest.mark.parametrize("damage", ["[]", '{"reports": {"a": 5}}'])
def test_load_refuses_a_damaged_manifest(out, two_reports, damage):
    export(out, two_reports, manifest=Manifest.load(out), suites_hash=SUITES)
    (out / "manifest.json").write_text(damage, encoding="utf-8")
    with pytest.raises(ex.LoadError, match="manifest.json: the manifest"):
        load(out)


def test_load_reads_what_the_manifest_lists(out, two_reports):
    export(out, two_reports, manifest=Manifest.load(out), suites_hash=SUITES)
    frames = load(out, verify=True)
    assert sorted(frames["reports"]["report_id"]) == sorted(two_reports)


# --------------------------------------------------------------------------- review pages commit with the data (issue 8)


def _pages(inputs: dict) -> dict[str, str]:
    """A review page per report naming the raw sha256 its data came from."""
    return {rid: f"<html><body>sha256={t['reports']['sha256'][0].as_py()}</body></html>"
            for rid, t in inputs.items()}


def _pages_match_their_data(out: Path) -> None:
    for page in (out / "review").glob("*.html"):
        sha = page.read_text(encoding="utf-8").split("sha256=")[1].split("<")[0]
        for table in TABLES:
            data = out / table / f"{page.stem}.parquet"
            assert data.exists(), f"{page.name} without its {table} data"
            assert pq.read_metadata(data).metadata[b"source_sha256"] == sha.encode(), \
                f"{page.name} describes other data than {data.name}"


def test_review_pages_are_exported_and_recorded(out, two_reports):
    export(out, two_reports, manifest=Manifest.load(out), suites_hash=SUITES, pages=_pages(two_reports))
    m = Manifest.load(out)
    for rid in two_reports:
        entry = m.reports[rid]["outputs"]["review"]
        page = out / "review" / f"{rid}.html"
        assert entry["path"] == f"review/{rid}.html"
        assert entry["sha256"] == hashlib.sha256(page.read_bytes()).hexdigest()
        assert m.outputs_match(rid)
    _pages_match_their_data(out)
    assert sorted(load(out)["reports"]["report_id"]) == sorted(two_reports)    # load ignores pages
    (out / "review" / "linyi_2021_01-09.html").write_text("edited", encoding="utf-8")
    assert not Manifest.load(out).outputs_match("linyi_2021_01-09")           # an edited page is stale
    prune(out, Manifest.load(out), ["jinan_2021_01-06"])
    assert not (out / "review" / "jinan_2021_01-06.html").exists()


@pytest.mark.parametrize("crash_after", range(2 * len(TABLES) + 2 + 1))   # Parquet, pages, manifest
def test_a_crash_between_pages_and_manifest_leaves_no_page_without_its_data(out, two_reports, monkeypatch,
                                                                             crash_after):
    export(out, two_reports, manifest=Manifest.load(out), suites_hash=SUITES, pages=_pages(two_reports))
    _crash_on_replace(monkeypatch, crash_after)
    second = _second_run(two_reports)
    with pytest.raises(OSError, match="simulated crash"):
        export(out, second, manifest=Manifest.load(out), suites_hash=SUITES, pages=_pages(second))
    monkeypatch.undo()
    _pages_match_their_data(out)
    m = Manifest.load(out)
    assert m.outputs_match("jinan_2021_01-06")
    assert set(m.reports) == set(two_reports)
    inputs = {**two_reports, **second}
    todo = plan(m, inputs)
    export(out, {r: inputs[r] for r in todo}, manifest=m, suites_hash=SUITES, pages=_pages({r: inputs[r] for r in todo}))
    _pages_match_their_data(out)
    assert consistent(out) == dict.fromkeys(inputs, True)


def test_checks_are_kept_in_the_manifest(out, two_reports):
    verdict = {"checks": 30, "passed": 29, "failed": 1, "errors": 1, "warnings": 0,
               "failures": [["facts", "facts.x", "error", 1, 2, "10%", "context"]]}
    export(out, two_reports, manifest=Manifest.load(out), suites_hash=SUITES,
           checks={"linyi_2021_01-09": verdict})
    m = Manifest.load(out)
    assert m.reports["linyi_2021_01-09"]["checks"] == verdict and "checks" not in m.reports["jinan_2021_01-06"]
    ex.record_docs_built(m, ["linyi_2021_01-09"])
    assert Manifest.load(out).reports["linyi_2021_01-09"]["docs_built"] is True
