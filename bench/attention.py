"""Attention over feature tokens against the MLP config on the same data: test score, time.

For each dataset with a config in configs/attention/, trains it and the MLP config of
the same name over seeds 0, 1, 2 (the split, initialization and shuffling all follow
the seed), and prints the test accuracy or R² (what `nnfit eval` gives on the test
split: the tests check the two agree bit for bit) and milliseconds per epoch.

    python bench/attention.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnfit.config.load import load_config
from nnfit.runtime.threads import blas_threads
from nnfit.workflows import fit, prepare, score

ROOT = Path(__file__).parent.parent
SEEDS = (0, 1, 2)


def run(config_path: Path, csv: Path, seed: int) -> tuple[float, float]:
    prepared = prepare(load_config(config_path, [f"training.seed={seed}"]), csv)
    result = fit(prepared)
    test = score(prepared, result, probe="never").splits["test"]
    metric = test.get("accuracy", test.get("r2"))
    return metric, 1000 * result.seconds / max(result.epochs_run, 1)


def main():
    print("| dataset | model | test score, seeds 0–2 | mean | ms / epoch |")
    print("| --- | --- | --- | --- | --- |")
    with blas_threads(1):
        for attention in sorted((ROOT / "configs" / "attention").glob("*.yaml")):
            name = attention.stem
            csv = ROOT / "sample_data" / f"{name}.csv"
            for label, config in (("MLP", ROOT / "configs" / f"{name}.yaml"),
                                  ("attention", attention)):
                scores, times = zip(*(run(config, csv, seed) for seed in SEEDS), strict=False)
                print(f"| {name} | {label} | {', '.join(f'{s:.3f}' for s in scores)} | "
                      f"{np.mean(scores):.3f} | {np.median(times):.2f} |")


if __name__ == "__main__":
    main()
