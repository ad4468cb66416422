"""Crash safety of alerting against a real receiver: `iotad alert` is killed (SIGKILL, from
IOTAD_CRASH_AT fault points, and by an external kill -9 while the receiver stalls a request), then
run again without the fault. Every notification reaches the receiver; a repeat happens only for
the one in flight (concurrency 1 here, so at most one) and carries the same dedup key and
Idempotency-Key. The webhook's bearer token, set in the environment, never appears in the lake,
the output or the alert tables."""
import json
import os
import shutil
import signal
import subprocess
import time
from collections import Counter

import pytest

from conftest import IOTAD, AlertLake, iotad, wait_until

TOKEN = "crash-bearer-3d9f51"
ENV = {"IOTAD_TEST_TOKEN": TOKEN}

CASES = [("alert_after_outbox_commit", 1)] + [
    (point, n) for point in ("alert_before_send", "alert_after_response", "alert_after_attempt_commit")
    for n in (1, 2, 3)]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A lake with gold computed and alerting off, copied by each case."""
    return AlertLake.create(tmp_path_factory.mktemp("crash-template"), devices=6, hours=6, seed=61, gold=True)


def case_lake(template, folder, url, concurrency=1):
    dst = folder / "lake"
    shutil.copytree(template.path, dst)
    lake = AlertLake(dst)
    lake.configure(
        alert={"base_url": "http://dash.iotad.test:8080", "concurrency": concurrency, "backoff_initial": "1s",
               "backoff_max": "2s", "delivery_budget": "30s"},
        rules=[{"name": "device-anomalies", "detectors": ["default"], "group_by": "device", "group_wait": "1m",
                "resolve_after": "1h", "max_per_device_per_hour": 0, "sinks": ["hook"]}],
        sinks=[{"name": "hook", "type": "webhook", "url": url, "bearer_token_env": "IOTAD_TEST_TOKEN",
                "concurrency": concurrency, "timeout": "20s"}],
        env=ENV)
    return lake


def check_every_alert_arrived_once_but_the_one_in_flight(lake, recorder, path, outputs, in_flight=1):
    reqs = recorder.requests(path)
    bodies = [json.loads(r["body"]) for r in reqs]
    deliveries = lake.deliveries()
    states = {}
    for d in deliveries:
        states[d["delivery_id"]] = d["state"]
    assert states and set(states.values()) == {"delivered"}, states
    got = Counter(b["id"] for b in bodies)
    assert set(got) == set(states), "delivered per the outbox %s, received %s" % (sorted(states), sorted(got))
    repeats = {k: n for k, n in got.items() if n > 1}
    assert len(repeats) <= in_flight and all(n == 2 for n in repeats.values()), repeats
    for k in repeats:  # the repeat is the same notification: same dedup key, same Idempotency-Key
        same = [(b["dedup_key"], r["headers"].get("Idempotency-Key")) for r, b in zip(reqs, bodies) if b["id"] == k]
        assert len(set(same)) == 1 and same[0][1] == k
    # Each alert with a delivery arrived under its own dedup key.
    alert_ids = {d["alert_id"] for d in deliveries}
    assert {b["dedup_key"] for b in bodies} == {a["dedup_key"] for a in lake.alerts() if a["id"] in alert_ids}
    check_secret_nowhere(lake, outputs)
    return repeats


def check_secret_nowhere(lake, outputs):
    for f in lake.path.rglob("*"):
        if f.is_file():
            assert TOKEN.encode() not in f.read_bytes(), "%s holds the token" % f
    for q in ("SELECT * FROM alerts", "SELECT * FROM alert_deliveries", "SELECT * FROM runs"):
        outputs.append(iotad("sql", "--lake", lake.path, "--format", "csv", q, env=ENV).stdout)
    for o in outputs:
        assert TOKEN not in o


@pytest.mark.parametrize("point,n", CASES, ids=["%s:%d" % c for c in CASES])
def test_killed_at_a_fault_point_then_rerun(point, n, template, recorder, tmp_path):
    path = "/crash/%s-%d" % (point, n)
    lake = case_lake(template, tmp_path, recorder.url + path)
    crashed = lake.alert(env=dict(ENV, IOTAD_CRASH_AT="%s:%d" % (point, n)), check=False)
    assert crashed.returncode == -signal.SIGKILL, "the fault point %s:%d was not reached (exit %s): %s" % (
        point, n, crashed.returncode, crashed.stdout + crashed.stderr)
    sent_before = len(recorder.requests(path))
    if point == "alert_after_outbox_commit":
        assert sent_before == 0  # committed, nothing sent yet
    else:
        assert sent_before == (n if point != "alert_before_send" else n - 1)
    again = lake.alert(env=ENV)
    repeats = check_every_alert_arrived_once_but_the_one_in_flight(
        lake, recorder, path, [crashed.stdout, crashed.stderr, again.stdout, again.stderr])
    # One line per case for the record (pytest -s shows it): what the receiver got.
    committed = len({d["delivery_id"] for d in lake.deliveries()})
    print("\ncrash at %s:%d: %d notifications committed, %d received before the kill, %d requests in all, "
          "%d repeated" % (point, n, committed, sent_before, len(recorder.requests(path)), len(repeats)))
    if point == "alert_after_response":
        assert len(repeats) == 1  # the receiver answered, the attempt was not recorded: sent again
    else:
        assert not repeats
    # A third run sends nothing more.
    total = len(recorder.requests(path))
    lake.alert(env=ENV)
    assert len(recorder.requests(path)) == total


def test_external_kill_9_while_the_receiver_stalls_a_request(template, recorder, tmp_path):
    path = "/crash/external-kill"
    lake = case_lake(template, tmp_path, recorder.url + path)
    recorder.control(mode="stall", path=path)
    e = dict(os.environ, **ENV)
    proc = subprocess.Popen([IOTAD, "alert", "--lake", str(lake.path)], env=e, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: recorder.requests(path), timeout=20, what="the first request to stall")
        time.sleep(0.3)
        proc.kill()  # SIGKILL, mid-request
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == -signal.SIGKILL
    finally:
        recorder.control(mode="ok", path=path)
        if proc.poll() is None:
            proc.kill()
    stalled = [json.loads(r["body"])["id"] for r in recorder.requests(path)]
    assert len(stalled) == 1
    again = lake.alert(env=ENV)
    repeats = check_every_alert_arrived_once_but_the_one_in_flight(lake, recorder, path,
                                                                   [out, err, again.stdout, again.stderr])
    assert set(repeats) == set(stalled)  # only the one in flight went twice


def test_killed_inside_iotad_run_then_rerun(recorder, tmp_path):
    """The alert stage of `iotad run` (after gold), killed after the receiver answered its second
    request: the next `iotad run` delivers the rest, repeating only that one."""
    path = "/crash/in-run"
    lake = AlertLake.create(tmp_path, devices=6, hours=6, seed=62)
    lake.configure(
        alert={"concurrency": 1, "delivery_budget": "30s"},
        rules=[{"name": "device-anomalies", "detectors": ["default"], "group_by": "device", "group_wait": "1m",
                "resolve_after": "1h", "max_per_device_per_hour": 0, "sinks": ["hook"]}],
        sinks=[{"name": "hook", "type": "webhook", "url": recorder.url + path, "bearer_token_env": "IOTAD_TEST_TOKEN",
                "concurrency": 1}],
        env=ENV)
    crashed = lake.run(env=dict(ENV, IOTAD_CRASH_AT="alert_after_response:2"), check=False)
    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    assert len(recorder.requests(path)) == 2
    again = lake.run(env=ENV)
    assert "alert" in again.stdout
    repeats = check_every_alert_arrived_once_but_the_one_in_flight(
        lake, recorder, path, [crashed.stdout, crashed.stderr, again.stdout, again.stderr])
    assert len(repeats) == 1


def test_killed_with_three_requests_in_flight(template, recorder, tmp_path):
    """Concurrency 3, killed after a response: at most the (three) requests in flight go twice."""
    path = "/crash/concurrent"
    recorder.control(mode="ok", delay=0.2, path=path)  # slow enough that three are in flight at once
    try:
        lake = case_lake(template, tmp_path, recorder.url + path, concurrency=3)
        crashed = lake.alert(env=dict(ENV, IOTAD_CRASH_AT="alert_after_response:2"), check=False)
        assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
        assert recorder.stats()["max_in_flight"] >= 2
        again = lake.alert(env=ENV)
        repeats = check_every_alert_arrived_once_but_the_one_in_flight(
            lake, recorder, path, [crashed.stdout, crashed.stderr, again.stdout, again.stderr], in_flight=3)
        assert 1 <= len(repeats) <= 3
    finally:
        recorder.control(mode="ok", path=path)
