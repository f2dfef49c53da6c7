"""``nnfit train`` on a million rows: the time and memory outside the epochs, against pandas.

Generates a seeded CSV of N rows × 50 columns — 46 numeric (floats at several scales,
four of them integer-valued), 4 text columns of 3, 5, 12 and 20 categories — and a
target (3 classes by default, ``--task regression`` for a number), written a chunk at a
time so generation needs no more than a few hundred MB. Then, for each size, as real
subprocesses:

- ``nnfit train`` with a 128 → 64 ReLU network, 1 epoch, ``--threads 1 -q --no-probe``:
  the whole command's wall time, the training time (``metrics.json`` ``seconds``), the
  epoch time (``history.csv`` ``seconds``), the time outside training (whole − training)
  and the peak RSS;
- ``pandas.read_csv`` alone on the same file: wall time of the whole process (interpreter
  and pandas import included, as for nnfit) and of the call itself, and the peak RSS.

Each pair runs ``--repeat`` times (default 3), alternating; the table shows the fastest
time of each kind and the largest peak RSS. Peak RSS comes from ``/usr/bin/time -v``
when present, else from ``getrusage(RUSAGE_CHILDREN)`` in a fresh wrapper process.

    python bench/scale.py                              # 1,000,000 rows (≈400 MB, ≈1 min)
    python bench/scale.py --rows 100000,300000,1000000 # and the epoch-time linearity check
    python bench/scale.py --csv /tmp/big.csv           # keep the CSV (reused when it exists)

Smaller sizes are the first rows of the largest file. The targets it checks:

- outside training ≤ 1.5 × the ``read_csv`` process;
- peak RSS ≤ ``read_csv``'s peak + 2 × the float32 design matrix (rows × inputs × 4 B);
- epoch time per training row within 15 % across the sizes (with more than one size).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_FLOAT, N_INT = 42, 4  # 46 numeric columns
CATEGORIES = [["red", "green", "blue"],
              ["north", "south", "east", "west", "center"],
              ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
              [f"k{i:02d}" for i in range(1, 21)]]
CLASSES = ["low", "mid", "high"]
DECIMALS = 4  # floats print with up to 4 decimals
CHUNK = 50_000

CONFIG = """\
data:
  target: y
model:
  layers:
    - {{type: dense, units: 128, activation: relu}}
    - {{type: dense, units: 64, activation: relu}}
training:
  epochs: 1
  batch_size: {batch_size}
  seed: 0
"""


# -- the CSV ----------------------------------------------------------------------------------


def digits(k: np.ndarray, width: int) -> np.ndarray:
    """The last ``width`` decimal digits of non-negative ints ``k (n,)`` as ASCII, ``(n, width)``."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (k[:, None] // powers % 10 + ord("0")).astype(np.uint8)


def number_bytes(values: np.ndarray, decimals: int) -> tuple[np.ndarray, np.ndarray]:
    """``values (n,)`` printed with up to ``decimals`` decimals (trailing zeros dropped):
    ``(chars (n, w), keep (n, w))``, the characters of each cell where ``keep``."""
    scaled = np.rint(np.abs(values) * 10 ** decimals).astype(np.int64)
    whole, frac = scaled // 10 ** decimals, scaled % 10 ** decimals
    n, width = values.size, len(str(int(whole.max(initial=0))))
    sign = np.full((n, 1), ord("-"), np.uint8)
    head = digits(whole, width)
    n_digits = np.floor(np.log10(np.maximum(whole, 1))).astype(int) + 1
    keep_head = np.arange(width) >= width - n_digits[:, None]
    keep_sign = ((values < 0) & (scaled > 0))[:, None]
    if decimals == 0:
        return np.hstack([sign, head]), np.hstack([keep_sign, keep_head])
    tail = digits(frac, decimals)
    # a fraction digit is kept when some digit at or after it is not zero
    keep_tail = np.flip(np.logical_or.accumulate(np.flip(tail != ord("0"), axis=1), axis=1), axis=1)
    dot = np.full((n, 1), ord("."), np.uint8)
    return (np.hstack([sign, head, dot, tail]),
            np.hstack([keep_sign, keep_head, keep_tail[:, :1], keep_tail]))


def text_bytes(codes: np.ndarray, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The names at ``codes (n,)``: ``(chars (n, w), keep (n, w))``."""
    width = max(map(len, names))
    table = np.zeros((len(names), width), np.uint8)
    mask = np.zeros((len(names), width), bool)
    for i, name in enumerate(names):
        table[i, :len(name)] = np.frombuffer(name.encode(), np.uint8)
        mask[i, :len(name)] = True
    return table[codes], mask[codes]


def header() -> str:
    names = ([f"x{i}" for i in range(N_FLOAT)] + [f"n{i}" for i in range(N_INT)]
             + [f"c{i}" for i in range(len(CATEGORIES))] + ["y"])
    return ",".join(names) + "\n"


def chunk_bytes(rng: np.random.Generator, n: int, task: str, weights: dict) -> bytes:
    """``n`` data rows of the CSV, as bytes."""
    z = rng.standard_normal((n, N_FLOAT))
    counts = rng.poisson(weights["rates"], size=(n, N_INT))
    codes = [rng.integers(0, len(c), n) for c in CATEGORIES]
    signal = z[:, :8] @ weights["w"] + sum(weights["effects"][i][c] for i, c in enumerate(codes))
    signal += 0.1 * (counts[:, 0] - weights["rates"][0]) + 0.5 * rng.standard_normal(n)
    cells = [number_bytes(z[:, j] * weights["scales"][j] + weights["shifts"][j], DECIMALS)
             for j in range(N_FLOAT)]
    cells += [number_bytes(counts[:, j].astype(float), 0) for j in range(N_INT)]
    cells += [text_bytes(c, names) for c, names in zip(codes, CATEGORIES, strict=False)]
    if task == "classification":
        cells.append(text_bytes(np.searchsorted(weights["cuts"], signal), CLASSES))
    else:
        cells.append(number_bytes(10 * signal + 50, DECIMALS))
    comma = (np.full((n, 1), ord(","), np.uint8), np.ones((n, 1), bool))
    newline = (np.full((n, 1), ord("\n"), np.uint8), np.ones((n, 1), bool))
    parts = [part for cell in cells for part in (cell, comma)][:-1] + [newline]
    chars = np.hstack([p[0] for p in parts])
    keep = np.hstack([p[1] for p in parts])
    return chars[keep].tobytes()


def write_csv(path: Path, n_rows: int, task: str, seed: int) -> None:
    """The seeded CSV, written ``CHUNK`` rows at a time."""
    rng = np.random.default_rng(seed)
    effects = [0.5 * rng.standard_normal(len(c)) for c in CATEGORIES]
    middle = sum(e.mean() for e in effects)  # the classes about equally frequent
    weights = {"w": rng.standard_normal(8) / np.sqrt(8), "effects": effects,
               "scales": 10.0 ** rng.uniform(-1, 2, N_FLOAT),
               "shifts": rng.choice([0.0, 0.0, 10.0, 100.0], N_FLOAT),
               "rates": rng.choice([2.0, 10.0, 50.0, 300.0], N_INT),
               "cuts": middle + np.array([-0.6, 0.6])}
    with open(path, "wb") as fh:
        fh.write(header().encode())
        for start in range(0, n_rows, CHUNK):
            fh.write(chunk_bytes(rng, min(CHUNK, n_rows - start), task, weights))


def head_csv(source: Path, target: Path, n_rows: int) -> None:
    """The header and first ``n_rows`` data rows of ``source``."""
    with open(source, "rb") as src, open(target, "wb") as out:
        for _ in range(n_rows + 1):
            out.write(src.readline())


def count_rows(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 24), b"")) - 1


def task_of(path: Path) -> str:
    """The task of a CSV this script wrote, from its first row's target."""
    with open(path) as fh:
        if fh.readline() != header():
            sys.exit(f"{path}: not a CSV written by bench/scale.py (its header differs)")
        target = fh.readline().rstrip("\n").rsplit(",", 1)[-1]
    return "classification" if target in CLASSES else "regression"


# -- measuring a process ----------------------------------------------------------------------


RUSAGE_WRAPPER = """\
import resource, subprocess, sys
code = subprocess.call(sys.argv[1:])
print("maxrss_kb", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def measure(cmd: list[str], env: dict) -> dict:
    """Run ``cmd``: ``{"wall": s, "rss_mb": peak RSS, "stdout": text}``; fail loudly on an error."""
    if os.path.exists("/usr/bin/time"):
        full = ["/usr/bin/time", "-v", *cmd]
        pattern = r"Maximum resident set size \(kbytes\): (\d+)"
    else:
        full = [sys.executable, "-c", RUSAGE_WRAPPER, *cmd]
        pattern = r"maxrss_kb (\d+)"
    started = time.perf_counter()
    proc = subprocess.run(full, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        errors = proc.stderr.split("\tCommand being timed")[0]
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{errors}")
    rss = re.search(pattern, proc.stderr)
    return {"wall": wall, "rss_mb": int(rss.group(1)) / 1024 if rss else float("nan"),
            "stdout": proc.stdout}


NNFIT = "from nnfit.cli import main; main()"  # `nnfit` itself, with this interpreter

READ_CSV = """\
import sys, time
import pandas as pd
started = time.perf_counter()
frame = pd.read_csv(sys.argv[1])
print(time.perf_counter() - started, frame.shape[1])
"""


def run_size(csv_path: Path, n_rows: int, work: Path, env: dict, batch_size: int,
             repeat: int) -> dict:
    """``nnfit train`` and ``read_csv`` on one file, alternately ``repeat`` times: the
    fastest of each time (a shared machine only ever adds to them), the largest peak RSS."""
    config = work / "scale.yaml"
    config.write_text(CONFIG.format(batch_size=batch_size))
    runs = []
    for _ in range(repeat):
        run_dir = work / f"run-{n_rows}"
        shutil.rmtree(run_dir, ignore_errors=True)
        nnfit_run = measure([sys.executable, "-c", NNFIT, "train", str(config), str(csv_path),
                             "-q", "--no-probe", "--threads", "1", "-o", str(run_dir)], env)
        metrics = json.loads((run_dir / "metrics.json").read_text())
        with open(run_dir / "history.csv", newline="") as fh:
            epoch = sum(float(row["seconds"]) for row in csv.DictReader(fh))
        pandas_run = measure([sys.executable, "-c", READ_CSV, str(csv_path)], env)
        runs.append({"whole": nnfit_run["wall"], "training": metrics["seconds"], "epoch": epoch,
                     "outside": nnfit_run["wall"] - metrics["seconds"],
                     "rss_mb": nnfit_run["rss_mb"], "read_csv": pandas_run["wall"],
                     "read_csv_call": float(pandas_run["stdout"].split()[0]),
                     "read_csv_rss_mb": pandas_run["rss_mb"]})
    inputs = metrics["data"]["inputs"]
    return {"rows": n_rows, "train_rows": metrics["splits"]["train"]["rows"], "inputs": inputs,
            "matrix_mb": n_rows * inputs * 4 / 2**20, "repeat": repeat,
            **{key: (max if key.endswith("rss_mb") else min)(run[key] for run in runs)
               for key in runs[0]}}


# -- report -----------------------------------------------------------------------------------


def check(ok: bool, text: str) -> bool:
    print(f"  [{'ok' if ok else 'FAIL'}] {text}")
    return ok


def report(results: list[dict]) -> bool:
    print(f"\n{'rows':>9} {'whole':>7} {'train':>7} {'epoch':>7} {'outside':>8} {'read_csv':>9} "
          f"{'(call)':>7} {'RSS MB':>7} {'read_csv':>9} {'X f32':>6} {'µs/row':>7}")
    for r in results:
        print(f"{r['rows']:>9,} {r['whole']:>7.2f} {r['training']:>7.2f} {r['epoch']:>7.2f} "
              f"{r['outside']:>8.2f} {r['read_csv']:>9.2f} {r['read_csv_call']:>7.2f} "
              f"{r['rss_mb']:>7.0f} {r['read_csv_rss_mb']:>9.0f} {r['matrix_mb']:>6.0f} "
              f"{1e6 * r['epoch'] / r['train_rows']:>7.3f}")
    print(f"(seconds, the fastest of {results[0]['repeat']} runs; RSS = the largest peak resident "
          f"set; X f32 = rows × inputs × 4 B; µs/row = epoch / training rows)\n\ntargets:")
    ok = True
    for r in results:
        ratio = r["outside"] / r["read_csv"]
        ok &= check(ratio <= 1.5, f"{r['rows']:,} rows: outside training {r['outside']:.2f} s = "
                                  f"{ratio:.2f} × read_csv {r['read_csv']:.2f} s (≤ 1.5)")
        limit = r["read_csv_rss_mb"] + 2 * r["matrix_mb"]
        ok &= check(r["rss_mb"] <= limit, f"{r['rows']:,} rows: peak RSS {r['rss_mb']:.0f} MB ≤ "
                                          f"read_csv {r['read_csv_rss_mb']:.0f} + 2 × "
                                          f"{r['matrix_mb']:.0f} = {limit:.0f} MB")
    if len(results) > 1:
        per_row = [r["epoch"] / r["train_rows"] for r in results]
        spread = max(per_row) / min(per_row) - 1
        ok &= check(spread <= 0.15, f"epoch time per row within {100 * spread:.0f} % across "
                                    f"{', '.join(f'{r:,}' for r in (x['rows'] for x in results))} "
                                    f"rows (≤ 15 %)")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000000",
                        help="comma-separated row counts (default 1000000)")
    parser.add_argument("--task", choices=("classification", "regression"),
                        default="classification")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each command per size; the fastest counts (default 3)")
    parser.add_argument("--csv", type=Path, default=None,
                        help="the largest CSV's path: kept, and reused when it exists")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    sizes = sorted({int(s) for s in args.rows.split(",")})

    import nnfit  # the child processes run the nnfit this interpreter imports

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(nnfit.__file__).parent.parent), *filter(None, [env.get("PYTHONPATH")])])
    with tempfile.TemporaryDirectory(prefix="nnfit-scale-") as tmp:
        work = Path(tmp)
        largest = args.csv or work / f"scale-{args.task}.csv"
        if args.csv is not None and largest.exists():
            if task_of(largest) != args.task:
                sys.exit(f"{largest}: written for {task_of(largest)}, not {args.task}; give "
                         f"another --csv path")
            have = count_rows(largest)
            if have < sizes[-1]:
                sys.exit(f"{largest}: {have:,} rows, fewer than {sizes[-1]:,}")
            print(f"using {largest} ({have:,} rows)")
        else:
            started = time.perf_counter()
            write_csv(largest, sizes[-1], args.task, args.seed)
            print(f"wrote {largest}: {sizes[-1]:,} rows, {largest.stat().st_size / 1e6:.0f} MB "
                  f"in {time.perf_counter() - started:.1f} s")
        total, results = count_rows(largest), []
        for n in sizes:
            path = largest
            if n != total:
                path = work / f"head-{n}.csv"
                head_csv(largest, path, n)
            results.append(run_size(path, n, work, env, args.batch_size, args.repeat))
            print(f"{n:,} rows: done", flush=True)
    ok = report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
