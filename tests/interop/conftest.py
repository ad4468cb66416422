"""Fixtures of the alert interop tests (tests/interop/test_alert_*.py): the real receivers, each a
subprocess started by tests/receivers/receivers.py, waited for until it answers, killed at the end.
A receiver that cannot start or be reached fails the test with the reason; nothing is skipped.

Helpers: `iotad(...)` runs the binary ($IOTAD_BIN), `AlertLake` makes a lake with a small fleet
and an alert configuration pointing at the receivers.
"""
import csv
import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "receivers"))
import receivers as R  # noqa: E402

IOTAD = os.environ.get("IOTAD_BIN") or str(ROOT / "build/src/iotad/iotad")


def iotad(*args, env=None, check=True, timeout=180, input=None):
    """Runs iotad; with check, a non-zero exit fails the test with its output. `env` adds to the
    environment (a value None removes the variable)."""
    e = dict(os.environ)
    for k, v in (env or {}).items():  # None: unset
        if v is None:
            e.pop(k, None)
        else:
            e[k] = str(v)
    r = subprocess.run([IOTAD, *map(str, args)], capture_output=True, text=True, env=e, timeout=timeout,
                       input=input)
    if check:
        assert r.returncode == 0, "iotad %s exited %s:\n%s\n%s" % (" ".join(map(str, args)), r.returncode,
                                                                   r.stdout[-3000:], r.stderr[-3000:])
    return r


def toml_str(s):
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def strip_alert_tables(text):
    """The lake's iotad.toml without its [alert], [[alert.rule]] and [[alert.sink]] tables (the test
    writes its own); comments and every other table stay."""
    out, skipping = [], False
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("["):
            skipping = bool(re.match(r"^\[\[?alert(\.(rule|sink))?\]\]?$", s))
        if not skipping:
            out.append(line)
    return "\n".join(out) + "\n"


class AlertLake:
    """A lake made by `iotad init` + `iotad generate`, its alerting configured by the test."""

    def __init__(self, path):
        self.path = Path(path)

    @classmethod
    def create(cls, folder, devices=6, hours=6, seed=7, anomaly_rate=20, kinds="spike,level_shift",
               start="2024-01-01T00:00:00Z", gold=False):
        """init + generate; with gold, also `iotad run` with alerting off, so that a later
        `iotad alert` (with the test's configuration) finds the anomalies in gold."""
        lake = cls(Path(folder) / "lake")
        iotad("init", lake.path)
        lake.generate(devices=devices, hours=hours, seed=seed, anomaly_rate=anomaly_rate, kinds=kinds, start=start)
        if gold:
            lake.configure(alert={"enabled": False},
                           rules=[{"name": "device-anomalies", "sinks": ["alerts-file"]}],
                           sinks=[{"name": "alerts-file", "type": "file", "path": "alerts.jsonl"}])
            lake.run()
        return lake

    def generate(self, devices=6, hours=6, seed=7, anomaly_rate=20, kinds="spike,level_shift",
                 start="2024-01-01T00:00:00Z"):
        iotad("generate", "--devices", devices, "--hours", hours, "--seed", seed, "--anomaly-rate", anomaly_rate,
              "--anomaly-kinds", kinds, "--start", start, "--lake", self.path,
              "--labels", self.path.parent / ("labels-%s.csv" % start.replace(":", "")))

    def configure(self, alert=None, rules=(), sinks=(), env=None):
        """Replaces the alert configuration: `alert` = [alert] keys, `rules`/`sinks` = dicts of
        [[alert.rule]] / [[alert.sink]] keys (values: str, int, float, bool, list)."""
        def value(v):
            if isinstance(v, bool):
                return "true" if v else "false"
            if isinstance(v, (int, float)):
                return repr(v)
            if isinstance(v, (list, tuple)):
                return "[" + ", ".join(value(x) for x in v) + "]"
            return toml_str(v)

        def table(header, d):
            return header + "\n" + "".join("%s = %s\n" % (k, value(v)) for k, v in d.items()) + "\n"

        cfg = self.path / "iotad.toml"
        text = strip_alert_tables(cfg.read_text())
        text += "\n" + table("[alert]", alert or {})
        for r in rules:
            text += table("[[alert.rule]]", r)
        for s in sinks:
            text += table("[[alert.sink]]", s)
        cfg.write_text(text)
        # `config check` also checks that every sink's secret is there: `env` holds them.
        iotad("config", "check", "--lake", self.path, env=env)

    def run(self, *args, env=None, check=True, timeout=180):
        return iotad("run", "--lake", self.path, *args, env=env, check=check, timeout=timeout)

    def alert(self, *args, env=None, check=True, timeout=180):
        return iotad("alert", *args, "--lake", self.path, env=env, check=check, timeout=timeout)

    def sql(self, query, env=None):
        out = iotad("sql", "--lake", self.path, "--format", "csv", query, env=env).stdout
        return list(csv.DictReader(io.StringIO(out)))

    def deliveries(self, where="true"):
        return self.sql("SELECT * FROM alert_deliveries WHERE %s" % where)

    def alerts(self):
        return self.sql("SELECT * FROM alerts")


def start_or_fail(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except R.ReceiverError as e:
        pytest.fail("receiver could not start: %s" % e, pytrace=False)


@pytest.fixture(scope="session")
def iotad_bin():
    assert Path(IOTAD).is_file(), "no iotad binary at %s (set IOTAD_BIN)" % IOTAD
    return IOTAD


@pytest.fixture(scope="module")
def recorder(tmp_path_factory):
    r = start_or_fail(R.start_recorder, tmp_path_factory.mktemp("recorder"))
    yield r
    r.stop()


@pytest.fixture
def fresh_recorder(recorder):
    """The module's recorder, forgotten and back to ok."""
    recorder.reset()
    return recorder


@pytest.fixture(scope="module")
def smtp(tmp_path_factory):
    s = start_or_fail(R.start_smtp, tmp_path_factory.mktemp("smtp"), name="smtp", user="iotad",
                      password="smtp-pass-5bd1")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def smtp_tls(tmp_path_factory):
    s = start_or_fail(R.start_smtp, tmp_path_factory.mktemp("smtps"), name="smtp-tls", tls=True, user="iotad",
                      password="smtp-pass-5bd1")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory):
    """Alertmanager with its webhook receiver: (alertmanager, the recorder behind it)."""
    folder = tmp_path_factory.mktemp("alertmanager")
    hook = start_or_fail(R.start_recorder, folder, name="am-webhook")
    am = None
    try:
        am = start_or_fail(R.start_alertmanager, folder, hook.url + "/am-webhook")
        yield am, hook
    finally:
        if am:
            am.stop()
        hook.stop()


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    """moto with IAM and SigV4 enforced after its set-up: (server, what moto_setup made)."""
    m = start_or_fail(R.start_moto, tmp_path_factory.mktemp("moto"))
    try:
        setup = R.moto_setup(m)
    except Exception as e:  # noqa: BLE001: any failure of the set-up is the test's failure
        m.stop()
        pytest.fail("moto set-up failed: %s\n%s" % (e, m.output()), pytrace=False)
    yield m, setup
    m.stop()


def wait_until(fn, timeout=20, interval=0.2, what="condition"):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out after %ss waiting for %s (last: %r)" % (timeout, what, v))
        time.sleep(interval)
