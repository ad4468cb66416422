#!/usr/bin/env python3
"""An HTTP receiver that records every request, for the alert sinks' tests (webhook, Slack,
PagerDuty, Alertmanager's own webhook) and the delivery benchmark. Python stdlib only.

    recorder.py [--port N] [--log requests.jsonl]

Listens on 127.0.0.1 (port 0: any free port) and prints `PORT <n>` on its first line of stdout.
Every request (method, path, headers, body) is kept in memory and appended to --log as one JSON
line. Control endpoints (never recorded):

    GET  /_requests[?path=PREFIX]   the recorded requests as a JSON array
    GET  /_stats                    {"requests": n, "in_flight": n, "max_in_flight": n}
    POST /_reset                    forget requests, stats and modes
    POST /_control {"mode": "ok"|"fail"|"stall"|"429", "status": 500, "count": N,
                    "retry_after": seconds, "delay": seconds, "path": PREFIX}

`fail` answers `status` (default 500); `429` answers 429 with `Retry-After: <retry_after>`;
`stall` holds the request unanswered (until a later /_control or /_reset releases it, with 503);
`count` makes the mode apply to the next N requests only, then back to ok; `delay` makes every
request take that long before it is answered (any mode); `path` limits the setting to requests
whose path starts with PREFIX (the most specific prefix wins). Answers are those of the real
services where a client looks at them: a path ending in /v2/enqueue answers like PagerDuty's
Events API v2 (202 {"status":"success","message":"Event processed","dedup_key":...}); a path with
/services/ or slack in it answers like a Slack incoming webhook (200, text "ok"); any other
200 {"ok":true}.
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class State:
    def __init__(self, log_path):
        self.lock = threading.Lock()
        self.requests = []
        self.modes = {}  # path prefix ("" = all) -> dict(mode, status, count, retry_after, delay)
        self.in_flight = 0
        self.max_in_flight = 0
        self.release = threading.Event()  # set to let stalled requests go
        self.log_path = log_path

    def mode_for(self, path):
        """The setting that applies to `path`, consuming one of its `count` (under the lock)."""
        best = None
        for prefix in self.modes:
            if path.startswith(prefix) and (best is None or len(prefix) > len(best)):
                best = prefix
        if best is None:
            return {"mode": "ok", "delay": 0}
        m = self.modes[best]
        current = dict(m)
        if m.get("count") is not None:
            m["count"] -= 1
            if m["count"] <= 0:  # spent: back to ok, keeping the delay
                self.modes[best] = {"mode": "ok", "delay": m.get("delay", 0)}
        return current


STATE = None


def pagerduty_answer(body):
    try:
        event = json.loads(body or b"{}")
    except ValueError:
        return 400, "application/json", json.dumps({"status": "invalid event", "message": "Event object is invalid",
                                                    "errors": ["body is not JSON"]})
    dedup = event.get("dedup_key") or "recorder-%d" % int(time.time() * 1e6)
    return 202, "application/json", json.dumps({"status": "success", "message": "Event processed",
                                                "dedup_key": dedup})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "iotad-recorder/1"

    def log_message(self, fmt, *args):  # quiet: the JSON lines are the log
        pass

    def _send(self, status, ctype, body, extra=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _control(self, body):
        url = urlsplit(self.path)
        if self.command == "GET" and url.path == "/_requests":
            prefix = parse_qs(url.query).get("path", [""])[0]
            with STATE.lock:
                out = [r for r in STATE.requests if r["path"].startswith(prefix)]
            return self._send(200, "application/json", json.dumps(out))
        if self.command == "GET" and url.path == "/_stats":
            with STATE.lock:
                out = {"requests": len(STATE.requests), "in_flight": STATE.in_flight,
                       "max_in_flight": STATE.max_in_flight}
            return self._send(200, "application/json", json.dumps(out))
        if self.command == "POST" and url.path == "/_reset":
            with STATE.lock:
                STATE.requests.clear()
                STATE.modes.clear()
                STATE.max_in_flight = STATE.in_flight
                old, STATE.release = STATE.release, threading.Event()
            old.set()
            return self._send(200, "application/json", "{}")
        if self.command == "POST" and url.path == "/_control":
            try:
                c = json.loads(body or b"{}")
                mode = c.get("mode", "ok")
                if mode not in ("ok", "fail", "stall", "429"):
                    raise ValueError("unknown mode %r" % mode)
                setting = {"mode": mode, "status": int(c.get("status", 500)),
                           "count": int(c["count"]) if c.get("count") is not None else None,
                           "retry_after": c.get("retry_after", 1), "delay": float(c.get("delay", 0))}
            except (ValueError, TypeError) as e:
                return self._send(400, "application/json", json.dumps({"error": str(e)}))
            with STATE.lock:
                STATE.modes[c.get("path", "")] = setting
                old, STATE.release = STATE.release, threading.Event()
            old.set()  # a new setting releases what the last one stalled
            return self._send(200, "application/json", json.dumps(setting))
        return self._send(404, "application/json", json.dumps({"error": "unknown control " + url.path}))

    def _handle(self):
        body = self._body()
        path = urlsplit(self.path).path
        if path.startswith("/_"):
            return self._control(body)
        received = time.time()
        with STATE.lock:
            setting = STATE.mode_for(path)
            release = STATE.release
            STATE.in_flight += 1
            STATE.max_in_flight = max(STATE.max_in_flight, STATE.in_flight)
            record = {"seq": len(STATE.requests) + 1, "received_at": received, "method": self.command,
                      "path": path, "query": urlsplit(self.path).query,
                      "headers": {k: v for k, v in self.headers.items()},
                      "body": body.decode("utf-8", "replace"), "mode": setting["mode"]}
            STATE.requests.append(record)
            if STATE.log_path:
                with open(STATE.log_path, "a") as f:
                    f.write(json.dumps(record) + "\n")
        try:
            if setting.get("delay"):
                time.sleep(setting["delay"])
            mode = setting["mode"]
            if mode == "stall":
                release.wait(3600)
                status, ctype, answer, extra = 503, "text/plain", "recorder: released from a stall", None
            elif mode == "fail":
                status, ctype, answer, extra = setting["status"], "text/plain", "recorder: failing as told", None
            elif mode == "429":
                status, ctype, answer, extra = 429, "application/json", '{"message":"Too Many Requests"}', \
                    {"Retry-After": str(setting["retry_after"])}
            elif path.endswith("/v2/enqueue"):
                (status, ctype, answer), extra = pagerduty_answer(body), None
            elif "/services/" in path or "slack" in path:
                status, ctype, answer, extra = 200, "text/html", "ok", None
            else:
                status, ctype, answer, extra = 200, "application/json", '{"ok":true}', None
            record["status"] = status
            record["answered_at"] = time.time()
            self._send(status, ctype, answer, extra)
        finally:
            with STATE.lock:
                STATE.in_flight -= 1

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


def main():
    global STATE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", default="")
    args = ap.parse_args()
    STATE = State(args.log)
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
