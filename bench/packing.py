"""Packed ensemble members against one network and against the members one after another.

Three timings per table, CPU seconds of this process, one BLAS thread, the best of
``--repeat`` runs each: one network's fit (``training.ensemble: 1``), the ensemble's members
packed (``fit_ensemble``, one pack) and the same members as separate runs, one after another
(``pack=False``). Tables: ``configs/iris.yaml`` on iris and a synthetic 1,000 × 20
regression table (one hidden layer), each at a fixed number of epochs without early
stopping (100 by default), so every run does the same work. Then the crossover: the same 1,000 × 20 table
with one hidden layer of each ``--widths`` value, packed / separate; packing pays below 1.

    python bench/packing.py [--members 5] [--epochs 100] [--repeat 3] [--markdown]

``nnfit.workflows.fit.PACK_UP_TO_MACS`` (multiply-adds per mini-batch) is where the members
stop being packed; the table's last column says where each width falls.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from tables import render  # bench/tables.py: python bench/packing.py puts bench/ on the path

ROOT = Path(__file__).parent.parent


def synthetic(directory: Path, rows: int = 1000, columns: int = 20) -> Path:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, columns))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.3 * rng.standard_normal(rows)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(columns)])
    frame["y"] = y
    path = directory / f"synthetic_{rows}x{columns}.csv"
    frame.to_csv(path, index=False)
    return path


def seconds(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        fn()
        best = min(best, time.process_time() - started)
    return best


def timings(raw: dict, csv: Path, members: int, repeat: int) -> tuple[float, float, float, int]:
    """(one network, packed members, separate members) CPU seconds, and MACs per batch."""
    from nnfit.config.schema import Config
    from nnfit.workflows.ensemble import fit_ensemble
    from nnfit.workflows.fit import fit
    from nnfit.workflows.prepared import prepare

    config = Config.model_validate(raw)
    one = Config.model_validate({**raw, "training": {**raw["training"], "ensemble": 1}})
    prepared = prepare(config, csv)
    macs = sum(layer.macs_per_row() for layer in prepared.planned(config)) * \
        config.training.batch_size
    single = seconds(lambda: fit(prepared, one), repeat)
    packed = seconds(lambda: fit_ensemble(prepared, config), repeat)
    apart = seconds(lambda: fit_ensemble(prepared, config, pack=False), repeat)
    assert members == config.training.ensemble
    return single, packed, apart, macs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--widths", default="16,64,256,512,1024,2048")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    from nnfit.config.load import load_config
    from nnfit.workflows.fit import PACK_UP_TO_MACS

    fixed = {"epochs": args.epochs, "early_stopping": False, "ensemble": args.members,
             "threads": 1, "seed": 0}
    rows, cross = [], []
    with threadpool_limits(limits=1), tempfile.TemporaryDirectory() as tmp:
        table = synthetic(Path(tmp))
        iris = load_config(ROOT / "configs" / "iris.yaml").model_dump(mode="json")
        iris["training"].update(fixed)
        cases = [("iris (configs/iris.yaml)", iris, ROOT / "sample_data" / "iris.csv")]
        for width in [64] + [int(w) for w in args.widths.split(",")]:
            raw = {"data": {"target": "y"},
                   "model": {"layers": [{"type": "dense", "units": width,
                                         "activation": "relu"}]},
                   "training": dict(fixed)}
            cases.append((f"1,000 × 20, hidden {width}", raw, table))
        for i, (name, raw, csv) in enumerate(cases):
            single, packed, apart, macs = timings(raw, csv, args.members, args.repeat)
            line = [name, f"{single:.2f}", f"{packed:.2f}", f"{apart:.2f}",
                    f"{packed / single:.2f}", f"{packed / apart:.2f}", f"{macs:,}",
                    "yes" if macs <= PACK_UP_TO_MACS else "no"]
            print("  " + ", ".join(line), file=sys.stderr)
            (rows if i < 2 else cross).append(line)
    head = ["table", "one network s", f"{args.members} packed s", f"{args.members} separate s",
            "packed / one", "packed / separate", "MACs per batch", "packed by default"]
    print(render(head, rows, args.markdown))
    print()
    print(render(head, cross, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
