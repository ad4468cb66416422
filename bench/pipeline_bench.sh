#!/usr/bin/env bash
# End-to-end benchmark: the iotad pipeline (ingest -> silver -> gold) against the same job written
# as plain DuckDB SQL (bench/duckdb_baseline.cpp), on the same generated CSV files.
#
#   bash bench/pipeline_bench.sh [--rows 10000000] [--devices 10000] [--runs 3] [--workdir DIR]
#                                [--keep] [--no-build] [--duckdb-memory-limit 1GB]
#
# Runs the iotad pipeline and the SQL job in turn, --runs times (iotad, DuckDB, iotad, ...), each
# on a fresh lake, and prints a table of medians (stage, seconds, rows, rows/s, peak MiB), both
# headline ratios (median of the run-by-run ratios), the cross-checks and the machine, and writes
# the same to WORKDIR/results.json. See bench/README.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cmdline="bash bench/pipeline_bench.sh$(printf ' %q' "$@")"

rows=10000000
devices=10000
runs=3
workdir="${TMPDIR:-/tmp}/iotad-bench"
keep=0
build_first=1
duck_mem=""

die() { printf 'pipeline_bench: %s\n' "$*" >&2; exit 1; }
log() { printf '[bench] %s\n' "$*" >&2; }
usage() { sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --rows) [ $# -ge 2 ] || die "--rows needs a value"; rows="$2"; shift 2 ;;
    --devices) [ $# -ge 2 ] || die "--devices needs a value"; devices="$2"; shift 2 ;;
    --runs) [ $# -ge 2 ] || die "--runs needs a value"; runs="$2"; shift 2 ;;
    --workdir) [ $# -ge 2 ] || die "--workdir needs a value"; workdir="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    --no-build) build_first=0; shift ;;
    --duckdb-memory-limit) [ $# -ge 2 ] || die "--duckdb-memory-limit needs a value"; duck_mem="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ "$rows" =~ ^[1-9][0-9]*$ ]] || die "--rows must be a positive whole number, not '$rows'"
[[ "$devices" =~ ^[1-9][0-9]*$ ]] || die "--devices must be a positive whole number, not '$devices'"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive whole number, not '$runs'"
[ "$rows" -ge "$((devices * 60))" ] || die "--rows must be at least 60 x --devices (one hour of data at one row a minute)"
command -v python3 >/dev/null || die "python3 is needed to read the baseline's JSON and print the table"
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) is missing: install the Debian package 'time' (scripts/setup.sh does)"

# hours = rows / devices / 60 minutes, as a decimal (10M rows, 10k devices -> 16.6667)
hours="$(awk -v r="$rows" -v d="$devices" 'BEGIN { h = sprintf("%.4f", r / d / 60); sub(/\.?0+$/, "", h); print h }')"

# ---- build -----------------------------------------------------------------------------------
build="${IOTAD_BUILD_DIR:-$here/build}"
case "$build" in /*) ;; *) build="$here/$build" ;; esac
iotad="$build/src/iotad/iotad"
baseline="$build/bench/duckdb_baseline"
if [ ! -f "$build/CMakeCache.txt" ]; then
  log "no build in $build: running scripts/setup.sh (dependencies + release build)"
  IOTAD_BUILD_DIR="$build" bash "$here/scripts/setup.sh" || die "scripts/setup.sh failed, so there is nothing to benchmark"
fi
if [ "$build_first" = 1 ]; then
  log "bringing $build up to date (targets iotad, duckdb_baseline)"
  build_log="$(mktemp "${TMPDIR:-/tmp}/iotad-bench-build.XXXXXX.log")"
  cmake --build "$build" --target iotad duckdb_baseline >"$build_log" 2>&1 ||
    die "building iotad and duckdb_baseline in $build failed (log: $build_log; --no-build runs the binaries as they are)"
  rm -f "$build_log"
fi
[ -x "$iotad" ] || die "the iotad binary is missing at $iotad"
[ -x "$baseline" ] || die "the duckdb_baseline binary is missing at $baseline"
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)"
[ "$build_type" = "Release" ] || log "warning: $build is a '${build_type:-unknown}' build, not Release: timings are not representative"

# ---- work folder -----------------------------------------------------------------------------
mkdir -p "$workdir"
workdir="$(cd "$workdir" && pwd)"
input="$workdir/input"
lake="$workdir/lake"
duck="$workdir/duck"
logs="$workdir/logs"
rm -rf "$lake" "$duck" "$logs" "$workdir/results.json"
mkdir -p "$logs"
cleanup() {
  if [ "$keep" = 0 ]; then rm -rf "$lake" "$duck" "$input" "$workdir/input.params"; fi
}
trap cleanup EXIT

# timed LABEL CMD...: runs CMD under GNU time, stdout/stderr to logs/LABEL.{out,err}; sets
# T_SECS and T_MIB. A failing command ends the benchmark with the stage's own error message.
timed() {
  local label="$1"; shift
  local tf="$logs/$label.time" rc=0
  /usr/bin/time -f '%e %M' -o "$tf" "$@" >"$logs/$label.out" 2>"$logs/$label.err" || rc=$?
  if [ "$rc" -ne 0 ]; then
    local why
    why="$(grep -v '^\s*$' "$logs/$label.err" | tail -n 3 | tr '\n' ' ')"
    die "stage '${label//_/ }' failed (exit $rc): ${why:-no message} -- command: $*; the rest of the benchmark was skipped (logs in $logs)"
  fi
  read -r T_SECS T_KIB < <(tail -n 1 "$tf")
  T_MIB="$(awk -v k="$T_KIB" 'BEGIN { printf "%.1f", k / 1024 }')"
}

# sql_count QUERY: the single number `iotad sql` prints for QUERY (csv output; header optional).
sql_count() {
  local out rc=0
  out="$("$iotad" sql --lake "$lake" --format csv "$1" 2>"$logs/sql.err")" || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "iotad sql failed (exit $rc) on \"$1\": $(grep -v '^\s*$' "$logs/sql.err" | tail -n 2 | tr '\n' ' ')" >&2
    return 1
  fi
  out="$(printf '%s\n' "$out" | tr -d '"\r ' | grep -E '^[0-9]+$' | tail -n 1)"
  [ -n "$out" ] || { echo "iotad sql printed no number for \"$1\"" >&2; return 1; }
  printf '%s' "$out"
}

# ---- data ------------------------------------------------------------------------------------
params="devices=$devices hours=$hours interval=60s seed=7 dirty"
gen_secs=""
if [ -f "$workdir/input.params" ] && [ "$(cat "$workdir/input.params")" = "$params" ] &&
   compgen -G "$input/fleet-*.csv" >/dev/null; then
  log "reusing the data in $input ($params)"
else
  rm -rf "$input" "$workdir/input.params"
  log "generating $rows rows: iotad generate --devices $devices --hours $hours --interval 60s --seed 7 --dirty"
  timed generate "$iotad" generate --devices "$devices" --hours "$hours" --interval 60s --seed 7 --dirty --out "$input"
  gen_secs="$T_SECS"
  compgen -G "$input/fleet-*.csv" >/dev/null || die "iotad generate wrote no fleet-*.csv files into $input"
  printf '%s' "$params" >"$workdir/input.params"
fi
input_files="$(compgen -G "$input/fleet-*.csv" | wc -l)"
input_bytes="$(cat "$input"/fleet-*.csv | wc -c)"
input_lines="$(cat "$input"/fleet-*.csv | wc -l)"
input_rows=$((input_lines - input_files))  # minus one header a file
log "input: $input_files files, $input_rows data lines, $((input_bytes / 1048576)) MiB"

# The machine may be shared: other work running during the benchmark skews both sides.
load_start="$(cut -d' ' -f1 /proc/loadavg)"
if awk -v l="$load_start" 'BEGIN { exit !(l >= 0.5) }'; then
  log "warning: load average is $load_start before the benchmark: other work on this machine will slow both sides"
fi

# ---- the runs: iotad's pipeline, then DuckDB's SQL job, --runs times ----------------------------
runlog=()  # "run|stage|seconds|rows|peak_mib"
for run in $(seq 1 "$runs"); do
  rm -rf "$lake" "$duck"
  # Untimed: what the generator or the previous run left for the disk to write back is charged
  # to neither side (at 30M rows the first ingest after generating took 5.9 s, the next 2.1 s).
  sync
  log "run $run of $runs: iotad init, ingest, silver, gold --detectors zscore, gold --rebuild (all default detectors)"
  timed iotad_init "$iotad" init "$lake"
  runlog+=("$run|iotad init|$T_SECS||$T_MIB")
  timed iotad_ingest "$iotad" ingest "$input" --lake "$lake"
  runlog+=("$run|iotad ingest|$T_SECS|$input_rows|$T_MIB")
  timed iotad_silver "$iotad" silver --lake "$lake"
  runlog+=("$run|iotad silver|$T_SECS|SILVER|$T_MIB")
  timed iotad_gold "$iotad" gold --lake "$lake" --detectors zscore
  runlog+=("$run|iotad gold (zscore)|$T_SECS|SILVER|$T_MIB")
  if [ "$run" = "$runs" ]; then  # the counts are the same every run: taken once
    silver_rows="$(sql_count "SELECT count(*) FROM silver")" || die "cannot count the silver rows with iotad sql"
    anom_z="$(sql_count "SELECT count(*) FROM anomalies")" || die "cannot count the anomalies with iotad sql"
    # Only for the cross-checks: a missing view leaves "n/a" rather than ending the run.
    quarantine_rows="$(sql_count "SELECT count(*) FROM quarantine" 2>>"$logs/sql_optional.err")" || quarantine_rows=""
    summary_rows="$(sql_count "SELECT count(*) FROM gold_summary" 2>>"$logs/sql_optional.err")" || summary_rows=""
  fi
  timed iotad_gold_all "$iotad" gold --lake "$lake" --rebuild
  runlog+=("$run|iotad gold --rebuild (all detectors)|$T_SECS|SILVER|$T_MIB")
  cp "$logs/iotad_gold_all.out" "$logs/iotad_gold_all.$run.out"
  [ "$run" = "$runs" ] && { anom_all="$(sql_count "SELECT count(*) FROM anomalies")" ||
    die "cannot count the anomalies with iotad sql"; }

  log "run $run of $runs: duckdb_baseline"
  sync
  duck_args=(--input "$input" --output "$duck")
  [ -n "$duck_mem" ] && duck_args+=(--memory-limit "$duck_mem")
  timed duckdb_baseline "$baseline" "${duck_args[@]}"
  cp "$logs/duckdb_baseline.out" "$logs/duckdb_baseline.$run.out"
  runlog+=("$run|duckdb total (process)|$T_SECS|$input_rows|$T_MIB")
done

# ---- start-up: process start to first row, on the last run's lake ---------------------------------
# `iotad sql` counting silver against a bare DuckDB process counting the same Parquet files
# (duckdb_baseline --count-parquet: no lake, no views), and `iotad status`, alternately.
# Timed to the microsecond ($EPOCHREALTIME; GNU time counts hundredths): each a whole process.
# quick LABEL CMD...: like timed, without the peak memory; sets T_SECS.
quick() {
  local label="$1"; shift
  local t0="$EPOCHREALTIME" rc=0
  "$@" >"$logs/$label.out" 2>"$logs/$label.err" || rc=$?
  local t1="$EPOCHREALTIME"
  [ "$rc" -eq 0 ] || die "start-up '$label' failed (exit $rc): $(tail -n 2 "$logs/$label.err" | tr '\n' ' ') -- command: $*"
  T_SECS="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')"
}
startlog=()  # "what|seconds|printed"
for k in 1 2 3; do
  quick start_sql "$iotad" sql --lake "$lake" --format csv "SELECT count(*) FROM silver"
  startlog+=("iotad sql|$T_SECS|$(tr -d '"\r ' <"$logs/start_sql.out" | grep -E '^[0-9]+$' | tail -n 1)")
  quick start_duckdb "$baseline" --count-parquet "$lake/silver"
  startlog+=("duckdb|$T_SECS|$(tail -n 1 "$logs/start_duckdb.out")")
  quick start_status "$iotad" status --lake "$lake"
  startlog+=("iotad status|$T_SECS|")
done

# ---- report ----------------------------------------------------------------------------------
load_end="$(cut -d' ' -f1 /proc/loadavg)"
cpu="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
mem_kib="$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
# The commit the measured build was made from (IOTAD_BUILD_DIR may be another checkout's build).
src="$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt" 2>/dev/null)"
src="${src:-$here}"
export B_STARTLOG="$(printf '%s\n' "${startlog[@]}")" B_RUNLOG="$(printf '%s\n' "${runlog[@]}")" B_LOGS="$logs" B_RUNS="$runs" B_SILVER_ROWS="$silver_rows" B_ANOM_Z="$anom_z" B_ANOM_ALL="$anom_all" \
  B_QUARANTINE="$quarantine_rows" B_SUMMARY="$summary_rows" B_INPUT_ROWS="$input_rows" B_INPUT_FILES="$input_files" \
  B_INPUT_BYTES="$input_bytes" B_GEN_SECS="$gen_secs" B_ROWS="$rows" B_DEVICES="$devices" B_HOURS="$hours" \
  B_NPROC="$(nproc)" B_CPU="$cpu" B_LOAD="$load_start $load_end" B_MEM_KIB="$mem_kib" B_CMDLINE="$cmdline" B_WORKDIR="$workdir" \
  B_BUILD="$build" B_BUILD_TYPE="$build_type" B_IOTAD_VERSION="$("$iotad" --version 2>/dev/null | head -n 1 || true)" \
  B_GIT="$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$src" diff --quiet HEAD 2>/dev/null || echo '+dirty')"
python3 - <<'PY'
import json, os, datetime

E = os.environ
def num(s):
    try:
        return float(s) if s not in ("", None) else None
    except ValueError:
        return None

from statistics import median

runs = int(E["B_RUNS"])
per_run = {}  # run -> stage -> (seconds, rows, peak_mib)
order = []    # stage names in the order they ran
for line in E["B_RUNLOG"].splitlines():
    run, name, secs, n, mib = line.split("|")
    if n == "SILVER":
        n = E["B_SILVER_ROWS"]
    per_run.setdefault(int(run), {})[name] = (num(secs), int(n) if n else None, num(mib))
    if name not in order:
        order.append(name)

def duck_steps(run):
    steps = {}
    with open(os.path.join(E["B_LOGS"], f"duckdb_baseline.{run}.out")) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                o = json.loads(line)
                steps[o["step"]] = o
    for step in ("read", "dedup", "silver", "gold", "total"):
        if step not in steps:
            raise SystemExit(f"pipeline_bench: the baseline printed no '{step}' step (see {E['B_LOGS']})")
    return steps
duck = {run: duck_steps(run) for run in per_run}
total = duck[max(duck)]["total"]  # settings and counts (the same every run)

rows = []  # one dict per table row: medians over the runs, the largest peak
for name in order:
    if not name.startswith("iotad"):
        continue
    vals = [per_run[r][name] for r in sorted(per_run)]
    rows.append({"tool": "iotad", "stage": name, "seconds": median(v[0] for v in vals), "rows": vals[-1][1],
                 "peak_mib": max(v[2] for v in vals), "runs": [v[0] for v in vals]})
for step in ("read", "dedup", "silver", "gold"):
    os_ = [duck[r][step] for r in sorted(duck)]
    o = os_[-1]
    n = o["rows"] + o.get("rows_rejected", 0) if step == "read" else o.get("rows_in", o["rows"])
    rows.append({"tool": "duckdb", "stage": f"duckdb {step}", "seconds": median(x["seconds"] for x in os_), "rows": n,
                 "peak_mib": max(x["peak_rss_mib"] for x in os_), "runs": [x["seconds"] for x in os_]})
dvals = [per_run[r]["duckdb total (process)"] for r in sorted(per_run)]
rows.append({"tool": "duckdb", "stage": "duckdb total (process)", "seconds": median(v[0] for v in dvals),
             "rows": int(E["B_INPUT_ROWS"]), "peak_mib": max(v[2] for v in dvals), "runs": [v[0] for v in dvals]})
for r in rows:
    r["rows_per_s"] = round(r["rows"] / r["seconds"]) if r["rows"] and r["seconds"] else None

# The two comparisons, each against the SQL job's four timed steps (read, dedup, partitioned
# COPY, z-score gold; no process start), run by run, then the median of the ratios:
#  1. silver + the tutorial's z-score gold (the same work as the SQL job; ingest only lands raw
#     files in bronze, a step the SQL job does not have);
#  2. what a user runs: ingest + silver + gold with its default detectors (more work than the SQL
#     job: two more detectors, the online ensemble among them).
def run_sum(r, names):
    return sum(per_run[r][n][0] for n in names)
core_names = ("iotad silver", "iotad gold (zscore)")
user_names = ("iotad ingest", "iotad silver", "iotad gold --rebuild (all detectors)")
duck_run = {r: duck[r]["total"]["seconds"] for r in duck}
ratio_core = [duck_run[r] / run_sum(r, core_names) for r in sorted(per_run)]
ratio_user = [duck_run[r] / run_sum(r, user_names) for r in sorted(per_run)]
iotad_s = median(run_sum(r, core_names) for r in per_run)
user_s = median(run_sum(r, user_names) for r in per_run)
duck_s = median(duck_run.values())
speedup = median(ratio_core)
speedup_user = median(ratio_user)
iotad_mib = max(r["peak_mib"] for r in rows if r["tool"] == "iotad")
duck_mib = max(v[2] for v in dvals)
goal_met = speedup >= 3.0 and speedup_user >= 1.5 and iotad_mib < 1024

def cnt(s):
    return int(s) if s not in ("", None) else None
checks = [
    ("silver rows", cnt(E["B_SILVER_ROWS"]), total["silver_rows"]),
    ("anomalies (zscore, |z| > 3)", cnt(E["B_ANOM_Z"]), total["anomalies"]),
    ("quarantined / rejected+keyless rows", cnt(E["B_QUARANTINE"]), total["rows_rejected"] + total["rows_without_key"]),
    ("gold summary rows", cnt(E["B_SUMMARY"]), total["summary_rows"]),
]

# Start-up: medians of the three alternating runs; both counts must be silver's row count.
start = {}
for line in E["B_STARTLOG"].splitlines():
    what, secs, printed = line.split("|")
    start.setdefault(what, {"runs": [], "printed": set()})
    start[what]["runs"].append(float(secs))
    start[what]["printed"].add(printed)
for what in ("iotad sql", "duckdb"):
    if start[what]["printed"] != {E["B_SILVER_ROWS"]}:
        raise SystemExit(f"pipeline_bench: {what} counted {sorted(start[what]['printed'])} silver rows at start-up, "
                         f"not {E['B_SILVER_ROWS']}")
startup = {w: {"seconds": median(v["runs"]), "runs": v["runs"]} for w, v in start.items()}

load = [float(x) for x in E["B_LOAD"].split()]
machine = {"nproc": int(E["B_NPROC"]), "cpu": E["B_CPU"], "ram_gib": round(int(E["B_MEM_KIB"]) / 1048576, 1),
           "loadavg_1m_start": load[0], "loadavg_1m_end": load[1]}

def fmt(v, spec):
    return format("-", ">" + spec.split(",")[0].split(".")[0].rstrip("dfn")) if v is None else format(v, spec)
print()
print(f"{'stage':<40} {'seconds':>9} {'rows':>12} {'rows/s':>12} {'peak MiB':>9}")
print("-" * 86)
for r in rows:
    print(f"{r['stage']:<40} {fmt(r['seconds'], '9.2f')} {fmt(r['rows'], '12,d')} {fmt(r['rows_per_s'], '12,d')} "
          f"{fmt(r['peak_mib'], '9.1f')}")
print("-" * 86)
def ratios(xs):
    return ", ".join(f"{x:.2f}" for x in xs)
print(f"silver+gold (zscore): iotad {iotad_s:.2f} s vs DuckDB SQL {duck_s:.2f} s = {speedup:.2f} x "
      + ("faster" if speedup >= 1 else "(iotad is slower)") + f"  [runs: {ratios(ratio_core)}]")
print(f"ingest+silver+gold (default detectors): iotad {user_s:.2f} s vs DuckDB SQL {duck_s:.2f} s = "
      f"{speedup_user:.2f} x " + ("faster" if speedup_user >= 1 else "(iotad is slower)") + f"  [runs: {ratios(ratio_user)}]")
print(f"  (medians of {runs} alternating runs: iotad's stages each a whole process; DuckDB: read+dedup+silver+gold "
      f"steps, process total {median(v[0] for v in dvals):.2f} s)")
print(f"peak memory: iotad {iotad_mib:.1f} MiB (max over stages and runs) vs DuckDB SQL {duck_mib:.1f} MiB")
print(f"goal (silver+gold >= 3x, ingest+silver+gold with default detectors >= 1.5x, iotad peak < 1024 MiB): "
      f"{'MET' if goal_met else 'NOT MET'}")
sql_s, duck0_s, status_s = (startup[w]["seconds"] for w in ("iotad sql", "duckdb", "iotad status"))
print(f"start-up, process start to first row (medians of 3 alternating runs): iotad sql counting silver "
      f"{sql_s:.3f} s vs a bare DuckDB process counting the same Parquet files {duck0_s:.3f} s "
      f"({duck0_s / sql_s:.2f} x); iotad status {status_s:.3f} s")
print()
print("cross-checks (iotad vs DuckDB SQL; differences come from which rows each side quarantines):")
for name, a, b in checks:
    if a is None:
        print(f"  {name:<38} iotad {'n/a':>12}   duckdb {b:>12,d}")
    else:
        d = f"{(a - b) / b * 100:+.2f}%" if b else "-"
        print(f"  {name:<38} iotad {a:>12,d}   duckdb {b:>12,d}   diff {a - b:+,d} ({d})")
print(f"  anomalies with all default detectors (iotad gold --rebuild): {cnt(E['B_ANOM_ALL']):,d}")
print()
print(f"data: {int(E['B_INPUT_ROWS']):,d} data lines in {E['B_INPUT_FILES']} files, "
      f"{int(E['B_INPUT_BYTES']) / 1048576:.0f} MiB ({E['B_DEVICES']} devices x {E['B_HOURS']} h at 60 s, seed 7, dirty)"
      + (f"; generated in {float(E['B_GEN_SECS']):.1f} s" if E["B_GEN_SECS"] else "; reused"))
print(f"machine: {machine['nproc']} cores, {machine['cpu']}, {machine['ram_gib']} GiB RAM; "
      f"load average {load[0]:.2f} at start, {load[1]:.2f} at end")
print(f"duckdb: threads={total['threads']}, memory_limit={total['memory_limit']}, timestamps={total['timestamp_type']}, "
      f"dedup={total['dedup']}")
print(f"build: {E['B_BUILD']} ({E['B_BUILD_TYPE'] or 'unknown'}), git {E['B_GIT']}, {E['B_IOTAD_VERSION']}")
print(f"command: {E['B_CMDLINE']}")

result = {
    "when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "command": E["B_CMDLINE"],
    "machine": machine,
    "build": {"dir": E["B_BUILD"], "type": E["B_BUILD_TYPE"], "git": E["B_GIT"], "iotad": E["B_IOTAD_VERSION"]},
    "data": {"rows_requested": int(E["B_ROWS"]), "devices": int(E["B_DEVICES"]), "hours": E["B_HOURS"],
             "interval": "60s", "seed": 7, "dirty": True, "files": int(E["B_INPUT_FILES"]),
             "data_lines": int(E["B_INPUT_ROWS"]), "bytes": int(E["B_INPUT_BYTES"]),
             "generate_seconds": num(E["B_GEN_SECS"])},
    "stages": rows,
    "runs": runs,
    "duckdb_baseline": {str(r): list(d.values()) for r, d in duck.items()},
    "headline": {"iotad_seconds": round(iotad_s, 3), "duckdb_seconds": round(duck_s, 3),
                 "duckdb_process_seconds": median(v[0] for v in dvals), "speedup": round(speedup, 3),
                 "speedup_runs": [round(x, 3) for x in ratio_core],
                 "ingest_silver_gold_default_seconds": round(user_s, 3),
                 "speedup_ingest_silver_gold_default": round(speedup_user, 3),
                 "speedup_ingest_silver_gold_default_runs": [round(x, 3) for x in ratio_user],
                 "iotad_peak_mib": iotad_mib, "duckdb_peak_mib": duck_mib, "goal_met": goal_met},
    "startup": startup,
    "cross_checks": [{"check": n, "iotad": a, "duckdb": b} for n, a, b in checks]
                    + [{"check": "anomalies, all default detectors", "iotad": cnt(E["B_ANOM_ALL"]), "duckdb": None}],
}
with open(os.path.join(E["B_WORKDIR"], "results.json"), "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")
print(f"results: {os.path.join(E['B_WORKDIR'], 'results.json')}")
PY
