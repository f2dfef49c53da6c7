"""nnfit with its defaults against scikit-learn on every shipped dataset: the evidence for defaults.

For each CSV in ``DATASETS`` and each seed, four models are trained and scored on the
same held-out rows:

- **nnfit** from a base config (``--base``), with ``training.seed`` and ``data.split_seed``
  set to the seed, one BLAS thread, and any ``--set``; trained through ``prepare`` → ``fit``
  → ``score`` (no capacity probe). Its test split is nnfit's own seeded, stratified split.
  ``--base starter`` (the default): nnfit's defaults, the config
  ``nnfit.workflows.init.starter_config(csv, target)`` gives. ``--base fixed``: a user's own
  config with hidden layers 64 and 32 and defaults for the rest: the starter's ``data``
  section (its choices are necessities of the file), two dense ReLU layers, no ``training``
  section (the config schema's defaults).
- **MLP**: scikit-learn's ``MLPClassifier`` / ``MLPRegressor`` with its defaults
  (``random_state=seed``; with ``--base fixed``, ``hidden_layer_sizes=(64, 32)``, nnfit's
  layers); when a fit warns that it did not converge it is refitted with ``max_iter`` 1000,
  and the output says where (its seconds include both fits).
- **HGB**: ``HistGradientBoostingClassifier`` / ``Regressor``, defaults, ``random_state=seed``.
- **linear**: ``LogisticRegression(max_iter=5000)`` / ``Ridge()``, scikit-learn's defaults
  otherwise: the bar a user gets without tuning, as for the other two. Tuning the penalty
  (``LogisticRegressionCV``, ``RidgeCV`` over 1e-3…1e3) moved the 3-seed mean by at most
  0.011 on any of these files (iris +0.011, digits −0.009, the rest within ±0.005), so
  the plain models are as fair a bar and cost nothing.

The scikit-learn models train on every row nnfit does not test on (its train + val rows:
nnfit needs val for early stopping; a scikit-learn user trains on every non-test row) and
are scored on exactly nnfit's test rows. Their inputs are nnfit's own preprocessing
(``data.scale: standard``, one-hot text columns, ``data.missing: mean``, the same feature
columns), fitted on their training rows; regression targets are in their own units.
The metric is each task's headline (``nnfit.evaluation.task.HEADLINE_METRIC``: accuracy, R²),
computed by nnfit's metric functions for all four.

The table shows each model's mean over seeds ± its standard error (std / √seeds) and, on
the means, ``vs_mlp`` = nnfit − MLP and ``vs_best`` = nnfit − best(MLP, HGB, linear), with
three flags per dataset: ``mlp_ok`` (vs_mlp ≥ −``MLP_TOLERANCE``: 0.005 with the starter,
0.02 with ``fixed``), ``near_best`` (vs_best ≥ −``NEAR_BEST``, 0.01) and ``not_far``
(vs_best ≥ −``NOT_FAR``, 0.03). The summary line counts them; the aim is ``near_best`` on
at least ``NEAR_BEST_TARGET`` (80 %) of the datasets.
Jobs (one model, one dataset, one seed) run in joblib worker processes, each with one
BLAS/OpenMP thread, so the numbers do not depend on ``--jobs`` (checked: 1 and 2 give the
same table). The exit code is 0 unless a job failed — nnfit refusing a CSV counts — with its
error under the table.

    pip install -e ".[bench]"
    python bench/accuracy.py [--datasets iris,wine] [--seeds 0,1,2] [--jobs 2]
                             [--base starter|fixed] [--set training.optimizer=adam ...]
                             [--reuse FILE] [--markdown]
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import statistics
import sys
import time
import traceback
import warnings
from pathlib import Path

from tables import render  # bench/tables.py: python bench/accuracy.py puts bench/ on the path

ROOT = Path(__file__).parent.parent
DATA = ROOT / "sample_data"

#: file stem in sample_data/ → target column
DATASETS = {
    "iris": "species",
    "wine": "cultivar",
    "breast_cancer": "diagnosis",
    "digits": "digit",
    "titanic": "survived",
    "hmda": "deny",
    "chile": "vote",
    "diabetes": "progression",
    "noisy_sine": "y",
    "auto_mpg": "mpg",
    "concrete": "compressive_strength",
    "cps1985": "wage",
    "carseats": "sales",
    "hitters": "salary",
    "penguins": "species",
    "mroz": "lfp",
    "swiss_labor": "participation",
    "seattle_weather": "weather",
    "islr_wage": "wage",
    "computers": "price",
    "credit_default": "default",
    "cps1988": "wage",
}
MODELS = ("nnfit", "MLP", "HGB", "linear")
MLP_MORE_ITER = 1000  # max_iter of the refit when the default 200 warns of non-convergence
#: base config → how far nnfit's mean may trail scikit-learn's MLP for ``mlp_ok``
MLP_TOLERANCE = {"starter": 0.005, "fixed": 0.02}
NEAR_BEST = 0.01  # ``near_best``: nnfit ≥ best(MLP, HGB, linear) − this
NOT_FAR = 0.03  # ``not_far``: nnfit ≥ best(MLP, HGB, linear) − this
NEAR_BEST_TARGET = 0.8  # the share of datasets that should be ``near_best``
FIXED_LAYERS = (64, 32)  # --base fixed: the hidden layers of nnfit and of scikit-learn's MLP
BASES = {
    "starter": "nnfit.workflows.init.starter_config (nnfit's defaults for the file)",
    "fixed": "a user's own config: the starter's data section, hidden layers "
             f"{', '.join(map(str, FIXED_LAYERS))} (ReLU), the schema's defaults for training; "
             f"scikit-learn's MLP with hidden_layer_sizes={FIXED_LAYERS}",
}


def base_config(csv_path: Path, target: str, base: str) -> dict:
    """The config nnfit starts from for this CSV, as a plain dict.

    ``starter``: what ``nnfit init`` writes (``starter_config``). ``fixed``: a user's own
    config with hidden layers ``FIXED_LAYERS`` and defaults for everything else: the starter's
    ``data`` section (its choices, such as ``missing: mean``, are necessities of the file),
    dense ReLU layers, and no ``training`` section, so the config schema's defaults apply.
    """
    from nnfit.workflows.init import starter_config

    starter = starter_config(str(csv_path), target)
    if base == "starter":
        return starter
    layers = [{"type": "dense", "units": units, "activation": "relu"} for units in FIXED_LAYERS]
    return {"data": starter["data"], "model": {"layers": layers}}


def nnfit_config(base: dict, seed: int, sets: list[str]):
    """The validated Config of one nnfit run: ``base`` with the seed, one thread, ``sets``."""
    from pydantic import ValidationError

    from nnfit.config.messages import format_errors
    from nnfit.config.overrides import apply_override
    from nnfit.config.schema import Config
    from nnfit.errors import NnfitError

    raw = copy.deepcopy(base)
    raw.setdefault("training", {}).update(seed=seed, threads=1)
    raw.setdefault("data", {})["split_seed"] = seed
    for text in sets:  # after ours, so --set data.split_seed=0 can hold the split still
        apply_override(raw, text)
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise NnfitError("; ".join(line for _, line in format_errors(exc))) from None


# -- one job: one model on one dataset with one seed (runs in a worker) ------------------------


def run_job(job: dict) -> dict:
    """``job`` → ``{**job, score, seconds, rows, kind, ...}``, or ``error`` instead of a score."""
    from threadpoolctl import threadpool_limits

    cpu = time.process_time()  # on a shared machine, the wall time depends on the others
    with threadpool_limits(limits=1):  # BLAS and OpenMP (HGB) alike
        try:
            return {**job, **_run(job), "cpu": time.process_time() - cpu}
        except Exception as exc:  # noqa: BLE001 — reported under the table, not raised
            from nnfit.errors import NnfitError

            detail = exc.message if isinstance(exc, NnfitError) else traceback.format_exc()
            return {**job, "error": f"{type(exc).__name__}: {detail}".strip()}


def _run(job: dict) -> dict:
    import numpy as np

    from nnfit.data.dataset import default_split, read_dataset
    from nnfit.errors import NnfitError
    from nnfit.evaluation.task import HEADLINE_METRIC
    from nnfit.workflows.prepared import prepare_split

    config = nnfit_config(job["base"], job["seed"], job["sets"])
    csv = DATA / f"{job['dataset']}.csv"
    try:
        unsplit = read_dataset(config, csv)
    except NnfitError:
        if job["model"] == "nnfit":
            raise
        unsplit = None  # nnfit refuses this CSV: the others still get nnfit's default split
    if job["model"] == "nnfit":
        from nnfit.workflows import score

        prepared = prepare_split(unsplit, default_split(unsplit), config)
        metric = HEADLINE_METRIC[unsplit.kind]
        started = time.perf_counter()
        # the model nnfit train saves (ensemble members in this worker, packed when they pack)
        from nnfit.workflows.refit import fit_model

        prepared, result = fit_model(prepared, n_jobs=1)
        value = score(prepared, result, probe="never").splits["test"][metric]
        seconds = time.perf_counter() - started
        budget = "" if result.stop_reason == "early_stopping" else "*"
        return {**about(unsplit), "score": float(value), "seconds": seconds,
                "note": f"{result.epochs_run}{budget}"}
    X_fit, y_fit, X_test, y_test, ref = sklearn_inputs(config, unsplit, csv)
    started = time.perf_counter()
    pred, note = fit_predict(job["model"], ref.kind, job["seed"], X_fit, y_fit, X_test,
                             job["mode"])
    seconds = time.perf_counter() - started
    metric = HEADLINE_METRIC[ref.kind]
    if ref.kind == "regression":
        from nnfit.evaluation.metrics import regression_metrics

        value = regression_metrics(y_test, np.asarray(pred, dtype=np.float64).reshape(y_test.shape))
    else:
        from nnfit.evaluation.metrics import classification_metrics

        value = classification_metrics(y_test, np.asarray(pred))
    return {**about(unsplit or ref), "score": float(value[metric]), "seconds": seconds,
            "note": note, "refused": unsplit is None}


def about(unsplit) -> dict:
    """What the table says of a dataset: rows used, task, metric, number of classes."""
    from nnfit.evaluation.task import HEADLINE_METRIC

    return {"rows": unsplit.n_rows, "kind": unsplit.kind, "metric": HEADLINE_METRIC[unsplit.kind],
            "classes": len(unsplit.classes) if unsplit.classes else 0}


def sklearn_inputs(config, unsplit, csv: Path):
    """``(X_fit, y_fit, X_test, y_test, reference)`` for the scikit-learn models.

    The rows: nnfit's test split of ``unsplit`` (its rows named by their CSV row labels,
    since nnfit's config may have dropped rows), and every other row nnfit kept to fit
    on. The inputs: nnfit's preprocessing with ``data.scale: standard``, one-hot text
    columns and ``data.missing: mean``, fitted on the fitting rows, of the columns nnfit
    uses; regression targets in their own units. With ``unsplit`` None (nnfit refused
    the CSV), the split of ``config`` with ``data.missing: mean``.
    """
    import numpy as np

    from nnfit.config.schema import Config
    from nnfit.data.dataset import default_split, read_dataset
    from nnfit.workflows.prepared import prepare_split

    data = config.data
    reference = Config.model_validate({"data": {
        **data.model_dump(include={"target", "test_fraction", "val_fraction", "delimiter",
                                   "encoding", "na_values", "keep_default_na", "exclude",
                                   "features", "task"}),
        **({"features": unsplit.features, "task": unsplit.kind} if unsplit else {}),
        "split_seed": config.training.seed if data.split_seed is None else data.split_seed,
        "scale": "standard", "missing": "mean"},
        "training": {"dtype": "float64"}})  # scikit-learn's own precision
    ref = read_dataset(reference, csv)
    if unsplit is None:
        unsplit, rows = ref, default_split(ref)
    else:
        rows = default_split(unsplit)
    where = {name: ref.frame.index.get_indexer(unsplit.frame.index[positions])
             for name, positions in rows.items()}
    if any((positions < 0).any() for positions in where.values()):
        raise RuntimeError("nnfit kept a row the reference preprocessing dropped")
    fit_rows = np.sort(np.concatenate([where["train"], where["val"]]))
    prepared = prepare_split(ref, {"train": fit_rows, "val": [], "test": where["test"]}, reference)
    ds, task = prepared.data, prepared.task
    if ref.kind == "regression":
        y_fit, y_test = task.decode(ds.y["train"]), task.decode(ds.y["test"])
        if y_fit.shape[1] == 1:
            y_fit = y_fit.ravel()
    else:
        y_fit, y_test = ds.y["train"], ds.y["test"]
    return ds.X["train"], y_fit, ds.X["test"], y_test, ref


def fit_predict(model: str, kind: str, seed: int, X_fit, y_fit, X_test, mode: str = "starter"):
    """Predictions of scikit-learn's ``model`` (defaults) for ``X_test``, and a note.

    With ``mode`` ``fixed`` the MLP has nnfit's hidden layers, ``FIXED_LAYERS``.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    classify = kind == "classification"
    if model == "MLP":
        cls = MLPClassifier if classify else MLPRegressor
        layers = {"hidden_layer_sizes": FIXED_LAYERS} if mode == "fixed" else {}
        for max_iter in (200, MLP_MORE_ITER):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                fitted = cls(random_state=seed, max_iter=max_iter, **layers).fit(X_fit, y_fit)
            if not any(issubclass(w.category, ConvergenceWarning) for w in caught):
                break
        note = "" if max_iter == 200 else f"max_iter {max_iter}" + (
            " (still warns)" if any(issubclass(w.category, ConvergenceWarning) for w in caught)
            else "")
        return fitted.predict(X_test), note
    if model == "HGB":
        cls = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
        return cls(random_state=seed).fit(X_fit, y_fit).predict(X_test), ""
    linear = LogisticRegression(max_iter=5000) if classify else Ridge()
    return linear.fit(X_fit, y_fit).predict(X_test), ""


# -- the parent: plan, run, table -------------------------------------------------------------


def mean_se(values: list[float]) -> tuple[float, float]:
    """The mean and its standard error, std / √n (0 for one value)."""
    if len(values) < 2:
        return statistics.fmean(values), 0.0
    return statistics.fmean(values), statistics.stdev(values) / math.sqrt(len(values))


def summarize(results: list[dict], names: list[str], mlp_tolerance: float) -> list[dict]:
    """One row per dataset: means and SEs per model, the differences and the three flags."""
    table = []
    for name in names:
        mine = [r for r in results if r["dataset"] == name]
        ok = [r for r in mine if "error" not in r]
        first = ok[0] if ok else {}
        row = {"dataset": name, "rows": first.get("rows"), "kind": first.get("kind"),
               "metric": first.get("metric"), "classes": first.get("classes", 0),
               "score": {}, "seconds": {}, "failed": []}
        for model in MODELS:
            runs = [r for r in mine if r["model"] == model]
            if any("error" in r for r in runs) or not runs:
                row["failed"].append(model)
                continue
            row["score"][model] = mean_se([r["score"] for r in runs])
            row["seconds"][model] = statistics.fmean(r["seconds"] for r in runs)
        s = {m: v[0] for m, v in row["score"].items()}
        others = [s[m] for m in MODELS[1:] if m in s]
        row["vs_mlp"] = s["nnfit"] - s["MLP"] if "nnfit" in s and "MLP" in s else None
        row["vs_best"] = s["nnfit"] - max(others) if "nnfit" in s and others else None
        row["mlp_ok"] = row["vs_mlp"] is not None and row["vs_mlp"] >= -mlp_tolerance
        row["near_best"] = row["vs_best"] is not None and row["vs_best"] >= -NEAR_BEST
        row["not_far"] = row["vs_best"] is not None and row["vs_best"] >= -NOT_FAR
        table.append(row)
    return table


def task_text(row: dict) -> str:
    if row["kind"] is None:
        return "?"
    metric = "acc" if row["metric"] == "accuracy" else "R²"
    what = "regression" if row["kind"] == "regression" else f"{row['classes']} classes"
    return f"{what} ({metric})"


def accuracy_table(table: list[dict], markdown: bool) -> str:
    header = ["dataset", "task", "rows", *MODELS, "nnfit − MLP", "nnfit − best",
              "mlp_ok", "near_best", "not_far"]
    signed = lambda v: "—" if v is None else f"{v:+.3f}"  # noqa: E731
    lines = []
    for row in table:
        cells = [row["dataset"], task_text(row), str(row["rows"] or "?")]
        for model in MODELS:
            mean, std = row["score"].get(model, (None, None))
            cells.append("error" if mean is None else f"{mean:.3f} ± {std:.3f}")
        cells += [signed(row["vs_mlp"]), signed(row["vs_best"]),
                  *("yes" if row[flag] else "NO" for flag in ("mlp_ok", "near_best", "not_far"))]
        lines.append(cells)
    return render(header, lines, markdown, left=2)


def summary_line(table: list[dict], mlp_tolerance: float) -> str:
    """The acceptance in one line: how many datasets carry each flag."""
    n = len(table)
    mlp_ok, near, far = (sum(row[flag] for row in table)
                         for flag in ("mlp_ok", "near_best", "not_far"))
    share = 100 * near / n if n else 0.0
    return (f"MLP −{mlp_tolerance}: {mlp_ok}/{n}; within {NEAR_BEST} of best: {near}/{n} "
            f"({share:.0f} %, target ≥ {100 * NEAR_BEST_TARGET:.0f} %); "
            f"within {NOT_FAR} of best: {far}/{n}")


def time_table(table: list[dict], results: list[dict], markdown: bool) -> str:
    """Mean seconds per fit per model, and nnfit's epochs per seed (``*``: not stopped early)."""
    header = ["dataset", *(f"{m} s" for m in MODELS), "nnfit epochs"]
    lines = []
    for row in table:
        epochs = [r["note"] for r in sorted(results, key=lambda r: r["seed"])
                  if r["dataset"] == row["dataset"] and r["model"] == "nnfit" and "error" not in r]
        lines.append([row["dataset"], *(f"{row['seconds'][m]:.2f}" if m in row["seconds"] else "—"
                                        for m in MODELS), ", ".join(epochs) or "—"])
    totals = {m: sum(r["seconds"] for r in results if r["model"] == m and "seconds" in r)
              for m in MODELS}
    lines.append(["all fits (sum)", *(f"{totals[m]:.1f}" for m in MODELS), ""])
    return render(header, lines, markdown)


def reuse_key(job: dict) -> tuple:
    """What a kept scikit-learn result is found by: the MLP's layers depend on ``--base``
    (a result kept before ``--base`` existed was the starter's)."""
    mode = job.get("mode", "starter") if job["model"] == "MLP" else ""
    return job["dataset"], job["seed"], job["model"], mode


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS),
                        help="comma-separated stems of sample_data/ files (default: all)")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--base", choices=tuple(BASES), default="starter",
                        help="nnfit's config: starter (nnfit init's, the default) or fixed "
                             f"(hidden layers {', '.join(map(str, FIXED_LAYERS))}, defaults "
                             "for the rest; scikit-learn's MLP gets the same layers)")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="PATH=VALUE",
                        help="change nnfit's config, e.g. training.optimizer=adam (repeatable)")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument("--reuse", metavar="FILE", type=Path,
                        help="keep the scikit-learn models' results in FILE (JSON) and reuse them "
                             "on later runs: for trying nnfit settings quickly; valid while the "
                             "data, the splits and scikit-learn are unchanged (no --set data.*)")
    args = parser.parse_args(argv)
    args.datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    unknown = [d for d in args.datasets if d not in DATASETS]
    if unknown:
        parser.error(f"unknown dataset {unknown[0]!r}; choose from {', '.join(DATASETS)}")
    try:
        args.seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--seeds takes comma-separated integers (got {args.seeds!r})")
    if not args.seeds or min(args.seeds) < 0 or args.jobs < 1:
        parser.error("--seeds needs at least one seed ≥ 0, --jobs at least 1")
    return args


def main(argv=None) -> int:
    from joblib import Parallel, delayed

    from nnfit.errors import NnfitError

    args = parse_args(argv)
    bases = {}
    for name in args.datasets:
        bases[name] = base_config(DATA / f"{name}.csv", DATASETS[name], args.base)
        try:
            nnfit_config(bases[name], args.seeds[0], args.sets)  # a bad --set stops here, once
        except NnfitError as exc:
            print(f"{name}: {exc.message}", file=sys.stderr)
            return 2
    # Largest files first, nnfit first within them: the longest jobs start early.
    jobs = [{"dataset": name, "seed": seed, "model": model, "base": bases[name], "sets": args.sets,
             "mode": args.base}
            for name in sorted(args.datasets, key=lambda n: -(DATA / f"{n}.csv").stat().st_size)
            for model in MODELS for seed in args.seeds]
    print(f"{len(jobs)} fits: {len(args.datasets)} datasets × {len(args.seeds)} seeds × "
          f"{len(MODELS)} models on {args.jobs} worker(s)", file=sys.stderr)
    started = time.perf_counter()
    results = []
    kept = {}
    if args.reuse is not None and args.reuse.is_file():
        kept = {reuse_key(r): r for r in json.loads(args.reuse.read_text()) if "error" not in r}
        results = [kept[reuse_key(j)] for j in jobs if reuse_key(j) in kept]
        jobs_left = [j for j in jobs if reuse_key(j) not in kept]
        print(f"reusing {len(results)} scikit-learn results from {args.reuse}", file=sys.stderr)
    else:
        jobs_left = jobs
    parallel = Parallel(n_jobs=args.jobs, return_as="generator_unordered")
    for result in parallel(delayed(run_job)(job) for job in jobs_left):
        results.append(result)
        what = ("error" if "error" in result else
                f"{result['score']:.3f} in {result['seconds']:.1f} s")
        print(f"  [{len(results)}/{len(jobs)}] {result['dataset']} seed {result['seed']} "
              f"{result['model']}: {what}", file=sys.stderr)
    wall = time.perf_counter() - started
    if args.reuse is not None:
        others = {reuse_key(r): r for r in results if r["model"] != "nnfit" and "error" not in r}
        args.reuse.write_text(json.dumps(list({**kept, **others}.values())))
    tolerance = MLP_TOLERANCE[args.base]
    table = summarize(results, args.datasets, tolerance)

    print(f"base: {args.base}: {BASES[args.base]}" + "".join(f" --set {s}" for s in args.sets))
    print(f"test split, mean ± SE (std/√{len(args.seeds)}) over seeds "
          f"{','.join(map(str, args.seeds))}; mlp_ok: nnfit − MLP ≥ −{tolerance}, near_best: "
          f"nnfit − best(MLP, HGB, linear) ≥ −{NEAR_BEST}, not_far: ≥ −{NOT_FAR}\n")
    print(accuracy_table(table, args.markdown))
    print(f"\n{summary_line(table, tolerance)}\n")
    print("Seconds per fit (fit + scoring, mean over seeds; one thread each) and nnfit's epochs "
          "per seed (*: ran to the budget, not stopped early):\n")
    print(time_table(table, results, args.markdown))
    cpu = sum(r.get("cpu", 0.0) for r in results if "error" not in r and r not in kept.values())
    print(f"\nwall time {wall:.0f} s for {len(jobs_left)} fits on {args.jobs} worker(s) "
          f"({len(jobs) - len(jobs_left)} reused); their CPU time {cpu:.0f} s, ÷ {args.jobs} = "
          f"{cpu / args.jobs:.0f} s: about the wall time on {args.jobs} otherwise idle cores")
    for row in table:
        mlp = sorted((r for r in results if r["dataset"] == row["dataset"]
                      and r["model"] == "MLP" and r.get("note")), key=lambda r: r["seed"])
        if mlp:
            still = [str(r["seed"]) for r in mlp if "still" in r["note"]]
            print(f"note: {row['dataset']}: MLP warned of non-convergence at max_iter 200 for "
                  f"seed {','.join(str(r['seed']) for r in mlp)}; refitted with max_iter "
                  f"{MLP_MORE_ITER}" + (f", which still warns for seed {','.join(still)}"
                                        if still else ""))
        if any(r.get("refused") for r in results if r["dataset"] == row["dataset"]):
            print(f"note: {row['dataset']}: nnfit refused the CSV (error below); the other models "
                  f"used the split nnfit would make with data.missing: mean")
    failures = sorted((r for r in results if "error" in r),
                      key=lambda r: (r["dataset"], r["model"], r["seed"]))
    seen = set()
    for r in failures:
        key = (r["dataset"], r["model"], r["error"])
        if key not in seen:
            seen.add(key)
            print(f"error: {r['dataset']} {r['model']} seed {r['seed']}: {r['error']}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
