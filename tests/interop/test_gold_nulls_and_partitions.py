"""One schema, read the same by every engine (issue 8): gold stores NULL where a value is absent,
never NaN, so a filter counts the same rows in pyarrow (with pandas' NaN rules) as in DuckDB
(`iotad sql`); partition folders are Spark's (`month=1`), so pyarrow's Hive discovery types them as
integers, not strings or dictionaries.

pandas is not in the test environment: pandas' semantics are those of pyarrow.compute with
`nan_is_null=True` for isna() and IEEE comparisons (NaN > 3 is false), which is what this checks;
DuckDB orders NaN above every number (NaN > 3 is true), which is where the counts parted.
"""
import csv
import io
import os
import re
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest

IOTAD = os.environ.get("IOTAD_BIN") or str(Path(__file__).resolve().parents[2] / "build/src/iotad/iotad")


def iotad(*args):
    r = subprocess.run([IOTAD, *args], capture_output=True, text=True)
    assert r.returncode == 0, f"iotad {' '.join(args)} failed: {r.stderr}"
    return r.stdout


def sql_int(lake, query):
    out = iotad("sql", "--lake", str(lake), "--format", "csv", query)
    return int(list(csv.reader(io.StringIO(out)))[1][0])


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    """Default detectors on a fleet with stuck sensors, dropouts and spikes: gold has rows of every
    kind (z, run_length, gap_seconds), the ones that used to hold NaN."""
    lake = tmp_path_factory.mktemp("nulls") / "lake"
    iotad("init", str(lake))
    iotad("generate", "--devices", "10", "--hours", "12", "--dirty", "--anomaly-rate", "20",
          "--anomaly-kinds", "stuck,dropout,spike", "--seed", "3", "--lake", str(lake))
    iotad("run", "--lake", str(lake))
    return lake


def hive(lake, layer):
    return ds.dataset(str(lake / layer), format="parquet", partitioning="hive")


def pandas_isna(col):
    return pc.is_null(col, nan_is_null=True)


# (the filter in SQL, the same filter over a pyarrow table with pandas' rules)
FILTERS = [
    ("threshold > 3", lambda t: pc.fill_null(pc.greater(t["threshold"], 3), False)),
    ("threshold IS NULL", lambda t: pandas_isna(t["threshold"])),
    ("baseline_mean IS NULL", lambda t: pandas_isna(t["baseline_mean"])),
    ("baseline_std IS NULL", lambda t: pandas_isna(t["baseline_std"])),
    ("z IS NULL", lambda t: pandas_isna(t["z"])),
    ("abs(z) > 4", lambda t: pc.fill_null(pc.greater(pc.abs(t["z"]), 4), False)),
    ("expected_hi > expected_lo", lambda t: pc.fill_null(pc.greater(t["expected_hi"], t["expected_lo"]), False)),
    ("expected_lo IS NULL", lambda t: pandas_isna(t["expected_lo"])),
    ("gap_seconds > 600", lambda t: pc.fill_null(pc.greater(t["gap_seconds"], 600), False)),
    ("timeout_seconds IS NULL", lambda t: pandas_isna(t["timeout_seconds"])),
    ("value IS NULL", lambda t: pandas_isna(t["value"])),
]


@pytest.mark.parametrize("where,arrow_filter", FILTERS, ids=[f[0] for f in FILTERS])
def test_gold_filters_count_the_same_rows_in_pyarrow_and_duckdb(lake, where, arrow_filter):
    table = hive(lake, "gold").to_table()
    arrow_count = pc.sum(pc.cast(arrow_filter(table), pa.int64())).as_py() or 0
    assert arrow_count == sql_int(lake, f"SELECT count(*) FROM anomalies WHERE {where}")


def test_absent_values_are_there_to_count(lake):
    # The filters above are not vacuous: default rows have no threshold, stuck and silence rows no
    # baseline, silences have their gap.
    assert sql_int(lake, "SELECT count(*) FROM anomalies WHERE detector = 'default' AND threshold IS NULL") > 0
    assert sql_int(lake, "SELECT count(*) FROM anomalies WHERE statistic_name = 'run_length' AND baseline_mean IS NULL") > 0
    assert sql_int(lake, "SELECT count(*) FROM anomalies WHERE gap_seconds > 600") > 0
    assert sql_int(lake, "SELECT count(*) FROM anomalies WHERE threshold > 3") > 0


@pytest.mark.parametrize("layer", ["gold", "gold_summary"])
def test_no_float_column_of_gold_holds_nan(layer, lake):
    table = hive(lake, layer).to_table()
    floats = [f.name for f in table.schema if pa.types.is_floating(f.type)]
    assert len(floats) >= 4
    for name in floats:
        assert pc.sum(pc.cast(pc.is_nan(table[name]), pa.int64())).as_py() in (0, None), name


@pytest.mark.parametrize("layer", ["silver", "gold", "gold_summary"])
def test_partition_folders_are_sparks_and_typed_as_integers(layer, lake):
    for path in (lake / layer).rglob("*.parquet"):
        rel = str(path.relative_to(lake / layer))
        assert re.match(r"year=\d{4}/month=[1-9]\d?/day=[1-9]\d?/hour=(0|[1-9]\d?)/", rel), rel
    # pyarrow's own discovery (what pandas.read_parquet uses), without a declared schema.
    schema = ds.dataset(str(lake / layer), format="parquet", partitioning="hive").schema
    for name in ("year", "month", "day", "hour"):
        assert pa.types.is_integer(schema.field(name).type), (name, schema.field(name).type)
    table = hive(lake, layer).to_table(columns=["month", "hour"])
    assert pc.min(table["month"]).as_py() == 1  # integers 1 and 0, not "01" and "00"
    assert pc.min(table["hour"]).as_py() == 0


def test_bronze_hour_folders_are_integers(lake):
    keys = [str(p.relative_to(lake)) for p in (lake / "bronze").rglob("*") if p.is_file()]
    assert keys
    for key in keys:
        assert re.match(r"bronze/dt=\d{4}-\d{2}-\d{2}/hour=(0|[1-9]\d?)/", key), key
