"""Whole-process time: ``nnfit train`` against the scikit-learn script a user would write.

The reference problem of ``bench/engine.py`` (60 000 rows × 100 standard normal features,
10 learnable classes) is written once to a CSV (``--data-dir``, kept for the next run).
Then, alternating, ``--repeat`` times after ``--warmup`` untimed rounds:

- **nnfit**: ``nnfit train CONFIG ref.csv -q --threads 1 -o RUN_DIR`` (the capacity probe on
  ``auto``, as a user runs it; ``--no-probe`` adds nnfit's flag) with a
  config of the same network (100 → 256 ReLU → 128 ReLU → 10), Adam at lr 1e-3 with a
  constant schedule, batch 128, 5 epochs, no early stopping, ``test_fraction 0.2`` and
  ``val_fraction 0`` (so it trains on 80 % of the rows, as the script does). It reads the
  CSV, standardizes, trains, scores every split, writes its run directory (model, history,
  metrics, curves.png) and prints its outcome: everything a user waits for.
- **sklearn**: a Python script that reads the same CSV with pandas (features as float32),
  splits 80/20 (stratified), standardizes with a ``StandardScaler`` fitted on the training
  rows, fits ``MLPClassifier((256, 128), solver="adam", learning_rate_init=1e-3,
  batch_size=128, alpha=0, max_iter=5, tol=0, n_iter_no_change=huge, shuffle=True)`` and
  scores the test rows; run with ``OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=MKL_NUM_THREADS=1``.

Each run is a child process; its wall time is measured around it, its CPU time (user +
sys) and peak RSS come from the operating system (``os.wait4``). The table shows medians
over the counted rounds, the median of the per-round ratios nnfit / sklearn (target ≤ 0.6,
issue 17), both test accuracies, and nnfit's own training seconds (``metrics.json``).

    pip install -e ".[bench]"
    python bench/process.py [--repeat 5] [--epochs 5] [--no-probe] [--markdown]

Use the same Python for both: the one running this script (its ``nnfit`` console script
when it sits beside it). Say what else ran on the machine when you quote the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine import HUGE, PROBLEMS, learnable_data
from tables import render

CONFIG = """\
data:
  target: label
  task: classification
  test_fraction: 0.2
  val_fraction: 0
model:
  layers:
{layers}
training:
  optimizer: adam
  lr: 0.001
  schedule: constant
  batch_size: {batch_size}
  epochs: {epochs}
  early_stopping: false
  seed: 0
"""

SCRIPT = """\
import json
import sys
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

path, epochs, batch_size, huge = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
hidden = tuple(int(h) for h in sys.argv[5].split(","))
df = pd.read_csv(path)
y = df.pop("label").to_numpy()
X = df.to_numpy(dtype=np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0,
                                                    stratify=y)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
started = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # "did not converge" after max_iter epochs
    model = MLPClassifier(hidden, solver="adam", learning_rate_init=1e-3, batch_size=batch_size,
                          alpha=0.0, max_iter=epochs, tol=0.0, n_iter_no_change=huge,
                          shuffle=True, random_state=0).fit(X_train, y_train)
fit_seconds = time.perf_counter() - started
print(json.dumps({"accuracy": float(model.score(X_test, y_test)), "fit_seconds": fit_seconds}))
"""

ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def write_data(directory: Path) -> Path:
    """The reference problem as a CSV (f0 … f99, label), written once per directory."""
    p = PROBLEMS["ref"]
    path = directory / f"ref-{p.n_samples}x{p.n_features}x{p.n_classes}.csv"
    if path.exists():
        return path
    import pandas as pd

    X, y = learnable_data(p.n_samples, p.n_features, p.n_classes)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(p.n_features)])
    frame["label"] = y
    partial = path.with_suffix(".partial")
    frame.to_csv(partial, index=False, float_format="%.6g")
    os.replace(partial, path)
    return path


def nnfit_command() -> list[str]:
    """``nnfit`` beside this Python, else the same entry point through ``-c``."""
    script = Path(sys.executable).with_name("nnfit")
    if script.exists():
        return [sys.executable, str(script)]
    return [sys.executable, "-c", "import sys; from nnfit.cli import main; sys.exit(main())"]


def run_child(cmd: list[str], env: dict, log: Path) -> dict:
    """Run ``cmd``; wall seconds, CPU seconds (user + sys), peak RSS in MB, exit status."""
    with open(log, "w") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "rss_mb": usage.ru_maxrss / 1024, "status": proc.returncode}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="counted rounds (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--data-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "nnfit-bench-process",
                        help="where the CSV is written once and the runs go")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--no-probe", action="store_true",
                        help="run nnfit with --no-probe (default: the probe on auto)")
    args = parser.parse_args()
    if args.repeat < 1 or args.warmup < 0 or args.epochs < 1:
        parser.error("--repeat and --epochs must be positive, --warmup not negative")

    p = PROBLEMS["ref"]
    args.data_dir.mkdir(parents=True, exist_ok=True)
    csv = write_data(args.data_dir)
    work = Path(tempfile.mkdtemp(prefix="runs-", dir=args.data_dir))
    layers = "\n".join(f"    - {{type: dense, units: {h}, activation: relu}}" for h in p.hidden)
    config = work / "ref.yaml"
    config.write_text(CONFIG.format(layers=layers, batch_size=p.batch_size, epochs=args.epochs))
    script = work / "sklearn_ref.py"
    script.write_text(SCRIPT)

    commands = {
        "nnfit": lambda out: [*nnfit_command(), "train", str(config), str(csv), "-q",
                              *(["--no-probe"] if args.no_probe else []), "--threads", "1",
                              "-o", str(out)],
        "sklearn": lambda out: [sys.executable, str(script), str(csv), str(args.epochs),
                                str(p.batch_size), str(HUGE), ",".join(map(str, p.hidden))],
    }
    envs = {"nnfit": dict(os.environ), "sklearn": {**os.environ, **ONE_THREAD}}
    results = {name: [] for name in commands}
    print(f"{csv} ({csv.stat().st_size / 2**20:.0f} MB); {args.epochs} epochs; "
          f"{args.warmup} warm-up + {args.repeat} counted rounds; load average "
          f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}", file=sys.stderr)
    for round_ in range(args.warmup + args.repeat):
        for name, command in commands.items():
            out = work / f"{name}-{round_}"
            log = work / f"{name}-{round_}.log"
            r = run_child(command(out), envs[name], log)
            text = log.read_text()
            if r["status"] != 0:
                sys.exit(f"{name} failed (exit {r['status']}); its output:\n{text}")
            if name == "nnfit":
                metrics = json.loads((out / "metrics.json").read_text())
                r["accuracy"] = metrics["splits"]["test"]["accuracy"]
                r["fit"] = metrics["seconds"]
                shutil.rmtree(out)
            else:
                line = json.loads(text.strip().splitlines()[-1])
                r["accuracy"], r["fit"] = line["accuracy"], line["fit_seconds"]
            counted = round_ >= args.warmup
            if counted:
                results[name].append(r)
            print(f"  {'round ' + str(round_ - args.warmup + 1) if counted else 'warm-up'}: "
                  f"{name} {r['wall']:.2f}s wall, {r['cpu']:.2f}s CPU, fit {r['fit']:.2f}s",
                  file=sys.stderr, flush=True)
    shutil.rmtree(work)

    med = {name: {k: statistics.median(r[k] for r in rs) for k in ("wall", "cpu", "rss_mb", "fit")}
           for name, rs in results.items()}
    acc = {name: rs[0]["accuracy"] for name, rs in results.items()}  # the same every round
    pairs = list(zip(results["nnfit"], results["sklearn"], strict=False))
    ratio = {k: statistics.median(a[k] / b[k] for a, b in pairs) for k in ("wall", "cpu")}
    head = ["", "wall s", "CPU s", "peak RSS MB", "fit s", "test accuracy"]
    rows = [[name, f"{m['wall']:.2f}", f"{m['cpu']:.2f}", f"{m['rss_mb']:.0f}", f"{m['fit']:.2f}",
             f"{acc[name]:.4f}"] for name, m in med.items()]
    rows.append(["nnfit / sklearn", f"{ratio['wall']:.2f}", f"{ratio['cpu']:.2f}", "", "",
                 f"{100 * (acc['nnfit'] - acc['sklearn']):+.2f} pp"])
    print(f"whole process, {p.n_samples} rows × {p.n_features} → "
          f"{' → '.join(map(str, p.widths))}, batch {p.batch_size}, Adam, {args.epochs} epochs, "
          f"1 thread; medians of {args.repeat} (target: wall ratio ≤ 0.6)")
    print(render(head, rows, args.markdown))


if __name__ == "__main__":
    main()
