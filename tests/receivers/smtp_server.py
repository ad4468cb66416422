#!/usr/bin/env python3
"""A real SMTP server (aiosmtpd) for the email sink's tests.

    smtp_server.py --log mails.jsonl [--port N] [--tls] [--user U --password P]

Listens on 127.0.0.1 (port 0: a free one) and prints `PORT <n>` on its first line of stdout
(then `CERT <path>` with --tls). Each accepted message is appended to --log as one JSON line:
{"mail_from", "rcpt_tos", "data" (the raw message), "tls" (true when it came after STARTTLS),
"auth_user", "received_at"}.

--tls offers STARTTLS with a self-signed certificate for 127.0.0.1/localhost made at start
(openssl CLI), and then requires it before MAIL. --user/--password offer AUTH PLAIN and LOGIN
and require them before MAIL (over TLS when --tls is given, else also in the clear).
"""
import argparse
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Recorder:
    def __init__(self, log_path):
        self.log_path = log_path
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": envelope.content.decode("utf-8", "replace") if isinstance(envelope.content, bytes)
            else envelope.content,
            "tls": session.ssl is not None,
            "auth_user": (session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword)
                          else None),
            "received_at": time.time(),
        }
        with self.lock, open(self.log_path, "a") as f:
            f.write(json.dumps(record) + "\n")
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed(folder):
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def main():
    warnings.simplefilter("ignore", DeprecationWarning)  # aiosmtpd's own login_data notice
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", required=True)
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--user", default="")
    ap.add_argument("--password", default="")
    ap.add_argument("--cert-dir", default="")
    args = ap.parse_args()

    kwargs = {}
    cert = None
    if args.tls:
        folder = args.cert_dir or tempfile.mkdtemp(prefix="iotad-smtp-")
        cert, key = self_signed(folder)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        kwargs.update(tls_context=ctx, require_starttls=True)
    if args.user:
        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user
                  and auth_data.password.decode() == args.password)
            return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=args.tls)

    port = args.port or free_port()
    controller = Controller(Recorder(args.log), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    print("PORT %d" % port, flush=True)
    if cert:
        print("CERT %s" % cert, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    sys.exit(main())
