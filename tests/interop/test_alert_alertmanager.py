"""The alertmanager sink against a real Prometheus Alertmanager (v0.28.1, built by scripts/setup.sh):
iotad's alerts arrive through Alertmanager's API v2 (GET /api/v2/alerts lists them with our labels),
come out of its routing to its webhook receiver grouped (one notification carrying several
alerts of the rule), and, once iotad resolves them on later data, Alertmanager's webhook says
resolved."""
import json

import pytest

from conftest import AlertLake, wait_until


@pytest.fixture(scope="module")
def lake(tmp_path_factory, alertmanager):
    am, hook = alertmanager
    lake = AlertLake.create(tmp_path_factory.mktemp("am"), devices=6, hours=6, seed=21)
    lake.configure(
        alert={"base_url": "http://dash.iotad.test:8080", "delivery_budget": "30s"},
        rules=[{"name": "device-anomalies", "detectors": ["default"], "group_by": "device", "severity": "warning",
                "group_wait": "1s", "resolve_after": "3h", "max_per_device_per_hour": 0, "sinks": ["am"]}],
        sinks=[{"name": "am", "type": "alertmanager", "url": am.url, "labels": ["team=plant-4"]}])
    lake.run()
    return lake


def webhook_alerts(hook):
    """Every alert of every notification Alertmanager sent to its webhook, with the group's size."""
    out = []
    for r in hook.requests("/am-webhook"):
        msg = json.loads(r["body"])
        for a in msg["alerts"]:
            out.append((msg, a))
    return out


def test_alerts_arrive_through_the_api_with_our_labels(lake, alertmanager):
    am, _ = alertmanager
    ours = {a["dedup_key"]: a for a in lake.alerts()}
    firing = {k for k, a in ours.items() if a["status"] == "firing" and a["last_notified_at"]}
    assert firing, "the data left no alert firing: %s" % ours
    listed = wait_until(lambda: [a for a in am.alerts() if a["labels"].get("dedup_key") in firing],
                        what="our firing alerts in GET /api/v2/alerts")
    assert {a["labels"]["dedup_key"] for a in listed} == firing
    for a in listed:
        lab = a["labels"]
        assert lab["alertname"] == "device-anomalies"
        assert lab["severity"] == "warning"
        assert lab["team"] == "plant-4"
        assert lab["device"] == ours[lab["dedup_key"]]["group_key"].split("=", 1)[1]
        assert a["annotations"]["summary"].startswith("[warning] firing: " + lab["device"])
        assert a["generatorURL"] == "http://dash.iotad.test:8080/devices/" + lab["device"]
        assert a["status"]["state"] == "active"
        assert a["startsAt"].startswith("2024-01-01T")


def test_alerts_iotad_resolved_are_not_left_active(lake, alertmanager):
    """An alert that fired and resolved within one run was posted twice (firing, then resolved):
    the resolved post must reach Alertmanager last, or it keeps a firing alert for firing_ttl."""
    am, _ = alertmanager
    resolved = {a["dedup_key"] for a in lake.alerts() if a["status"] == "resolved"}
    assert resolved, "the data resolved no alert in the first run"
    active = {a["labels"].get("dedup_key") for a in am.alerts()}
    assert not (resolved & active), "resolved in iotad, active in Alertmanager: %s" % sorted(resolved & active)


def test_alertmanager_routes_them_grouped_to_its_webhook(lake, alertmanager):
    am, hook = alertmanager
    firing = {a["dedup_key"] for a in lake.alerts() if a["status"] == "firing" and a["last_notified_at"]}
    got = wait_until(lambda: firing <= {a["labels"].get("dedup_key") for _, a in webhook_alerts(hook)
                                        if a["status"] == "firing"} and webhook_alerts(hook),
                     what="Alertmanager's webhook to carry every firing alert")
    for msg, a in got:
        assert msg["version"] == "4" and msg["receiver"] == "recorder"
        assert msg["groupLabels"] == {"alertname": "device-anomalies"}
        assert msg["commonLabels"]["alertname"] == "device-anomalies"
        assert a["labels"]["team"] == "plant-4"
    assert len(firing) > 1, "the data left %d alerts firing: nothing to group" % len(firing)
    # Grouped by alertname: one notification carries several of our alerts.
    assert max(len(msg["alerts"]) for msg, _ in got) > 1


def test_resolved_by_iotad_is_resolved_in_alertmanager(lake, alertmanager):
    am, hook = alertmanager
    before = {a["dedup_key"] for a in lake.alerts() if a["status"] == "firing" and a["last_notified_at"]}
    assert before
    # Later data without injected anomalies: the watermark passes resolve_after and iotad resolves.
    lake.generate(devices=6, hours=4, seed=21, anomaly_rate=0, start="2024-01-01T06:00:00Z")
    lake.run()
    resolved = {a["dedup_key"] for a in lake.alerts() if a["status"] == "resolved"} & before
    assert resolved, "no alert firing after the first run resolved on the later data"
    wait_until(lambda: resolved <= {a["labels"].get("dedup_key") for _, a in webhook_alerts(hook)
                                    if a["status"] == "resolved"},
               timeout=30, what="Alertmanager's webhook to say resolved for the alerts iotad resolved")
    active = {a["labels"].get("dedup_key") for a in am.alerts()}
    assert not (resolved & active), "Alertmanager still lists resolved alerts as active"
    for _, a in webhook_alerts(hook):
        if a["status"] == "resolved" and a["labels"].get("dedup_key") in resolved:
            assert a["endsAt"] > a["startsAt"]
