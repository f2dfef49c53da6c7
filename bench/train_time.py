"""Default training time, two versions of nnfit side by side: the time acceptance of issue 26.

For each dataset and seed, a fresh process per version trains the config nnfit's defaults
give the file (``starter_config``; its ensemble's members in that process, packed when they
pack (``fit_ensemble`` with one job), one BLAS
thread) on nnfit's default split, and reports its CPU seconds (user + system, read from
``resource.getrusage`` of the child). The versions alternate job by job, so the machine's
load falls on both alike; the table gives each version's mean and the ratio.

    python bench/train_time.py --src OLD/src --src src [--datasets iris,wine] [--seeds 0,1]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

from tables import render  # bench/tables.py: python bench/train_time.py puts bench/ on the path

ROOT = Path(__file__).parent.parent
CHILD = """
import sys
from threadpoolctl import threadpool_limits
from nnfit.config.schema import Config
from nnfit.workflows.init import starter_config
from nnfit.workflows.prepared import prepare
from nnfit.workflows.fit import fit
from nnfit.workflows.ensemble import fit_ensemble
csv, target, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
raw = starter_config(csv, target)
raw["training"].update(seed=seed, threads=1)
config = Config.model_validate(raw)
with threadpool_limits(limits=1):
    prepared = prepare(config, csv)
    if config.training.ensemble > 1:
        fit_ensemble(prepared, config, n_jobs=1)
    else:
        fit(prepared)
"""


def cpu_seconds(src: str, csv: Path, target: str, seed: int) -> float:
    """CPU seconds of one child process training ``csv``'s default config with ``src``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {**os.environ, "PYTHONPATH": src, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-c", CHILD, str(csv), target, str(seed)], env=env,
                   check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv=None) -> int:
    from accuracy import DATASETS  # the benchmark's files and targets

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", action="append", required=True,
                        help="a version's src/ directory (give two: the first is the reference)")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--seeds", default="0")
    args = parser.parse_args(argv)
    if len(args.src) != 2:
        parser.error("give --src twice: the reference version, then the new one")
    names = [d for d in args.datasets.split(",") if d]
    seeds = [int(s) for s in args.seeds.split(",")]
    rows, ratios = [], []
    for name in names:
        times: dict[int, list[float]] = {0: [], 1: []}
        for seed in seeds:
            for i, src in enumerate(args.src):
                times[i].append(cpu_seconds(src, ROOT / "sample_data" / f"{name}.csv",
                                            DATASETS[name], seed))
        old, new = statistics.fmean(times[0]), statistics.fmean(times[1])
        ratios.append(new / old)
        rows.append([name, f"{old:.1f}", f"{new:.1f}", f"{new / old:.2f}"])
        print(f"  {name}: {old:.1f} s → {new:.1f} s", file=sys.stderr)
    rows.append(["geometric mean", "", "", f"{statistics.geometric_mean(ratios):.2f}"])
    print(render(["dataset", "reference CPU s", "new CPU s", "new / reference"], rows, False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
