"""The webhook, Slack and PagerDuty sinks against a real HTTP receiver (tests/receivers/recorder.py):
`iotad run` alerts on a generated fleet and every request is checked field by field against the
receiver's documented format (the generic webhook JSON; Slack incoming webhooks: text + blocks;
PagerDuty Events API v2: routing_key, event_action, dedup_key, payload...). `iotad alert test`
prints what the receiver answered. The secrets (Slack URL, routing key, bearer token) never land
in the lake, the output or the alert tables."""
import json
import re
from datetime import datetime

import pytest

from conftest import AlertLake, iotad

SLACK_PATH = "/services/T0IOTAD/B0IOTAD/slack-secret-8f2a"
PD_KEY = "R0UTINGKEYiotad0000000000000000a"   # 32 characters, like a PagerDuty integration key
TOKEN = "bearer-secret-77c1e0"
BASE_URL = "http://dash.iotad.test:8080"
DEDUP = re.compile(r"^device-anomalies\|device=dev-\d{5}\|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def iso(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ") if "." not in s else datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture(scope="module")
def run(tmp_path_factory, recorder):
    recorder.reset()
    lake = AlertLake.create(tmp_path_factory.mktemp("payloads"), devices=6, hours=6, seed=11)
    env = {"IOTAD_TEST_SLACK_URL": recorder.url + SLACK_PATH, "IOTAD_TEST_PD_KEY": PD_KEY,
           "IOTAD_TEST_TOKEN": TOKEN}
    lake.configure(
        alert={"base_url": BASE_URL, "backoff_initial": "1s", "backoff_max": "2s", "delivery_budget": "30s"},
        rules=[{"name": "device-anomalies", "detectors": ["default"], "group_by": "device", "severity": "critical",
                "group_wait": "1m", "resolve_after": "1h", "max_per_device_per_hour": 0,
                "sinks": ["hook", "slack", "pd"]}],
        sinks=[{"name": "hook", "type": "webhook", "url": recorder.url + "/hook", "bearer_token_env": "IOTAD_TEST_TOKEN",
                "headers": ["X-Team: plant-4"]},
               {"name": "slack", "type": "slack", "url_env": "IOTAD_TEST_SLACK_URL", "channel": "#iot-alerts",
                "username": "iotad"},
               {"name": "pd", "type": "pagerduty", "url": recorder.url + "/v2/enqueue",
                "routing_key_env": "IOTAD_TEST_PD_KEY"}],
        env=env)
    out = lake.run(env=env)
    assert recorder.wait_for(1, "/hook"), "the webhook received nothing: %s" % out.stdout
    return lake, env, recorder, out


def bodies(recorder, path):
    return [(r, json.loads(r["body"])) for r in recorder.requests(path)]


def test_webhook_payload_is_the_generic_json(run):
    lake, _, recorder, _ = run
    got = bodies(recorder, "/hook")
    assert got
    alerts = {a["id"]: a for a in lake.alerts()}
    assert alerts, "no alerts in the alerts view"
    for req, b in got:
        assert req["method"] == "POST"
        h = {k.lower(): v for k, v in req["headers"].items()}
        assert h["content-type"] == "application/json"
        assert h["authorization"] == "Bearer " + TOKEN
        assert h["x-team"] == "plant-4"
        assert h["idempotency-key"] == b["id"]
        assert b["version"] == 1
        assert b["kind"] in ("firing", "update", "repeat", "resolved")
        assert b["status"] == ("resolved" if b["kind"] == "resolved" else "firing")
        assert DEDUP.match(b["dedup_key"]), b["dedup_key"]
        assert re.fullmatch(r"[0-9a-f]{12}", b["alert_id"])
        assert b["alert_id"] in alerts
        assert alerts[b["alert_id"]]["dedup_key"] == b["dedup_key"]
        assert b["rule"] == "device-anomalies" and b["severity"] == "critical"
        assert b["group_key"] == "device=" + b["labels"]["device"]
        assert b["dedup_key"].split("|")[1] == b["group_key"]
        assert b["labels"]["detector"] == "default"
        assert b["url"] == BASE_URL + "/devices/" + b["labels"]["device"]
        assert b["anomalies"] >= 1 and b["max_score"] >= b["anomaly"]["score"] > 0
        iso(b["starts_at"]), iso(b["event_time"])
        assert iso(b["starts_at"]) <= iso(b["event_time"])
        if b["status"] == "resolved":
            assert iso(b["ends_at"]) > iso(b["event_time"])
        assert b["anomaly"]["explanation"]
        assert b["subject"].startswith("[critical] %s: %s" % (b["status"], b["labels"]["device"]))
        assert b["dedup_key"] in b["body"]
    # Every notification of the hook sink that the outbox says was delivered arrived once.
    delivered = {d["delivery_id"] for d in lake.deliveries("sink = 'hook' AND state = 'delivered'")}
    assert delivered == {b["id"] for _, b in got}
    assert len(got) == len(delivered)


def test_slack_payload_is_an_incoming_webhook_message(run):
    lake, _, recorder, _ = run
    got = bodies(recorder, SLACK_PATH)
    hook_keys = {b["dedup_key"] for _, b in bodies(recorder, "/hook")}
    assert got and len(got) == len(bodies(recorder, "/hook"))  # the same notifications, to each sink
    for req, b in got:
        assert {k.lower(): v for k, v in req["headers"].items()}["content-type"] == "application/json"
        assert isinstance(b["text"], str) and b["text"].startswith("[critical] ")
        assert b["channel"] == "#iot-alerts" and b["username"] == "iotad"
        types = [blk["type"] for blk in b["blocks"]]
        assert types == ["header", "section", "context"]
        header, section, context = b["blocks"]
        assert header["text"]["type"] == "plain_text" and 0 < len(header["text"]["text"]) <= 150
        assert section["text"]["type"] == "mrkdwn" and len(section["text"]["text"]) <= 3000
        ctx = context["elements"][0]
        assert ctx["type"] == "mrkdwn"
        key = re.search(r"dedup key `([^`]+)`", ctx["text"]).group(1)
        assert key in hook_keys
        assert "<%s/devices/" % BASE_URL in ctx["text"]


def test_pagerduty_payload_is_events_api_v2(run):
    lake, _, recorder, _ = run
    got = bodies(recorder, "/v2/enqueue")
    assert got
    hook = {b["id"].rsplit("-", 1)[0]: b for _, b in bodies(recorder, "/hook")}
    triggered = set()
    for req, b in got:
        assert b["routing_key"] == PD_KEY
        assert b["event_action"] in ("trigger", "resolve")
        assert DEDUP.match(b["dedup_key"]), b["dedup_key"]
        if b["event_action"] == "trigger":
            p = b["payload"]
            assert 0 < len(p["summary"]) <= 1024
            assert re.fullmatch(r"dev-\d{5}", p["source"])
            assert p["severity"] == "critical"
            iso(p["timestamp"])
            assert p["class"] == "device-anomalies"
            assert p["custom_details"]["dedup_key"] == b["dedup_key"]
            assert p["custom_details"]["device"] == p["source"]
            assert b["client"] == "iotad" and b["client_url"] == BASE_URL
            assert b["links"][0]["href"] == BASE_URL + "/devices/" + p["source"]
            triggered.add(b["dedup_key"])
        else:
            assert set(b) == {"routing_key", "event_action", "dedup_key"}
            assert b["dedup_key"] in triggered, "a resolve before its trigger"
    # The receiver's answer (202 + its JSON) is what the attempts recorded.
    rows = lake.deliveries("sink = 'pd'")
    assert rows and all(r["state"] == "delivered" for r in rows)
    assert all(str(r["status_code"]) == "202" and '"status":"success"' in r["response"].replace(" ", "")
               for r in rows)
    assert {b["dedup_key"] for _, b in got} <= {h["dedup_key"] for h in hook.values()}


def test_alert_test_prints_what_the_receiver_said(run):
    lake, env, recorder, _ = run
    r = lake.alert("test", "pd", env=env)
    assert "202" in r.stdout
    assert '"status": "success"' in r.stdout and '"message": "Event processed"' in r.stdout
    last = recorder.requests("/v2/enqueue")[-1]
    b = json.loads(last["body"])
    assert b["event_action"] == "trigger" and b["routing_key"] == PD_KEY
    r = lake.alert("test", "slack", env=env)
    assert "200" in r.stdout and "ok" in r.stdout

    recorder.control(mode="fail", status=503, path="/hook")
    try:
        r = lake.alert("test", "hook", env=env, check=False)
    finally:
        recorder.control(mode="ok", path="/hook")
    assert r.returncode == 1
    assert "503" in r.stdout + r.stderr and "recorder: failing as told" in r.stdout + r.stderr


def test_secrets_are_nowhere_in_the_lake_the_output_or_the_tables(run):
    lake, env, recorder, out = run
    secrets = [SLACK_PATH, PD_KEY, TOKEN]
    for f in lake.path.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            for s in secrets:
                assert s.encode() not in data, "%s holds a secret" % f
    texts = [out.stdout, out.stderr]
    for q in ("SELECT * FROM alerts", "SELECT * FROM alert_deliveries", "SELECT * FROM silences",
              "SELECT * FROM runs"):
        texts.append(iotad("sql", "--lake", lake.path, "--format", "csv", q, env=env).stdout)
    st = iotad("status", "--lake", lake.path, env=env)
    texts += [st.stdout, st.stderr]
    r = lake.alert("list", "--status", "all", "--json", env=env)
    texts.append(r.stdout)
    # The most talkative logs, of a test notification to each sink and of a run that fails to deliver.
    for sink in ("hook", "slack", "pd"):
        r = iotad("--log-level", "debug", "--log-format", "json", "alert", "test", sink, "--lake", lake.path, env=env)
        texts += [r.stdout, r.stderr]
    dead = dict(env, IOTAD_TEST_SLACK_URL="http://127.0.0.1:9/" + SLACK_PATH)  # a closed port
    r = iotad("--log-level", "debug", "alert", "test", "slack", "--lake", lake.path, env=dead, check=False)
    assert r.returncode == 1
    texts += [r.stdout, r.stderr]
    for t in texts:
        for s in secrets:
            assert s not in t
