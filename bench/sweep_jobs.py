"""Wall time of one `nnfit sweep` with --jobs 1 against --jobs 2, in one run of this script.

The sweep is the overfit demo (2000 epochs on 18 rows) at 4 rates: four runs of a
few seconds each, so worker start-up is small against the work. Each worker uses
one BLAS thread, so both settings compute the same numbers (checked here too).

    python bench/sweep_jobs.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parent.parent
NNFIT = Path(sys.executable).parent / "nnfit"
COMMAND = ["sweep", str(ROOT / "configs" / "bias_variance" / "overfit.yaml"),
           str(ROOT / "sample_data" / "noisy_sine.csv"), "--lr-range", "1e-3:1e-2:4"]


def run(jobs: int, out: Path) -> float:
    started = time.perf_counter()
    subprocess.run([str(NNFIT), *COMMAND, "--jobs", str(jobs), "--out", str(out)], check=True,
                   capture_output=True)
    return time.perf_counter() - started


def numbers(out: Path) -> list[dict]:
    with open(out / "sweep.csv") as fh:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(fh)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    times = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeat):
            for jobs in (1, 2):
                times[jobs].append(run(jobs, Path(tmp) / f"j{jobs}-{r}"))
        same = numbers(Path(tmp) / "j1-0") == numbers(Path(tmp) / "j2-0")
    best1, best2 = min(times[1]), min(times[2])
    print(f"nnfit {' '.join(COMMAND[:1])} overfit demo, 4 rates, best of {args.repeat}")
    print("| --jobs | wall s (best) | speed-up |")
    print("| --- | --- | --- |")
    print(f"| 1 | {best1:.2f} | 1.00 |")
    print(f"| 2 | {best2:.2f} | {best1 / best2:.2f} |")
    print(f"same numbers with 1 and 2 workers: {same}")


if __name__ == "__main__":
    main()
