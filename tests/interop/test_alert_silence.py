"""Silences seen from a real receiver: a silenced device's notifications are recorded as silenced
and never reach the recorder while the others do; once the silence is expired, the next
`iotad alert` sends what it held."""
import json
import re

from conftest import AlertLake


def test_silenced_device_is_recorded_not_sent_until_the_silence_expires(tmp_path, fresh_recorder):
    rec = fresh_recorder
    lake = AlertLake.create(tmp_path, devices=4, hours=6, seed=71, gold=True)
    lake.configure(
        alert={"delivery_budget": "20s"},
        rules=[{"name": "device-anomalies", "detectors": ["default"], "group_by": "device", "group_wait": "1m",
                "resolve_after": "6h", "max_per_device_per_hour": 0, "sinks": ["hook"]}],
        sinks=[{"name": "hook", "type": "webhook", "url": rec.url + "/silence"}])
    devices = sorted({r["device_id"] for r in lake.sql("SELECT DISTINCT device_id FROM anomalies WHERE detector = 'default'")})
    assert len(devices) >= 2, devices
    quiet = devices[0]
    out = lake.alert("silence", "add", "--match", "device=" + quiet, "--for", "2h", "--reason", "maintenance",
                     "--by", "tests").stdout
    sid = re.search(r"\b[0-9a-f]{12}\b", out).group(0)
    listed = lake.alert("silence", "list").stdout
    assert sid in listed and quiet in listed

    lake.alert()
    sent = [json.loads(r["body"]) for r in rec.requests("/silence")]
    assert sent and all(b["labels"]["device"] != quiet for b in sent)
    held = lake.deliveries("state = 'silenced'")
    assert held and {r["alert_id"] for r in held} == {a["id"] for a in lake.alerts() if a["device"] == quiet}
    assert {s["id"] for s in lake.sql("SELECT * FROM silences WHERE active")} == {sid}

    lake.alert("silence", "expire", sid)
    lake.alert()
    later = [json.loads(r["body"]) for r in rec.requests("/silence")][len(sent):]
    assert later and {b["labels"]["device"] for b in later} == {quiet}
    assert not lake.sql("SELECT * FROM silences WHERE active")
