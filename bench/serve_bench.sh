#!/usr/bin/env bash
# The dashboard's speed: `iotad serve` on the benchmark lake (10M readings, 10,000 devices, made
# like bench/pipeline_bench.sh's), C concurrent clients on each overview endpoint and the device
# series (cache misses and hits, median and p99), the same aggregates as plain DuckDB SQL in the
# same run (the peer), and the browser's time to a usable overview (body[data-state=ready]).
#
#   bash bench/serve_bench.sh [--rows 10000000] [--devices 10000] [--clients 1,4] [--misses 60]
#                             [--hits 200] [--ready-runs 5] [--workdir DIR] [--no-build] [--no-browser]
#                             [--no-keepalive]
#
# The lake is kept in WORKDIR and reused while --rows/--devices are the same. See bench/README.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cmdline="bash bench/serve_bench.sh$(printf ' %q' "$@")"

rows=10000000
devices=10000
clients="1,4"
misses=60
hits=200
ready_runs=5
workdir="${TMPDIR:-/tmp}/iotad-serve-bench"
build_first=1
browser=1
keepalive=()

die() { printf 'serve_bench: %s\n' "$*" >&2; exit 1; }
log() { printf '[serve-bench] %s\n' "$*" >&2; }
usage() { sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --rows) [ $# -ge 2 ] || die "--rows needs a value"; rows="$2"; shift 2 ;;
    --devices) [ $# -ge 2 ] || die "--devices needs a value"; devices="$2"; shift 2 ;;
    --clients) [ $# -ge 2 ] || die "--clients needs a value"; clients="$2"; shift 2 ;;
    --misses) [ $# -ge 2 ] || die "--misses needs a value"; misses="$2"; shift 2 ;;
    --hits) [ $# -ge 2 ] || die "--hits needs a value"; hits="$2"; shift 2 ;;
    --ready-runs) [ $# -ge 2 ] || die "--ready-runs needs a value"; ready_runs="$2"; shift 2 ;;
    --workdir) [ $# -ge 2 ] || die "--workdir needs a value"; workdir="$2"; shift 2 ;;
    --no-build) build_first=0; shift ;;
    --no-browser) browser=0; shift ;;
    --no-keepalive) keepalive=(--no-keepalive); shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
for v in rows devices misses hits ready_runs; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "--${v//_/-} must be a positive whole number, not '${!v}'"
done
[[ "$clients" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die "--clients must be a comma list of client counts, not '$clients'"
[ "$rows" -ge "$((devices * 60))" ] || die "--rows must be at least 60 x --devices (one hour of data at one row a minute)"
hours="$(awk -v r="$rows" -v d="$devices" 'BEGIN { h = sprintf("%.4f", r / d / 60); sub(/\.?0+$/, "", h); print h }')"

# ---- build -----------------------------------------------------------------------------------
build="${IOTAD_BUILD_DIR:-$here/build}"
case "$build" in /*) ;; *) build="$here/$build" ;; esac
iotad="$build/src/iotad/iotad"
client="$build/bench/serve_bench"
if [ ! -f "$build/CMakeCache.txt" ]; then
  log "no build in $build: running scripts/setup.sh (dependencies + release build)"
  IOTAD_BUILD_DIR="$build" bash "$here/scripts/setup.sh" || die "scripts/setup.sh failed, so there is nothing to benchmark"
fi
if [ "$build_first" = 1 ]; then
  log "bringing $build up to date (targets iotad, serve_bench)"
  build_log="$(mktemp "${TMPDIR:-/tmp}/iotad-serve-bench-build.XXXXXX.log")"
  cmake --build "$build" --target iotad serve_bench >"$build_log" 2>&1 ||
    die "building iotad and serve_bench in $build failed (log: $build_log)"
  rm -f "$build_log"
fi
[ -x "$iotad" ] || die "the iotad binary is missing at $iotad"
[ -x "$client" ] || die "the serve_bench client is missing at $client"
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)"
[ "$build_type" = "Release" ] || log "warning: $build is a '${build_type:-unknown}' build, not Release: timings are not representative"
if [ "$browser" = 1 ]; then
  [ -d "$here/tests/browser/node_modules/playwright-core" ] || die "tests/browser/node_modules is missing: run scripts/setup.sh (or pass --no-browser)"
  [ -x "${IOTAD_CHROMIUM:-/usr/bin/chromium}" ] || die "chromium is missing: run scripts/setup.sh (or pass --no-browser)"
fi

# ---- the lake (made once, reused) ------------------------------------------------------------
mkdir -p "$workdir"
workdir="$(cd "$workdir" && pwd)"
lake="$workdir/lake"
logs="$workdir/logs"
mkdir -p "$logs"
params="devices=$devices hours=$hours interval=60s seed=7 dirty"
if [ -f "$workdir/lake.params" ] && [ "$(cat "$workdir/lake.params")" = "$params" ] && [ -d "$lake/_iotad" ]; then
  log "reusing the lake in $lake ($params)"
else
  rm -rf "$lake" "$workdir/input" "$workdir/lake.params"
  log "generating $rows rows: iotad generate --devices $devices --hours $hours --interval 60s --seed 7 --dirty"
  "$iotad" generate --devices "$devices" --hours "$hours" --interval 60s --seed 7 --dirty --out "$workdir/input" \
    >"$logs/generate.out" 2>&1 || die "iotad generate failed: $(tail -n 3 "$logs/generate.out")"
  "$iotad" init "$lake" >"$logs/init.out" 2>&1 || die "iotad init failed: $(tail -n 3 "$logs/init.out")"
  log "iotad run (ingest, silver, gold with the default detectors, checks, alerts)"
  "$iotad" run --lake "$lake" --input "$workdir/input" --no-inbox >"$logs/run.out" 2>&1 ||
    die "iotad run failed: $(tail -n 3 "$logs/run.out")"
  rm -rf "$workdir/input"  # bronze holds the rows now
  printf '%s' "$params" >"$workdir/lake.params"
fi
silver_rows="$("$iotad" sql --lake "$lake" --format csv "SELECT count(*) FROM silver" | tail -n 1)"
log "lake: $silver_rows silver rows"

# ---- the server ------------------------------------------------------------------------------
load_start="$(cut -d' ' -f1 /proc/loadavg)"
"$iotad" serve --lake "$lake" --listen 127.0.0.1:0 >"$logs/serve.out" 2>"$logs/serve.err" &
serve_pid=$!
stop_server() {
  if kill -0 "$serve_pid" 2>/dev/null; then
    kill -TERM "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
  fi
}
trap stop_server EXIT
url=""
for _ in $(seq 1 300); do
  url="$(sed -n 's/^.*dashboard: \(http:\/\/[^ /]*\/\).*$/\1/p' "$logs/serve.out" | head -n 1)"
  [ -n "$url" ] && break
  kill -0 "$serve_pid" 2>/dev/null || die "iotad serve exited before listening: $(tail -n 3 "$logs/serve.err")"
  sleep 0.1
done
[ -n "$url" ] || die "iotad serve printed no dashboard address in 30 s (logs in $logs)"
log "iotad serve at $url"

# ---- the browser first, right after the server printed its address -------------------------
# (the server computes the overview's default views at start; this load may come before that ends)
ready_json=""
if [ "$browser" = 1 ]; then
  log "browser: time to body[data-state=ready] on the overview, $ready_runs fresh contexts"
  ready_json="$(IOTAD_BIN="$iotad" node "$here/tests/browser/lib/ready_time.mjs" "$url" "$ready_runs")" ||
    die "the browser could not load the overview"
fi

# ---- load + peer -----------------------------------------------------------------------------
log "clients $clients: $misses unique requests (misses) and $hits repeated ones (hits) per endpoint"
rc=0
"$client" --url "$url" --lake "$lake" --clients "$clients" --misses "$misses" --hits "$hits" \
  --json "$workdir/serve_results.json" ${keepalive[@]+"${keepalive[@]}"} || rc=$?
stop_server
trap - EXIT
load_end="$(cut -d' ' -f1 /proc/loadavg)"

echo
if [ -n "$ready_json" ]; then
  printf '%s' "$ready_json" | python3 -c '
import json, sys
o = json.load(sys.stdin)
print("browser: overview usable (body[data-state=ready]) in %s ms median of %d loads in fresh contexts %s; "
      "the first right after the server started (while it computes the default views)" % (o["median_ms"], len(o["runs_ms"]), o["runs_ms"]))'
fi
cpu="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "lake: $silver_rows silver rows ($params); clients: $clients"
echo "machine: $(nproc) cores, $cpu; load average $load_start at start, $load_end at end"
echo "build: $build (${build_type:-unknown}), git $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "command: $cmdline"
echo "results: $workdir/serve_results.json"
[ "$rc" = 0 ] || die "the load client reported failures (exit $rc; see above)"
