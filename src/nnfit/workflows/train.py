"""One function per command: the only module that knows every part.

``train_run`` reads top to bottom: config -> data (read, decide the task, split,
fit preprocessing) -> network -> training (console, history and early stopping
as observers) -> evaluation (splits, baseline, diagnosis) -> files.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import FAILED, NnfitError

REGRESSION_LOSSES = ("mse", "sse", "rss")


@dataclass
class Prepared:
    """Everything a command needs before training: validated config, data, network."""

    config: object
    dataset: object
    loss_name: str
    layers: list[dict]
    network: object
    rng: object
    notes: list[str] = field(default_factory=list)


def prepare(config_path: str | Path, csv_path: str | Path, overrides: dict | None = None) -> Prepared:
    """Load and check the config and the data, and build the network (nothing is written)."""
    import numpy as np

    from ..config import load_config
    from ..data.dataset import load_dataset
    from ..nn.build import build_network

    config = load_config(config_path, overrides)
    rng = np.random.default_rng(config.training.seed)
    dataset = load_dataset(csv_path, config.data, rng)
    loss_name = resolve_loss(config, dataset.prep, str(config_path))
    notes = list(dataset.notes)
    layers = output_layers([layer.model_dump() for layer in config.model.layers], dataset.prep,
                           loss_name, str(config_path), notes)
    network = build_network(layers, n_features=dataset.prep.n_inputs,
                            dtype=config.training.dtype, seed=rng)
    return Prepared(config, dataset, loss_name, layers, network, rng, notes)


def resolve_loss(config, prep, source: str) -> str:
    """The loss for the task: ``auto`` picks one; an explicit one must fit the task."""
    loss = config.training.loss
    if prep.task == "regression":
        if loss == "auto":
            return "mse"
        if loss not in REGRESSION_LOSSES:
            raise NnfitError(f"{source}: training.loss: {loss} needs a classification target, but "
                             f"{', '.join(prep.targets)} is a regression target (use mse, sse or "
                             f"rss, or set data.task: classification)")
        return loss
    n_classes = len(prep.classes)
    if loss == "auto":
        return "binary_cross_entropy" if n_classes == 2 else "cross_entropy"
    if loss in REGRESSION_LOSSES:
        raise NnfitError(f"{source}: training.loss: {loss} is for regression, but "
                         f"{prep.targets[0]!r} is a classification target (use cross_entropy"
                         f"{' or binary_cross_entropy' if n_classes == 2 else ''})")
    if loss == "binary_cross_entropy" and n_classes != 2:
        raise NnfitError(f"{source}: training.loss: binary_cross_entropy needs exactly 2 classes, "
                         f"{prep.targets[0]!r} has {n_classes} (use cross_entropy)")
    return loss


def output_units(prep, loss_name: str) -> int:
    if prep.task == "regression":
        return len(prep.targets)
    return 1 if loss_name == "binary_cross_entropy" else len(prep.classes)


def output_layers(layers: list[dict], prep, loss_name: str, source: str, notes: list[str]) -> list[dict]:
    """The layer list with its output layer: the declared one, checked, or one appended.

    A last ``dense`` layer whose activation is identity (or the loss's own output
    activation, which the loss applies) is the declared output layer.
    """
    from ..nn.losses import make_loss

    n_out = output_units(prep, loss_name)
    what = (f"{n_out} target column{'s' if n_out > 1 else ''}" if prep.task == "regression"
            else f"{len(prep.classes)} classes with {loss_name}")
    fused = make_loss(loss_name).output_activation
    last = layers[-1] if layers else None
    act = last and (last["activation"] if isinstance(last.get("activation"), str)
                    else (last.get("activation") or {}).get("name"))
    if last and last["type"] == "dense" and act in ("identity", "linear", fused):
        where = f"model.layers[{len(layers) - 1}]"
        if last["units"] != n_out:
            raise NnfitError(f"{source}: {where}.units: the output layer needs {n_out} unit"
                             f"{'s' if n_out > 1 else ''} for {what} (got {last['units']}); or "
                             f"give it an activation to make it a hidden layer")
        if act == fused and fused != "identity":
            notes.append(f"{where}: {fused} is applied by the {loss_name} loss; the layer "
                         f"outputs logits")
            layers = [*layers[:-1], {**last, "activation": "identity"}]
        return layers
    notes.append(f"output layer: dense, {n_out} unit{'s' if n_out > 1 else ''} for {what}")
    return [*layers, {"type": "dense", "units": n_out, "activation": "identity"}]


def train_run(config_path: str | Path, csv_path: str | Path, *, out: str | Path | None = None,
              overrides: dict | None = None, console=None) -> dict:
    """Train, evaluate and save a run; return its ``metrics.json`` content (plus ``run_dir``).

    Raises NnfitError for bad input before anything is written. A diverged run is
    saved and then reported with exit code 1; an interrupted one with 130.
    """
    import yaml

    from ..evaluation.diagnosis import dead_units, diagnose
    from ..evaluation.metrics import score
    from ..nn.losses import make_loss
    from ..nn.optimizers import make_optimizer
    from ..report.console import TrainingView, make_console
    from ..report.plots import learning_curves
    from ..store import HistoryWriter, make_run_dir, save_model, write_atomic, write_json
    from ..training.early_stopping import EarlyStopping
    from ..training.observers import EpochMetrics, History
    from ..training.trainer import Trainer

    console = console or make_console(quiet=True)
    p = prepare(config_path, csv_path, overrides)
    cfg, ds, net, prep = p.config, p.dataset, p.network, p.dataset.prep
    for note in p.notes:
        console.print(f"[dim]{note}[/]")
    run_dir = make_run_dir(out, Path(config_path).stem)

    resolved = cfg.model_dump(mode="json")
    resolved["data"]["task"] = prep.task
    resolved["training"]["loss"] = p.loss_name
    write_atomic(run_dir / "config.yaml", yaml.safe_dump(resolved, sort_keys=False))

    t = cfg.training
    loss = make_loss(p.loss_name)
    options = {"lr": t.lr, "weight_decay": t.weight_decay}
    if t.optimizer in ("momentum", "nesterov"):
        options["momentum"] = t.momentum
    has_val = "val" in ds.X
    es = t.early_stopping
    stopper = EarlyStopping("val_loss" if has_val else "train_loss",
                            patience=es.patience if es else None,
                            min_delta=es.min_delta if es else 0.0,
                            restore_best=bool(es and es.restore_best))
    history = History()
    observers = []
    if has_val:
        observers.append(EpochMetrics(
            lambda outputs, y: {k: v for k, v in score(prep, loss, outputs, y).items() if k != "loss"},
            ds.y["val"]))
    observers += [stopper, history, HistoryWriter(run_dir / "history.csv"),
                  TrainingView(console, t.epochs)]
    trainer = Trainer(net, loss, make_optimizer(t.optimizer, **options), batch_size=t.batch_size,
                      rng=p.rng, observers=observers)
    started = time.perf_counter()
    trainer.fit(ds.X["train"], ds.y["train"], t.epochs,
                validation=(ds.X["val"], ds.y["val"]) if has_val else None)
    seconds = time.perf_counter() - started

    splits, baseline = score_splits(ds, net, loss)
    diagnosis = diagnose(
        train=splits["train"]["loss"], val=splits["val"]["loss"] if has_val else None,
        base_train=baseline["train"]["loss"], base_val=baseline["val"]["loss"] if has_val else None,
        best_val=stopper.best if has_val and stopper.best_epoch else None,
        best_epoch=stopper.best_epoch, epochs_run=trainer.epoch)
    metrics = {
        "task": prep.task, "loss": p.loss_name, "splits": splits, "baseline": baseline,
        "diagnosis": diagnosis, "epochs_run": trainer.epoch, "best_epoch": stopper.best_epoch,
        "seconds": round(seconds, 3), "stop_reason": trainer.stop_reason,
        "restored_best": stopper.restored,
        "dead_relu": dead_units(net, ds.X["train"]),
        "data": {"csv": str(csv_path), "rows": ds.n_rows, "inputs": prep.n_inputs},
    }
    save_model(run_dir, net, prep, p.loss_name)
    write_json(run_dir / "metrics.json", metrics)
    write_atomic(run_dir / "curves.png", learning_curves(
        history.history, history.epochs, stopper.best_epoch,
        f"{Path(config_path).stem}: {diagnosis['verdict']}"))
    metrics["run_dir"] = str(run_dir)
    metrics["messages"] = stop_messages(trainer, stopper, t)
    return metrics


def score_splits(ds, net, loss) -> tuple[dict, dict]:
    """Loss and metrics per split, for the network and for the input-ignoring baseline."""
    from ..evaluation.metrics import baseline_logits, score

    splits, baseline = {}, {}
    for name, X in ds.X.items():
        y, rows = ds.y[name], int(X.shape[0])
        splits[name] = {"rows": rows, **score(ds.prep, loss, net.predict(X), y)}
        base = baseline_logits(ds.prep, loss, ds.y["train"], rows, net.dtype)
        baseline[name] = {"rows": rows, **score(ds.prep, loss, base, y)}
    order = ("train", "val", "test")
    return ({k: splits[k] for k in order if k in splits},
            {k: baseline[k] for k in order if k in baseline})


def stop_messages(trainer, stopper, t) -> list[str]:
    """What happened at the end of training, in words."""
    reason, epoch, best = trainer.stop_reason, trainer.epoch, stopper.best_epoch
    kept = f"kept the weights of epoch {best}" if best else "kept the initial weights"
    if reason == "diverged":
        return [f"diverged at epoch {epoch} — try a lower learning rate (training.lr is {t.lr:g}); "
                f"{kept}"]
    if reason == "interrupted":
        return [f"interrupted at epoch {epoch}; {kept} and saved everything"]
    if reason == "early_stopping":
        return [f"early stopping at epoch {epoch}: no improvement for {stopper.patience} epochs; "
                f"restored the weights of epoch {best}"]
    if stopper.restored:
        return [f"restored the weights of epoch {best} (the best of {epoch})"]
    return []


def layer_rows(network) -> list[dict]:
    """``network.summary()`` as rows for the layer table of ``summary`` and ``show``."""
    return [{"layer": d, "output_shape": ["batch", *s], "params": n} for d, s, n in network.summary()]


def exit_code(metrics: dict) -> int:
    return {"diverged": FAILED, "interrupted": 130}.get(metrics["stop_reason"], 0)


def summary(config_path: str | Path, csv_path: str | Path) -> dict:
    """The layer table of the network a config builds on a CSV, without training."""
    p = prepare(config_path, csv_path)
    net = p.network
    return {"input": p.dataset.prep.n_inputs, "loss": p.loss_name, "task": p.dataset.prep.task,
            "layers": layer_rows(net),
            "n_params": int(net.n_params), "notes": p.notes}
