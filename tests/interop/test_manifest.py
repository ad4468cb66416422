"""External engines can read a consistent set of files: `_iotad/manifest/<layer>.txt` lists the live
files of each layer (one key a line, replaced atomically after each commit is applied). pyarrow
reading the files a manifest names gets what `iotad sql` gets, even when the folder holds a file
nobody committed (which a folder listing would read)."""
import csv
import io
import os
import shutil
import subprocess
from pathlib import Path

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


def manifest(lake, layer):
    return (lake / "_iotad" / "manifest" / f"{layer}.txt").read_text().splitlines()


def manifest_dataset(lake, layer):
    files = [str(lake / key) for key in manifest(lake, layer) if key.endswith(".parquet")]
    return ds.dataset(files, format="parquet", partitioning="hive", partition_base_dir=str(lake / layer))


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    lake = tmp_path_factory.mktemp("manifest") / "lake"
    iotad("init", str(lake))
    iotad("generate", "--devices", "10", "--hours", "6", "--dirty", "--seed", "3", "--lake", str(lake))
    iotad("run", "--lake", str(lake))
    iotad("generate", "--devices", "10", "--hours", "3", "--start", "2024-01-01T06:00:00Z", "--seed", "4",
          "--lake", str(lake))
    iotad("run", "--lake", str(lake))
    return lake


@pytest.mark.parametrize("layer", ["bronze", "silver", "quarantine", "gold", "gold_summary"])
def test_each_manifest_lists_exactly_the_live_files(lake, layer):
    on_disk = sorted(str(p.relative_to(lake)) for p in (lake / layer).rglob("*") if p.is_file())
    assert manifest(lake, layer) == on_disk
    assert on_disk


def test_pyarrow_reading_the_manifest_ignores_a_stray_file_the_folder_shows(lake):
    silver_rows = sql_int(lake, "SELECT count(*) FROM silver")
    anomalies = sql_int(lake, "SELECT count(*) FROM anomalies")
    assert manifest_dataset(lake, "silver").count_rows() == silver_rows
    assert manifest_dataset(lake, "gold").count_rows() == anomalies
    first = lake / manifest(lake, "silver")[0]
    stray = first.parent / "copied-by-hand.parquet"
    shutil.copy(first, stray)
    try:
        folder = ds.dataset(str(lake / "silver"), format="parquet", partitioning="hive")
        assert folder.count_rows() > silver_rows  # a folder listing reads the stray
        assert manifest_dataset(lake, "silver").count_rows() == silver_rows
        assert sql_int(lake, "SELECT count(*) FROM silver") == silver_rows
    finally:
        stray.unlink()
