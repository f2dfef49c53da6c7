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


PROBE_BUDGET = 0.5  # the probe may cost at most this share of the main training's time
PROBE_MIN_EPOCHS = 10
PROBE_MIN_STEPS = 600  # and at least this many updates: on a small file 10 epochs are a few
#                        dozen steps, too few for a wide network to show what it can fit
PROBE_LR = 3e-3  # its own optimizer settings: a probe stuck on a plateau would hide underfitting
BATCH_OVERHEAD = 4_000  # a mini-batch's fixed cost, in parameters' worth of work (measured)
PROBE_FLOOR = 100_000_000  # the probe's least it needs may always cost this much (cost-model
#                           units, about half a second): on a small, quick run half
#                           its cost buys too little, and the verdict rests on the probe
SCORING_EPOCHS = 0.5  # scoring a network on its training and validation rows (a forward
#                       pass of each, and the per-row losses), in epochs of its training
TOO_SMALL = "the probe's budget was too small: run with --probe"


def probe_layers(layers: list[dict]) -> list[dict]:
    """The hidden layers of a wider variant: each as its class widens it (``Layer.widen``:
    dense 4× as wide, at least 64 units, never linear); a model none of whose hidden
    layers widens gets two dense layers of 64 ReLU units instead."""
    hidden = layers[:-1]  # the last one is the output layer
    wider = [LAYERS[layer["type"]].widen(layer) for layer in hidden]
    if wider == hidden:
        wider = [{"type": "dense", "units": 64, "activation": "relu"}] * 2
    return wider


def capacity_probe(prepared: Prepared, config: Config, epochs_run: int, n_params: int, *,
                   full: bool = False) -> dict | str:
    """Train the wider variant briefly on the same split; its restored losses and cost.
    ``epochs_run`` and ``n_params``: the main run's, which size the probe's budget.

    The probe trains two networks (the wider one, and the same one with the probe's recipe)
    for the same epochs, and scores both. Within ``PROBE_BUDGET`` of the main training
    (:func:`probe_epochs`) it gets as many epochs as fit; when fewer than it needs fit, it
    does not run and the reason is returned instead (``TOO_SMALL``), unless ``full``
    (``--probe``) asks for it whatever it costs. It is not run either, with a reason, when
    the wider network would not fit in the memory this machine has available.
    """
    full_layers = prepared.layers(config)
    layers = probe_layers(full_layers)
    # counted, not allocated; the wider network keeps the model's linear skip and init
    wider = plan_network([*layers, full_layers[-1]], (prepared.prep.n_inputs,),
                         linear_skip=config.model.linear_skip)
    n_train = prepared.data.X["train"].shape[0]
    n_scored = n_train + (prepared.data.X["val"].shape[0] if "val" in prepared.data.X else 0)
    steps = -(-n_train // config.training.batch_size)
    epochs = probe_epochs(epochs_run, n_params, sum(layer.n_params for layer in wider), steps,
                          n_scored / n_train, full)
    if epochs == 0:
        return TOO_SMALL
    probe_config = _recipe(config, layers, epochs)
    available = memory.available_memory()
    if available is not None and prepared.memory(probe_config).total > available:
        return "the wider network would not fit in memory"
    losses, fitted = _trained(prepared, probe_config)
    widths = "→".join(str(layer["units"]) for layer in layers if layer["type"] == "dense")
    # the same network with the probe's recipe: is it the width that helps, or the training?
    same, same_fit = _trained(prepared, _recipe(config, full_layers[:-1], epochs))
    return {"train_loss": losses["train"], "val_loss": losses.get("val"), "layers": widths,
            "epochs": fitted.epochs_run, "seconds": round(fitted.seconds + same_fit.seconds, 3),
            "lr": PROBE_LR, "main_lr": config.training.lr,
            "same_width": {"train_loss": same["train"], "val_loss": same.get("val"),
                           "epochs": same_fit.epochs_run}}


def probe_epochs(epochs_run: int, n_params: int, wide_params: int, steps: int,
                 scored_share: float, full: bool = False) -> int:
    """The probe's epochs; 0 when its budget cannot buy the epochs it needs.

    A cost model, not a clock, so the verdict is the same on any machine: a training step
    costs ``BATCH_OVERHEAD`` plus the network's parameters; scoring a network costs
    ``SCORING_EPOCHS`` of its epochs per training row scored (``scored_share``: rows
    scored / training rows). Each probe epoch trains the wider and the same network. The
    probe needs ``PROBE_MIN_EPOCHS`` epochs and at least ``PROBE_MIN_STEPS`` updates. It
    gets what ``PROBE_BUDGET`` of the main run's ``epochs_run`` epochs buys when that is
    at least what it needs; else what it needs when that costs at most ``PROBE_FLOOR``
    (or ``full``: ``--probe``); else nothing.
    """
    main, wide = BATCH_OVERHEAD + n_params, BATCH_OVERHEAD + wide_params
    scoring = SCORING_EPOCHS * scored_share * (main + wide)  # per step of an epoch
    affordable = int((PROBE_BUDGET * epochs_run * main - scoring) / (main + wide))
    needed = max(PROBE_MIN_EPOCHS, -(-PROBE_MIN_STEPS // steps))
    if affordable >= needed:
        return affordable
    if full or (needed * (main + wide) + scoring) * steps <= PROBE_FLOOR:
        return needed
    return 0


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
