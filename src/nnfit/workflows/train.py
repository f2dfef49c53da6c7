"""``nnfit train`` and ``nnfit summary``.

``train`` reads top to bottom: config (with overrides) -> prepare (read, task,
split, preprocessing) -> run directory -> fit (history writer and live view as
observers; Ctrl-C asks the trainer to stop) -> score -> save.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from ..errors import FAILED, NnfitError
from ..runtime.cluster import DEFAULT_TIMEOUT, connected
from ..runtime.signals import ctrl_c_stops
from .fit import FitResult, fit
from .prepared import prepare
from .run import resolved_config, save, score


def train(config_path: str | Path, csv_path: str | Path, *, out: str | Path | None = None,
          overrides: Sequence[str] = (), console=None, alerts=None, probe: str = "auto",
          n_jobs: int | None = None, scheduler=None, scheduler_timeout: float | None = None,
          config_text: str | None = None) -> dict:
    """Train, evaluate and save a run; return its ``metrics.json`` content plus ``run_dir``
    and ``messages`` (what happened at the end, in words).

    ``console`` shows notes and the live view (it may be quiet); ``alerts``, when
    given, shows the warnings among the notes even then. ``probe``: see ``score``.
    ``n_jobs`` / ``scheduler``: where the members of ``training.ensemble`` train
    (``nnfit.workflows.executor``); refused for a single network.
    ``config_text``: the config's YAML, when it is not read from ``config_path``
    (which then only names it; see ``load_config``).

    Raises NnfitError for bad input before anything is written. A diverged run is
    saved and then reported with exit code 1; an interrupted one with 130.
    """
    from ..config.load import load_config
    from ..report.console import TrainingView, make_console, print_notes
    from ..store.atomic import write_atomic
    from ..store.history import HistoryWriter
    from ..store.run_dir import make_run_dir
    from .fit import make_stopper

    console = console or make_console(quiet=True)
    config = load_config(config_path, overrides, config_text)
    k = config.training.ensemble
    if k == 1 and (n_jobs is not None or scheduler is not None):
        flag = "--scheduler" if scheduler is not None else "--jobs"
        raise NnfitError(f"{flag}: runs the folds of --cv or the members of training.ensemble "
                         f"in parallel; give --cv K or --set training.ensemble=K as well")
    prepared = prepare(config, csv_path, str(config_path))
    with connected(scheduler, scheduler_timeout or DEFAULT_TIMEOUT) as cluster:  # before any output
        print_notes(console, alerts, prepared.notes)
        name = Path(config_path).stem
        run_dir = make_run_dir(out, name)
        write_atomic(run_dir / "config.yaml", resolved_config(prepared, config, overrides))
        if k > 1:
            return _train_ensemble(prepared, config, run_dir, name, overrides, console, probe,
                                   n_jobs, cluster, scheduler)

    t = config.training
    stopper = make_stopper(t, "val" in prepared.data.X)
    stop = threading.Event()
    with ctrl_c_stops(stop):  # through saving: a Ctrl-C after the last epoch loses nothing
        result = fit(prepared, config, stopper=stopper, stop=stop, observers=[
            HistoryWriter(run_dir / "history.csv"), TrainingView(console, t.epochs, stopper)])
        scores = score(prepared, result, config, probe)
        metrics = save(run_dir, prepared, result, scores, name=name, config=config,
                       overrides=overrides, history_written=True, config_written=True)
    threads = f"BLAS threads: {result.threads} ({result.threads_reason})"
    return {**metrics, "run_dir": str(run_dir),
            "messages": [*stop_messages(result, t.lr), threads]}


def _train_ensemble(prepared, config, run_dir: Path, name: str, overrides, console, probe,
                    n_jobs, cluster, scheduler) -> dict:
    """The ensemble branch of :func:`train`: members through the executor, then one save."""
    from ..evaluation.task import HEADLINE_METRIC
    from ..runtime.executor import default_jobs
    from ..store.atomic import write_json
    from .ensemble import ensemble_section, fit_ensemble, member_line

    t, metric = config.training, HEADLINE_METRIC[prepared.task.kind]
    n_jobs = default_jobs() if n_jobs is None and cluster is None else n_jobs or 1
    where = f"on {scheduler}" if scheduler else f"{min(n_jobs, t.ensemble)} at a time"
    console.print(f"ensemble: {t.ensemble} members, seeds {t.seed}…{t.seed + t.ensemble - 1}, "
                  f"{where}, one BLAS thread each", style="dim", markup=False)

    def arrived(done, member):
        console.print(member_line(member.record, done, t.ensemble, metric), markup=False)

    result, members = fit_ensemble(prepared, config, n_jobs=n_jobs, scheduler=cluster,
                                   on_member=arrived)
    scores = score(prepared, result, config, probe)
    metrics = save(run_dir, prepared, result, scores, config=config, overrides=overrides,
                   name=f"{name} (ensemble of {t.ensemble}; curves of seed {t.seed})",
                   config_written=True)
    metrics["ensemble"] = ensemble_section(members, metric, None if scheduler else n_jobs,
                                           scheduler)
    write_json(run_dir / "metrics.json", metrics)
    return {**metrics, "run_dir": str(run_dir),
            "messages": [*stop_messages(result, t.lr),
                         "BLAS threads: 1 per member; the curves and verdict's epochs are the "
                         f"first member's (seed {t.seed})"]}


def stop_messages(result: FitResult, lr: float) -> list[str]:
    """What happened at the end of training, in words."""
    reason, epoch, best = result.stop_reason, result.epochs_run, result.best_epoch
    kept = f"kept the weights of epoch {best}" if best else "kept the initial weights"
    if reason == "diverged":  # the outcome line says it; add the rate that diverged
        return [f"training.lr was {lr:g}"]
    if reason == "interrupted":
        return [f"interrupted at epoch {epoch}; {kept} and saved everything"]
    if reason == "early_stopping":
        return [f"early stopping at epoch {epoch}: no improvement for {result.patience} epochs; "
                f"restored the weights of epoch {best}"]
    if result.restored:
        return [f"restored the weights of epoch {best} (the best of {epoch})"]
    return []


def layer_rows(network) -> list[dict]:
    """``network.summary()`` as rows for the layer table of ``summary`` and ``show``."""
    return table_rows(network.summary())


def table_rows(summary: list[tuple]) -> list[dict]:
    """``(description, output shape, parameters)`` rows as the layer table's dicts."""
    return [{"layer": d, "output_shape": ["batch", *s], "params": n} for d, s, n in summary]


def exit_code(metrics: dict) -> int:
    return {"diverged": FAILED, "interrupted": 130}.get(metrics["stop_reason"], 0)


def summary(config_path: str | Path, csv_path: str | Path, overrides: Sequence[str] = ()) -> dict:
    """The layer table of the network a config builds on a CSV, without training.

    The layers are built for their shapes only and their parameters counted, never
    allocated, so any size gets its table. ``memory`` holds what training it would
    take (``bytes``), what this machine has (``available``, None if unknown), whether
    ``train`` would accept it (``fits``) and a ``line`` saying so.
    """
    from ..config.load import load_config
    from ..nn.build import plan_layers
    from ..nn.network import summarize
    from ..runtime import memory as resources
    from .prepared import memory_phrase

    config = load_config(config_path, overrides)
    prepared = prepare(config, csv_path, str(config_path), check_memory=False)
    rows = summarize(plan_layers(prepared.layers(), (prepared.prep.n_inputs,),
                                 config.training.dtype))
    estimate, available = prepared.memory(), resources.available_memory()
    refusal = prepared.memory_refusal(estimate, available)
    line = memory_phrase(estimate).replace("the network needs", "training needs", 1)
    if available is not None:
        line += f"; this machine has {resources.format_bytes(available)} available"
    if refusal is not None:
        line = f"warning: {refusal}: nnfit train would refuse it"
    return {"input": prepared.prep.n_inputs, "loss": prepared.task.loss_name,
            "task": prepared.task.kind, "layers": table_rows(rows),
            "n_params": sum(n for *_, n in rows), "notes": prepared.notes,
            "memory": {"bytes": estimate.total, "available": available,
                       "fits": refusal is None, "line": line}}
