"""train, curve and ``--cv`` on every shipped config: do their verdicts ever contradict?

For each config in ``configs/`` (with its sample CSV) and each seed, it runs
``nnfit train``, ``nnfit curve`` (default sizes and repeats) and ``nnfit train --cv K``
through nnfit's Python API and prints the three verdicts' kinds side by side, marking
borderline verdicts ``(b)`` and a curve whose val loss still fell ``+data``. Two
verdicts contradict when both are decided (neither inconclusive nor borderline) and
their labels differ (``nnfit.evaluation.verdicts.contradicts``); the last line counts
them, and the exit code is 1 when there is any.

    python bench/consistency.py [--seeds 0,1,2] [--cv 5] [--jobs 2] [--only iris,good]

The overfit demo trains 2000 epochs per run: the whole matrix takes several minutes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from threadpoolctl import threadpool_limits

from nnfit.evaluation.verdicts import contradicts
from nnfit.workflows.curve import curve
from nnfit.workflows.cv import cross_validate
from nnfit.workflows.train import train

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "underfit": ("bias_variance/underfit.yaml", "noisy_sine.csv"),
    "good": ("bias_variance/good.yaml", "noisy_sine.csv"),
    "overfit": ("bias_variance/overfit.yaml", "noisy_sine.csv"),
    "iris": ("iris.yaml", "iris.csv"), "wine": ("wine.yaml", "wine.csv"),
    "breast_cancer": ("breast_cancer.yaml", "breast_cancer.csv"),
    "diabetes": ("diabetes.yaml", "diabetes.csv"),
    "attention_wine": ("attention/wine.yaml", "wine.csv"),
    "attention_diabetes": ("attention/diabetes.yaml", "diabetes.csv"),
}


def _short(v: dict) -> str:
    text = str(v.get("kind") or v["verdict"])
    if v.get("borderline"):
        text += " (b)"
    if (v.get("more_data") or {}).get("result"):
        text += " +data"
    return text


def verdicts(name: str, seed: int, k: int, jobs: int, out: Path) -> dict[str, dict]:
    """The three verdicts of one config at one seed."""
    config, data = ROOT / "configs" / CASES[name][0], ROOT / "sample_data" / CASES[name][1]
    sets = [f"training.seed={seed}"]
    where = out / f"{name}-{seed}"
    return {
        "train": train(config, data, out=where / "t", overrides=sets)
        .metrics.diagnosis.model_dump(),
        "curve": curve(config, data, out=where / "c", overrides=sets, n_jobs=jobs)
        .record["verdict"],
        f"--cv {k}": cross_validate(config, data, k=k, out=where / "cv", overrides=sets,
                                    n_jobs=jobs).metrics.diagnosis.model_dump(),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", default=",".join(CASES))
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    found = 0
    print(f"| config | seed | train | curve | --cv {args.cv} | contradiction |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp, threadpool_limits(1):
        for name in args.only.split(","):
            for seed in seeds:
                v = verdicts(name, seed, args.cv, args.jobs, Path(tmp))
                clash = [f"{a}/{b}" for i, a in enumerate(v) for b in list(v)[i + 1:]
                         if contradicts(v[a], v[b])]
                found += bool(clash)
                print(f"| {name} | {seed} | " + " | ".join(_short(x) for x in v.values())
                      + f" | {', '.join(clash) or '—'} |", flush=True)
    print(f"\n{found} contradiction(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
