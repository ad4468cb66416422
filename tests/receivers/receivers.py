"""Starting the real receivers of the alert tests as subprocesses (used by tests/interop/conftest.py
and bench/alert_delivery_bench.sh). Each start_* returns a Receiver once it answers, or raises
ReceiverError with the reason (its output) when it cannot start or be reached: the tests FAIL then,
never skip. See README.md beside this file.
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEPS = Path(os.environ.get("IOTAD_DEPS", Path.home() / ".cache/iotad"))
ALERTMANAGER = Path(os.environ.get("IOTAD_ALERTMANAGER_BIN", DEPS / "bin/alertmanager"))
PYTHON = sys.executable


class ReceiverError(RuntimeError):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    def __init__(self, name, proc, port, folder, log_path):
        self.name, self.proc, self.port, self.folder, self.log_path = name, proc, port, Path(folder), log_path
        self.url = "http://127.0.0.1:%d" % port
        self.info = {}

    def output(self):
        try:
            return Path(self.log_path).read_text()[-4000:]
        except OSError:
            return ""

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _spawn(name, argv, folder, env=None):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / (name + ".out")
    out = open(log_path, "w")
    e = dict(os.environ)
    e.update(env or {})
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=e,
                            cwd=str(folder), start_new_session=True)
    out.close()
    return proc, log_path


def _wait_line(proc, log_path, prefix, name, timeout=20):
    """Waits for `<prefix> <value>` in the receiver's output."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for line in Path(log_path).read_text().splitlines():
            if line.startswith(prefix + " "):
                return line.split(" ", 1)[1].strip()
        if proc.poll() is not None:
            raise ReceiverError("%s exited with %s before it listened: %s"
                                % (name, proc.returncode, Path(log_path).read_text()[-2000:]))
        time.sleep(0.05)
    proc.kill()
    raise ReceiverError("%s did not say %s within %ss: %s" % (name, prefix, timeout, Path(log_path).read_text()[-2000:]))


def _wait_http(proc, log_path, url, name, timeout=30, ok=lambda status: status < 500):
    deadline = time.time() + timeout
    last = ""
    while time.time() < deadline:
        if proc.poll() is not None:
            raise ReceiverError("%s exited with %s: %s" % (name, proc.returncode, Path(log_path).read_text()[-2000:]))
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if ok(r.status):
                    return
        except urllib.error.HTTPError as e:
            if ok(e.code):
                return
            last = "HTTP %s" % e.code
        except OSError as e:
            last = str(e)
        time.sleep(0.1)
    proc.kill()
    raise ReceiverError("%s did not answer %s within %ss (%s): %s"
                        % (name, url, timeout, last, Path(log_path).read_text()[-2000:]))


# ---- the HTTP recorder -------------------------------------------------------------------------

class Recorder(Receiver):
    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def requests(self, path=""):
        return self._call("GET", "/_requests?path=" + urllib.request.quote(path))

    def stats(self):
        return self._call("GET", "/_stats")

    def control(self, **setting):
        return self._call("POST", "/_control", setting)

    def reset(self):
        return self._call("POST", "/_reset", {})

    def wait_for(self, n, path="", timeout=30):
        """Waits until at least n requests under path were recorded; returns them."""
        deadline = time.time() + timeout
        while True:
            got = self.requests(path)
            if len(got) >= n or time.time() > deadline:
                return got
            time.sleep(0.1)


def start_recorder(folder, name="recorder"):
    folder = Path(folder)
    argv = [PYTHON, str(HERE / "recorder.py"), "--log", str(folder / (name + ".jsonl"))]
    proc, log_path = _spawn(name, argv, folder)
    port = int(_wait_line(proc, log_path, "PORT", name))
    r = Recorder(name, proc, port, folder, log_path)
    _wait_http(proc, log_path, r.url + "/_stats", name)
    return r


# ---- SMTP (aiosmtpd) ---------------------------------------------------------------------------

class SmtpServer(Receiver):
    def messages(self):
        p = self.folder / (self.name + ".jsonl")
        if not p.exists():
            return []
        return [json.loads(line) for line in p.read_text().splitlines() if line.strip()]

    def wait_for(self, n, timeout=30):
        deadline = time.time() + timeout
        while True:
            got = self.messages()
            if len(got) >= n or time.time() > deadline:
                return got
            time.sleep(0.1)


def start_smtp(folder, name="smtp", tls=False, user="", password=""):
    folder = Path(folder)
    argv = [PYTHON, str(HERE / "smtp_server.py"), "--log", str(folder / (name + ".jsonl")),
            "--cert-dir", str(folder)]
    if tls:
        argv.append("--tls")
    if user:
        argv += ["--user", user, "--password", password]
    proc, log_path = _spawn(name, argv, folder)
    port = int(_wait_line(proc, log_path, "PORT", name))
    s = SmtpServer(name, proc, port, folder, log_path)
    s.url = "smtp://127.0.0.1:%d" % port
    if tls:
        s.info["cert"] = _wait_line(proc, log_path, "CERT", name)
    deadline = time.time() + 20
    while True:  # the SMTP greeting
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as c:
                if c.recv(100).startswith(b"220"):
                    break
        except OSError as e:
            if time.time() > deadline:
                proc.kill()
                raise ReceiverError("%s gives no SMTP greeting on port %d (%s): %s" % (name, port, e, s.output()))
            time.sleep(0.1)
    return s


# ---- Prometheus Alertmanager ---------------------------------------------------------------------

ALERTMANAGER_YML = """\
# Written by tests/receivers/receivers.py: every alert to one webhook receiver (the recorder),
# with waits short enough for tests.
global:
  resolve_timeout: 1m
route:
  receiver: recorder
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: recorder
    webhook_configs:
      - url: '{webhook}'
        send_resolved: true
"""


class Alertmanager(Receiver):
    def alerts(self, active=None):
        q = "" if active is None else "?active=%s&silenced=true&inhibited=true&unprocessed=true" % str(active).lower()
        with urllib.request.urlopen(self.url + "/api/v2/alerts" + q, timeout=10) as r:
            return json.loads(r.read())


def start_alertmanager(folder, webhook_url, name="alertmanager"):
    folder = Path(folder)
    if not ALERTMANAGER.exists():
        raise ReceiverError("no Alertmanager at %s: run scripts/setup.sh" % ALERTMANAGER)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alertmanager.yml").write_text(ALERTMANAGER_YML.format(webhook=webhook_url))
    (folder / "am-data").mkdir(exist_ok=True)
    port = free_port()
    argv = [str(ALERTMANAGER), "--config.file=" + str(folder / "alertmanager.yml"),
            "--storage.path=" + str(folder / "am-data"), "--web.listen-address=127.0.0.1:%d" % port,
            "--cluster.listen-address=", "--log.level=info"]
    proc, log_path = _spawn(name, argv, folder)
    am = Alertmanager(name, proc, port, folder, log_path)
    _wait_http(proc, log_path, am.url + "/-/ready", name, ok=lambda s: s == 200)
    return am


# ---- moto (SNS and SQS, with IAM and SigV4 enforced) -------------------------------------------

REGION = "us-east-1"
MOTO_ACCOUNT = "123456789012"


class Moto(Receiver):
    def client(self, service, key_id="setup", secret="setup"):
        import boto3
        return boto3.client(service, region_name=REGION, endpoint_url=self.url, aws_access_key_id=key_id,
                            aws_secret_access_key=secret)


def start_moto(folder, name="moto", free_actions=200):
    """moto in server mode; the first `free_actions` requests need no authentication (the set-up),
    every later one is checked: the access key must exist in its IAM, the SigV4 signature must
    match, the user's policies must allow the action. moto_setup() spends the free actions."""
    folder = Path(folder)
    port = free_port()
    argv = [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    env = {"INITIAL_NO_AUTH_ACTION_COUNT": str(free_actions), "MOTO_ALLOW_NONEXISTENT_REGION": "false",
           "AWS_DEFAULT_REGION": REGION}
    proc, log_path = _spawn(name, argv, folder, env=env)
    m = Moto(name, proc, port, folder, log_path)
    _wait_http(proc, log_path, m.url + "/moto-api/", name)
    return m


def moto_setup(m):
    """Creates, unauthenticated: an IAM user with an access key and a policy allowing sns:Publish
    and reading/deleting SQS messages (nothing else: no ListTopics, no CreateTopic); a standard topic and a FIFO topic, each
    with an SQS queue subscribed (standard: the JSON envelope, which carries Subject and the
    attributes; FIFO: raw delivery into a FIFO queue, which keeps MessageGroupId and
    MessageDeduplicationId). Then spends the rest of the unauthenticated actions, so that from
    here on every request is checked. Returns a dict of what it made."""
    from botocore.exceptions import ClientError
    iam, sns, sqs = m.client("iam"), m.client("sns"), m.client("sqs")
    topic = sns.create_topic(Name="iotad-alerts")["TopicArn"]
    fifo = sns.create_topic(Name="iotad-alerts.fifo", Attributes={"FifoTopic": "true",
                                                                  "ContentBasedDeduplication": "false"})["TopicArn"]
    q = sqs.create_queue(QueueName="iotad-alerts-q")["QueueUrl"]
    qf = sqs.create_queue(QueueName="iotad-alerts-q.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    q_arn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    qf_arn = sqs.get_queue_attributes(QueueUrl=qf, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=q_arn)
    sns.subscribe(TopicArn=fifo, Protocol="sqs", Endpoint=qf_arn, Attributes={"RawMessageDelivery": "true"})
    iam.create_user(UserName="iotad")
    key = iam.create_access_key(UserName="iotad")["AccessKey"]
    # moto checks the action of an identity policy against the resource "*" (it does not know the
    # request's resource), so the statements name "*"; the actions are what the user may do.
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sns:Publish"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                                       "sqs:GetQueueUrl"], "Resource": "*"}]}
    arn = iam.create_policy(PolicyName="iotad-publish", PolicyDocument=json.dumps(policy))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="iotad", PolicyArn=arn)
    # Spend what is left of the unauthenticated actions: until a request with an unknown key is refused.
    for _ in range(10000):
        try:
            m.client("sns", "AKIANOSUCHKEY0000000", "nope").list_topics()
        except ClientError:
            break
    else:
        raise ReceiverError("moto never started checking credentials")
    return {"topic_arn": topic, "fifo_topic_arn": fifo, "queue_url": q, "fifo_queue_url": qf,
            "key_id": key["AccessKeyId"], "secret": key["SecretAccessKey"], "region": REGION}


def sqs_drain(m, setup, queue_url, want, timeout=20, settle=False):
    """Receives (and deletes) messages from a queue as the iotad user until `want` arrived or
    timeout; with settle, one more receive after that, so that extra messages are counted too."""
    sqs = m.client("sqs", setup["key_id"], setup["secret"])
    got = []
    deadline = time.time() + timeout
    extra = 1 if settle else 0
    while (len(got) < want or extra > 0) and time.time() < deadline:
        if len(got) >= want:
            extra -= 1
        r = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                AttributeNames=["All"], MessageAttributeNames=["All"])
        for msg in r.get("Messages", []):
            got.append(msg)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=msg["ReceiptHandle"])
    return got
