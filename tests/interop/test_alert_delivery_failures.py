"""Receivers that fail, throttle or stall (tests/receivers/recorder.py told so): a 500 then ok is
delivered on a later run with every attempt in `alert_deliveries`; a 429's Retry-After is honoured
(next_attempt_at, no request before it); a stalled receiver times out without holding up the other
sinks; after max_attempts a delivery is dead, `iotad status` says so, and `iotad alert retry --all`
re-queues it. Each test has its own lake and its own paths on the module's recorder."""
import json
import re
import time
from datetime import datetime, timezone

import pytest

from conftest import AlertLake, iotad


def ts(s):
    """A timestamp of `iotad sql --format csv` (DuckDB's text) as epoch seconds."""
    s = s.strip().replace("T", " ").rstrip("Z")
    for fmt in ("%Y-%m-%d %H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            d = datetime.strptime(s + ("00" if re.search(r"[+-]\d\d$", s) else ""), fmt)
            return (d if d.tzinfo else d.replace(tzinfo=timezone.utc)).timestamp()
        except ValueError:
            continue
    raise ValueError("not a timestamp: %r" % s)


def make(tmp_path_factory, name, sinks, alert=None, seed=51, devices=4, rule=None, env=None):
    lake = AlertLake.create(tmp_path_factory.mktemp(name), devices=devices, hours=6, seed=seed, gold=True)
    a = {"base_url": "http://dash.iotad.test:8080", "backoff_initial": "1s", "backoff_max": "2s",
         "delivery_budget": "20s", "max_attempts": 5, "concurrency": 4}
    a.update(alert or {})
    r = {"name": "device-anomalies", "detectors": ["default"], "group_by": "device", "group_wait": "1m",
         "resolve_after": "6h", "max_per_device_per_hour": 0, "sinks": [s["name"] for s in sinks]}
    r.update(rule or {})
    lake.configure(alert=a, rules=[r], sinks=sinks, env=env)
    return lake


def ids(recorder, path):
    return [json.loads(r["body"])["id"] for r in recorder.requests(path)]


def status_counts(lake):
    """pending / failed / dead as `iotad status` prints them (its `alerts` table)."""
    out = iotad("status", "--lake", lake.path).stdout
    lines = out.splitlines()
    for i, line in enumerate(lines):
        cols = line.split()
        if {"pending", "failed", "dead"} <= set(cols) and i + 2 < len(lines):
            values = lines[i + 2].split()
            got = dict(zip(cols, values))
            return {k: int(got[k]) for k in ("pending", "failed", "dead")}, out
    raise AssertionError("iotad status shows no pending / failed / dead alerts:\n" + out)


def test_500_then_ok_is_delivered_later_with_every_attempt_recorded(tmp_path_factory, fresh_recorder):
    rec = fresh_recorder
    rec.control(mode="fail", status=500, path="/flaky")
    lake = make(tmp_path_factory, "flaky", [{"name": "flaky", "type": "webhook", "url": rec.url + "/flaky"}])
    lake.alert()
    first = ids(rec, "/flaky")
    assert first, "no request reached the receiver"
    rows = lake.deliveries("sink = 'flaky'")
    assert rows and all(r["state"] == "pending" for r in rows)
    assert all(str(r["status_code"]) == "500" and "500" in r["error"] for r in rows)
    counts, out = status_counts(lake)
    assert counts["failed"] >= 1 and counts["pending"] >= counts["failed"], out

    rec.control(mode="ok", path="/flaky")
    time.sleep(2.6)  # past the backoff (1 s, at most 2 s with jitter)
    r = lake.alert()
    second = ids(rec, "/flaky")[len(first):]
    assert sorted(second) == sorted(set(first)), r.stdout
    rows = lake.deliveries("sink = 'flaky'")
    by = {}
    for row in rows:
        by.setdefault(row["delivery_id"], []).append(row)
    assert set(by) == set(first)
    for d, attempts in by.items():
        attempts.sort(key=lambda x: int(x["attempt"]))
        assert [int(a["attempt"]) for a in attempts] == [1, 2]
        assert [str(a["status_code"]) for a in attempts] == ["500", "200"]
        assert attempts[-1]["state"] == "delivered"
    counts, out = status_counts(lake)
    assert counts == {"pending": 0, "failed": 0, "dead": 0}, out


def test_429_retry_after_is_honoured(tmp_path_factory, fresh_recorder):
    rec = fresh_recorder
    rec.control(mode="429", retry_after=4, path="/busy")
    lake = make(tmp_path_factory, "busy", [{"name": "busy", "type": "webhook", "url": rec.url + "/busy"}], seed=52)
    lake.alert()
    first = ids(rec, "/busy")
    assert first
    rows = lake.deliveries("sink = 'busy'")
    for r in rows:
        assert str(r["status_code"]) == "429" and r["state"] == "pending"
        wait = ts(r["next_attempt_at"]) - ts(r["finished_at"])
        assert 3.9 <= wait <= 5, "next attempt %.2f s after a Retry-After: 4" % wait
    rec.control(mode="ok", path="/busy")
    lake.alert()  # not due yet: nothing is sent
    assert len(ids(rec, "/busy")) == len(first)
    time.sleep(4.2)
    lake.alert()
    assert sorted(ids(rec, "/busy")[len(first):]) == sorted(first)
    assert all(r["state"] == "delivered" for r in lake.deliveries("sink = 'busy' AND attempt = 2"))


def test_a_stalled_receiver_does_not_block_the_other_sinks(tmp_path_factory, fresh_recorder):
    rec = fresh_recorder
    rec.control(mode="stall", path="/stuck")
    lake = make(tmp_path_factory, "stall",
                [{"name": "stuck", "type": "webhook", "url": rec.url + "/stuck", "timeout": "3s", "concurrency": 1},
                 {"name": "fast", "type": "webhook", "url": rec.url + "/fast"}],
                alert={"concurrency": 2, "delivery_budget": "5s"}, seed=53, devices=6)
    t0 = time.time()
    lake.alert()
    took = time.time() - t0
    try:
        fast = rec.requests("/fast")
        stuck = rec.requests("/stuck")
        assert fast and stuck
        rows = lake.deliveries("sink = 'fast'")
        assert rows and all(r["state"] == "delivered" for r in rows)
        assert len({json.loads(r["body"])["id"] for r in fast}) == len(rows)
        # Every fast delivery was done while the first stalled request was still waiting for its timeout.
        first_stuck = min(r["received_at"] for r in stuck)
        assert max(r["answered_at"] for r in fast) < first_stuck + 3, "the fast sink waited for the stalled one"
        # The stalled ones time out (attempts recorded, still pending), the run keeps its budget.
        srows = lake.deliveries("sink = 'stuck'")
        attempted = [r for r in srows if r["attempt"] not in ("", None)]
        assert attempted and all(r["state"] == "pending" for r in srows)
        assert all("time" in r["error"].lower() for r in attempted), [r["error"] for r in attempted]
        assert took < 5 + 3 + 5, "the run took %.1f s with a 5 s budget and a 3 s timeout" % took
    finally:
        rec.control(mode="ok", path="/stuck")


def test_dead_after_max_attempts_then_retry_all_requeues(tmp_path_factory, fresh_recorder):
    rec = fresh_recorder
    rec.control(mode="fail", status=502, path="/down")
    lake = make(tmp_path_factory, "dead", [{"name": "down", "type": "webhook", "url": rec.url + "/down",
                                            "max_attempts": 2}], seed=54)
    lake.alert()
    n = len(set(ids(rec, "/down")))
    assert n
    time.sleep(2.6)
    lake.alert()
    rows = lake.deliveries("sink = 'down'")
    assert all(r["state"] == "dead" for r in rows), rows
    assert all("502" in r["error"] for r in rows)
    counts, out = status_counts(lake)
    assert counts["dead"] == n and counts["pending"] == 0, out
    time.sleep(2.6)
    lake.alert()
    assert len(ids(rec, "/down")) == 2 * n, "a dead delivery was tried again"

    rec.control(mode="ok", path="/down")
    r = lake.alert("retry", "--all")
    assert str(n) in r.stdout
    counts, out = status_counts(lake)
    assert counts["dead"] == 0 and counts["pending"] == n, out
    lake.alert()
    assert len(ids(rec, "/down")) == 3 * n
    final = {}
    for row in lake.deliveries("sink = 'down'"):
        final[row["delivery_id"]] = row["state"] if int(row["attempt"]) == 3 else final.get(row["delivery_id"])
    assert set(final.values()) == {"delivered"}
    counts, out = status_counts(lake)
    assert counts == {"pending": 0, "failed": 0, "dead": 0}, out


def test_a_resolve_never_overtakes_its_trigger(tmp_path_factory, fresh_recorder):
    """PagerDuty drops a resolve for an incident it does not have, then opens the late trigger's
    incident for good; Alertmanager likewise keeps a late firing post for its whole endsAt. So a
    notification of an alert goes to a sink only after the earlier ones of that alert reached it
    (or died), even when the earlier one needs a retry."""
    rec = fresh_recorder
    path = "/order/v2/enqueue"
    rec.control(mode="fail", status=500, count=1, path=path)  # the first request (a trigger) fails once
    lake = make(tmp_path_factory, "order", [{"name": "pd", "type": "pagerduty", "url": rec.url + path,
                                             "routing_key_env": "IOTAD_TEST_PD_KEY", "concurrency": 1}],
                seed=55, devices=6, rule={"resolve_after": "1h"},
                env={"IOTAD_TEST_PD_KEY": "R0UTINGKEYorder000000000000000000"})
    env = {"IOTAD_TEST_PD_KEY": "R0UTINGKEYorder000000000000000000"}
    lake.alert(env=env)
    time.sleep(2.6)
    lake.alert(env=env)
    accepted = [json.loads(r["body"]) for r in rec.requests(path) if r.get("status") == 202]
    assert any(b["event_action"] == "resolve" for b in accepted), "no alert resolved: nothing to check"
    triggered = set()
    for b in accepted:
        if b["event_action"] == "trigger":
            triggered.add(b["dedup_key"])
        else:
            assert b["dedup_key"] in triggered, "PagerDuty got the resolve of %s before its trigger" % b["dedup_key"]
