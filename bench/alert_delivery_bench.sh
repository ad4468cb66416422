#!/usr/bin/env bash
# Delivery with one slow receiver: do the others wait for it?
# Three fast webhook receivers and one that takes 1 s per request (tests/receivers/recorder.py in
# delay mode), N alerts each (one per device of a generated fleet). Runs `iotad alert` twice on
# copies of the same lake: with the fast sinks only, then with the slow one added. Prints the
# time until the fast sinks had received everything in each case (their ratio: ~1 means the slow
# sink does not slow them), the slow sink's peak in-flight requests (its `concurrency`), and how
# many of its deliveries the run's budget left pending.
#   bench/alert_delivery_bench.sh [DEVICES=40]
#   IOTAD_BIN=build/src/iotad/iotad  SLOW_CONCURRENCY=2  BUDGET=10s
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="${IOTAD_DEPS:-$HOME/.cache/iotad}"
export IOTAD_BIN="${IOTAD_BIN:-$here/build/src/iotad/iotad}"
export BENCH_DEVICES="${1:-40}" SLOW_CONCURRENCY="${SLOW_CONCURRENCY:-2}" BUDGET="${BUDGET:-10s}"
export RECEIVERS_DIR="$here/tests/receivers"
exec "$deps/venv/bin/python" - <<'EOF'
import json, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, os.environ["RECEIVERS_DIR"])
import receivers as R

IOTAD = os.environ["IOTAD_BIN"]
DEVICES = int(os.environ["BENCH_DEVICES"])
SLOW_CONC = int(os.environ["SLOW_CONCURRENCY"])
BUDGET = os.environ["BUDGET"]


def iotad(*args):
    r = subprocess.run([IOTAD, *map(str, args)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("iotad %s failed: %s%s" % (" ".join(map(str, args)), r.stdout, r.stderr))
    return r.stdout


def alert_toml(sinks):
    text = ('[alert]\nconcurrency = 8\ndelivery_budget = "%s"\n\n[[alert.rule]]\nname = "bench"\n'
            'detectors = ["default"]\ngroup_by = "device"\ngroup_wait = "1s"\nresolve_after = "24h"\n'
            'max_per_device_per_hour = 0\nsinks = [%s]\n\n' % (BUDGET, ", ".join('"%s"' % s for s, _, _ in sinks)))
    for name, url, conc in sinks:
        text += '[[alert.sink]]\nname = "%s"\ntype = "webhook"\nurl = "%s"\nconcurrency = %d\ntimeout = "5s"\n\n' % (
            name, url, conc)
    return text


def strip_alert(text):
    out, skip = [], False
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("["):
            skip = s in ("[alert]", "[[alert.rule]]", "[[alert.sink]]")
        if not skip:
            out.append(line)
    return "\n".join(out) + "\n"


root = Path(tempfile.mkdtemp(prefix="iotad-alert-bench-"))
recs = []
try:
    slow = R.start_recorder(root, "slow"); recs.append(slow)
    fast = [R.start_recorder(root, "fast%d" % i) for i in range(3)]; recs += fast
    slow.control(mode="ok", delay=1.0)

    template = root / "template"
    iotad("init", template)
    iotad("generate", "--devices", DEVICES, "--hours", 6, "--anomaly-rate", 24, "--anomaly-kinds", "spike",
          "--seed", 3, "--lake", template)
    cfg = template / "iotad.toml"
    cfg.write_text(strip_alert(cfg.read_text()) + "[alert]\nenabled = false\n\n[[alert.rule]]\nname = \"r\"\n"
                   "sinks = [\"f\"]\n\n[[alert.sink]]\nname = \"f\"\ntype = \"file\"\n")
    iotad("run", "--lake", template)

    def one(label, with_slow):
        for r in recs:
            r.reset()
        slow.control(mode="ok", delay=1.0)
        lake = root / label
        shutil.copytree(template, lake)
        sinks = [("fast%d" % i, f.url + "/hook", 2) for i, f in enumerate(fast)]
        if with_slow:
            sinks.append(("slow", slow.url + "/hook", SLOW_CONC))
        (lake / "iotad.toml").write_text(strip_alert((lake / "iotad.toml").read_text()) + alert_toml(sinks))
        t0 = time.time()
        out = iotad("alert", "--lake", lake)
        t1 = time.time()
        per = [len(f.requests()) for f in fast]
        n = per[0]
        if n == 0 or any(p != n for p in per):
            sys.exit("fast sinks received %s notifications: %s" % (per, out))
        fast_done = max(max(r["answered_at"] for r in f.requests()) for f in fast) - t0
        first = min(min(r["received_at"] for r in f.requests()) for f in fast) - t0
        res = {"label": label, "n": n, "fast_done_s": fast_done, "first_s": first, "run_s": t1 - t0}
        if with_slow:
            st = slow.stats()
            res.update(slow_received=st["requests"], slow_max_in_flight=st["max_in_flight"])
        return res

    a = one("fast-only", False)
    b = one("with-slow", True)
    print("alert delivery bench: %d notifications to each sink, 3 fast webhook sinks (concurrency 2 each), "
          "alert.concurrency 8, budget %s" % (a["n"], BUDGET))
    for label, r in (("fast sinks only:", a), ("+ a 1 s/request sink:", b)):
        print("  %-24s fast sinks had everything after %.2f s (first request at %.2f s: evaluation and outbox "
              "commit; delivering took %.2f s); the run took %.2f s"
              % (label, r["fast_done_s"], r["first_s"], r["fast_done_s"] - r["first_s"], r["run_s"]))
    print("  ratio (with / without):   %.2f until done, %.2f of the delivery time"
          % (b["fast_done_s"] / a["fast_done_s"], (b["fast_done_s"] - b["first_s"]) / (a["fast_done_s"] - a["first_s"])))
    print("  (were the fast sinks queued behind the slow one, they would need about %d s: %d requests x 1 s / %d)"
          % (b["n"] // SLOW_CONC, b["n"], SLOW_CONC))
    print("  slow sink: concurrency %d, peak in flight %d, %d of %d sent within the budget (the rest stay pending)"
          % (SLOW_CONC, b["slow_max_in_flight"], b["slow_received"], b["n"]))
finally:
    for r in recs:
        r.stop()
    shutil.rmtree(root, ignore_errors=True)
EOF
