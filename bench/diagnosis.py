"""How often nnfit's fit verdict is right: cases whose truth is found by experiment.

Each case (``bench/fit_cases.py``) is a training CSV, a config and a large, separate
test set: 20,000 fresh rows from the same function and noise for a constructed case, a
held-out part cut off before nnfit sees the rest for a shipped dataset. For every case and
seed the benchmark trains the **base** config through nnfit's public path (``prepare`` →
``fit`` → ``score``, capacity probe as ``nnfit train`` runs it) and records the verdict;
then it trains a fixed set of **remedies**, each a one-key change of the base config, with
the same seed, and scores every trained network on the test rows with its own
preprocessing (``Prepared.prep``). The verdict's rules are never read.

**Remedies.** Regularizing: ``l2_10x`` (``training.l2`` ×10, or 1e-3 from 0),
``dropout`` (a dropout layer of rate 0.2 after each hidden dense layer), ``half_width``
(each hidden dense layer half as wide), ``early_stop`` (early stopping with patience 20 when
it is off, a third of the patience when on: the "stop earlier" of nnfit's own advice);
``exclude`` (leave the planted identifier or leaking column out; identifier and leak
cases). Capacity and training: ``width_2x``, ``width_4x`` (each hidden dense layer 2×, 4× as
wide, at most ``MAX_UNITS``, skipped when that leaves it as ``width_2x`` left it; a linear
model gets one hidden ReLU layer of 32, 128 units), ``epochs_2x``, ``lr_3x``;
``class_weight`` (``training.class_weight: balanced``; rare-class cases). The advice-only
remedies ``lr_div3`` and ``lr_div10`` (and any remedy above a case does not have) are
trained only when a verdict's first advice needs them: they count for advice precision,
never for the truth; ``lr_div10`` is part of the fixed set of the two cases built to fail
by their rate (a training remedy).

**Test loss.** Per test row: regression, the squared error in the target's units divided by
the test target's variance (a mean over target columns); classification, the log loss
``−log p(true class)`` of the unweighted probabilities. Rare-class (collapse) cases are judged
by the class-balanced log loss instead: each row weighted by ``n / (k · n_class)`` over the
test rows, so each class counts equally (the loss ``class_weight: balanced`` trains, and what a
user who wants the rare class found is after; their balanced accuracy is in the JSON). A
non-finite or huge row loss is capped at ``CAP`` × the input-ignoring baseline's test loss
(the training mean, or the training class priors), so a diverged network compares finitely.

**Does a remedy help?** Its per-row change against the base over the same test rows,
averaged over the seeds (shipped cases, whose held-out rows differ per seed: pooled over
the seeds' rows). Mean change ``Δ``; its noise ``SE = √(SE_rows² + SE_seeds²)``, the paired
standard error over rows and the spread of the per-seed mean changes over the seeds (training
randomness). The remedy **helps** when ``Δ < −Z·SE`` and ``Δ < −MATERIAL·B`` (``B``: the
baseline's test loss): with 20,000 test rows 2 SE is tiny, and a gain of a fraction of a
percent of the baseline is not "something to fix".

**Truth** (in this order):

- ``diverged``: for most seeds the base run's loss became NaN or infinite (training stopped
  as diverged) or its test outputs are not finite. (A loss that grew huge but finite is left
  to the remedies: a lower rate is then a training remedy, underfitting, as nnfit labels a
  training that failed.)
- ``good fit``: no remedy helps, and none could have gained more than ``UNRESOLVED`` × ``B``
  within its noise (``Δ − Z·SE ≥ −UNRESOLVED·B`` for every remedy); ``unclear`` when one could
  (the test rows or the seeds are too few to tell: the small shipped files).
- ``overfitting``: a regularizing remedy helps and no capacity/training one does — or both do
  and the best regularizing one helps more by ``Z`` SE of their paired difference;
  ``underfitting`` the other way round (for a collapse, ``class_weight`` is the capacity/
  training remedy that helps; for an identifier or a leak, ``exclude`` the regularizing one).
- ``unclear`` also when both kinds help and the best of each are within ``Z`` SE of each
  other.

**Scores.** Each seed's verdict is one answer (what a user running that seed sees): the
confusion matrix, agreement and the rates count (case, seed) pairs. *Verdict agreement*: the
verdict's label equals the truth; ``inconclusive`` agrees only with an ``unclear`` truth.
*Advice precision*: of the underfitting/overfitting verdicts, the share whose first advice
(``ADVICE_REMEDY``, keyed by the verdict's kind) helps by the rule above (diverged verdicts:
reported on their own line). *False "nothing to fix"*: of the good-fit verdicts (either kind),
the share where some remedy helps. *Flags*: for the planted columns, whether nnfit's data
checks named them (``Prepared.audit``: its identifier, high-cardinality and leak columns;
"n/a" where a Prepared has no audit), and any other column the audit flagged.

    python bench/diagnosis.py [--quick] [--cases NAME,...] [--seeds 0,1,2] [--jobs 2]
                              [--test-rows 20000] [--json FILE] [--markdown] [--list]
                              [--cache DIR]

``--cache DIR`` keeps every remedy's result and reuses it while its config and data are
unchanged, so a change to the verdict's rules reruns only the base runs (about a tenth of
the fits); clear DIR after changing the engine.

Runs in joblib worker processes, one BLAS thread each: all 62 cases × 3 seeds (1,626
trainings) took 17–19 min with ``--jobs 2`` on two cores shared with other work (about
1,050 s of CPU in the jobs); ``--quick`` 1.5 min. The exit code is 0 unless a job failed (its
error is printed under the tables).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import statistics
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

import numpy as np
from fit_cases import (
    CASES,
    QUICK,
    Case,
    case_arguments,
    case_files,
    checked_counts,
    chosen_cases,
)
from tables import render  # bench/ is on the path: python bench/diagnosis.py

Z = 2.0  # standard errors a change must exceed
MATERIAL = 0.02  # and this share of the baseline's test loss (R² +0.02 for regression)
SENSITIVITY = (0.01, 0.05)  # the scores are also printed with these floors
UNRESOLVED = 0.1  # no remedy helps, but one may still gain this share of the baseline's loss
CAP = 100.0  # per-row test losses are capped at this many times the baseline's
MAX_UNITS = 256  # a widened layer stops here (a wider one would cost most of the run)

REGULARIZE = ("l2_10x", "dropout", "half_width", "early_stop", "exclude")
CAPACITY = ("width_2x", "width_4x", "epochs_2x", "lr_3x", "class_weight")
COMMON = ("l2_10x", "dropout", "half_width", "early_stop", "width_2x", "width_4x", "epochs_2x",
          "lr_3x")
FAMILY = {**dict.fromkeys(REGULARIZE, "regularize"),
          **dict.fromkeys((*CAPACITY, "lr_div3", "lr_div10"), "capacity")}
#: the verdict's kind → the remedy its first advice names
ADVICE_REMEDY = {"overfitting": "l2_10x", "overfitting_rose": "l2_10x",
                 "overfitting_identifier": "exclude", "overfitting_leak": "exclude",
                 "underfitting_collapse": "class_weight",
                 "underfitting_epochs": "epochs_2x", "underfitting_capacity": "width_2x",
                 "underfitting_failed": "lr_div3", "underfitting_rate": "lr_div10",
                 "diverged": "lr_div10"}
LABELS = ("diverged", "overfitting", "underfitting", "good fit", "inconclusive")
TRUTHS = ("diverged", "overfitting", "underfitting", "good fit", "unclear")


# -- remedies: one change each to a config dict ------------------------------------------------


def _hidden(layers: list[dict]) -> list[int]:
    return [i for i, layer in enumerate(layers) if layer.get("type", "dense") == "dense"]


def _widen(layers: list[dict], factor: float, linear_units: int) -> list[dict] | None:
    hidden = _hidden(layers)
    if not hidden:
        return ([{"type": "dense", "units": linear_units, "activation": "relu"}]
                if factor > 1 else None)
    out = copy.deepcopy(layers)
    for i in hidden:
        units = out[i]["units"]
        out[i]["units"] = max(1, int(units * factor)) if factor < 1 else max(
            units, min(MAX_UNITS, int(units * factor)))
    return None if out == layers else out


def _dropout(layers: list[dict]) -> list[dict] | None:
    hidden = set(_hidden(layers))
    if not hidden:
        return None
    out = []
    for i, layer in enumerate(layers):
        out.append(copy.deepcopy(layer))
        if i in hidden:
            out.append({"type": "dropout", "rate": 0.2})
    return out


def remedy_config(base: dict, remedy: str, column: str | None = None) -> dict | None:
    """``base`` with ``remedy`` applied, or None where it does not apply (no hidden layer
    to thin, no column to exclude)."""
    cfg = copy.deepcopy(base)
    data, t = cfg["data"], cfg.setdefault("training", {})
    layers = cfg.setdefault("model", {}).get("layers") or []
    changed: list[dict] | None = layers
    if remedy == "l2_10x":
        t["l2"] = 10 * t["l2"] if t.get("l2") else 1e-3
    elif remedy == "dropout":
        changed = _dropout(layers)
    elif remedy in ("half_width", "width_2x", "width_4x"):
        factor = {"half_width": 0.5, "width_2x": 2, "width_4x": 4}[remedy]
        changed = _widen(layers, factor, 32 if factor == 2 else 128)
    elif remedy == "early_stop":
        es = t.get("early_stopping", True)
        patience = (es.get("patience", 50) if isinstance(es, dict) else 50) if es else None
        t["early_stopping"] = {"patience": max(5, patience // 3) if patience else 20}
    elif remedy == "epochs_2x":
        t["epochs"] = 2 * t.get("epochs", 300)
    elif remedy in ("lr_3x", "lr_div3", "lr_div10"):
        t["lr"] = t.get("lr", 3e-3) * {"lr_3x": 3, "lr_div3": 1 / 3, "lr_div10": 0.1}[remedy]
    elif remedy == "class_weight":
        t["class_weight"] = "balanced"
    elif remedy == "exclude":
        if not column:
            return None
        data["exclude"] = [*data.get("exclude", []), column]
        if data.get("features"):
            data["features"] = [f for f in data["features"] if f != column]
    elif remedy != "base":
        raise ValueError(f"unknown remedy {remedy!r}")
    if changed is None:
        return None
    cfg["model"]["layers"] = changed
    return cfg


def case_remedies(case: Case) -> list[str]:
    """The fixed set of ``case``: the common remedies and its extras."""
    return [*COMMON, *case.extras]


# -- one job: one config of one case with one seed (runs in a worker) --------------------------


def run_job(job: dict) -> dict:
    """``job`` → ``{**job, rows (per-row test losses), mean, base_loss, ...}`` or ``error``."""
    from threadpoolctl import threadpool_limits

    key = {k: job[k] for k in ("case", "remedy", "seed")}
    with threadpool_limits(limits=1):
        try:
            return {**key, **_run(job)}
        except Exception as exc:  # noqa: BLE001 — reported under the tables, not raised
            from nnfit.errors import NnfitError

            detail = exc.message if isinstance(exc, NnfitError) else traceback.format_exc()
            return {**key, "error": f"{type(exc).__name__}: {detail}".strip()}


def _run(job: dict) -> dict:
    from nnfit.config.schema import Config
    from nnfit.workflows.fit import fit
    from nnfit.workflows.prepared import prepare
    from nnfit.workflows.run import score

    raw = copy.deepcopy(job["config"])
    raw.setdefault("training", {}).update(seed=job["seed"], threads=1)
    config = Config.model_validate(raw)
    started, cpu = time.perf_counter(), time.process_time()
    prepared = prepare(config, job["train_csv"])
    result = fit(prepared, config)
    out: dict = {"epochs_run": result.epochs_run, "stop_reason": result.stop_reason}
    if job["remedy"] == "base":
        d = score(prepared, result, config).diagnosis
        out["verdict"] = jsonable(d)
        out["flags"] = data_flags(prepared, job["planted"])
    out.update(test_losses(prepared, result, config, job["test_csv"], job["metric"]))
    out["seconds"] = time.perf_counter() - started
    out["cpu_seconds"] = time.process_time() - cpu
    return out


def test_losses(prepared, result, config, test_csv: str, metric: str) -> dict:
    """Per-row test losses (float32, capped) of the network and their mean; the baseline's
    mean; the balanced accuracy (classification)."""
    from nnfit.data.table import read_table
    from nnfit.evaluation.task import Classification

    prep, task = prepared.prep, prepared.task
    frame = read_table(test_csv, prep.reading)
    frame, _ = prep.apply_missing(frame, test_csv)
    X, _ = prep.transform(frame, test_csv, dtype=np.dtype(config.training.dtype))
    with np.errstate(all="ignore"):
        outputs = result.network.predict(X)
        base = task.baseline_logits(prepared.data.y["train"], X.shape[0], outputs.dtype)
        if isinstance(task, Classification):
            y = np.asarray(prep.encode_targets(frame, test_csv))
            counts = np.bincount(y, minlength=len(task.classes)).astype(float)
            weight = (y.size / (np.count_nonzero(counts) * counts))[y] if metric == "balanced" \
                else np.ones(y.size)

            def losses(logits):
                p = task.probabilities(logits)[np.arange(y.size), y]
                return -np.log(np.clip(p, 1e-15, 1.0)) * weight

            decided = task.decide(outputs)
            recalls = [float(np.mean(decided[y == c] == c)) for c in range(len(counts))
                       if counts[c]]
            extra = {"balanced_accuracy": float(np.mean(recalls)),
                     "accuracy": float(np.mean(decided == y))}
        else:
            y = frame[prep.targets].to_numpy(dtype=np.float64)
            var = np.var(y, axis=0)

            def losses(logits):
                return np.mean((task.decode(logits) - y) ** 2 / var, axis=1)

            extra = {}
        rows, base_rows = losses(outputs), losses(base)
    b = float(np.mean(base_rows))
    raw_mean = float(np.mean(rows))
    capped = np.where(np.isfinite(rows), np.minimum(rows, CAP * b), CAP * b)
    return {"rows": capped.astype(np.float32), "mean": float(capped.mean()),
            "raw_mean": raw_mean, "baseline": b, **extra}


def data_flags(prepared, planted: str | None) -> dict:
    """What nnfit's data checks said: the warning notes (and which name ``planted``), and
    the audit's identifier and leak columns where ``Prepared.audit`` exists (else None)."""
    warnings = [n.text for n in prepared.notes if n.warning]
    audit = getattr(prepared, "audit", None)  # the one place the audit is looked for
    found = None
    if audit is not None:
        found = {"identifier": sorted(map(str, audit.identifier_columns)),
                 "high_cardinality": sorted(map(str, audit.high_cardinality_columns)),
                 "leak": sorted({str(leak.column) for leak in audit.leaks})}
    return {"warnings": warnings, "audit": found,
            "noted": bool(planted) and any(f"'{planted}'" in w for w in warnings)}


def jsonable(value):
    """``value`` with numpy numbers and enums as plain JSON types."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return str(value)  # a StrEnum as its text
    return value


# -- the truth and the scores ------------------------------------------------------------------


def change(case: Case, runs: dict, remedy: str, against: str = "base") -> dict | None:
    """``{delta, se, seeds}``: the mean per-row change of ``remedy`` against ``against`` over
    the seeds both ran, and its noise (module docstring); None when no seed has both."""
    seeds = sorted(s for s in runs.get(remedy, {}) if s in runs.get(against, {}))
    if not seeds:
        return None
    diffs = [runs[remedy][s]["rows"].astype(np.float64) - runs[against][s]["rows"] for s in seeds]
    pooled = np.concatenate(diffs) if case.holdout else np.mean(diffs, axis=0)
    se_rows = float(np.std(pooled, ddof=1) / math.sqrt(pooled.size)) if pooled.size > 1 else 0.0
    per_seed = [float(d.mean()) for d in diffs]
    se_seeds = statistics.stdev(per_seed) / math.sqrt(len(seeds)) if len(seeds) > 1 else 0.0
    return {"delta": float(pooled.mean()), "se": math.hypot(se_rows, se_seeds), "seeds": seeds}


def baseline_loss(runs: dict) -> float:
    return statistics.fmean(r["baseline"] for r in runs["base"].values())


def helps(stat: dict | None, b: float, material: float = MATERIAL) -> bool:
    return stat is not None and stat["delta"] < -Z * stat["se"] and stat["delta"] < -material * b


def find_truth(case: Case, runs: dict, material: float = MATERIAL
               ) -> tuple[str, dict, list[str]]:
    """``(truth, {remedy: change}, helping remedies)`` of ``case`` from its fixed set."""
    b = baseline_loss(runs)
    stats = {r: change(case, runs, r) for r in case_remedies(case) if r in runs}
    helping = [r for r, s in stats.items() if helps(s, b, material)]
    blown = [run["stop_reason"] == "diverged" or not math.isfinite(run["raw_mean"])
             for run in runs["base"].values()]
    if sum(blown) * 2 > len(blown):
        return "diverged", stats, helping
    reg = [r for r in helping if FAMILY[r] == "regularize"]
    cap = [r for r in helping if FAMILY[r] == "capacity"]
    if not reg and not cap:
        unresolved = [r for r, st in stats.items()
                      if st is not None and st["delta"] - Z * st["se"] < -UNRESOLVED * b]
        return ("unclear" if unresolved else "good fit"), stats, helping
    if not cap:
        return "overfitting", stats, helping
    if not reg:
        return "underfitting", stats, helping
    ran = {r: st for r, st in stats.items() if st is not None}  # every helping one ran
    best_reg = min(reg, key=lambda r: ran[r]["delta"])
    best_cap = min(cap, key=lambda r: ran[r]["delta"])
    between = change(case, runs, best_reg, best_cap)
    if between is None or abs(between["delta"]) <= Z * between["se"]:
        return "unclear", stats, helping
    return ("overfitting" if between["delta"] < 0 else "underfitting"), stats, helping


def agrees(label: str, truth: str) -> bool:
    return label == truth or (label == "inconclusive" and truth == "unclear")


def advice_column(case: Case, verdict: dict) -> str | None:
    """The column an ``overfitting_identifier`` verdict says to leave out: the one its
    verdict names, else the case's planted column."""
    if verdict.get("columns"):
        return str(verdict["columns"][0])
    for check in verdict.get("evidence") or []:
        for key in ("column", "columns", "identifier_columns"):
            value = check.get(key) if isinstance(check, dict) else None
            if isinstance(value, str):
                return value
            if isinstance(value, list) and value:
                return str(value[0])
    return case.planted


# -- the parent: plan, run, judge, print -------------------------------------------------------


def plan_jobs(cases: list[Case], seeds: list[int], folder: Path, test_rows: int,
              remedies_of, columns: dict[str, str | None] | None = None) -> list[dict]:
    """One job per case, remedy and seed (remedies that do not apply are left out);
    ``exclude`` leaves out ``columns[case]`` (default: the case's planted column)."""
    jobs = []
    for case in cases:
        for seed in seeds:
            train, test, cfg = case_files(case, seed, folder / case.name, test_rows)
            seen = []
            for remedy in remedies_of(case):
                column = (columns or {}).get(case.name, case.planted)
                changed = remedy_config(cfg, remedy, column)
                if changed is None or changed in seen:  # width_4x capped to width_2x's
                    continue
                seen.append(changed)
                jobs.append({"case": case.name, "remedy": remedy, "seed": seed,
                             "config": changed, "train_csv": str(train), "test_csv": str(test),
                             "metric": case.metric, "planted": case.planted,
                             "cost": _cost(case, changed)})
    return sorted(jobs, key=lambda j: -j["cost"])  # the longest first


def _cost(case: Case, cfg: dict) -> float:
    t = cfg.get("training", {})
    width = sum(layer.get("units", 0) for layer in (cfg.get("model") or {}).get("layers") or [])
    return case.n * t.get("epochs", 300) * (width + 8) * (t.get("ensemble", 1) or 1)


def _cache_key(job: dict) -> str:
    import hashlib

    what = {k: job[k] for k in ("case", "remedy", "seed", "config", "metric")}
    what["data"] = [hashlib.sha256(Path(job[k]).read_bytes()).hexdigest()
                    for k in ("train_csv", "test_csv")]
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:24]


def _cached(job: dict, cache: Path | None) -> dict | None:
    """A remedy's stored result (never the base's: its verdict is what is being judged)."""
    if cache is None or job["remedy"] == "base":
        return None
    key = _cache_key(job)
    path, rows = cache / f"{key}.json", cache / f"{key}.npy"
    if not (path.exists() and rows.exists()):
        return None
    return {**json.loads(path.read_text()), "rows": np.load(rows, allow_pickle=False)}


def _store(job: dict, out: dict, cache: Path | None) -> None:
    if cache is None or job["remedy"] == "base" or "error" in out:
        return
    cache.mkdir(parents=True, exist_ok=True)
    key = _cache_key(job)
    np.save(cache / f"{key}.npy", out["rows"], allow_pickle=False)
    (cache / f"{key}.json").write_text(
        json.dumps(jsonable({k: v for k, v in out.items() if k != "rows"})))


def run_all(jobs: list[dict], n_jobs: int, results: dict, errors: list, quiet: bool,
            cache: Path | None = None) -> None:
    """Run ``jobs``; results into ``results[case][remedy][seed]``, failures into ``errors``.
    With ``cache`` a remedy's result is read from it when its config and data are unchanged
    (the engine is assumed unchanged: clear the folder after changing it)."""
    from joblib import Parallel, delayed

    todo = []
    for job in jobs:
        hit = _cached(job, cache)
        if hit is None:
            todo.append(job)
        else:
            results.setdefault(hit["case"], {}).setdefault(hit["remedy"], {})[hit["seed"]] = hit
    if cache is not None:
        print(f"  {len(jobs) - len(todo)} of {len(jobs)} fits from {cache}", file=sys.stderr)
    jobs = todo
    by_key = {(j["case"], j["remedy"], j["seed"]): j for j in jobs}
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    for i, out in enumerate(parallel(delayed(run_job)(job) for job in jobs), 1):
        if "error" in out:
            errors.append(out)
        else:
            _store(by_key[(out["case"], out["remedy"], out["seed"])], out, cache)
            results.setdefault(out["case"], {}).setdefault(out["remedy"], {})[out["seed"]] = out
        if not quiet:
            what = out.get("error", "").splitlines()[0][:80] if "error" in out else (
                f"{out['mean']:.4g} in {out['seconds']:.1f} s")
            print(f"  [{i}/{len(jobs)}] {out['case']} {out['remedy']} seed {out['seed']}: {what}",
                  file=sys.stderr)


def judge_cases(cases: list[Case], results: dict, material: float = MATERIAL) -> list[dict]:
    """One record per case: its verdicts per seed, truth, remedies' changes, advice results
    (``material``: the floor a remedy's gain must pass, a share of the baseline's loss)."""
    judged = []
    for case in cases:
        runs = results.get(case.name, {})
        if not runs.get("base"):
            judged.append({"case": case.name, "missing": True})
            continue
        truth, stats, helping = find_truth(case, runs, material)
        b = baseline_loss(runs)
        verdicts = {s: run["verdict"] for s, run in sorted(runs["base"].items())}
        advice = {}
        for seed, v in verdicts.items():
            remedy = ADVICE_REMEDY.get(v["kind"])
            if remedy is None:
                continue
            stat = change(case, runs, remedy) if remedy in runs else None
            advice[seed] = {"remedy": remedy, "helps": helps(stat, b, material),
                            "tested": stat is not None,
                            "delta": stat["delta"] if stat else None}
        first = runs["base"][min(runs["base"])]
        judged.append({
            "case": case.name, "intent": case.intent, "task": case.task,
            "rows": round(case.n * (1 - case.holdout)),  # the rows nnfit gets
            "metric": case.metric, "planted": case.planted, "truth": truth,
            "baseline_test_loss": b,
            "base_test_loss": statistics.fmean(r["mean"] for r in runs["base"].values()),
            "balanced_accuracy": {str(r): {s: runs[r][s].get("balanced_accuracy")
                                           for s in runs[r]} for r in runs}
            if case.task == "classification" else None,
            "changes": {r: s for r, s in stats.items() if s is not None},
            "helping": helping, "verdicts": verdicts, "advice": advice,
            "flags": first["flags"],
            "epochs_run": {s: r["epochs_run"] for s, r in runs["base"].items()},
            "seconds": {r: statistics.fmean(x["seconds"] for x in runs[r].values())
                        for r in runs}})
    return judged


def summary(judged: list[dict]) -> dict:
    """The confusion matrix and the three rates over (case, seed) verdicts."""
    pairs = [(j, s, v) for j in judged if not j.get("missing") for s, v in j["verdicts"].items()]
    matrix: dict[str, Counter] = {t: Counter() for t in TRUTHS}
    for j, _, v in pairs:
        matrix[j["truth"]][v["verdict"]] += 1
    agree = sum(agrees(v["verdict"], j["truth"]) for j, _, v in pairs)
    advised = [(j, s) for j, s, v in pairs if v["verdict"] in ("underfitting", "overfitting")]
    good_advice = sum(j["advice"].get(s, {}).get("helps", False) for j, s in advised)
    div = [(j, s) for j, s, v in pairs if v["verdict"] == "diverged"]
    good_div = sum(j["advice"].get(s, {}).get("helps", False) for j, s in div)
    good = [(j, s) for j, s, v in pairs if v["verdict"] == "good fit"]
    false_good = sum(bool(j["helping"]) for j, _ in good)
    # main's good fits advise "nothing to fix" only when nothing is borderline or memorized
    literal = [(j, s) for j, s, v in pairs if v["verdict"] == "good fit"
               and str(v.get("advice", "")).startswith("nothing to fix")]
    clear = [(j, v) for j, _, v in pairs if j["truth"] != "unclear"]
    return {"verdicts": len(pairs), "agree": agree,
            "truths": dict(Counter(j["truth"] for j in judged if not j.get("missing"))),
            "agreement": agree / len(pairs) if pairs else math.nan,
            "clear_truth_verdicts": len(clear),
            "clear_agreement": (sum(agrees(v["verdict"], j["truth"]) for j, v in clear)
                                / len(clear)) if clear else math.nan,
            "advised": len(advised), "advice_helped": good_advice,
            "advice_precision": good_advice / len(advised) if advised else math.nan,
            "diverged_verdicts": len(div), "diverged_advice_helped": good_div,
            "good_fit_verdicts": len(good), "false_nothing_to_fix": false_good,
            "false_nothing_to_fix_rate": false_good / len(good) if good else math.nan,
            "literal_nothing_to_fix": len(literal),
            "literal_false": sum(bool(j["helping"]) for j, _ in literal),
            "matrix": {t: {label: matrix[t][label] for label in LABELS} for t in TRUTHS},
            **flag_counts([j for j in judged if not j.get("missing")])}


def flag_counts(judged: list[dict]) -> dict:
    """How many planted columns the audit named (None without an audit), and the cases where
    it flagged a column nobody planted (the first seed's split)."""
    if any(j["flags"]["audit"] is None for j in judged):
        return {"planted": sum(bool(j["planted"]) for j in judged), "planted_flagged": None,
                "other_flags": None}
    return {"planted": sum(bool(j["planted"]) for j in judged),
            "planted_flagged": sum(bool(j["planted"]) and any(
                j["planted"] in cols for cols in j["flags"]["audit"].values()) for j in judged),
            "other_flags": {j["case"]: sorted({c for cols in j["flags"]["audit"].values()
                                               for c in cols if c != j["planted"]})
                            for j in judged if any(c != j["planted"] for cols in
                                                   j["flags"]["audit"].values() for c in cols)}}


SHORT = {"diverged": "div", "overfitting": "over", "overfitting_rose": "over·rose",
         "overfitting_identifier": "over·id", "underfitting_collapse": "under·collapse",
         "underfitting_epochs": "under·epochs", "underfitting_capacity": "under·capacity",
         "underfitting_failed": "under·failed", "underfitting_rate": "under·rate",
         "overfitting_leak": "over·leak", "good_fit": "good",
         "good_fit_data_limited": "good·data", "inconclusive": "inconcl"}


def verdict_text(verdicts: dict) -> str:
    counts = Counter(SHORT.get(v["kind"], v["kind"]) for v in verdicts.values())
    return ", ".join(k if n == 1 else f"{k} ×{n}" for k, n in counts.most_common())


def case_table(judged: list[dict], markdown: bool) -> str:
    header = ["case", "task", "rows", "verdict (per seed)", "truth", "agree", "helped (Δ/B)",
              "first advice", "flagged"]
    lines = []
    for j in judged:
        if j.get("missing"):
            lines.append([j["case"], "", "", "failed", "", "", "", "", ""])
            continue
        b = j["baseline_test_loss"]
        helped = " ".join(f"{r} {j['changes'][r]['delta'] / b:+.0%}" for r in
                          sorted(j["helping"], key=lambda r: j["changes"][r]["delta"])) or "none"
        n_agree = sum(agrees(v["verdict"], j["truth"]) for v in j["verdicts"].values())
        advice = "; ".join(sorted({f"{a['remedy']} {'helps' if a['helps'] else 'no'}"
                                   for a in j["advice"].values()})) or "—"
        lines.append([j["case"], "reg" if j["task"] == "regression" else "cls", str(j["rows"]),
                      verdict_text(j["verdicts"]), j["truth"] + (" (bal)" if j["metric"] ==
                                                                   "balanced" else ""),
                      f"{n_agree}/{len(j['verdicts'])}", helped, advice, flag_text(j)])
    return render(header, lines, markdown, left=2)


def flag_text(j: dict) -> str:
    """Whether the data checks named the planted column (``audit <which list>``), and any
    other column the audit flagged (``also ...``)."""
    audit = j["flags"]["audit"]
    if audit is None:
        return f"note {'yes' if j['flags']['noted'] else 'no'}, audit n/a" if j["planted"] else ""
    named = [what for what, cols in audit.items() if j["planted"] in cols]
    others = sorted({c for cols in audit.values() for c in cols if c != j["planted"]})
    text = (f"audit {'/'.join(named) if named else 'no'}") if j["planted"] else ""
    return "; ".join(t for t in (text, f"also {', '.join(others)}" if others else "") if t)


def matrix_table(s: dict, markdown: bool) -> str:
    header = ["truth \\ verdict", *LABELS, "total"]
    lines = [[t, *(str(s["matrix"][t][label]) for label in LABELS),
              str(sum(s["matrix"][t].values()))] for t in TRUTHS]
    return render(header, lines, markdown)


def scores_text(s: dict) -> str:
    pct = _pct
    return "\n".join([
        f"verdict agreement: {pct(s['agreement'])} ({s['agree']} of {s['verdicts']} case-seed "
        f"verdicts; inconclusive agrees only with an unclear truth); on clear truths only: "
        f"{pct(s['clear_agreement'])} of {s['clear_truth_verdicts']}   [target ≥ 90%]",
        f"advice precision: {pct(s['advice_precision'])} ({s['advice_helped']} of "
        f"{s['advised']} underfitting/overfitting verdicts whose first advice helps)   "
        f"[target ≥ 80%]",
        f"diverged verdicts: {s['diverged_verdicts']}, lower rate helps in "
        f"{s['diverged_advice_helped']}",
        f"false 'nothing to fix': {pct(s['false_nothing_to_fix_rate'])} "
        f"({s['false_nothing_to_fix']} of {s['good_fit_verdicts']} good-fit verdicts where a "
        f"remedy helps)   [target ≤ 5%]; of the {s['literal_nothing_to_fix']} whose advice is "
        f"'nothing to fix in the fit', {s['literal_false']} have a remedy that helps",
        "data checks: " + ("n/a (no Prepared.audit)" if s["planted_flagged"] is None else
                           f"the audit named {s['planted_flagged']} of {s['planted']} planted "
                           f"identifier/leak columns; it flagged other columns in "
                           f"{len(s['other_flags'])} case(s)"
                           + "".join(f"; {c}: {', '.join(cols)}"
                                     for c, cols in s["other_flags"].items()))])


def sensitivity_table(by_floor: dict, markdown: bool) -> str:
    header = ["floor", "cases: over", "under", "good", "unclear", "diverged", "agreement",
              "advice precision", "false 'nothing to fix'"]
    lines = []
    for m, s in sorted(by_floor.items()):
        truths = s["truths"]
        lines.append([f"{m:.0%}", *(str(truths.get(t, 0)) for t in ("overfitting", "underfitting",
                                                                "good fit", "unclear", "diverged")),
                      _pct(s["agreement"]), _pct(s["advice_precision"]),
                      _pct(s["false_nothing_to_fix_rate"])])
    return render(header, lines, markdown)


def _pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.0%}"


def evidence_text(v: dict) -> str:
    """The verdict's checks in one line: each check's result and its main numbers."""
    parts = []
    for c in v.get("evidence") or []:
        nums = ", ".join(f"{k} {_num(c[k])}" for k in ("rise", "gap", "gap_vs_baseline", "se",
                                                        "drop", "gain", "train_loss", "val_loss",
                                                        "layers", "epochs") if k in c)
        parts.append(f"{c.get('check')}={c.get('result')}" + (f" ({nums})" if nums else ""))
    for c in v.get("not_checked") or []:
        parts.append(f"{c.get('check')} not checked: {c.get('why')}")
    return "; ".join(parts)


def _num(x) -> str:
    return f"{x:.3g}" if isinstance(x, float) else str(x)


def wrong_text(judged: list[dict]) -> str:
    out = []
    for j in judged:
        if j.get("missing"):
            continue
        wrong = {s: v for s, v in j["verdicts"].items() if not agrees(v["verdict"], j["truth"])}
        if not wrong:
            continue
        helped = ", ".join(j["helping"]) or "none"
        out.append(f"- {j['case']} (truth {j['truth']}; helped: {helped}):")
        seen = set()
        for s, v in wrong.items():
            text = f"{v['kind']}: {v['reason']}"
            if (v["kind"], v["reason"][:60]) in seen:
                continue
            seen.add((v["kind"], v["reason"][:60]))
            out.append(f"    seed {s}: {text}")
            evidence = evidence_text(v)
            if evidence:
                out.append(f"      evidence: {evidence}")
    return "\n".join(out) or "(none)"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    case_arguments(
        parser, len(QUICK), "test rows of a constructed case (default 20000)",
        "write the cases' CSVs to DIR (default: a temporary directory)",
        (("--cache",), {"type": Path, "metavar": "DIR", "help": (
            "keep the remedies' results in DIR and reuse them when their config and data are "
            "unchanged (the base runs always run: their verdict is what is judged); clear DIR "
            "after changing the engine")}))
    args = parser.parse_args(argv)
    args.cases = chosen_cases(parser, args.cases, args.quick, CASES, QUICK)
    checked_counts(parser, args)
    return args


def run(cases: list[Case], seeds: list[int], folder: Path, test_rows: int, n_jobs: int,
        quiet: bool = True, cache: Path | None = None) -> tuple[dict, list]:
    """Train every case's base and fixed remedies for every seed, then the first advice of
    any verdict the fixed set lacks: ``(results[case][remedy][seed], failed jobs)``."""
    jobs = plan_jobs(cases, seeds, folder, test_rows, lambda c: ["base", *case_remedies(c)])
    print(f"{len(jobs)} fits: {len(cases)} cases × {len(seeds)} seeds × base and remedies on "
          f"{n_jobs} worker(s)", file=sys.stderr)
    results: dict = {}
    errors: list = []
    run_all(jobs, n_jobs, results, errors, quiet, cache)
    wanted: dict[str, set] = {}
    columns: dict[str, str | None] = {}
    for case in cases:
        for v in results.get(case.name, {}).get("base", {}).values():
            remedy = ADVICE_REMEDY.get(v["verdict"]["kind"])
            if remedy and remedy not in results[case.name]:
                wanted.setdefault(case.name, set()).add(remedy)
                if remedy == "exclude":
                    columns[case.name] = advice_column(case, v["verdict"])
    if wanted:
        more = plan_jobs([c for c in cases if c.name in wanted], seeds, folder, test_rows,
                         lambda c: sorted(wanted[c.name]), columns)
        print(f"{len(more)} more fits for the advice: "
              + ", ".join(f"{n} {'/'.join(sorted(r))}" for n, r in wanted.items()),
              file=sys.stderr)
        run_all(more, n_jobs, results, errors, quiet, cache)
    return results, errors


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.list:
        for case in CASES:
            print(f"{case.name:28} {case.intent:10} {case.task:14} {case.n:6} rows")
        return 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nnfit-bench-") as tmp:
        results, errors = run(args.cases, args.seeds, args.keep or Path(tmp), args.test_rows,
                              args.jobs, args.quiet, args.cache)
    wall = time.perf_counter() - started
    judged = judge_cases(args.cases, results)
    s = summary(judged)
    print(f"bench/diagnosis.py: {len(args.cases)} cases, seeds {','.join(map(str, args.seeds))}, "
          f"{args.test_rows} test rows per constructed case; a remedy helps when its mean "
          f"test-loss change < −{Z:g} SE and < −{MATERIAL:.0%} of the baseline's\n")
    print(case_table(judged, args.markdown))
    print("\nverdict (columns) against truth (rows), one count per case and seed:\n")
    print(matrix_table(s, args.markdown))
    print()
    print(scores_text(s))
    floors = {m: summary(judge_cases(args.cases, results, m)) for m in SENSITIVITY}
    print(f"\nthe same scores with another floor for 'helps' (default {MATERIAL:.0%} of the "
          f"baseline's test loss):\n")
    print(sensitivity_table({MATERIAL: s, **floors}, args.markdown))
    print("\nwhere the verdict differs from the truth (reason and evidence):\n")
    print(wrong_text(judged))
    fits = sum(len(runs_by_seed) for runs in results.values() for runs_by_seed in runs.values())
    busy = sum(r["seconds"] for runs in results.values() for by_seed in runs.values()
               for r in by_seed.values())
    cpu = sum(r["cpu_seconds"] for runs in results.values() for by_seed in runs.values()
              for r in by_seed.values())
    print(f"\nwall time {wall:.0f} s for {fits} fits on {args.jobs} worker(s): {busy:.0f} s in "
          f"the jobs, {cpu:.0f} s of it on a CPU")
    for e in errors:
        print(f"error: {e['case']} {e['remedy']} seed {e['seed']}: {e['error']}")
    if args.json:
        args.json.write_text(json.dumps(jsonable({
            "summary": s, "cases": judged, "seeds": args.seeds, "test_rows": args.test_rows,
            "wall_seconds": wall, "errors": errors,
            "rule": {"Z": Z, "MATERIAL": MATERIAL, "UNRESOLVED": UNRESOLVED, "CAP": CAP},
            "sensitivity": floors}),
            indent=1))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
