"""The lake is readable unchanged by another engine: pyarrow reads silver, quarantine and gold as
Hive-partitioned Parquet and gets the same counts and sums as `iotad sql`."""
import csv
import io
import os
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

IOTAD = os.environ.get("IOTAD_BIN") or str(Path(__file__).resolve().parents[2] / "build/src/iotad/iotad")


def iotad(*args):
    r = subprocess.run([IOTAD, *args], capture_output=True, text=True)
    assert r.returncode == 0, f"iotad {' '.join(args)} failed: {r.stderr}"
    return r.stdout


def sql_row(lake, query):
    out = iotad("sql", "--lake", str(lake), "--format", "csv", query)
    rows = list(csv.reader(io.StringIO(out)))
    return rows[1]


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("interop")
    lake = root / "lake"
    iotad("init", str(lake))
    iotad("generate", "--devices", "30", "--hours", "6", "--dirty", "--seed", "5", "--lake", str(lake))
    iotad("run", "--lake", str(lake))
    return lake


def dataset(lake, layer):
    return ds.dataset(str(lake / layer), format="parquet", partitioning="hive")


def test_silver_counts_and_sums_match_iotad_sql(lake):
    table = dataset(lake, "silver").to_table()
    n, temp, hum, vib = sql_row(lake, "SELECT count(*), sum(temp_c), sum(humidity_pc), sum(vibration_g) FROM silver")
    assert table.num_rows == int(n) > 5000
    assert pc.sum(table["temp_c"]).as_py() == pytest.approx(float(temp), rel=1e-12)
    assert pc.sum(table["humidity_pc"]).as_py() == pytest.approx(float(hum), rel=1e-12)
    assert pc.sum(table["vibration_g"]).as_py() == pytest.approx(float(vib), rel=1e-12)
    # Empty cells are NULLs, not zeros or NaNs.
    (nulls,) = sql_row(lake, "SELECT count(*) - count(temp_c) FROM silver")
    assert table["temp_c"].null_count == int(nulls) > 0


def test_silver_schema_is_what_other_engines_expect(lake):
    table = dataset(lake, "silver").to_table()
    names = table.schema.names
    assert names[:3] == ["event_time", "device_id", "location"]
    assert all(name == name.lower() for name in names)
    assert table.schema.field("event_time").type == pa.timestamp("us", tz="UTC")
    assert {"year", "month", "day", "hour"} <= set(names)  # from the Hive folders
    # Physically: INT64 microseconds, adjusted to UTC (what Spark, Trino and Athena read).
    first = next((lake / "silver").rglob("*.parquet"))
    column = pq.ParquetFile(first).schema.column(0)
    assert column.physical_type == "INT64"
    assert column.logical_type.to_json() == '{"Type": "Timestamp", "isAdjustedToUTC": true, "timeUnit": "microseconds", "is_from_converted_type": false, "force_set_converted_type": false}'


def test_silver_statistics_are_exact_for_pyarrow(lake):
    """Silver's files come from iotad's own Parquet encoder; readers prune with their statistics,
    so pyarrow must read them and find them exact, row group by row group."""
    checked = 0
    for path in sorted((lake / "silver").rglob("*.parquet")):
        f = pq.ParquetFile(path)
        assert f.metadata.created_by.startswith("iotad version")
        for g in range(f.metadata.num_row_groups):
            group = f.metadata.row_group(g)
            table = f.read_row_group(g)
            for i in range(group.num_columns):
                meta = group.column(i)
                values = table.column(meta.path_in_schema)
                stats = meta.statistics
                assert stats is not None and stats.null_count == values.null_count, (path, meta.path_in_schema)
                if values.null_count < len(values):
                    assert stats.has_min_max, (path, meta.path_in_schema)
                    low_high = pc.min_max(values)
                    assert stats.min == low_high["min"].as_py(), (path, meta.path_in_schema)
                    assert stats.max == low_high["max"].as_py(), (path, meta.path_in_schema)
                    checked += 1
    assert checked > 20


def test_partition_folders_match_event_times(lake):
    table = dataset(lake, "silver").to_table(columns=["event_time", "year", "month", "day", "hour"])
    ts = table["event_time"]
    assert pc.all(pc.equal(pc.hour(ts), table["hour"])).as_py()
    assert pc.all(pc.equal(pc.day(ts), table["day"])).as_py()
    assert pc.all(pc.equal(pc.month(ts), table["month"])).as_py()


def test_quarantine_matches(lake):
    table = ds.dataset(str(lake / "quarantine"), format="parquet").to_table()
    (n,) = sql_row(lake, "SELECT count(*) FROM quarantine")
    assert table.num_rows == int(n) > 0
    assert set(table.schema.names) == {"reason", "column_name", "detail", "source_file", "line", "raw"}
    # Whole rows (column_name NULL) and single bad cells of stored rows, counted the same outside.
    (rows,) = sql_row(lake, "SELECT count(*) FROM quarantine WHERE column_name IS NULL")
    assert pc.sum(pc.is_null(table["column_name"])).as_py() == int(rows)
    # Every text column is valid UTF-8 (pyarrow would refuse to build a string column otherwise).
    for name in ("reason", "column_name", "detail", "source_file", "raw"):
        assert table.schema.field(name).type == pa.string()


def test_gold_and_summary_match(lake):
    anomalies = dataset(lake, "gold").to_table()
    n, zsum = sql_row(lake, "SELECT count(*), sum(z) FROM anomalies")
    assert anomalies.num_rows == int(n) > 0
    assert pc.sum(anomalies["z"]).as_py() == pytest.approx(float(zsum), rel=1e-9)
    assert anomalies.schema.field("event_time").type == pa.timestamp("us", tz="UTC")
    summary = dataset(lake, "gold_summary").to_table()
    n, rows, anomalies_total = sql_row(lake, 'SELECT count(*), sum("rows"), sum(anomalies) FROM gold_summary')
    assert summary.num_rows == int(n)
    assert pc.sum(summary["rows"]).as_py() == int(rows)
    assert pc.sum(summary["anomalies"]).as_py() == int(anomalies_total)
    # Accounting seen from outside: every silver value is in exactly one summary row.
    (values,) = sql_row(lake, "SELECT count(temp_c) + count(humidity_pc) + count(vibration_g) FROM silver")
    assert pc.sum(summary["rows"]).as_py() == int(values)
