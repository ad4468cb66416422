"""Prints one part of bench/detect_generality.sh's report from an `iotad eval --format json` file."""
import json
import sys


def loo(path):
    r = json.load(open(path))
    std = next(p for p in r["nab"] if p["profile"] == "standard")
    print(f"  whole set: {std['score']:.2f} at its best threshold {std['threshold']:.4f}, "
          f"{std['windows_hit']}/{std['windows']} windows, {std['fa_events']} false-alarm events")
    folds = next(p for p in r["leave_one_out"] if p["profile"] == "standard")
    for c in folds["categories"]:
        score = "n/a" if c["score"] is None else f"{c['score']:.2f}"
        print(f"  held out {c['category']:<24} {score:>6}  threshold {c['threshold']:.4f}  "
              f"{c['windows_hit']}/{c['windows']} windows  {c['fa_events']} false-alarm events")
    print(f"  pooled {folds['pooled']['score']:.2f}")


def series(path, seed):
    r = json.load(open(path))
    p = next(p for p in r["nab"] if p["profile"] == "standard")
    print(f"  {seed:<6} {p['score']:>10.2f} ({p['fa_events']:>3} FA events) "
          f"{p['windows_hit']:>10}/{p['windows']:<6} {p['own_best_score']:>14.2f}")


def pump(path):
    e = json.load(open(path))["events"]
    o = e["overall"]
    print(f"  found {o['detected']}/{o['events']}, {o['false_alerts']} false-alarm events over "
          f"{e['normal_hours']:.2f} h of normal operation: {e['false_alarm_events_per_normal_hour']:.2f} "
          f"per hour (target: >= 27 at < 0.5)")
    for k in e["by_kind"]:
        print(f"    {k['kind']:<14} {k['detected']}/{k['events']}")


def fleet(path):
    e = json.load(open(path))["events"]
    f1 = e["overall"]["f1"]
    cell = "n/a" if f1 is None else f"{f1:.2f}"
    print(f"{cell:>9} / {e['false_alarms_per_device_day']:.2f}", end="")


if __name__ == "__main__":
    {"loo": loo, "series": series, "pump": pump, "fleet": fleet}[sys.argv[1]](*sys.argv[2:])
