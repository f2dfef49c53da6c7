"""Peak memory of ``nnfit predict`` on a big CSV: bounded by a chunk, not by the file.

Writes a 1,000,000-row iris-like CSV (``--rows``; four numbers rounded to 2 decimals and a
class per row, about 29 MB) into ``--data-dir`` (kept for the next run), trains
``configs/iris.yaml`` there once, then runs ``nnfit predict RUN big.csv -o out.csv``
``--repeat`` times as a child process and prints its wall time and peak RSS (``os.wait4``,
the operating system's own count), against the target of issue 25: at most 3× the CSV's
size or 200 MB, whichever is larger. The same figures come from
``/usr/bin/time -v nnfit predict RUN big.csv -o out.csv``.

    python bench/predict_memory.py [--rows 1000000] [--repeat 2]

Compare another nnfit by running this with its Python (``PYTHONPATH=other/src``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_data(path: Path, n_rows: int) -> Path:
    """The CSV, written by a child process: a child's peak RSS starts from its parent's, so
    this process keeps none of the table's memory."""
    if not path.exists():
        subprocess.run([sys.executable, __file__, "--write", str(path), "--rows", str(n_rows)],
                       check=True)
    return path


def write(path: Path, n_rows: int) -> None:
    import numpy as np
    import pandas as pd

    if not path.exists():
        iris = pd.read_csv(ROOT / "sample_data" / "iris.csv")
        rows = iris.sample(n_rows, replace=True, random_state=0).reset_index(drop=True)
        numbers = rows.columns[:4]
        noise = np.random.default_rng(0).normal(0, 0.1, (n_rows, 4))
        rows[numbers] = (rows[numbers] + noise).round(2)
        rows.to_csv(path, index=False)


def nnfit(*args: object) -> list[str]:
    beside = Path(sys.executable).parent / "nnfit"
    head = [str(beside)] if beside.exists() else [sys.executable, "-m", "nnfit.cli"]
    return [*head, *map(str, args)]


def measured(cmd: list[str]) -> tuple[float, float]:
    """``(wall seconds, peak RSS in MB)`` of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=Path("bench-data/predict-memory"))
    parser.add_argument("--write", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:
        return write(args.write, args.rows)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    data = write_data(args.data_dir / f"big-{args.rows}.csv", args.rows)
    run = args.data_dir / "run"
    if not (run / "model.json").exists():
        subprocess.run(nnfit("train", ROOT / "configs" / "iris.yaml",
                             ROOT / "sample_data" / "iris.csv", "--out", run, "-q"), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    size = data.stat().st_size / 1e6
    target = max(3 * size, 200)
    print(f"{data} ({args.rows:,} rows, {size:.1f} MB); target: peak RSS ≤ {target:.0f} MB")
    out = args.data_dir / "out.csv"
    for _ in range(args.repeat):
        out.unlink(missing_ok=True)
        wall, peak = measured(nnfit("predict", run, data, "-o", out))
        print(f"  wall {wall:5.2f} s   peak RSS {peak * 1.048576:6.1f} MB   "
              f"{'within' if peak * 1.048576 <= target else 'OVER'} the target")


if __name__ == "__main__":
    main()
