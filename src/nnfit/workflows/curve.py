"""``nnfit curve``: learning curves over training-set size, and what their shape says.

The data is prepared once (one split, preprocessing fitted on the whole training
part); then, for every size (a fraction of the training part) and repeat, a job
trains the config on a seeded subset of the training rows and scores it on that
subset and on the fixed validation rows. Repeat ``r`` uses seed ``seed + r`` for
both the subset draw and the training stream; for one repeat the subsets are
nested (each size takes the first rows of one seeded order), and for
classification every prefix of that order is stratified and every class keeps
at least one row. The jobs run through :mod:`nnfit.workflows.executor`, one BLAS
thread each (``training.threads`` is set to 1), so ``--jobs 2`` gives the
numbers of ``--jobs 1``.

**The verdict**, from the mean losses over repeats at each size, each loss a
share of the input-ignoring baseline's (fitted on the whole training part):
``t = train / B_train`` at the largest size that finished, ``g = (val − train) /
B_val`` there, and ``n = (gap at the smallest size − gap at the largest) / B_val``,
how much the gap closed as rows were added:

- **high variance** when the model fits its training rows (``t ≤ BIAS_TRAIN``) and
  val stays far above (``g > VARIANCE_GAP``), or when the gap is still open
  (``g > BIAS_GAP``) and clearly closing (``n > NARROWING``): more data, or
  regularization, will help;
- **high bias** when even its training rows keep ``t > BIAS_TRAIN`` of the
  baseline's loss and the gap is small (``g ≤ BIAS_GAP``) or not clearly closing
  (``n ≤ NARROWING``): the curves have levelled off high, and more data will not
  help; a more flexible model or better features will;
- otherwise **neither**.

The two exclude each other: high bias needs ``t > BIAS_TRAIN``, which rules out
the first high-variance test, and the negation of the second. High bias does
not insist on a small gap: on the underfit demo with seed 2, the 30 validation
rows are harder than the training rows (the baseline's val loss is 1.38× its
train loss), and a straight line keeps a gap of 20–35% of ``B_val`` at every
size — a difference between the rows, not a lack of them. ``VARIANCE_GAP`` is
the fit diagnosis's ``GAP`` and ``BIAS_TRAIN`` its ``UNDERFIT``, so ``curve`` and
``train`` measure in the same units.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.seeds import SUBSET_STREAM, stream
from ..errors import FAILED, NnfitError
from ..evaluation.task import HEADLINE_METRIC as METRIC
from ..runtime.cluster import DEFAULT_TIMEOUT, connected
from ..runtime.executor import run_jobs
from ..runtime.jobs import Interrupted, JobFailed, job_config
from .fit import fit, one_network
from .prepared import Prepared, prepare, subset
from .run import resolved_config

SIZES = (0.1, 0.2, 0.4, 0.7, 1.0)
REPEATS = 3
MIN_ROWS = 2  # training rows a size must keep (classification: also one per class)

BIAS_TRAIN = 0.5  # train loss at the largest size above this share of B_train: high bias
VARIANCE_GAP = 0.2  # val − train there above this share of B_val (train fitted): high variance
BIAS_GAP = 0.1  # a gap above this share of B_val is still open ...
NARROWING = 0.2  # ... and clearly closing when it shrank by more than this share since the smallest size

COLUMNS = ("size", "rows", "repeat", "seed", "train_loss", "val_loss", "val_metric",
           "best_epoch", "epochs_run", "stop_reason", "seconds")


def parse_sizes(text: str) -> list[float]:
    """``"0.1,0.2,1"`` -> ``[0.1, 0.2, 1.0]``: fractions in (0, 1], sorted, each once."""
    parts = [p.strip() for p in str(text).split(",")]
    if not any(parts):
        raise NnfitError("--sizes: empty; give fractions of the training part, e.g. "
                         "--sizes 0.1,0.2,0.4,0.7,1.0")
    sizes = []
    for part in parts:
        if not part:
            raise NnfitError(f"--sizes: an empty entry in {text!r}; separate fractions with "
                             f"single commas, e.g. --sizes 0.1,0.2,0.4,0.7,1.0")
        try:
            value = float(part)
        except ValueError:
            raise NnfitError(f"--sizes: {part!r} is not a number; give fractions of the "
                             f"training part, e.g. --sizes 0.1,0.2,0.4,0.7,1.0") from None
        if not 0 < value <= 1:  # NaN fails too
            raise NnfitError(f"--sizes: {part} is not a fraction in (0, 1] of the training part")
        sizes.append(value)
    return sorted(set(sizes))


@dataclass
class CurveJob:
    """One point of the curve: a config trained on ``rows`` training rows.

    The prepared data is not part of the job: every job reads the same one, which
    the executor sends to each worker once (``run_jobs(..., shared=prepared)``).
    """

    index: np.ndarray  # (rows,) positions in the training split: the subset
    config: object
    size: float
    rows: int
    repeat: int
    seed: int


def draw_order(n: int, rng: np.random.Generator, labels: np.ndarray | None = None) -> np.ndarray:
    """A random order of ``n`` rows; with ``labels`` every prefix keeps the class proportions
    (to within a row), as the split does: each row's key is its rank in its class, jittered,
    over the class size."""
    if labels is None:
        return rng.permutation(n)
    key = np.empty(n)
    shuffled = rng.permutation(n)
    for cls in np.unique(labels):
        members = shuffled[labels[shuffled] == cls]
        key[members] = (np.arange(members.size) + rng.random(members.size)) / members.size
    return np.argsort(key, kind="stable")


def take(order: np.ndarray, k: int, labels: np.ndarray | None = None) -> np.ndarray:
    """The first ``k`` rows of ``order``, sorted; with ``labels``, a class left out swaps in
    its first row in ``order`` for the last row of a class that has more than one."""
    chosen = list(order[:k])
    if labels is not None:
        counts = Counter(labels[chosen].tolist())
        for cls in np.unique(labels).tolist():
            if cls in counts:
                continue
            first = next(i for i in order[k:] if labels[i] == cls)
            j = max(j for j, i in enumerate(chosen) if counts[labels[i]] > 1)
            counts[labels[chosen[j]]] -= 1
            chosen[j], counts[cls] = first, 1
    return np.sort(np.asarray(chosen, dtype=np.intp))


def _labels(prepared: Prepared) -> np.ndarray | None:
    return np.asarray(prepared.data.y["train"]).reshape(-1) \
        if prepared.task.kind == "classification" else None


def size_rows(prepared: Prepared, sizes: Sequence[float]) -> dict[float, int]:
    """Training rows per size; NnfitError when a size keeps too few."""
    n_train = prepared.data.X["train"].shape[0]
    labels = _labels(prepared)
    need = max(MIN_ROWS, 0 if labels is None else np.unique(labels).size)
    rows = {size: round(size * n_train) for size in sizes}
    small = min(sizes)
    if rows[small] < need:
        why = (f"{need} (one per class)" if labels is not None and need > MIN_ROWS
               else f"{need}")
        raise NnfitError(f"--sizes {small:g}: keeps {rows[small]} of the {n_train} training rows; "
                         f"each size needs at least {why}")
    return rows


def plan(prepared: Prepared, config, sizes: Sequence[float], repeats: int) -> list[CurveJob]:
    """One job per (size, repeat), repeat ``r`` seeded with ``seed + r``; the largest size
    first, so that the longest jobs start first and the workers finish together."""
    rows = size_rows(prepared, sizes)
    labels = _labels(prepared)
    n_train = prepared.data.X["train"].shape[0]
    jobs = []
    for repeat in range(repeats):
        seed = config.training.seed + repeat
        one = job_config(config, seed=seed)
        order = draw_order(n_train, stream(seed, SUBSET_STREAM), labels)
        for size in sizes:
            index = take(order, rows[size], labels)
            jobs.append(CurveJob(index, one, size, rows[size], repeat, seed))
    jobs.sort(key=lambda job: (-job.size, job.repeat))
    return jobs


def curve_job(prepared: Prepared, job: CurveJob) -> dict:
    """Train one point on its subset of ``prepared``'s training rows; its final train loss
    (restored weights, on its own rows), val loss, val metric, best epoch and seconds.
    Runs in a worker: prints and writes nothing."""
    started = time.perf_counter()
    prepared = subset(prepared, job.index)
    result = fit(prepared, job.config)
    ds, task, net = prepared.data, prepared.task, result.network
    with np.errstate(over="ignore", invalid="ignore"):  # a diverged net scores inf
        train = task.score(net.predict(ds.X["train"]), ds.y["train"])
        val = task.score(net.predict(ds.X["val"]), ds.y["val"])
    return {"size": job.size, "rows": job.rows, "repeat": job.repeat, "seed": job.seed,
            "train_loss": float(train["loss"]), "val_loss": float(val["loss"]),
            "val_metric": float(val[METRIC[task.kind]]), "best_epoch": result.best_epoch,
            "epochs_run": result.epochs_run, "stop_reason": result.stop_reason,
            "seconds": round(time.perf_counter() - started, 3)}


def baseline_losses(prepared: Prepared) -> dict[str, float]:
    """The input-ignoring baseline (fitted on the whole training part): train and val loss."""
    ds, task = prepared.data, prepared.task
    out = {}
    for name in ("train", "val"):
        logits = task.baseline_logits(ds.y["train"], ds.X[name].shape[0], ds.X[name].dtype)
        out[name] = float(task.score(logits, ds.y[name])["loss"])
    return out


def _mean_std(values: list[float]) -> tuple[float | None, float | None]:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return None, None
    return float(np.mean(finite)), float(np.std(finite, ddof=1)) if len(finite) > 1 else 0.0


def summarize(runs: list[dict]) -> list[dict]:
    """Per size (ascending): rows, finished repeats, mean and std of the losses and metric."""
    by_size: dict[float, list[dict]] = {}
    for run in runs:
        by_size.setdefault(run["size"], []).append(run)
    table = []
    for size in sorted(by_size):
        group = by_size[size]
        row = {"size": size, "rows": group[0]["rows"], "runs": len(group)}
        for key in ("train_loss", "val_loss", "val_metric"):
            row[f"{key}_mean"], row[f"{key}_std"] = _mean_std([r[key] for r in group])
        table.append(row)
    return table


def verdict(summary: list[dict], base_train: float, base_val: float) -> dict:
    """High bias, high variance or neither, from the shape of the curves (module docstring)."""
    points = [s for s in summary if s["train_loss_mean"] is not None
              and s["val_loss_mean"] is not None]
    if not points:
        return {"verdict": "no verdict", "reason": "no size has a finished run with finite losses"}
    last, first = points[-1], points[0]
    train, val = last["train_loss_mean"], last["val_loss_mean"]
    gap, gap0 = val - train, first["val_loss_mean"] - first["train_loss_mean"]
    t, g, n = train / base_train, gap / base_val, (gap0 - gap) / base_val
    facts = {"size": last["size"], "rows": last["rows"], "train_loss": train, "val_loss": val,
             "gap": gap, "first_gap": gap0, "baseline_train_loss": base_train,
             "baseline_val_loss": base_val, "train_vs_baseline": t, "gap_vs_baseline": g,
             "narrowing_vs_baseline": n}
    at = f"at {last['rows']} rows (size {last['size']:g})"
    fits = f"train loss {train:.4g} is {t:.0%} of the baseline's {base_train:.4g}"
    opened = (f"val loss {val:.4g} is {gap:.3g} above it ({g:.0%} of the baseline's "
              f"{base_val:.4g})" if gap > 0 else f"val loss {val:.4g} is no higher")
    since = (f"the gap went from {gap0:.3g} at {first['rows']} rows to {gap:.3g}"
             if len(points) > 1 else "one size: no trend")
    if (t <= BIAS_TRAIN and g > VARIANCE_GAP) or (g > BIAS_GAP and n > NARROWING):
        return {"verdict": "high variance", **facts,
                "reason": f"{at} {fits}, but {opened}; {since}",
                "advice": "more data or regularization (training.l2, a smaller "
                          "network, early stopping) will help"}
    if t > BIAS_TRAIN:
        return {"verdict": "high bias", **facts,
                "reason": f"{at} {fits}: even the training rows are fitted poorly; "
                          f"{since}, not closing",
                "advice": "more data will not help; a more flexible model or better features will"}
    return {"verdict": "neither", **facts, "reason": f"{at} {fits}; {opened}; {since}",
            "advice": "the curves call neither for more data nor for a more flexible model"}


def curve_csv(runs: list[dict]) -> str:
    """``curve.csv``: one row per finished job, by size, then repeat."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for run in sorted(runs, key=lambda r: (r["size"], r["repeat"])):
        writer.writerow({k: repr(v) if isinstance(v, float) else v for k, v in run.items()})
    return buffer.getvalue()


def curve(config_path: str | Path, csv_path: str | Path, *, sizes: Sequence[float] = SIZES,
          repeats: int = REPEATS, n_jobs: int = 1, out: str | Path | None = None,
          overrides: Sequence[str] = (), scheduler: str | None = None,
          scheduler_timeout: float = DEFAULT_TIMEOUT, on_run=None) -> dict:
    """Run the learning curve and write its directory; return ``curve.json``'s content
    plus ``run_dir``.

    ``on_run(run, done, total)`` is called in this process as each job finishes
    (``run`` is its curve.csv row, or a :class:`JobFailed`). With ``scheduler`` the
    jobs run on that Dask cluster (``n_jobs`` is not used). Raises NnfitError for
    bad input before anything is written. After Ctrl-C, what finished is written
    and the record says ``"interrupted": True``.
    """
    from ..config.load import load_config
    from ..store.atomic import write_atomic, write_json
    from ..store.run_dir import make_run_dir

    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise NnfitError(f"--repeats must be a positive integer (got {repeats!r})")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise NnfitError(f"--jobs must be a positive integer (got {n_jobs!r})")
    sizes = sorted(set(sizes))
    if not sizes or not all(0 < s <= 1 for s in sizes):
        raise NnfitError(f"--sizes: fractions in (0, 1] of the training part (got {sizes})")
    config = one_network(load_config(config_path, overrides), "nnfit curve")
    prepared = prepare(config, csv_path, str(config_path))
    if "val" not in prepared.data.X:
        raise NnfitError(f"{config_path}: nnfit curve needs a validation split, and "
                         f"data.val_fraction is 0 (try --set data.val_fraction=0.2)")
    jobs = plan(prepared, config, sizes, repeats)
    base = baseline_losses(prepared)

    with connected(scheduler, scheduler_timeout) as cluster:  # a wrong address writes nothing
        run_dir = make_run_dir(out, f"{Path(config_path).stem}-curve")
        write_atomic(run_dir / "config.yaml", resolved_config(prepared, config, overrides))
        write_atomic(run_dir / "curve.csv", curve_csv([]))
        finished: dict[int, dict] = {}
        failed: list[dict] = []

        def arrived(index, result):
            job = jobs[index]
            if isinstance(result, JobFailed):
                failed.append({"size": job.size, "repeat": job.repeat, "seed": job.seed,
                               "error": result.message})
            else:
                finished[index] = result
                write_atomic(run_dir / "curve.csv", curve_csv(list(finished.values())))
            if on_run is not None:
                on_run(result if not isinstance(result, JobFailed) else failed[-1],
                       len(finished) + len(failed), len(jobs))

        interrupted = False
        try:
            run_jobs(curve_job, jobs, n_jobs=n_jobs, on_result=arrived, scheduler=cluster,
                     shared=prepared)
        except Interrupted:
            interrupted = True
    runs = sorted(finished.values(), key=lambda r: (r["size"], r["repeat"]))
    summary = summarize(runs)
    record = {
        "task": prepared.task.kind, "loss": prepared.task.loss_name,
        "metric": METRIC[prepared.task.kind], "sizes": list(sizes), "repeats": repeats,
        "seeds": [config.training.seed + r for r in range(repeats)],
        "jobs": None if scheduler else n_jobs, "scheduler": scheduler,
        "train_rows": int(prepared.data.X["train"].shape[0]),
        "val_rows": int(prepared.data.X["val"].shape[0]),
        "baseline": {"train_loss": base["train"], "val_loss": base["val"]},
        "summary": summary, "verdict": verdict(summary, base["train"], base["val"]),
        "runs": runs, "failed": failed, "interrupted": interrupted,
        "data": {"csv": prepared.source, "rows": prepared.n_rows},
    }
    write_json(run_dir / "curve.json", record)
    write_atomic(run_dir / "curve.png", _plot(record, Path(config_path).stem))
    return {**record, "run_dir": str(run_dir)}


def _plot(record: dict, name: str) -> bytes:
    from ..report.plots.size_curve import size_curves

    title = f"{name}: {record['verdict']['verdict']}"
    if record["interrupted"]:
        title += " (interrupted)"
    return size_curves(record["summary"], record["baseline"]["val_loss"], title,
                       loss=record["loss"], baseline_train=record["baseline"]["train_loss"])


def progress_line(run: dict, done: int, total: int) -> str:
    """One line per finished job, for the console (runs finish in any order)."""
    head = f"[{done:>{len(str(total))}}/{total}] size {run['size']:g}"
    if "error" in run:
        return f"{head} seed {run['seed']}: failed: {run['error']}"
    return (f"{head} ({run['rows']} rows) seed {run['seed']}: train {run['train_loss']:.4g}  "
            f"val {run['val_loss']:.4g}  best epoch {run['best_epoch']}  ({run['seconds']:.1f} s)")


def print_report(console, record: dict) -> None:
    """The table (size, rows, train and val loss and the metric, mean ± std), the verdict."""
    from rich.table import Table

    def cell(mean, std, places=4):  # fixed point: a memorized 1e-15 reads as 0.0000
        if mean is None:
            return "—"
        spec = ".4g" if max(abs(mean), std) >= 1e4 else f".{places}f"
        return f"{mean:{spec}} ± {std:{spec}}"

    metric = record["metric"]
    table = Table(title=f"{record['task']} · loss {record['loss']} · {record['train_rows']} "
                        f"training rows, {record['val_rows']} val rows · seeds "
                        f"{_seeds(record)}", title_justify="left")
    for column in ("size", "rows", "runs", "train loss", "val loss", f"val {metric}"):
        table.add_column(column, justify="right")
    for s in record["summary"]:
        table.add_row(f"{s['size']:g}", str(s["rows"]), str(s["runs"]),
                      cell(s["train_loss_mean"], s["train_loss_std"]),
                      cell(s["val_loss_mean"], s["val_loss_std"]),
                      cell(s["val_metric_mean"], s["val_metric_std"], places=3))
    base = record["baseline"]
    table.add_row("baseline", str(record["train_rows"]), "", f"{base['train_loss']:.4f}",
                  f"{base['val_loss']:.4f}", "", style="dim")
    console.print(table)
    v = record["verdict"]
    colour = {"high bias": "yellow", "high variance": "yellow", "neither": "green"}
    console.print(f"[bold {colour.get(v['verdict'], 'white')}]{v['verdict']}[/]: "
                  f"{v['reason']}", soft_wrap=True)
    if "advice" in v:
        console.print(v["advice"], soft_wrap=True)


def _seeds(record: dict) -> str:
    seeds = record["seeds"]
    return ", ".join(map(str, seeds)) if len(seeds) < 4 else f"{seeds[0]}–{seeds[-1]}"


def exit_code(record: dict) -> int:
    """130 after Ctrl-C, 1 when a job failed, else 0."""
    return 130 if record["interrupted"] else FAILED if record["failed"] else 0
