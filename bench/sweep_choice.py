"""How well ``nnfit sweep`` chooses a learning rate when the validation split is small and noisy.

**Cases.** Constructed tables of 150–600 rows drawn from a known function with known noise
(the generators of ``bench/fit_cases.py``), regression and classification, with
``data.val_fraction`` 0.2 (30–120 validation rows) and no test split of nnfit's own
(``data.test_fraction: 0``). Each case has one config — a small MLP, ``adam``, 300 epochs,
nnfit's default early stopping (patience 50) and schedule — and one grid of rates, ``RATES``
(6 rates log-spaced 1e-4 … 1e-1, 3 significant digits, as ``--lr-range 1e-4:1e-1:6`` gives).
For each **data seed** ``S`` the training file is a fresh draw of the case's rows (``n`` rows
from a generator seeded by the case's name and ``S``) and nnfit splits it with seed ``S``;
the **test set** is one draw of ``--test-rows`` (20,000) fresh rows per case, the same for
every seed, which nnfit never sees.

**Truth**, independent of the sweep's logic: for each case, data seed and rate, the config is
trained through nnfit's Python API (``prepare`` → ``fit``) on the split of seed ``S``
(``data.split_seed: S``) with the 5 ``TRAIN_SEEDS`` (``training.seed`` 1000 … 1004: never
the sweep's own, so the sweep's val losses and the truth share no network), and
every trained network is scored on the test rows with its own preprocessing
(``bench/diagnosis.py``'s ``test_losses``: regression, the squared error in the target's
units over the test target's variance; classification, the log loss; a non-finite or huge
row capped at 100× the input-ignoring baseline's loss). A rate's **true loss** is the mean
over the training seeds; the grid's **best** is the lowest true loss of the 6 rates.

**Methods**, each run as a user runs ``nnfit sweep CONFIG CSV --lr ... --seed S --jobs 1``:
the Python API ``nnfit.workflows.sweep.sweep(config, csv, rates=RATES, overrides=
["training.seed=S"], n_jobs=1, out=DIR)`` and its ``record["chosen"]["training.lr"]``:

- ``single``: one run per rate (``repeats=1``: without it, ``nnfit sweep`` trains 3 seeds
  per point under 200 validation rows; an nnfit without the keyword is called without it);
- ``repeats 3``: ``repeats=3``; ``cv 5``: ``cv=5`` — each only when ``sweep()``'s
  signature has that keyword (``inspect.signature``); otherwise it is reported as not
  available.

Each sweep is also read by the plain rule, the rate of its lowest (mean) val loss
(``..., lowest val loss``): for ``single`` that is the choice of ``nnfit sweep`` before it
chose within the noise (one run per point, the lowest val loss); the gap to the sweep's own
choice is what its choice rule (``evaluation.selection``) adds.

**Scores**, over the (case, data seed) pairs: a choice **succeeds** when its rate's true loss
is at most ``WITHIN`` (1.10) × the grid's best (also counted at ``STRICTER``, 1.05). Per
method: the success rate, the mean and worst ratio of the chosen rate's true loss to the
best, how often the choice is at an edge of the grid (1e-4 or 1e-1) and above or below the
best rate; the pairs where a method succeeds and ``single`` does not, and the other way
round. ``chance`` is the success rate of a rate drawn uniformly from the grid (the share of
the grid within 10 % of the best), the floor any method should clear. Per method and rate,
the sweeps' val loss over the rate's true test loss (geometric mean over the pairs) shows how
much the val loss of a run's restored best epoch flatters each rate.

    python bench/sweep_choice.py [--quick] [--cases NAME,...] [--seeds 0,1,2] [--jobs 2]
                                 [--methods single,repeats3,cv5] [--test-rows 20000]
                                 [--json FILE] [--markdown] [--keep DIR] [--list] [-q]

Runs in joblib worker processes, one BLAS thread each, one job per (case, seed, rate) of the
truth and per (case, seed, method) sweep (each sweep with ``n_jobs=1`` inside its worker):
the full run (324 jobs, 1,080 fits for the truth and 108 sweeps) took 8.3 min with
``--jobs 2`` on two cores, ``--quick`` 1.5 min (the numbers: ``docs/sweeps.md``). The exit
code is 0 unless a job failed (its error is printed under the tables).
"""

from __future__ import annotations

import argparse
import copy
import inspect
import json
import math
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from fit_cases import (
    Maker,
    _rng,
    blobs3,
    case_arguments,
    checked_counts,
    chosen_cases,
    circles,
    dense,
    friedman,
    interaction,
    linear,
    moons,
    partly,
    sine,
    spiral,
    xor,
)
from tables import render  # bench/ is on the path: python bench/sweep_choice.py

import nnfit

RATES = [float(f"{r:.3g}") for r in np.geomspace(1e-4, 1e-1, 6)]
TRAIN_SEEDS = (1000, 1001, 1002, 1003, 1004)  # the truth's training seeds (never a sweep's)
WITHIN = 1.10  # a choice succeeds within this factor of the grid's best true loss
STRICTER = 1.05  # also counted, as a check that the ordering does not hang on 10 %
VAL_FRACTION = 0.2
EPOCHS = 300

#: method name → the keyword arguments of ``sweep()`` that make it (None: today's call)
METHODS: dict[str, dict] = {"single": {"repeats": 1}, "repeats3": {"repeats": 3},
                            "cv5": {"cv": 5}}
LABEL = {"single": "single", "repeats3": "repeats 3", "cv5": "cv 5"}
MIN_VAL = "/min val"  # a method's sweep read by the plain rule: its lowest val loss
COST = {"single": 1, "repeats3": 3, "cv5": 5}  # fits per rate, to start the longest first

C = "classification"
R = "regression"


@dataclass(frozen=True)
class ChoiceCase:
    """One case: ``n`` rows from ``make`` and the hidden layers of its config."""

    name: str
    task: str
    n: int
    layers: list
    make: Maker
    batch_size: int = 32

    def config(self) -> dict:
        """The config the sweep reads (no rate: the grid sets it; no seed: ``--seed`` does)."""
        target = "label" if self.task == C else "y"
        return {"data": {"target": target, "test_fraction": 0.0, "val_fraction": VAL_FRACTION},
                "model": {"layers": self.layers},
                "training": {"optimizer": "adam", "epochs": EPOCHS,
                             "batch_size": self.batch_size}}


CASES = [
    ChoiceCase("sine_200", R, 200, dense(32, 32, act="tanh"), sine(0.4)),
    ChoiceCase("sine_noisy_600", R, 600, dense(32, 32, act="tanh"), sine(0.8)),
    ChoiceCase("friedman_300", R, 300, dense(32, 32), friedman(2.0)),
    ChoiceCase("interaction_400", R, 400, dense(32, 32), interaction(0.7)),
    ChoiceCase("linear_150", R, 150, dense(16), linear(1.0, d=8, relevant=4)),
    ChoiceCase("partly_500", R, 500, dense(16), partly(1.5)),
    ChoiceCase("moons_200", C, 200, dense(32, 32), moons(0.1)),
    ChoiceCase("moons_noisy_500", C, 500, dense(32, 32), moons(0.25, extra=2)),
    ChoiceCase("xor_300", C, 300, dense(32, 32), xor(0.1, extra=3)),
    ChoiceCase("circles_400", C, 400, dense(32, 32), circles(0.1)),
    ChoiceCase("blobs_250", C, 250, dense(16), blobs3(1.2, extra=3)),
    ChoiceCase("spiral_600", C, 600, dense(32, 32), spiral(0.3)),
]
BY_NAME = {case.name: case for case in CASES}
QUICK = ("sine_200", "linear_150", "moons_200", "blobs_250")


# -- files -------------------------------------------------------------------------------------


def case_files(case: ChoiceCase, seeds: list[int], folder: Path, test_rows: int
               ) -> tuple[Path, dict[int, Path], Path]:
    """``(config YAML, {seed: training CSV}, test CSV)`` of ``case``, written into ``folder``."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.yaml"
    config.write_text(yaml.safe_dump(case.config(), sort_keys=False))
    trains = {}
    for seed in seeds:
        trains[seed] = folder / f"train-s{seed}.csv"
        case.make(_rng(case.name, 0, seed), case.n).to_csv(trains[seed], index=False)
    test = folder / "test.csv"
    case.make(_rng(case.name, 1), test_rows).to_csv(test, index=False)
    return config, trains, test


# -- jobs (each runs in a worker) --------------------------------------------------------------


def method_kwargs() -> dict[str, dict | None]:
    """Each method's keyword arguments for ``sweep()``, or None when its signature lacks the
    keyword the method needs (``single`` runs everywhere: without ``repeats``, a sweep
    trains one run per point)."""
    from nnfit.workflows.sweep import sweep

    params = inspect.signature(sweep).parameters
    return {m: {k: v for k, v in kwargs.items() if k in params}
            if m == "single" or all(k in params for k in kwargs) else None
            for m, kwargs in METHODS.items()}


def run_job(job: dict) -> dict:
    """A truth job (``rate`` given: the rate trained with every training seed) or a method
    job (one sweep); the result carries the job's key, or ``error``."""
    from threadpoolctl import threadpool_limits

    key = {k: job[k] for k in ("kind", "case", "seed", "what")}
    with threadpool_limits(limits=1):
        started = time.perf_counter()
        try:
            out = _truth(job) if job["kind"] == "truth" else _method(job)
        except Exception as exc:  # noqa: BLE001 — reported under the tables, not raised
            from nnfit.errors import NnfitError

            detail = exc.message if isinstance(exc, NnfitError) else traceback.format_exc()
            return {**key, "error": f"{type(exc).__name__}: {detail}".strip()}
    return {**key, **out, "seconds": time.perf_counter() - started}


def _truth(job: dict) -> dict:
    from diagnosis import test_losses

    from nnfit.config.schema import Config
    from nnfit.workflows.fit import fit
    from nnfit.workflows.prepared import prepare

    losses, epochs, stops = [], [], []
    prepared = None
    for train_seed in TRAIN_SEEDS:
        raw = copy.deepcopy(job["config"])
        raw["data"]["split_seed"] = job["seed"]
        raw["training"].update(lr=job["what"], seed=train_seed, threads=1)
        config = Config.model_validate(raw)
        prepared = prepared or prepare(config, job["train_csv"])  # one split for every seed
        result = fit(prepared, config)
        scored = test_losses(prepared, result, config, job["test_csv"], "loss")
        losses.append(scored["mean"])
        epochs.append(result.epochs_run)
        stops.append(str(result.stop_reason))
    assert prepared is not None
    return {"losses": losses, "epochs": epochs, "stops": stops,
            "val_rows": int(prepared.data.X["val"].shape[0]),
            "train_rows": int(prepared.data.X["train"].shape[0])}


def _method(job: dict) -> dict:
    from nnfit.workflows.sweep import sweep

    out = Path(job["out"])
    try:
        result = sweep(job["config_path"], job["train_csv"], rates=list(RATES),
                       overrides=[f"training.seed={job['seed']}"], n_jobs=1, out=out,
                       **job["kwargs"])
        chosen = result.record["chosen"]
        record = result.record
        rows = [{k: r[k] for k in ("training.lr", "status", "seeds", "val_loss", "val_loss_se",
                                   "vs_best", "vs_best_se", "tied", "epochs", "best_epoch")
                 if k in r} for r in record["rows"]]
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {"chosen": None if chosen is None else float(chosen["training.lr"]), "rows": rows,
            "sweep": {k: record.get(k) for k in ("repeats", "cv", "val_rows", "choice", "notes")}}


def plan_jobs(cases: list[ChoiceCase], seeds: list[int], methods: dict[str, dict], folder: Path,
              test_rows: int) -> list[dict]:
    """Every truth and method job, the most expensive first."""
    jobs = []
    for case in cases:
        config_path, trains, test = case_files(case, seeds, folder / case.name, test_rows)
        base = {"case": case.name, "config": case.config(), "config_path": str(config_path),
                "test_csv": str(test)}
        for seed in seeds:
            for rate in RATES:
                jobs.append({**base, "kind": "truth", "seed": seed, "what": rate,
                             "train_csv": str(trains[seed]), "cost": len(TRAIN_SEEDS) * case.n})
            for method, kwargs in methods.items():
                jobs.append({**base, "kind": "method", "seed": seed, "what": method,
                             "kwargs": kwargs,
                             "train_csv": str(trains[seed]),
                             "out": str(folder / case.name / f"sweep-s{seed}-{method}"),
                             "cost": COST[method] * len(RATES) * case.n})
    return sorted(jobs, key=lambda j: -j["cost"])


def run_all(jobs: list[dict], n_jobs: int, quiet: bool) -> tuple[list[dict], list[dict]]:
    """``(results, failed jobs)``, results as the jobs finish."""
    from joblib import Parallel, delayed

    results: list[dict] = []
    errors: list[dict] = []
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    for i, out in enumerate(parallel(delayed(run_job)(job) for job in jobs), 1):
        (errors if "error" in out else results).append(out)
        if not quiet:
            if "error" in out:
                what = out["error"].splitlines()[0][:80]
            elif out["kind"] == "truth":
                what = f"test loss {statistics.fmean(out['losses']):.4g}"
            else:
                what = f"chose {out['chosen']}"
            print(f"  [{i}/{len(jobs)}] {out['case']} seed {out['seed']} {out['kind']} "
                  f"{out['what']}: {what} in {out.get('seconds', 0):.1f} s", file=sys.stderr)
    return results, errors


# -- judging -----------------------------------------------------------------------------------


def nearest_rate(rate: float) -> float:
    """The grid rate nearest ``rate`` on a log scale (the record's rate as YAML read it)."""
    return min(RATES, key=lambda r: abs(math.log(r / rate)))


def judge(cases: list[ChoiceCase], seeds: list[int], methods: list[str], results: list[dict]
          ) -> list[dict]:
    """One record per (case, seed): the true loss per rate, the best, each method's choice."""
    truth: dict = {}
    chosen: dict = {}
    for r in results:
        if r["kind"] == "truth":
            truth.setdefault((r["case"], r["seed"]), {})[r["what"]] = r
        else:
            chosen[(r["case"], r["seed"], r["what"])] = r
    records = []
    for case in cases:
        for seed in seeds:
            runs = truth.get((case.name, seed), {})
            if len(runs) < len(RATES):
                records.append({"case": case.name, "seed": seed, "missing": True})
                continue
            loss = {rate: statistics.fmean(runs[rate]["losses"]) for rate in RATES}
            se = {rate: statistics.stdev(runs[rate]["losses"]) / math.sqrt(len(TRAIN_SEEDS))
                  for rate in RATES}
            best_rate = min(RATES, key=lambda rate: loss[rate])
            best = loss[best_rate]
            picks = {}
            for method in methods:
                got = chosen.get((case.name, seed, method))
                if got is None:
                    continue
                ok = [row for row in got["rows"] if row.get("status") == "ok"
                      and row.get("val_loss") is not None and math.isfinite(row["val_loss"])]
                lowest = min(ok, key=lambda row: row["val_loss"]) if ok else None
                for name, rate in ((method, got["chosen"]),
                                   (method + MIN_VAL, lowest and lowest["training.lr"])):
                    rate = None if rate is None else nearest_rate(float(rate))
                    ratio = math.nan if rate is None else loss[rate] / best
                    picks[name] = {"rate": rate, "ratio": ratio, "success": ratio <= WITHIN,
                                   "edge": rate in (RATES[0], RATES[-1]),
                                   "above": rate is not None and rate > best_rate,
                                   "below": rate is not None and rate < best_rate}
                picks[method].update(rows=got["rows"], sweep=got["sweep"])
            any_run = runs[RATES[0]]
            records.append({
                "case": case.name, "task": case.task, "seed": seed, "rows": case.n,
                "train_rows": any_run["train_rows"], "val_rows": any_run["val_rows"],
                "loss": loss, "se": se, "best_rate": best_rate, "best": best,
                "within": [rate for rate in RATES if loss[rate] <= WITHIN * best],
                "losses": {rate: runs[rate]["losses"] for rate in RATES},
                "epochs": {rate: runs[rate]["epochs"] for rate in RATES},
                "picks": picks})
    return records


def summary(records: list[dict], methods: list[str]) -> dict:
    """Per method: choices, successes, success rate, mean ratio, edge choices, no choice."""
    done = [r for r in records if not r.get("missing")]
    out: dict = {"pairs": len(done),
                 "chance_stricter": statistics.fmean(
                     sum(v <= STRICTER * r["best"] for v in r["loss"].values()) / len(RATES)
                     for r in done) if done else math.nan,
                 "best_edge": sum(r["best_rate"] in (RATES[0], RATES[-1]) for r in done),
                 "chance": statistics.fmean(len(r["within"]) / len(RATES) for r in done)
                 if done else math.nan}
    for method in methods:
        picks = [r["picks"][method] for r in done if method in r["picks"]]
        ratios = [p["ratio"] for p in picks if math.isfinite(p["ratio"])]
        out[method] = {"choices": len(picks), "successes": sum(p["success"] for p in picks),
                       "within_stricter": sum(p["ratio"] <= STRICTER for p in picks),
                       "success_rate": (sum(p["success"] for p in picks) / len(picks)
                                        if picks else math.nan),
                       "mean_ratio": statistics.fmean(ratios) if ratios else math.nan,
                       "worst_ratio": max(ratios) if ratios else math.nan,
                       "edge": sum(p["edge"] for p in picks),
                       "above": sum(p["above"] for p in picks),
                       "below": sum(p["below"] for p in picks),
                       "no_choice": sum(p["rate"] is None for p in picks)}
    return out


# -- tables ------------------------------------------------------------------------------------


def label(name: str) -> str:
    """A method's name in the tables: ``cv 5``, ``cv 5, lowest val loss``."""
    method, _, _ = name.partition(MIN_VAL)
    return LABEL[method] + (", lowest val loss" if name.endswith(MIN_VAL) else "")


def _rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.3g}"


def summary_table(s: dict, methods: list[str], markdown: bool) -> str:
    header = ["method", f"within {WITHIN - 1:.0%} of the best", "success rate",
              f"within {STRICTER - 1:.0%}", "mean ratio to best", "worst ratio",
              "at a grid edge", "above / below the best"]
    lines = []
    for method in methods:
        m = s[method]
        lines.append([label(method), f"{m['successes']}/{m['choices']}",
                      f"{m['success_rate']:.0%}", f"{m['within_stricter']}/{m['choices']}",
                      f"{m['mean_ratio']:.3f}", f"{m['worst_ratio']:.2f}",
                      f"{m['edge']}/{m['choices']}", f"{m['above']} / {m['below']}"])
    lines.append(["the true best rate", "", "", "", "", "", f"{s['best_edge']}/{s['pairs']}", ""])
    lines.append(["chance (a random rate of the grid)", "", f"{s['chance']:.0%}",
                  f"{s['chance_stricter']:.0%}", "", "", "", ""])
    return render(header, lines, markdown)


def paired_text(records: list[dict], methods: list[str], against: str = "single") -> str:
    """Per method, the (case, seed) pairs where it succeeded and ``against`` did not, and the
    other way round: the pairs that make a difference in the success rates."""
    lines = []
    for method in [n for n in methods if n != against]:
        both = [r for r in records if method in r.get("picks", {}) and against in r["picks"]]
        won = [r for r in both if r["picks"][method]["success"] and not
               r["picks"][against]["success"]]
        lost = [r for r in both if r["picks"][against]["success"] and not
                r["picks"][method]["success"]]
        lines.append(f"{label(method)} vs {label(against)}: better in {len(won)}"
                     + (f" ({_pairs(won)})" if won else "") + f", worse in {len(lost)}"
                     + (f" ({_pairs(lost)})" if lost else ""))
    return "\n".join(lines)


def _pairs(records: list[dict]) -> str:
    return ", ".join(f"{r['case']} {r['seed']}" for r in records)


def bias_table(records: list[dict], methods: list[str], markdown: bool) -> str:
    """Per method and rate, the sweep's val loss over the rate's true test loss (geometric mean
    over the (case, seed) pairs): below 1, the val loss looks better than the rate is."""
    header = ["method", *(_rate(r) for r in RATES)]
    lines = []
    for method in methods:
        logs: dict[float, list[float]] = {rate: [] for rate in RATES}
        for r in records:
            for row in r.get("picks", {}).get(method, {}).get("rows", []):
                val = row.get("val_loss")
                if row.get("status") == "ok" and val is not None and math.isfinite(val) and val > 0:
                    rate = nearest_rate(float(row["training.lr"]))
                    logs[rate].append(math.log(val / r["loss"][rate]))
        lines.append([label(method), *(f"{math.exp(statistics.fmean(v)):.3f}" if v else ""
                                       for v in logs.values())])
    return render(header, lines, markdown)


def all_failed(records: list[dict], methods: list[str]) -> str:
    """The (case, seed) pairs where no method's choice is within ``WITHIN`` of the best."""
    out = []
    for r in records:
        picks = [r["picks"][m] for m in methods if m in r.get("picks", {})]
        if picks and not any(p["success"] for p in picks):
            out.append(f"{r['case']} seed {r['seed']} (best {_rate(r['best_rate'])}; chosen "
                       + ", ".join(f"{label(m)} {_rate(r['picks'][m]['rate'])} "
                                   f"×{r['picks'][m]['ratio']:.2f}" for m in methods
                                   if m in r["picks"]) + ")")
    return "\n".join(out) or "(none)"


def case_table(records: list[dict], cases: list[ChoiceCase], methods: list[str],
               markdown: bool) -> str:
    """One line per case: its rows, the true best rates, how much of the grid is within 10 %,
    and per method ``successes/seeds`` with the mean ratio and the rates chosen."""
    header = ["case", "task", "rows (val)", "best rate per seed", "grid within 10%",
              *(LABEL[m] for m in methods)]
    lines = []
    for case in cases:
        recs = [r for r in records if r["case"] == case.name and not r.get("missing")]
        if not recs:
            lines.append([case.name, "", "", "failed", "", *("" for _ in methods)])
            continue
        cells = []
        for method in methods:
            picks = [r["picks"][method] for r in recs if method in r["picks"]]
            if not picks:
                cells.append("")
                continue
            ratios = [p["ratio"] for p in picks if math.isfinite(p["ratio"])]
            cells.append(f"{sum(p['success'] for p in picks)}/{len(picks)} "
                         f"×{statistics.fmean(ratios) if ratios else math.nan:.2f} "
                         f"({' '.join(_rate(p['rate']) for p in picks)})")
        lines.append([case.name, "reg" if case.task == R else "cls",
                      f"{case.n} ({recs[0]['val_rows']})",
                      " ".join(_rate(r["best_rate"]) for r in recs),
                      " ".join(str(len(r["within"])) for r in recs) + f" of {len(RATES)}",
                      *cells])
    return render(header, lines, markdown, left=2)


def loss_table(records: list[dict], markdown: bool) -> str:
    """The true test loss of every rate, relative to each (case, seed)'s best."""
    header = ["case", "seed", *(_rate(r) for r in RATES), "best loss"]
    lines = []
    for r in records:
        if r.get("missing"):
            continue
        lines.append([r["case"], str(r["seed"]),
                      *(f"{r['loss'][rate] / r['best']:.2f}" for rate in RATES),
                      f"{r['best']:.4g}"])
    return render(header, lines, markdown, left=2)


# -- the parent --------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    case_arguments(
        parser, len(QUICK), "test rows per case (default 20000)",
        "write the cases' files to DIR (default: a temporary directory)",
        (("--methods",), {"default": ",".join(METHODS),
                          "help": f"comma-separated methods (default {','.join(METHODS)}; "
                                  f"those sweep() cannot run yet are left out)"}))
    args = parser.parse_args(argv)
    args.cases = chosen_cases(parser, args.cases, args.quick, CASES, QUICK)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not methods or any(m not in METHODS for m in methods):
        parser.error(f"--methods takes some of {', '.join(METHODS)} (got {args.methods!r})")
    args.methods = methods
    checked_counts(parser, args)
    return args


def jsonable(value):
    """``value`` with float keys as text and non-finite floats as strings."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.list:
        for case in CASES:
            print(f"{case.name:18} {case.task:14} {case.n:4} rows, "
                  f"{round(case.n * VAL_FRACTION)} for validation")
        return 0
    found = method_kwargs()
    kwargs = {m: k for m, k in found.items() if k is not None and m in args.methods}
    missing = [m for m in args.methods if m not in kwargs]
    methods = list(kwargs)
    for m in missing:
        print(f"{LABEL[m]}: not available (nnfit.workflows.sweep.sweep() has no "
              f"{', '.join(METHODS[m])} keyword yet); left out", file=sys.stderr)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nnfit-sweep-choice-") as tmp:
        jobs = plan_jobs(args.cases, args.seeds, kwargs, args.keep or Path(tmp),
                         args.test_rows)
        n_truth = sum(j["kind"] == "truth" for j in jobs)
        print(f"{len(jobs)} jobs: {n_truth} of the truth ({n_truth * len(TRAIN_SEEDS)} fits), "
              f"{len(jobs) - n_truth} sweeps ({', '.join(LABEL[m] for m in methods)}) on "
              f"{args.jobs} worker(s)", file=sys.stderr)
        results, errors = run_all(jobs, args.jobs, args.quiet)
    wall = time.perf_counter() - started
    records = judge(args.cases, args.seeds, methods, results)
    names = [n for m in methods for n in (m, m + MIN_VAL)]
    s = summary(records, names)
    print(f"bench/sweep_choice.py: {len(args.cases)} cases × seeds "
          f"{','.join(map(str, args.seeds))} = {s['pairs']} choices per method; rates "
          f"{', '.join(_rate(r) for r in RATES)}; truth: mean test loss over training seeds "
          f"{', '.join(map(str, TRAIN_SEEDS))} on {args.test_rows} test rows; a choice succeeds "
          f"within {WITHIN:.2f}× the grid's best; nnfit from {Path(nnfit.__file__).parent}\n")
    if missing:
        print(f"not available in this nnfit (sweep() lacks the keyword): "
              f"{', '.join(LABEL[m] for m in missing)}\n")
    print(summary_table(s, names, args.markdown))
    print("\nper case: successes/seeds, mean ratio to the best, (the rate chosen per seed)\n")
    print(case_table(records, args.cases, methods, args.markdown))
    if "single" in methods:
        print()
        print(paired_text(records, [n for n in names if n != "single" + MIN_VAL]))
        print(paired_text(records, [m for m in methods if m != "single"], "single" + MIN_VAL))
    print(f"\nwhere no method chose within {WITHIN:.2f}× the best: "
          f"{all_failed(records, methods)}")
    print("\nthe sweeps' val loss over the rate's true test loss (geometric mean over the pairs)\n")
    print(bias_table(records, methods, args.markdown))
    print("\ntrue test loss of each rate over the grid's best, per case and seed\n")
    print(loss_table(records, args.markdown))
    busy = sum(r["seconds"] for r in results)
    print(f"\nwall time {wall:.0f} s on {args.jobs} worker(s), {busy:.0f} s in the jobs "
          f"(truth {sum(r['seconds'] for r in results if r['kind'] == 'truth'):.0f} s; "
          + ", ".join(f"{LABEL[m]} {sum(r['seconds'] for r in results if r['what'] == m):.0f} s"
                      for m in methods) + ")")
    for e in errors:
        print(f"error: {e['case']} seed {e['seed']} {e['kind']} {e['what']}: {e['error']}")
    if args.json:
        args.json.write_text(json.dumps(jsonable({
            "summary": s, "records": records, "methods": methods, "not_available": missing,
            "kwargs": kwargs,
            "rates": RATES, "train_seeds": TRAIN_SEEDS, "within": WITHIN,
            "seeds": args.seeds, "test_rows": args.test_rows, "wall_seconds": wall,
            "jobs": args.jobs, "errors": errors}), indent=1))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
