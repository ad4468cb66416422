"""The dashboard's JSON API, from outside: the real `iotad serve` on a lake made by `iotad generate`
+ `iotad run` + `iotad alert`. Every endpoint of docs/API.md is called with representative
parameters and each answer (errors too) is validated with jsonschema against the OpenAPI document
the server itself serves at /api/openapi.json (the same file as src/iotad/serve/openapi.json).
The alert actions run with the write token and `iotad alert` then shows their effect; /metrics is
read by prometheus_client's parser and compared with `iotad sql` on the same lake.

A server or lake that cannot be set up fails the test; nothing is skipped."""
import json
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import jsonschema
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import IOTAD, ROOT, AlertLake, iotad

WRITE_TOKEN = "w-7f3c2d9e0b1a4c55"  # never printed by the server (checked below)
SPEC_FILE = ROOT / "src/iotad/serve/openapi.json"
START = "2024-01-01T00:00:00Z"


class Server:
    """`iotad serve --listen 127.0.0.1:0` on a lake; the address comes from its stdout."""

    def __init__(self, lake, *args):
        self.proc = subprocess.Popen([IOTAD, "serve", "--lake", str(lake), "--listen", "127.0.0.1:0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out, self.err = [], []
        found = threading.Event()
        self.base = None

        def read(stream, sink, look):
            for line in stream:
                sink.append(line)
                m = look and re.search(r"dashboard: (http://[0-9.]+:\d+)/", line)
                if m and self.base is None:
                    self.base = m.group(1)
                    found.set()

        self.threads = [threading.Thread(target=read, args=(self.proc.stdout, self.out, True), daemon=True),
                        threading.Thread(target=read, args=(self.proc.stderr, self.err, False), daemon=True)]
        for t in self.threads:
            t.start()
        deadline = time.time() + 30
        while not found.is_set() and time.time() < deadline and self.proc.poll() is None:
            found.wait(0.1)
        if self.base is None:
            self.stop()
            pytest.fail("iotad serve did not print its address:\nstdout: %s\nstderr: %s"
                        % ("".join(self.out)[-2000:], "".join(self.err)[-2000:]), pytrace=False)

    def request(self, method, path, body=None, token=None, raw_body=None):
        data = raw_body if raw_body is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.headers.get("Content-Type", ""), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", ""), e.read().decode()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for t in self.threads:
            t.join(timeout=5)
        return self.proc.returncode


class Spec:
    """The OpenAPI document: the schema of each (path, method, status) answer, and what was checked."""

    def __init__(self, doc):
        self.doc = doc
        self.checked = set()  # (method, path) answered 200 and validated

    def schema(self, path, method, status):
        op = self.doc["paths"][path][method.lower()]
        resp = op["responses"].get(str(status))
        assert resp is not None, "%s %s answered %s, which openapi.json does not list" % (method, path, status)
        if "$ref" in resp:
            resp = self.doc["components"]["responses"][resp["$ref"].rsplit("/", 1)[1]]
        content = resp["content"]
        if "application/json" not in content:
            return None
        # Refs (#/components/...) resolve against this root, which carries the document's components.
        return {**content["application/json"]["schema"], "components": self.doc["components"]}

    def validate(self, path, method, status, body):
        schema = self.schema(path, method, status)
        assert schema is not None, "%s %s %s: openapi.json has no JSON schema for it" % (method, path, status)
        try:
            jsonschema.Draft202012Validator(schema).validate(body)
        except jsonschema.ValidationError as e:
            pytest.fail("%s %s -> %s does not match openapi.json: %s at %s\nanswer: %s"
                        % (method, path, status, e.message, list(e.absolute_path), json.dumps(body)[:2000]),
                        pytrace=False)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve-api")
    lake = AlertLake.create(folder, devices=8, hours=30, seed=23, anomaly_rate=30, start=START)
    # The pipeline with alerting off, its metrics written by the command itself (--metrics-file):
    # /metrics must rebuild the same figures from the run record.
    lake.configure(alert={"enabled": False}, rules=[{"name": "device-anomalies", "sinks": ["alerts-file"]}],
                   sinks=[{"name": "alerts-file", "type": "file", "path": "alerts.jsonl"}])
    lake.run_metrics = folder / "run.prom"
    lake.run("--metrics-file", lake.run_metrics)
    # One sink that works (a file) and one that never does (nothing listens on port 9): deliveries
    # end delivered and dead, so the alerts carry both kinds.
    lake.configure(alert={"delivery_budget": "20s", "max_attempts": 1},
                   rules=[{"name": "device-anomalies", "group_by": "device", "group_wait": "1m", "resolve_after": "6h",
                           "max_per_device_per_hour": 0, "sinks": ["alerts-file", "nowhere"]}],
                   sinks=[{"name": "alerts-file", "type": "file", "path": "alerts.jsonl"},
                          {"name": "nowhere", "type": "webhook", "url": "http://127.0.0.1:9/hook", "timeout": "2s"}])
    lake.alert()
    assert lake.alerts(), "the lake has no alerts to show"
    server = Server(lake.path, "--write-token", WRITE_TOKEN)
    status, _, text = server.request("GET", "/api/openapi.json")
    assert status == 200, text
    doc = json.loads(text)
    yield lake, server, Spec(doc)
    rc = server.stop()
    assert rc == 0, "iotad serve exited %s on SIGTERM:\n%s" % (rc, "".join(server.err)[-2000:])
    logs = "".join(server.out) + "".join(server.err)
    assert WRITE_TOKEN not in logs, "the write token was printed"


def get(env_, path, status=200, **params):
    _, server, spec = env_
    query = "&".join("%s=%s" % (k, urllib.request.quote(str(v), safe="")) for k, v in params.items())
    code, ctype, text = server.request("GET", path + ("?" + query if query else ""))
    assert code == status, "GET %s?%s answered %s (wanted %s): %s" % (path, query, code, status, text[:1000])
    assert ctype.startswith("application/json"), "GET %s: Content-Type %s" % (path, ctype)
    body = json.loads(text)
    spec.validate(path, "GET", code, body)
    if code == 200:
        spec.checked.add(("GET", path))
    return body


def post(env_, path, body, token=WRITE_TOKEN, status=200, raw_body=None):
    _, server, spec = env_
    code, ctype, text = server.request("POST", path, body=body, token=token, raw_body=raw_body)
    assert code == status, "POST %s answered %s (wanted %s): %s" % (path, code, status, text[:1000])
    assert ctype.startswith("application/json"), "POST %s: Content-Type %s" % (path, ctype)
    answer = json.loads(text)
    spec.validate(path, "POST", code, answer)
    if code == 200:
        spec.checked.add(("POST", path))
    return answer


def documented_endpoints():
    """(method, path) of every endpoint docs/API.md lists under "## Endpoints"."""
    text = (ROOT / "docs/API.md").read_text()
    endpoints = {(m, p) for m, p in re.findall(r"`(GET|POST) (/[a-z_/.]*)", text[text.index("## Endpoints"):])}
    if "`/api/openapi.json`" in text:  # named in the page's first paragraph
        endpoints.add(("GET", "/api/openapi.json"))
    return endpoints


def test_the_served_document_is_the_repository_file_and_lists_every_documented_endpoint(env):
    _, _, spec = env
    assert spec.doc == json.loads(SPEC_FILE.read_text())
    assert spec.doc["openapi"].startswith("3.")
    listed = {(m.upper(), p) for p, ops in spec.doc["paths"].items() for m in ops if m in ("get", "post")}
    documented = documented_endpoints()
    assert len(documented) >= 20, documented
    assert documented == listed, "docs/API.md and openapi.json differ: only in docs %s, only in openapi %s" % (
        sorted(documented - listed), sorted(listed - documented))
    # Every schema is a valid JSON Schema (2020-12, the dialect of OpenAPI 3.1).
    for name, schema in spec.doc["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_health_version_and_filters(env):
    _, server, spec = env
    code, _, text = server.request("GET", "/healthz")
    assert code == 200
    health = json.loads(text)
    spec.validate("/healthz", "GET", 200, health)
    spec.checked.add(("GET", "/healthz"))
    version = get(env, "/api/version")
    assert version["lake_seq"] == health["lake_seq"] > 0
    assert version["alert_seq"] > 0
    f = get(env, "/api/filters")
    assert f["devices"] == 8
    assert "temp_c" in f["metrics"] or f["metrics"], f
    assert f["first_hour"] == START


def test_overview_endpoints_with_and_without_filters(env):
    lake = env[0]
    f = get(env, "/api/filters")
    metric, detector = f["metrics"][0], f["detectors"][0]
    rng = {"from": "2024-01-01", "to": "2024-01-02T06:00:00Z"}
    for params in ({}, rng, {**rng, "metric": metric}, {"detector": detector, "bucket": "day"}):
        plain = {k: v for k, v in params.items() if k != "bucket"}
        totals = get(env, "/api/overview/totals", **plain)
        assert totals["devices"] <= 8
        over = get(env, "/api/overview/anomalies_over_time", **params)
        assert sum(p["anomalies"] for p in over["points"]) == totals["anomalies"], params
        bars = get(env, "/api/overview/anomalies_by_device", limit=3, **plain)
        assert len(bars["bars"]) <= 3 and bars["devices_with_anomalies"] <= totals["devices"]
        assert sum(b["anomalies"] for b in bars["bars"]) <= totals["anomalies"]
        get(env, "/api/overview/heatmap", **plain)
        get(env, "/api/overview/summary", **plain)
    totals = get(env, "/api/overview/totals", **rng)
    (stored,), = [[int(r["n"])] for r in lake.sql(
        "SELECT count(*) AS n FROM silver WHERE event_time >= '2024-01-01T00:00:00Z' "
        "AND event_time < '2024-01-02T06:00:00Z'")]
    assert totals["readings"] == stored
    assert totals["meta"]["from"] == "2024-01-01T00:00:00Z" and totals["meta"]["to"] == "2024-01-02T06:00:00Z"
    hours = get(env, "/api/overview/anomalies_over_time", bucket="hour", **rng)
    assert len(hours["points"]) == 30 and hours["bucket"] == "hour"


def test_device_endpoints(env):
    lake = env[0]
    devices = get(env, "/api/devices")["devices"]
    assert len(devices) == 8
    dev = max(devices, key=lambda d: d["anomalies"])["device_id"]
    prefixed = get(env, "/api/devices", q=dev[:-1], limit=2)["devices"]
    assert 1 <= len(prefixed) <= 2 and all(d["device_id"].startswith(dev[:-1]) for d in prefixed)
    d = get(env, "/api/device", id=dev)
    assert d["device_id"] == dev and d["readings"] > 0
    series = get(env, "/api/device/series", id=dev, **{"from": "2024-01-01", "to": "2024-01-02"})
    assert series["device_id"] == dev and series["metrics"]
    small = get(env, "/api/device/series", id=dev, max_points=10, **{"from": "2024-01-01", "to": "2024-01-02"})
    assert any(m["downsampled"] for m in small["metrics"])
    alerts = get(env, "/api/device/alerts", id=dev)["alerts"]
    expected = {a["id"] for a in lake.alerts() if a["device"] == dev}
    assert {a["id"] for a in alerts} == expected
    get(env, "/api/device/quarantine", id=dev, limit=5)
    get(env, "/api/device", status=404, id="no-such-device")


def test_pipeline_endpoints(env):
    lake = env[0]
    runs = get(env, "/api/pipeline/runs")["runs"]
    recorded = lake.sql("SELECT run_id, command, status FROM runs ORDER BY started_at DESC, run_id DESC")
    assert [r["run_id"] for r in runs] == [r["run_id"] for r in recorded]
    assert runs[0]["command"] == "alert" and any(r["command"] == "run" for r in runs)
    run = next(r for r in runs if r["command"] == "run")
    assert [s["name"] for s in run["stages"]][:3] == ["ingest", "silver", "gold"]
    assert get(env, "/api/pipeline/runs", limit=1)["runs"] == runs[:1]
    state = get(env, "/api/pipeline/state")
    (silver,), = [[int(r["n"])] for r in lake.sql("SELECT count(*) AS n FROM silver")]
    assert state["accounting"]["stored"] == silver
    assert state["bookmark"]["bronze_files_pending"] == 0 and state["bookmark"]["bronze_files"] > 0
    assert {s["stage"] for s in state["stages"]} >= {"ingest", "silver", "gold"}
    assert state["failed_checks"] == []
    for layer in ("silver", "gold", "gold_summary", "bronze"):
        parts = get(env, "/api/pipeline/partitions", layer=layer, **{"from": START, "to": "2024-01-03"})
        assert all(p["layer"] == layer for p in parts["partitions"])
        hours = [p["hour"] for p in parts["partitions"]]
        assert hours == sorted(hours, reverse=True)
    silver_parts = get(env, "/api/pipeline/partitions", layer="silver", **{"from": START, "to": "2024-01-03"})
    assert len(silver_parts["partitions"]) == 30


def test_errors_match_the_document(env):
    get(env, "/api/overview/totals", status=400, bogus="1")
    get(env, "/api/overview/totals", status=400, **{"from": "yesterday"})
    get(env, "/api/alerts", status=400, state="sleeping")
    get(env, "/api/pipeline/runs", status=400, limit=100000)
    get(env, "/api/device/alerts", status=400)


def test_alerts_views_and_actions_reach_the_alert_log(env):
    lake, server, spec = env
    everything = get(env, "/api/alerts")
    listed = lake.alerts()
    assert {a["id"] for a in everything["alerts"]} == {a["id"] for a in listed}
    assert [a["last_event"] for a in everything["alerts"]] == sorted((a["last_event"] for a in everything["alerts"]),
                                                                      reverse=True)
    counts = everything["counts"]
    assert counts["dead"] > 0, "the unreachable sink should have dead-lettered deliveries"
    assert counts["open"] > 0 and counts["resolved"] > 0, counts
    for state in ("open", "acknowledged", "silenced", "dead", "resolved", "all"):
        part = get(env, "/api/alerts", state=state)
        if state != "all":
            assert len(part["alerts"]) == counts[state], state
    assert all(d["state"] == "dead" and d["last_error"] for a in get(env, "/api/alerts", state="dead")["alerts"]
               for d in a["deliveries"] if d["sink"] == "nowhere")
    target = everything["alerts"][0]
    dev = target["labels"]["device"]
    assert all(a["labels"]["device"] == dev for a in get(env, "/api/alerts", device=dev, limit=5)["alerts"])

    # Without the write token: refused, and nothing is written.
    before = get(env, "/api/version")["alert_seq"]
    code, _, _ = server.request("POST", "/api/alerts/ack", body={"id": target["id"]})
    assert code in (401, 403)
    code, _, _ = server.request("POST", "/api/alerts/ack", body={"id": target["id"]}, token="wrong")
    assert code in (401, 403)
    assert get(env, "/api/version")["alert_seq"] == before

    # Bad bodies are 400s naming the problem; unknown ids 404.
    post(env, "/api/alerts/ack", None, raw_body=b"{not json", status=400)
    post(env, "/api/alerts/ack", {"id": target["id"], "extra": 1}, status=400)
    post(env, "/api/alerts/ack", {"id": "000000000000"}, status=404)
    post(env, "/api/silences", {"matchers": [{"label": "colour", "op": "=", "value": "x"}], "duration_seconds": 60},
         status=400)
    post(env, "/api/silences", {"matchers": [{"label": "device", "op": "=", "value": dev}], "duration_seconds": 0},
         status=400)
    post(env, "/api/silences/expire", {"id": "000000000000"}, status=404)
    one = {"label": "device", "op": "=", "value": dev}
    for bad in ([one], {"id": 5}, {"id": ""}, {"id": "a\u0001b"}):
        post(env, "/api/alerts/ack", bad, status=400)
    for bad in ({"matchers": "device=" + dev, "duration_seconds": 60},
                {"matchers": [], "duration_seconds": 60},
                {"matchers": [one] * 21, "duration_seconds": 60},
                {"matchers": [{**one, "op": "~"}], "duration_seconds": 60},
                {"matchers": [{**one, "value": ""}], "duration_seconds": 60},
                {"matchers": [{**one, "extra": 1}], "duration_seconds": 60},
                {"matchers": [one], "duration_seconds": 1.5},
                {"matchers": [one], "duration_seconds": 10 ** 12},
                {"matchers": [one], "duration_seconds": 60, "reason": "a\nb"}):
        post(env, "/api/silences", bad, status=400)
    assert get(env, "/api/version")["alert_seq"] == before, "a refused action wrote the alert log"

    acked = post(env, "/api/alerts/ack", {"id": target["id"], "by": "serve-test"})
    assert acked["acknowledged"] == target["id"] and acked["alert_seq"] > before
    rows = json.loads(iotad("alert", "list", "--status", "all", "--json", "--lake", lake.path).stdout or "[]")
    row = next(r for r in rows if r["id"] == target["id"])
    assert row["acknowledged_by"] == "serve-test"

    hostile = "<img src=x onerror=alert(1)> \"'&"
    added = post(env, "/api/silences", {"matchers": [{"label": "device", "op": "=", "value": dev}],
                                        "duration_seconds": 7200, "reason": hostile, "by": "serve-test"})
    sid = added["silence"]["id"]
    assert added["silence"]["reason"] == hostile and added["silence"]["created_by"] == "serve-test"
    assert added["silence"]["active"] and added["alert_seq"] > acked["alert_seq"]
    assert sid in lake.alert("silence", "list").stdout

    def seen(predicate):
        deadline = time.time() + 10
        while time.time() < deadline:
            answer = get(env, "/api/alerts")
            if predicate(answer):
                return answer
            time.sleep(0.2)
        pytest.fail("the API did not show the change within 10 s", pytrace=False)

    after = seen(lambda a: any(s["id"] == sid for s in a["silences"]))
    mine = next(a for a in after["alerts"] if a["id"] == target["id"])
    assert mine["acknowledged"] and mine["silenced"]
    assert after["counts"]["silenced"] >= 1 and after["counts"]["acknowledged"] == counts["acknowledged"] + 1

    expired = post(env, "/api/silences/expire", {"id": sid})
    assert expired == {"expired": sid, "alert_seq": expired["alert_seq"]} and expired["alert_seq"] > added["alert_seq"]
    assert sid not in lake.alert("silence", "list").stdout
    assert sid in lake.alert("silence", "list", "--all").stdout
    seen(lambda a: not next(s for s in a["silences"] if s["id"] == sid)["active"])


def test_metrics_parse_and_match_the_lake(env):
    lake, server, spec = env
    get(env, "/api/version")  # at least one API request to show in the HTTP metrics
    code, ctype, text = server.request("GET", "/metrics")
    assert code == 200 and ctype.startswith("text/plain"), (code, ctype)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert all(name.startswith("iotad_") for name in families)

    def value(name, sample, **labels):
        for s in families[name].samples:
            if s.name == sample and s.labels == labels:
                return s.value
        raise AssertionError("no sample %s%s in /metrics" % (sample, labels))

    (silver,), = [[int(r["n"])] for r in lake.sql("SELECT count(*) AS n FROM silver")]
    assert value("iotad_rows_stored", "iotad_rows_stored_total") == silver
    assert value("iotad_rows_ingested", "iotad_rows_ingested_total") >= silver
    per_detector = {r["detector"]: int(r["n"]) for r in lake.sql(
        "SELECT detector, count(*) AS n FROM anomalies GROUP BY detector")}
    for detector, n in per_detector.items():
        assert value("iotad_anomalies", "iotad_anomalies_total", detector=detector) == n, detector
    assert families["iotad_stage_duration_seconds"].type == "histogram"
    assert families["iotad_run_duration_seconds"].type == "histogram"
    assert value("iotad_runs", "iotad_runs_total", command="run", status="ok") == 1
    version = get(env, "/api/version")
    assert value("iotad_lake_commit_seq", "iotad_lake_commit_seq") == version["lake_seq"]
    delivered = {r["sink"]: int(r["n"]) for r in lake.sql(
        "SELECT sink, count(*) AS n FROM alert_deliveries WHERE outcome = 'delivered' GROUP BY sink")}
    failed = {r["sink"]: int(r["n"]) for r in lake.sql(
        "SELECT sink, count(*) AS n FROM alert_deliveries WHERE outcome IS NOT NULL AND outcome <> 'delivered' "
        "GROUP BY sink")}
    assert delivered.get("alerts-file", 0) > 0 and failed.get("nowhere", 0) > 0
    for sink in ("alerts-file", "nowhere"):
        assert value("iotad_alert_notifications_sent", "iotad_alert_notifications_sent_total",
                     sink=sink) == delivered.get(sink, 0)
        assert value("iotad_alert_notifications_failed", "iotad_alert_notifications_failed_total",
                     sink=sink) == failed.get(sink, 0)
    alerts = get(env, "/api/alerts")
    assert value("iotad_alerts_open", "iotad_alerts_open") == alerts["counts"]["open"]
    assert get(env, "/api/overview/totals")["open_alerts"] == alerts["counts"]["open"]
    assert families["iotad_http_request_duration_seconds"].type == "histogram"
    assert any(s.labels.get("route") == "/api/version" for s in families["iotad_http_requests"].samples)


def test_every_documented_endpoint_was_checked(env):
    """After the endpoint tests (pytest keeps file order): each endpoint answered 200 at least once and that
    answer matched its schema."""
    _, _, spec = env
    missing = {(m, p) for m, p in documented_endpoints() if p not in ("/metrics", "/api/openapi.json")} - spec.checked
    assert not missing, "endpoints never validated: %s" % sorted(missing)


def test_metrics_rebuilt_from_run_records_equal_what_the_run_wrote(env):
    """`iotad run --metrics-file` wrote the run's metrics as it ran; /metrics rebuilds them from the
    run record: every counter, every check and every histogram's count agree (the later
    `iotad alert` command adds series of its own, with other labels)."""
    lake, server, _ = env
    ran = {f.name: f for f in text_string_to_metric_families(lake.run_metrics.read_text())}
    code, _, text = server.request("GET", "/metrics")
    assert code == 200
    served = {}
    for f in text_string_to_metric_families(text):
        for smp in f.samples:
            served[(smp.name, tuple(sorted(smp.labels.items())))] = smp.value
    compared = 0
    for name, family in ran.items():
        if family.type not in ("counter", "histogram") and name != "iotad_check_passed":
            continue
        for smp in family.samples:
            if family.type == "histogram" and not smp.name.endswith("_count"):
                continue
            key = (smp.name, tuple(sorted(smp.labels.items())))
            assert key in served, "/metrics lacks %s%s" % key
            if family.type == "histogram" and smp.labels.get("stage") == "alert":
                continue
            assert served[key] == smp.value, "%s%s: /metrics %s, the run wrote %s" % (*key, served[key], smp.value)
            compared += 1
    assert compared >= 20, compared
