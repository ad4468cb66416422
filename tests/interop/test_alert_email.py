"""The email sink against a real SMTP server (aiosmtpd, tests/receivers/smtp_server.py): the mails
arrive with the envelope, Subject, body and X-Iotad-Dedup-Key, after AUTH with the password from
the environment; over STARTTLS with the server's certificate checked against `ca_file`; a wrong
password is refused with the server's answer; STARTTLS required against a server without it, or
whose certificate nobody trusts, is refused, never sent in the clear."""
import email
import email.policy

import pytest

from conftest import AlertLake

PASSWORD = "smtp-pass-5bd1"  # the smtp fixtures' password


def parse(raw):
    return email.message_from_string(raw, policy=email.policy.default)


@pytest.fixture(scope="module")
def mailed(tmp_path_factory, smtp, smtp_tls):
    lake = AlertLake.create(tmp_path_factory.mktemp("email"), devices=4, hours=6, seed=41)
    lake.configure(
        alert={"base_url": "http://dash.iotad.test:8080", "delivery_budget": "30s", "max_attempts": 2},
        rules=[{"name": "device-anomalies", "detectors": ["default"], "group_by": "device", "severity": "critical",
                "group_wait": "1m", "resolve_after": "1h", "max_per_device_per_hour": 0,
                "sinks": ["mail", "mail-tls-ca"]}],
        sinks=[{"name": "mail", "type": "email", "url": smtp.url, "from": "iotad@plant4.example",
                "to": ["ops@plant4.example", "oncall@plant4.example"], "starttls": "off",
                "username": "iotad", "password_env": "IOTAD_TEST_SMTP_PASSWORD"},
               {"name": "mail-tls", "type": "email", "url": smtp_tls.url, "from": "iotad@plant4.example",
                "to": ["ops@plant4.example"], "starttls": "require", "username": "iotad",
                "password_env": "IOTAD_TEST_SMTP_PASSWORD"},
               {"name": "mail-tls-ca", "type": "email", "url": smtp_tls.url, "from": "iotad@plant4.example",
                "to": ["ops@plant4.example"], "starttls": "require", "username": "iotad",
                "password_env": "IOTAD_TEST_SMTP_PASSWORD", "ca_file": smtp_tls.info["cert"]},
               {"name": "mail-plain-required", "type": "email", "url": smtp.url, "from": "iotad@plant4.example",
                "to": ["ops@plant4.example"], "starttls": "require", "username": "iotad",
                "password_env": "IOTAD_TEST_SMTP_PASSWORD"}],
        env={"IOTAD_TEST_SMTP_PASSWORD": PASSWORD})
    env = {"IOTAD_TEST_SMTP_PASSWORD": PASSWORD}
    out = lake.run(env=env)
    return lake, env, out


def test_mails_arrive_with_subject_body_and_dedup_header(mailed, smtp):
    lake, _, out = mailed
    delivered = lake.deliveries("sink = 'mail' AND state = 'delivered'")
    assert delivered, "no mail delivered: %s\n%s" % (out.stdout, lake.deliveries())
    msgs = smtp.wait_for(len(delivered))
    assert len(msgs) == len(delivered)
    alerts = {a["dedup_key"]: a for a in lake.alerts()}
    seen = set()
    for m in msgs:
        assert m["mail_from"] == "iotad@plant4.example"
        assert sorted(m["rcpt_tos"]) == ["oncall@plant4.example", "ops@plant4.example"]
        assert m["auth_user"] == "iotad"
        msg = parse(m["data"])
        key = msg["X-Iotad-Dedup-Key"]
        assert key in alerts, key
        device = alerts[key]["group_key"].split("=", 1)[1]
        assert msg["Subject"].startswith("[critical] ") and device in msg["Subject"]
        assert "iotad@plant4.example" in msg["From"]
        assert "ops@plant4.example" in msg["To"]
        assert msg["Date"] and msg["Message-ID"]
        body = msg.get_body(preferencelist=("plain",)).get_content()
        assert key in body and "http://dash.iotad.test:8080/devices/" + device in body
        seen.add(msg["Message-ID"])
    assert len(seen) == len(msgs)


def test_starttls_and_auth_with_the_servers_ca(mailed, smtp_tls):
    """STARTTLS required, the certificate checked against the CA file named by ca_file, then AUTH:
    the server saw TLS and the user before it accepted each mail."""
    lake, _, _ = mailed
    delivered = lake.deliveries("sink = 'mail-tls-ca' AND state = 'delivered'")
    assert delivered, lake.deliveries("sink = 'mail-tls-ca'")
    msgs = smtp_tls.wait_for(len(delivered))
    assert len(msgs) == len(delivered)
    keys = {a["dedup_key"] for a in lake.alerts()}
    for m in msgs:
        assert m["tls"] is True and m["auth_user"] == "iotad"
        assert parse(m["data"])["X-Iotad-Dedup-Key"] in keys


def test_wrong_password_is_refused_with_the_servers_answer(mailed):
    lake, _, _ = mailed
    r = lake.alert("test", "mail", env={"IOTAD_TEST_SMTP_PASSWORD": "not-the-password"}, check=False)
    assert r.returncode == 1
    assert "535" in r.stdout + r.stderr
    assert "not-the-password" not in r.stdout + r.stderr


def test_alert_test_mail_prints_what_the_server_said(mailed, smtp):
    lake, env, _ = mailed
    before = len(smtp.messages())
    r = lake.alert("test", "mail", env=env)
    assert "250" in r.stdout
    msgs = smtp.wait_for(before + 1)
    assert len(msgs) == before + 1


def test_starttls_required_is_never_sent_in_the_clear(mailed, smtp, smtp_tls):
    lake, env, _ = mailed
    # A server without STARTTLS: refused before any mail is sent.
    before = len(smtp.messages())
    r = lake.alert("test", "mail-plain-required", env=env, check=False)
    assert r.returncode == 1, r.stdout
    assert len(smtp.messages()) == before
    # A server whose certificate no CA signed: the TLS handshake fails, nothing is sent.
    before_tls = len(smtp_tls.messages())
    r = lake.alert("test", "mail-tls", env=env, check=False)
    assert r.returncode == 1, r.stdout
    assert len(smtp_tls.messages()) == before_tls
    assert "certificate" in (r.stdout + r.stderr).lower() or "ssl" in (r.stdout + r.stderr).lower()


def test_password_is_nowhere_in_the_lake(mailed):
    lake, _, out = mailed
    for f in lake.path.rglob("*"):
        if f.is_file():
            assert PASSWORD.encode() not in f.read_bytes(), f
    assert PASSWORD not in out.stdout + out.stderr
