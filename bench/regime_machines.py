"""Machines that switch between two setpoints the way real ones do, scored by `iotad score-file`.

Three series, each two weeks at one reading a minute, levels 10 and 30 (20 sds of unit noise
apart), a switch every 1 to 6 hours, no anomaly:
  jump       the switch is one step (AR(1) noise, lag-1 correlation 0.5);
  ramp       two readings on the way at every switch (the same noise);
  overshoot  3 switches in 10 overshoot the new level by 5 sds for one reading (AR 0.8).
For each binary given, the flags after the first two days (by then each level has been entered
a few times) and how many of them were departures ("the setpoint it left"). Every flag is a false
alarm; the knob promises 0.02 per series-day, 0.24 over these 12 days.

Usage: python3 bench/regime_machines.py BIN [BIN...]   (e.g. build/src/iotad/iotad)
"""
import csv
import datetime
import os
import random
import subprocess
import sys
import tempfile

MINUTES = 14 * 1440
WARM = 2 * 1440  # the first two days' readings: not counted


def write(path, seed, rho, ramp=0, over_share=0.0, over_sds=0.0):
    rng = random.Random(seed)
    t0 = datetime.datetime(2024, 1, 1)
    level, left, noise, i = 10.0, 0, 0.0, 0
    with open(path, "w") as f:
        f.write("timestamp,value\n")

        def put(x):
            nonlocal i
            f.write(f"{t0 + datetime.timedelta(minutes=i)},{x:.2f}\n")
            i += 1

        while i < MINUTES:
            if left <= 0:
                start, level = level, 30.0 if level == 10.0 else 10.0
                left = rng.randint(60, 360)
                for r in range(1, ramp + 1):
                    put(start + (level - start) * r / (ramp + 1) + rng.gauss(0, 1))
                if rng.random() < over_share:
                    put(level + (over_sds if level > start else -over_sds) + rng.gauss(0, 1))
            noise = rho * noise + rng.gauss(0, (1 - rho * rho) ** 0.5)
            put(level + noise)
            left -= 1


def flags(binary, data, out):
    subprocess.run([binary, "score-file", "--input", data, "--output", out, "--explain"], check=True,
                   capture_output=True)
    with open(out) as f:
        rows = list(csv.reader(f))[1:]
    flagged = [r for i, r in enumerate(rows) if i >= WARM and r[3] in ("1", "true")]
    return len(flagged), sum("the setpoint it left" in r[8] for r in flagged)


def main(binaries):
    machines = {"jump": dict(seed=3, rho=0.5), "ramp": dict(seed=2, rho=0.5, ramp=2),
                "overshoot": dict(seed=1, rho=0.8, over_share=0.3, over_sds=5.0)}
    with tempfile.TemporaryDirectory() as work:
        print(f"{'machine':<10} " + " ".join(f"{os.path.basename(b):>24}" for b in binaries))
        for name, spec in machines.items():
            data = os.path.join(work, f"{name}.csv")
            write(data, **spec)
            cells = []
            for b in binaries:
                n, departures = flags(b, data, os.path.join(work, "scores.csv"))
                cells.append(f"{n:>4} flags ({departures} departures)")
            print(f"{name:<10} " + " ".join(f"{c:>24}" for c in cells))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
