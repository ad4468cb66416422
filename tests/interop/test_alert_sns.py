"""The sns sink against moto in server mode with IAM and SigV4 enforced (tests/receivers): iotad
publishes with an IAM user's access key (environment, or a shared credentials file and profile),
the messages are read back through the server's own API (SQS queues subscribed to the topics,
received with boto3 signed by the same user): Subject, Message and attributes on the standard
topic; MessageGroupId and MessageDeduplicationId on the FIFO topic. A wrong secret key is one
clear error naming SignatureDoesNotMatch, exit 1, and nothing is published."""
import json

import pytest

import receivers as R
from conftest import AlertLake, iotad


def aws_env(setup, secret=None, **more):
    env = {"AWS_ACCESS_KEY_ID": setup["key_id"], "AWS_SECRET_ACCESS_KEY": secret or setup["secret"],
           "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials", "AWS_CONFIG_FILE": "/nonexistent/config",
           "AWS_PROFILE": None, "AWS_SESSION_TOKEN": None, "AWS_REGION": None, "AWS_DEFAULT_REGION": None}
    env.update(more)
    return env


@pytest.fixture(scope="module")
def published(tmp_path_factory, moto):
    m, setup = moto
    lake = AlertLake.create(tmp_path_factory.mktemp("sns"), devices=5, hours=6, seed=31)
    lake.configure(
        alert={"base_url": "http://dash.iotad.test:8080", "delivery_budget": "30s"},
        rules=[{"name": "device-anomalies", "detectors": ["default"], "group_by": "device", "severity": "critical",
                "group_wait": "1m", "resolve_after": "1h", "max_per_device_per_hour": 0,
                "sinks": ["topic", "fifo"]}],
        sinks=[{"name": "topic", "type": "sns", "topic_arn": setup["topic_arn"], "endpoint": m.url},
               {"name": "fifo", "type": "sns", "topic_arn": setup["fifo_topic_arn"], "endpoint": m.url,
                "region": "us-east-1"}],
        env=aws_env(setup))
    out = lake.run(env=aws_env(setup))
    std = R.sqs_drain(m, setup, setup["queue_url"], len(lake.deliveries("sink = 'topic' AND state = 'delivered'")),
                      settle=True)
    fifo = R.sqs_drain(m, setup, setup["fifo_queue_url"],
                       len(lake.deliveries("sink = 'fifo' AND state = 'delivered'")), settle=True)
    return lake, m, setup, out, std, fifo


def test_every_delivered_notification_is_in_the_topic(published):
    lake, m, setup, out, std, _ = published
    delivered = lake.deliveries("sink = 'topic' AND state = 'delivered'")
    assert delivered, "nothing delivered to SNS: %s %s\n%s" % (out.stdout, out.stderr, lake.deliveries())
    assert len(std) == len(delivered)
    alerts = {a["dedup_key"]: a for a in lake.alerts()}
    for msg in std:
        env = json.loads(msg["Body"])
        assert env["Type"] == "Notification" and env["TopicArn"] == setup["topic_arn"]
        subject, body = env["Subject"], env["Message"]
        assert subject.startswith("[critical] ") and "dev-" in subject
        assert len(subject) <= 100 and "\n" not in subject  # SNS's limits on Subject
        keys = [k for k in alerts if k in body]
        assert len(keys) == 1, body
        device = alerts[keys[0]]["group_key"].split("=", 1)[1]
        assert device in subject
        attrs = {k: (a["Type"], a["Value"]) for k, a in env["MessageAttributes"].items()}
        a = alerts[keys[0]]
        assert attrs["dedup_key"] == ("String", keys[0])
        assert attrs["alert_id"] == ("String", a["id"])
        assert attrs["severity"] == ("String", "critical")
        assert attrs["status"][1] in ("firing", "resolved")
        assert subject.startswith("[critical] %s: " % attrs["status"][1])
    # The delivery recorded SNS's answer: a PublishResponse with a MessageId.
    assert all("MessageId" in d["response"] for d in delivered)


def test_fifo_topic_gets_group_and_deduplication_ids(published):
    lake, m, setup, _, _, fifo = published
    delivered = lake.deliveries("sink = 'fifo' AND state = 'delivered'")
    assert delivered and len(fifo) == len(delivered)
    alerts = {a["dedup_key"]: a for a in lake.alerts()}
    dedup_ids = set()
    for msg in fifo:
        attrs = msg["Attributes"]
        keys = [k for k in alerts if k in msg["Body"]]
        assert len(keys) == 1
        device = alerts[keys[0]]["group_key"].split("=", 1)[1]
        assert attrs["MessageGroupId"] == device  # the default template "{device}"
        assert 0 < len(attrs["MessageDeduplicationId"]) <= 128
        dedup_ids.add(attrs["MessageDeduplicationId"])
    assert len(dedup_ids) == len(fifo)  # one per notification


def test_credentials_from_a_shared_credentials_file_and_profile(published, tmp_path):
    lake, m, setup, _, _, _ = published
    creds = tmp_path / "credentials"
    creds.write_text("[default]\naws_access_key_id = AKIANOTTHISONE000000\naws_secret_access_key = nope\n\n"
                     "[alerts]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (setup["key_id"], setup["secret"]))
    env = aws_env(setup, AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None, AWS_SHARED_CREDENTIALS_FILE=str(creds),
                  AWS_PROFILE="alerts")
    r = lake.alert("test", "topic", env=env, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "200" in r.stdout and "MessageId" in r.stdout
    got = R.sqs_drain(m, setup, setup["queue_url"], 1, timeout=10)
    assert len(got) == 1


def test_wrong_secret_key_is_one_clear_error_and_nothing_is_published(published):
    lake, m, setup, _, _, _ = published
    wrong = "wrongsecret0000000000000000000000000000"
    r = lake.alert("test", "topic", env=aws_env(setup, secret=wrong), check=False)
    assert r.returncode == 1
    text = r.stdout + r.stderr
    errors = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and "SignatureDoesNotMatch" in errors[0], r.stderr  # one clear error
    assert "403" in r.stdout and "SignatureDoesNotMatch" in r.stdout  # and what the server said
    assert wrong not in text and setup["secret"] not in text
    assert R.sqs_drain(m, setup, setup["queue_url"], 1, timeout=3) == []
    # An access key the server does not know: its own error, also not a silent drop.
    r = lake.alert("test", "topic", env=aws_env(setup, AWS_ACCESS_KEY_ID="AKIAUNKNOWN000000000"), check=False)
    assert r.returncode == 1 and "InvalidClientTokenId" in r.stdout + r.stderr


def test_secret_key_is_nowhere_in_the_lake(published):
    lake, _, setup, out, _, _ = published
    for f in lake.path.rglob("*"):
        if f.is_file():
            assert setup["secret"].encode() not in f.read_bytes(), f
    assert setup["secret"] not in out.stdout + out.stderr
    rows = iotad("sql", "--lake", lake.path, "--format", "csv", "SELECT * FROM alert_deliveries").stdout
    assert setup["secret"] not in rows


def test_wrong_secret_in_a_run_is_a_dead_delivery_naming_the_error(tmp_path_factory, moto):
    """Through the outbox too: a 403 SignatureDoesNotMatch is refused for good (dead, with the
    server's answer recorded and counted by `iotad status`), never dropped silently."""
    m, setup = moto
    lake = AlertLake.create(tmp_path_factory.mktemp("sns-wrong"), devices=3, hours=6, seed=32)
    lake.configure(
        alert={"delivery_budget": "20s"},
        rules=[{"name": "device-anomalies", "detectors": ["default"], "group_by": "device", "group_wait": "1m",
                "resolve_after": "6h", "max_per_device_per_hour": 0, "sinks": ["topic"]}],
        sinks=[{"name": "topic", "type": "sns", "topic_arn": setup["topic_arn"], "endpoint": m.url}],
        env=aws_env(setup))
    wrong = "wrongsecret1111111111111111111111111111"
    out = lake.run(env=aws_env(setup, secret=wrong))
    rows = lake.deliveries("sink = 'topic'")
    assert rows, out.stdout
    for r in rows:
        assert r["state"] == "dead" and str(r["status_code"]) == "403"
        assert "SignatureDoesNotMatch" in r["response"] + r["error"]
    assert wrong not in out.stdout + out.stderr
    st = iotad("status", "--lake", lake.path).stdout
    assert "dead" in st
    assert R.sqs_drain(m, setup, setup["queue_url"], 1, timeout=3) == []
