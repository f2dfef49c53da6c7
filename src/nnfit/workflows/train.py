"""``nnfit train``: one run, or a seed ensemble, from a config and a CSV.

``train`` reads top to bottom: config (with overrides) -> prepare (read, task,
split, preprocessing) -> run directory -> fit (history writer and live view as
observers; Ctrl-C asks the trainer to stop) -> score -> save.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from ..config.load import load_config
from ..errors import NnfitError
from ..evaluation.task import HEADLINE_METRIC
from ..report.console import TrainingView, make_console, print_notes
from ..report.tables import member_line
from ..runtime.cluster import DEFAULT_TIMEOUT, connected
from ..runtime.executor import default_jobs
from ..runtime.signals import ctrl_c_stops
from ..store.atomic import write_atomic
from ..store.history import HistoryWriter
from ..store.metrics import EnsembleRecords
from ..store.run_dir import make_run_dir
from .ensemble import ensemble_section, fit_ensemble, packs
from .fit import FitResult, fit, make_stopper
from .prepared import Prepared, prepare
from .refit import Refit, Saving
from .run import RunOutcome, exit_code, resolved_config, save, score, stop_messages


def train(config_path: str | Path, csv_path: str | Path, *, out: str | Path | None = None,
          overrides: Sequence[str] = (), console=None, alerts=None, probe: str = "auto",
          n_jobs: int | None = None, scheduler=None, scheduler_timeout: float | None = None,
          config_text: str | None = None) -> RunOutcome:
    """Train, evaluate and save a run; return its :class:`~nnfit.workflows.run.RunOutcome`.

    ``console`` shows notes and the live view (it may be quiet); ``alerts``, when
    given, shows the warnings among the notes even then. ``probe``: see ``score``.
    ``n_jobs`` / ``scheduler``: where the members of ``training.ensemble`` train
    (``nnfit.runtime.executor``); refused for a single network.
    ``config_text``: the config's YAML, when it is not read from ``config_path``
    (which then only names it; see ``load_config``).

    Raises NnfitError for bad input before anything is written. A diverged run is
    saved and then reported with exit code 1; an interrupted one with 130.
    """
    console = console or make_console(quiet=True)
    config = load_config(config_path, overrides, config_text)
    if config.training.ensemble == 1 and (n_jobs is not None or scheduler is not None):
        flag = "--scheduler" if scheduler is not None else "--jobs"
        raise NnfitError(f"{flag}: runs the folds of --cv or the members of training.ensemble "
                         f"in parallel; give --cv K or --set training.ensemble=K as well")
    prepared = prepare(config, csv_path, str(config_path))
    with connected(scheduler, scheduler_timeout or DEFAULT_TIMEOUT) as cluster:  # before any output
        print_notes(console, alerts, prepared.notes)
        name = Path(config_path).stem
        run_dir = make_run_dir(out, name)
        write_atomic(run_dir / "config.yaml", resolved_config(prepared, config, overrides))
        if config.training.ensemble > 1:
            return _train_ensemble(prepared, run_dir, name, overrides, console, probe,
                                   (n_jobs, cluster, scheduler))
    return _train_one(prepared, run_dir, name, overrides, console, probe)


def _train_one(prepared: Prepared, run_dir: Path, name: str, overrides: Sequence[str], console,
               probe: str) -> RunOutcome:
    """One network: the live view and history as it trains, then score and save."""
    config = prepared.config
    t = config.training
    stopper = make_stopper(t, "val" in prepared.data.X)
    stop = threading.Event()
    with ctrl_c_stops(stop):  # through saving: a Ctrl-C after the last epoch loses nothing
        result = fit(prepared, config, stopper=stopper, stop=stop, observers=[
            HistoryWriter(run_dir / "history.csv"), TrainingView(console, t.epochs, stopper)])
        scores = score(prepared, result, config, probe)

        def fit_again(refit: Refit) -> tuple[FitResult, None]:
            again = make_stopper(refit.config.training, has_val=False)
            return fit(refit.prepared, refit.config, stopper=again, stop=stop,
                       observers=[TrainingView(console, refit.epochs, again)]), None

        saved = Saving(run_dir, name, overrides, console)
        metrics, said = saved.refitted(prepared, result, scores, [result], fit_again)
        if metrics is None:
            metrics = save(run_dir, prepared, result, scores, name=name, config=config,
                           overrides=overrides, history_written=True, config_written=True)
    threads = f"BLAS threads: {result.threads} ({result.threads_reason})"
    return RunOutcome(metrics, run_dir, [*stop_messages(result, t.lr), *said, threads],
                      exit_code(result, metrics.diagnosis.verdict) or saved.code)


def _train_ensemble(prepared: Prepared, run_dir: Path, name: str, overrides: Sequence[str],
                    console, probe: str, where: tuple) -> RunOutcome:
    """``training.ensemble``: the members through the executor, then one save."""
    n_jobs, cluster, scheduler = where
    config = prepared.config
    t, metric = config.training, HEADLINE_METRIC[prepared.task.kind]
    n_jobs = default_jobs() if n_jobs is None and cluster is None else n_jobs or 1
    groups = packs(prepared, config, n_jobs, cluster)
    place = (f"on {scheduler}" if scheduler else
             f"packed in {len(groups)} process{'es' if len(groups) > 1 else ''}" if groups
             else f"{min(n_jobs, t.ensemble)} at a time")
    console.print(f"ensemble: {t.ensemble} members, seeds {t.seed}…{t.seed + t.ensemble - 1}, "
                  f"{place}, one BLAS thread each", style="dim", markup=False)

    def arrived(done, member):
        console.print(member_line(member.record, done, t.ensemble, metric), markup=False)

    result, members = fit_ensemble(prepared, config, n_jobs=n_jobs, scheduler=cluster,
                                   on_member=arrived)
    scores = score(prepared, result, config, probe)
    section = ensemble_section(members, metric, None if scheduler else n_jobs, scheduler)
    title = f"{name} (ensemble of {t.ensemble}; curves of seed {t.seed})"

    def fit_again(refit: Refit) -> tuple[FitResult, EnsembleRecords]:
        again, refit_members = fit_ensemble(refit.prepared, refit.config, n_jobs=n_jobs,
                                            scheduler=cluster, on_member=arrived)
        return again, ensemble_section(refit_members, metric, None if scheduler else n_jobs,
                                       scheduler)

    saved = Saving(run_dir, title, overrides, console, section)
    metrics, said = saved.refitted(prepared, result, scores, [m.result for m in members],
                                   fit_again)
    if metrics is None:
        metrics = save(run_dir, prepared, result, scores, config=config, overrides=overrides,
                       name=title, config_written=True, ensemble=section)
    return RunOutcome(metrics, run_dir,
                      [*stop_messages(result, t.lr), *said, "BLAS threads: 1 per member; the "
                       f"curves and verdict's epochs are the first member's (seed {t.seed})"],
                      exit_code(result, metrics.diagnosis.verdict) or saved.code)
