"""Prints one part of bench/detect_generality.sh's report from an `iotad eval --format json` file."""
import json
import sys


def standard(profiles):
    """The standard profile's entry of an eval JSON list of profiles."""
    return next(p for p in profiles if p["profile"] == "standard")


def threshold(t):
    """A threshold, or "none" where flagging nothing scores best."""
    return "none" if t is None else f"{t:.4f}"


def loo(path):
    r = json.load(open(path))
    std = standard(r["nab"])
    print(f"  whole set: {std['score']:.2f} at its best threshold {threshold(std['threshold'])}, "
          f"{std['windows_hit']}/{std['windows']} windows, {std['fa_events']} false-alarm events")
    folds = standard(r["leave_one_out"])
    for c in folds["categories"]:
        score = "n/a" if c["score"] is None else f"{c['score']:.2f}"
        print(f"  held out {c['category']:<24} {score:>6}  threshold {threshold(c['threshold'])}  "
              f"{c['windows_hit']}/{c['windows']} windows  {c['fa_events']} false-alarm events")
    print(f"  pooled {folds['pooled']['score']:.2f}")
    knob(r)


def knob(r):
    """The flags themselves at the default sensitivity (0.02 false alarms per series-day): what a
    user gets. Each file is one series, so the evaluation's device-days are series-days. After
    NAB's probation (each series' first 15%, at most 750 rows), over the coverage after it; then
    over each whole series, its first rows included (what a new series gets)."""
    e = r["events"]
    w = r["events_whole_series"]
    print(f"  flags at the default knob: {e['false_alarms_per_device_day']:.3f} false alarms per "
          f"series-day outside the windows after probation, {w['false_alarms_per_device_day']:.3f} "
          f"over each whole series (the knob promises 0.02)")
    knob_split([r])


# The rule members of `default` (on the raw value: a silence past the timeout, a stuck run, a
# reading outside the physical range), split from the model members calibrated by the series'
# history (the spike member under each of its expectations, CUSUM, novelty, volatility): a
# silence flags whatever the knob unless it is the series' routine, so the two shares are told
# apart.
RULES = ("silent", "flatline", "range")


def knob_split(reports):
    """The knob's false alerts after probation by what reported them, the reports together, and
    the model members' and the rules' shares per series-day."""
    by, days = {}, 0.0
    for r in reports:
        e = r["events"]
        days += e["device_days"]
        for name, n in e.get("false_alerts_by_detector", {}).items():
            by[name] = by.get(name, 0) + n
    if days <= 0:
        return
    rules = sum(n for name, n in by.items() if name in RULES)
    model = sum(by.values()) - rules
    named = ", ".join(f"{name} {n}" for name, n in sorted(by.items(), key=lambda kv: -kv[1])) or "none"
    print(f"    by what reported them: {named}; the model members {model / days:.3f} per "
          f"series-day, the rule members (silent, flatline, range) {rules / days:.3f}")


def knob_members(*paths):
    """knob_split over the seeds' eval JSONs (sections 2, 6 and 7)."""
    print("  flags at the default knob after probation, the seeds together:")
    knob_split([json.load(open(p)) for p in paths])


def series(path, seed):
    r = json.load(open(path))
    p = standard(r["nab"])
    print(f"  {seed:<6} {p['score']:>10.2f} ({p['fa_events']:>3} FA events) "
          f"{p['windows_hit']:>10}/{p['windows']:<6} {p['own_best_score']:>14.2f} "
          f"{r['events']['false_alarms_per_device_day']:>14.3f} / "
          f"{r['events_whole_series']['false_alarms_per_device_day']:.3f}")


def families(*paths):
    """The validation series by family, summed over the seeds (at the development threshold):
    where the windows are missed and where the false alarms come from."""
    fams = {}
    scores = []
    for path in paths:
        p = standard(json.load(open(path))["nab"])
        scores.append(p["score"])
        for f in p["files"]:
            a = fams.setdefault(f["file"].split("/")[0], [0, 0, 0, 0, 0.0])
            a[0] += 1
            a[1] += f["windows_hit"]
            a[2] += f["windows"]
            a[3] += f["fa_events"]
            a[4] += f["raw"]
    print(f"  mean over the {len(scores)} seeds at the dev threshold: {sum(scores) / len(scores):.2f}")
    print("  by family, summed over the seeds:")
    print(f"    {'family':<31} {'files':>6} {'windows hit':>12} {'FA events':>10} {'NAB raw':>9}")
    for name in sorted(fams):
        n, hit, windows, fa, raw = fams[name]
        print(f"    {name:<31} {n:>6} {hit:>7}/{windows:<4} {fa:>10} {raw:>9.2f}")


def kinds(*args):
    """Windows hit by family and anomaly kind, summed over the seeds: args are pairs of an eval
    JSON (its standard profile's threshold, the development set's) and a generate-series folder
    whose scores that eval wrote into SERIES/results/DETECTOR/ (`--write-results`). A window is
    hit when a row inside it scores at or above the threshold, as NAB counts it."""
    hits = {}
    for path, folder in zip(args[::2], args[1::2]):
        report = json.load(open(path))
        t = standard(report["nab"])["threshold"]
        detector = report["detector"]
        anomalies = json.load(open(f"{folder}/labels/anomalies.json"))
        for name, items in anomalies.items():
            category, file = name.split("/", 1)
            with open(f"{folder}/results/{detector}/{category}/{detector}_{file}") as f:
                next(f)
                rows = [line.rstrip("\n").split(",") for line in f if line.strip()]
            for a in items:
                lo, hi = a["window"][0][:19], a["window"][1][:19]
                hit = t is not None and any(lo <= r[0][:19] <= hi and float(r[2]) >= t for r in rows)
                h = hits.setdefault((name.split("/")[0], a["kind"]), [0, 0])
                h[0] += hit
                h[1] += 1
    print("  windows hit by kind, summed over the seeds (all families, then each):")
    kinds_all = sorted({k for _, k in hits})
    for kind in kinds_all:
        h = sum(v[0] for (f, k), v in hits.items() if k == kind)
        n = sum(v[1] for (f, k), v in hits.items() if k == kind)
        each = "  ".join(f"{f} {v[0]}/{v[1]}" for (f, k), v in sorted(hits.items()) if k == kind)
        print(f"    {kind:<18} {h:>4}/{n:<4}  {each}")


def merge_families(out, *args):
    """Lays the validation sets' scores out as one NAB results folder per family, all seeds
    together (OUT/DETECTOR/FAMILY/DETECTOR_sSEED_FILE, and OUT/labels/FAMILY.json), so that
    `iotad eval --results` can find each family's own best threshold: args are pairs of an eval
    JSON and its generate-series folder, as for `kinds`. Prints the development threshold."""
    import os
    import shutil
    labels = {}
    t = None
    for path, folder in zip(args[::2], args[1::2]):
        report = json.load(open(path))
        t = standard(report["nab"])["threshold"]
        detector = report["detector"]
        seed = os.path.basename(folder).rsplit("-", 1)[-1]
        windows = json.load(open(f"{folder}/labels/combined_windows.json"))
        for name, w in windows.items():
            family, file = name.split("/", 1)
            labels.setdefault(family, {})[f"{family}/s{seed}_{file}"] = w
            os.makedirs(f"{out}/{detector}/{family}", exist_ok=True)
            shutil.copyfile(f"{folder}/results/{detector}/{family}/{detector}_{file}",
                            f"{out}/{detector}/{family}/{detector}_s{seed}_{file}")
    os.makedirs(f"{out}/labels", exist_ok=True)
    for family, w in labels.items():
        json.dump(w, open(f"{out}/labels/{family}.json", "w"))
    print(threshold(t))


def family_thresholds(dev_threshold, *paths):
    """Each family at the development threshold and at its own best one (args: the development
    threshold, then per family its name and two eval JSONs: at the development threshold, at its
    own best). One global threshold works across very different series when every family's own
    best lies near it and scores little more there."""
    print("  each family, all seeds together: at the development threshold "
          f"{dev_threshold} and at its own best")
    print(f"    {'family':<12} {'at the dev threshold':<30} {'own best':>9}  at it")
    for family, at_dev, own in zip(paths[::3], paths[1::3], paths[2::3]):
        d = standard(json.load(open(at_dev))["nab"])
        o = standard(json.load(open(own))["nab"])
        print(f"    {family:<12} {d['score']:>6.2f} ({d['fa_events']:>4} FA, {d['windows_hit']:>3}/{d['windows']:<3} "
              f"windows) {threshold(o['threshold']):>9}  {o['score']:.2f} ({o['fa_events']} FA, "
              f"{o['windows_hit']}/{o['windows']} windows)")


def pump_found(e):
    """Faults found and false alarms of a pump eval's events."""
    o = e["overall"]
    return (f"found {o['detected']}/{o['events']}, {o['false_alerts']} false-alarm events over "
            f"{e['normal_hours']:.2f} h of normal operation: {e['false_alarm_events_per_normal_hour']:.2f} per hour")


def reported_by(e):
    """The false alarms by what reported them (for `default`, its members' names)."""
    counts = e.get("false_alerts_by_detector", {})
    return ", ".join(f"{name} {n}" for name, n in counts.items()) or "none"


def pump(path):
    e = json.load(open(path))["events"]
    print(f"  {pump_found(e)} (target: >= 27 at < 0.5)")
    print(f"    false alarms by what reported them: {reported_by(e)}")
    for k in e["by_kind"]:
        print(f"    {k['kind']:<14} {k['detected']}/{k['events']}")


def pump_seed(path, seed):
    """Another draw of the pump stand-in (`generate --profile pump --seed`), each run a device."""
    e = json.load(open(path))["events"]
    print(f"  seed {seed}: {pump_found(e)}; false alarms by what reported them: {reported_by(e)}")


def pump_one_device(path, config="default config"):
    e = json.load(open(path))["events"]
    print(f"  the runs as one device (silent between them), {config}: {pump_found(e)}")
    print(f"    false alarms by what reported them: {reported_by(e)}")


def fleet(path):
    e = json.load(open(path))["events"]
    f1 = e["overall"]["f1"]
    cell = "n/a" if f1 is None else f"{f1:.2f}"
    print(f"{cell:>9} / {e['false_alarms_per_device_day']:.2f}", end="")


def shift(src, dst):
    """Writes NAB file src to dst with every value raised by 100 times the series' range."""
    with open(src) as f:
        header = f.readline()
        rows = [line.rstrip("\n").split(",") for line in f if line.strip()]
    values = [float(r[1]) for r in rows]
    offset = 100 * ((max(values) - min(values)) or 1.0)
    with open(dst, "w") as f:
        f.write(header)
        for r, v in zip(rows, values):
            f.write(f"{r[0]},{v + offset!r}\n")


def offset(*pairs):
    """Each pair: a scored file and the score of the same series shifted (shift above). A detector
    whose scores depend on where a series sits (Celsius or Kelvin, a counter's base) changes them."""
    def scores(path):
        with open(path) as f:
            next(f)
            return [float(line.rstrip("\n").split(",")[2]) for line in f if line.strip()]
    files = changed_files = points = changed = 0
    worst = 0.0
    for a, b in zip(pairs[::2], pairs[1::2]):
        d = [abs(x - y) for x, y in zip(scores(a), scores(b))]
        files += 1
        points += len(d)
        moved = sum(x > 0.05 for x in d)
        changed += moved
        changed_files += moved > 0
        worst = max([worst] + d)
    print(f"  {changed_files}/{files} files with a score moved by more than 0.05: {changed} of "
          f"{points} points, at most {worst:.3f} (0 for an offset-invariant detector)")


if __name__ == "__main__":
    {"loo": loo, "series": series, "families": families, "knob_members": knob_members, "kinds": kinds,
     "merge_families": merge_families, "family_thresholds": family_thresholds, "pump": pump,
     "pump_seed": pump_seed, "pump_one_device": pump_one_device, "fleet": fleet, "shift": shift, "offset": offset}[sys.argv[1]](*sys.argv[2:])
