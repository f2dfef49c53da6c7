"""The capacity probe: a wider variant of the network, trained briefly on the same split.

The fit diagnosis asks for it when a model explains little of its training rows:
too rigid, or a target the features explain only partly? If the wider network cuts
the train loss clearly (with a val loss no worse), more capacity helps — unless the
same network trained with the probe's recipe (Adam at ``PROBE_LR``, the probe's
epochs; ``same_width`` in the result) gets most of that gain too: then the training
held it back (too few epochs, a rate too low or too high), not its size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..evaluation.scoring import score_splits
from ..nn.build import LAYERS, plan_network
from ..runtime import memory
from .fit import fit
from .prepared import Prepared

if TYPE_CHECKING:
    from ..config.schema import Config


PROBE_BUDGET = 0.5  # the probe may cost about this share of the main training's time
PROBE_MIN_EPOCHS = 10
PROBE_MIN_STEPS = 600  # and at least this many updates: on a small file 10 epochs are a few
#                        dozen steps, too few for a wide network to show what it can fit
PROBE_LR = 3e-3  # its own optimizer settings: a probe stuck on a plateau would hide underfitting
BATCH_OVERHEAD = 4_000  # a mini-batch's fixed cost, in parameters' worth of work (measured)


def probe_layers(layers: list[dict]) -> list[dict]:
    """The hidden layers of a wider variant: each as its class widens it (``Layer.widen``:
    dense 4× as wide, at least 64 units, never linear); a model none of whose hidden
    layers widens gets two dense layers of 64 ReLU units instead."""
    hidden = layers[:-1]  # the last one is the output layer
    wider = [LAYERS[layer["type"]].widen(layer) for layer in hidden]
    if wider == hidden:
        wider = [{"type": "dense", "units": 64, "activation": "relu"}] * 2
    return wider


def capacity_probe(prepared: Prepared, config: Config, epochs_run: int, n_params: int
                   ) -> dict | None:
    """Train the wider variant briefly on the same split; its restored losses and cost.
    ``epochs_run`` and ``n_params``: the main run's, which size the probe's budget.

    None, without training, when the wider network would not fit in the memory this
    machine has available (the main run's results are then kept, the probe skipped).
    """
    full = prepared.layers(config)
    layers = probe_layers(full)
    # counted, not allocated; the wider network keeps the model's linear skip and init
    wider = plan_network([*layers, full[-1]], (prepared.prep.n_inputs,),
                         linear_skip=config.model.linear_skip)
    # Epochs from a cost model, not a clock, so the verdict is the same on any machine:
    # an epoch costs (overhead + parameters) per batch, for both networks alike.
    wide_params = sum(layer.n_params for layer in wider)
    ratio = (BATCH_OVERHEAD + wide_params) / (BATCH_OVERHEAD + n_params)
    steps_per_epoch = -(-prepared.data.X["train"].shape[0] // config.training.batch_size)
    epochs = max(PROBE_MIN_EPOCHS, int(PROBE_BUDGET * epochs_run / ratio),
                 -(-PROBE_MIN_STEPS // steps_per_epoch))
    probe_config = _recipe(config, layers, epochs)
    available = memory.available_memory()
    if available is not None and prepared.memory(probe_config).total > available:
        return None
    losses, fitted = _trained(prepared, probe_config)
    widths = "→".join(str(layer["units"]) for layer in layers if layer["type"] == "dense")
    # the same network with the probe's recipe: is it the width that helps, or the training?
    same, same_fit = _trained(prepared, _recipe(config, full[:-1], epochs))
    return {"train_loss": losses["train"], "val_loss": losses.get("val"), "layers": widths,
            "epochs": fitted.epochs_run, "seconds": round(fitted.seconds + same_fit.seconds, 3),
            "lr": PROBE_LR, "main_lr": config.training.lr,
            "same_width": {"train_loss": same["train"], "val_loss": same.get("val"),
                           "epochs": same_fit.epochs_run}}


def _recipe(config: Config, hidden: list[dict], epochs: int) -> Config:
    """``config`` with these hidden layers and the probe's own optimizer settings."""
    dumped = config.model_dump()
    dumped["model"]["layers"] = hidden
    dumped["training"].update(optimizer="adam", lr=PROBE_LR, weight_decay=0.0, l2=0.0,
                              schedule="constant", clip_norm=None, epochs=epochs)
    return type(config).model_validate(dumped)


def _trained(prepared: Prepared, config: Config) -> tuple[dict, Any]:
    """Fit ``config`` on the prepared split: its restored losses per split, and the fit."""
    fitted = fit(prepared, config)
    held = [name for name in ("train", "val") if name in prepared.data.X]
    scored = score_splits(fitted.network, prepared.task, prepared.data, held, baseline=False)
    return {name: scores["loss"] for name, scores in scored.splits.items()}, fitted
