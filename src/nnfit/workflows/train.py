"""``nnfit train`` and ``nnfit summary``.

``train`` reads top to bottom: config (with overrides) -> prepare (read, task,
split, preprocessing) -> run directory -> fit (history writer and live view as
observers; Ctrl-C asks the trainer to stop) -> score -> save.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

from ..errors import FAILED
from .prepared import prepare
from .run import FitResult, fit, resolved_config, save, score


@contextmanager
def ctrl_c_stops(stop: threading.Event):
    """First Ctrl-C: set ``stop`` (the trainer finishes its mini-batch, drops the partial
    epoch and ends normally, so every file is written; once training is over it changes
    nothing). A second one raises at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def train(config_path: str | Path, csv_path: str | Path, *, out: str | Path | None = None,
          overrides: Sequence[str] = (), console=None, alerts=None, probe: str = "auto",
          config_text: str | None = None) -> dict:
    """Train, evaluate and save a run; return its ``metrics.json`` content plus ``run_dir``
    and ``messages`` (what happened at the end, in words).

    ``console`` shows notes and the live view (it may be quiet); ``alerts``, when
    given, shows the warnings among the notes even then. ``probe``: see ``score``.
    ``config_text``: the config's YAML, when it is not read from ``config_path``
    (which then only names it; see ``load_config``).

    Raises NnfitError for bad input before anything is written. A diverged run is
    saved and then reported with exit code 1; an interrupted one with 130.
    """
    from ..config import load_config
    from ..report.console import TrainingView, make_console
    from ..store import HistoryWriter, make_run_dir, write_atomic
    from .run import make_stopper

    console = console or make_console(quiet=True)
    config = load_config(config_path, overrides, config_text)
    prepared = prepare(config, csv_path, str(config_path))
    for note in prepared.notes:  # warnings show even when the notes are quiet
        warning = note.startswith("warning:")
        (alerts if warning and alerts else console).print(
            note, style=None if warning else "dim", markup=False)
    name = Path(config_path).stem
    run_dir = make_run_dir(out, name)
    write_atomic(run_dir / "config.yaml", resolved_config(prepared, config, overrides))

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
    return [{"layer": d, "output_shape": ["batch", *s], "params": n} for d, s, n in network.summary()]


def exit_code(metrics: dict) -> int:
    return {"diverged": FAILED, "interrupted": 130}.get(metrics["stop_reason"], 0)


def summary(config_path: str | Path, csv_path: str | Path, overrides: Sequence[str] = ()) -> dict:
    """The layer table of the network a config builds on a CSV, without training."""
    from ..config import load_config

    prepared = prepare(load_config(config_path, overrides), csv_path, str(config_path))
    net = prepared.build()
    return {"input": prepared.prep.n_inputs, "loss": prepared.task.loss_name,
            "task": prepared.task.kind, "layers": layer_rows(net),
            "n_params": int(net.n_params), "notes": prepared.notes}
