"""The metrics file `iotad run --metrics-file` writes is read by the Prometheus project's own
text-format parser (prometheus_client), with the counts `iotad sql` gives."""
import csv
import io
import os
import subprocess
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

IOTAD = os.environ.get("IOTAD_BIN") or str(Path(__file__).resolve().parents[2] / "build/src/iotad/iotad")


def iotad(*args):
    r = subprocess.run([IOTAD, *args], capture_output=True, text=True)
    assert r.returncode == 0, f"iotad {' '.join(args)} failed: {r.stderr}"
    return r.stdout


def sql_rows(lake, query):
    out = iotad("sql", "--lake", str(lake), "--format", "csv", query)
    return list(csv.reader(io.StringIO(out)))[1:]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("metrics")
    lake = root / "lake"
    iotad("init", str(lake))
    iotad("generate", "--devices", "20", "--hours", "4", "--dirty", "--seed", "9", "--lake", str(lake))
    (lake / "inbox" / "extra.csv").write_text(
        "timestamp,device_id,temp_c\nnot-a-time,d1,1.5\n2024-03-01T10:00:00Z,,1\n")
    prom = root / "iotad.prom"
    iotad("run", "--lake", str(lake), "--metrics-file", str(prom))
    families = {f.name: f for f in text_string_to_metric_families(prom.read_text())}
    return lake, families


def value(families, name, sample_name=None, **labels):
    for s in families[name].samples:
        if s.name == (sample_name or name) and s.labels == labels:
            return s.value
    raise KeyError(f"{name} {labels}")


def test_every_family_parses_with_its_type(run):
    _, families = run
    # prometheus_client strips `_total` from counter family names.
    assert families["iotad_rows_stored"].type == "counter"
    assert families["iotad_ingest_bytes"].type == "counter"
    assert families["iotad_stage_duration_seconds"].type == "histogram"
    assert families["iotad_last_run_timestamp_seconds"].type == "gauge"
    assert all(name.startswith("iotad_") for name in families)


def test_counters_match_iotad_sql(run):
    lake, families = run
    (stored,), = sql_rows(lake, "SELECT count(*) FROM silver")
    assert value(families, "iotad_rows_stored", "iotad_rows_stored_total") == int(stored)
    for reason, n in sql_rows(lake, "SELECT reason, count(*) FROM quarantine WHERE column_name IS NULL GROUP BY ALL"):
        assert value(families, "iotad_rows_quarantined", "iotad_rows_quarantined_total", reason=reason) == int(n)
    for detector, n in sql_rows(lake, "SELECT detector, count(*) FROM anomalies GROUP BY ALL"):
        assert value(families, "iotad_anomalies", "iotad_anomalies_total", detector=detector) == int(n)
    assert value(families, "iotad_runs", "iotad_runs_total", command="run", status="ok") == 1


def test_histogram_buckets_are_cumulative_and_end_with_inf(run):
    _, families = run
    h = families["iotad_stage_duration_seconds"]
    for stage in ("ingest", "silver", "gold", "checks"):
        buckets = [(s.labels["le"], s.value) for s in h.samples
                   if s.name.endswith("_bucket") and s.labels["stage"] == stage]
        assert buckets[-1][0] == "+Inf"
        counts = [v for _, v in buckets]
        assert counts == sorted(counts)
        assert counts[-1] == value(families, "iotad_stage_duration_seconds", "iotad_stage_duration_seconds_count",
                                   stage=stage) == 1
