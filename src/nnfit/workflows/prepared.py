"""The data side of a run, done once: read, split, preprocess — and the Prepared it gives.

``prepare`` reads as one straight line: :func:`read_dataset` (read → exclude →
select columns → missing cells → task → classes), then :func:`default_split` (the
seeded, stratified train / val / test split), then :func:`prepare_split`
(preprocessing fitted on the training rows, every split transformed, the data checks
of ``nnfit.data.audit``, the model checked against the task). Commands that split the same
rows many ways (``train --cv``) read once and call :func:`prepare_split` per
split; ``nnfit curve`` cuts a Prepared's training split with :func:`subset`.

Randomness: the seed feeds two independent streams, one for the split (fixed
here) and one for initialization and shuffling (drawn in ``fit``), so a fit
with another seed or learning rate never changes which rows are held out.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..data.audit import DataAudit, audit
from ..data.dataset import (
    Dataset,
    Splits,
    check_finite_splits,
    default_split,
    fit_on_train,
    read_dataset,
    transform_splits,
)
from ..data.seeds import TRAIN_STREAM, stream
from ..data.width import design_refusal
from ..errors import NnfitError, Note, warning
from ..evaluation.task import (
    Task,
    check_label_smoothing,
    choose_loss,
    make_task,
    resolve_class_weight,
)
from ..nn.base import Layer
from ..nn.build import LAYERS, LayerError, build_network, plan_layers, plan_network
from ..nn.init import Init
from ..runtime import memory
from ..runtime.memory import estimate_bytes, format_bytes

if TYPE_CHECKING:
    from ..config.schema import Config
    from ..data.preprocess import Preprocessor
    from ..nn.network import Network
    from ..runtime.memory import MemoryEstimate


@dataclass
class Prepared:
    """The data side of a run, done once: the split, fitted preprocessing and task."""

    config: Config
    source: str  # the CSV's path, as the user gave it
    prep: Preprocessor
    task: Task
    data: Splits
    n_rows: int
    split_seed: int
    notes: list[Note] = field(default_factory=list)
    task_reason: str | None = None  # why data.task: auto decided the task (None: set)
    audit: DataAudit = field(default_factory=DataAudit)  # the data checks on this split

    def layers(self, config: Config | None = None, notes: list[Note] | None = None,
               where: str = "") -> list[dict]:
        """The layer specs of ``config`` (default: the prepared one) with the output layer;
        ``where`` starts an error's message (the config's name)."""
        config = config or self.config
        layers = numeric_positions([layer.model_dump() for layer in config.model.layers],
                                   self.prep, where)
        return output_layers(layers, self.task, notes if notes is not None else [], where)

    def build(self, config: Config | None = None) -> Network:
        """A freshly initialized network for ``config``, seeded from its training stream.

        Refused (NnfitError) before allocating when training it would not fit in the
        memory this machine has available (see :meth:`check_memory`).
        """
        config = config or self.config
        self.check_memory(config)
        model = config.model
        return build_network(self.layers(config), n_features=self.prep.n_inputs,
                             dtype=config.training.dtype,
                             seed=stream(config.training.seed, TRAIN_STREAM),
                             init=Init(model.init, model.init_scale),
                             linear_skip=model.linear_skip)

    def planned(self, config: Config | None = None, dtype="float32") -> list[Layer]:
        """``config``'s layers (output layer included) and its linear skip, if any, built
        for these inputs with nothing allocated: what a summary or a count reads."""
        config = config or self.config
        return plan_network(self.layers(config), (self.prep.n_inputs,), dtype,
                            config.model.linear_skip)

    def n_params(self, config: Config | None = None) -> int:
        """The parameter count of ``config``'s network on these inputs (nothing allocated)."""
        return sum(layer.n_params for layer in self.planned(config))

    def memory(self, config: Config | None = None) -> MemoryEstimate:
        """What training ``config``'s network on these rows takes (``nnfit.runtime.memory``)."""
        config = config or self.config
        t, X = config.training, self.data.X
        rows = {name: X[name].shape[0] if name in X else 0 for name in ("train", "val")}
        return estimate_bytes(self.layers(config), (self.prep.n_inputs,), t.dtype, t.batch_size,
                              rows["train"], t.optimizer, n_eval_rows=rows["val"],
                              linear_skip=config.model.linear_skip)

    def check_memory(self, config: Config | None = None, config_source: str = "") -> None:
        """Refuse (NnfitError, one line naming the layer that costs most) a network whose
        training needs more memory than this machine has available now; pass when that is
        unknown."""
        config = config or self.config
        refusal = self.memory_refusal(self.memory(config), memory.available_memory(), config)
        if refusal is not None:
            raise NnfitError(f"{config_source + ': ' if config_source else ''}{refusal}")

    def memory_refusal(self, estimate: MemoryEstimate, available: int | None,
                       config: Config | None = None) -> str | None:
        """Why ``estimate`` does not fit in ``available`` bytes, or None when it does."""
        config = config or self.config
        if available is None or estimate.total <= available:
            return None
        n_config = len(config.model.layers)
        i = estimate.largest_layer
        key = LAYERS[config.model.layers[i].type].size_option if i < n_config else None
        where = (f"model.layers[{i}]{'.' + key if key else ''}" if i < n_config
                 else "model.linear_skip" if i >= len(self.layers(config))
                 else "model.layers (the output layer)")
        return (f"{where}: {memory_phrase(estimate)} and this machine has "
                f"{format_bytes(available)} available")


def memory_phrase(estimate: MemoryEstimate, subject: str = "the network") -> str:
    """``the network needs ~3.7 TB (parameters, optimizer state, activations for batch 32)``."""
    return (f"{subject} needs ~{format_bytes(estimate.total)} (parameters, optimizer state, "
            f"activations for batch {estimate.batch_size})")


def prepare(config: Config, csv_path: str | Path, config_source: str = "config", *,
            check_memory: bool = True) -> Prepared:
    """Read the CSV, decide the task, split, fit preprocessing on train, transform; check the model.

    :func:`read_dataset`, then :func:`default_split`, then :func:`prepare_split`. Raises
    NnfitError for anything wrong with the data or the config on this data, before
    anything is written (``check_memory``: see :func:`prepare_split`).
    """
    dataset = read_dataset(config, csv_path)
    return prepare_split(dataset, default_split(dataset), config, config_source,
                        check_memory=check_memory)


def numeric_positions(layers: list[dict], prep: Preprocessor, where: str = "") -> list[dict]:
    """``layers`` with a first ``numeric_embedding`` that names no ``positions`` given them:
    the positions of the numeric columns among the inputs (``inputs: numeric``: a text
    column's one-hot inputs pass through it), or of every input (``inputs: all``); refused
    in one line when it would embed nothing."""
    if not layers or layers[0]["type"] != "numeric_embedding" or layers[0].get("positions"):
        return layers
    numeric = (list(range(prep.n_inputs)) if layers[0].get("inputs") == "all"
               else prep.numeric_inputs)
    if not numeric:
        raise NnfitError(f"{where}model.layers[0]: numeric_embedding embeds numeric columns, "
                         f"and every input column here is text; set its inputs: all, or leave "
                         f"the layer out")
    return [{**layers[0], "positions": numeric}, *layers[1:]]


def output_layers(layers: list[dict], task: Task, notes: list[Note], where: str = ""
                  ) -> list[dict]:
    """The layer list with its output layer: the declared one, checked, or one appended.

    A last ``dense`` layer whose activation is identity (or the loss's own output
    activation, which the loss applies) is the declared output layer.
    """
    n_out, fused = task.n_outputs, task.loss.output_activation
    last = layers[-1] if layers else None
    act = last and (last["activation"] if isinstance(last.get("activation"), str)
                    else (last.get("activation") or {}).get("name"))
    if last and last["type"] == "dense" and act in ("identity", "linear", fused):
        key = f"model.layers[{len(layers) - 1}]"
        if last["units"] != n_out:
            remedy = ("or give it an activation to make it a hidden layer" if act != fused else
                      f"a last {fused} layer is the output layer (the loss applies {fused}); "
                      f"for a hidden layer use another activation")
            raise NnfitError(f"{where}{key}.units: the output layer needs {n_out} unit"
                             f"{'s' if n_out > 1 else ''} for {task.describe()} (got "
                             f"{last['units']}); {remedy}")
        if act == fused and fused != "identity":
            notes.append(Note(f"{key}: {fused} is applied by the {task.loss_name} loss; the "
                              f"layer outputs logits"))
            layers = [*layers[:-1], {**last, "activation": "identity"}]
        return layers
    notes.append(Note(f"output layer: dense, {n_out} unit{'s' if n_out > 1 else ''} for "
                      f"{task.describe()}", key="output_layer"))
    return [*layers, {"type": "dense", "units": n_out, "activation": "identity"}]


def subset(prepared: Prepared, index: np.ndarray) -> Prepared:
    """``prepared`` with its training split cut to the rows at ``index`` (positions in it).

    Val and test, the preprocessing (fitted on the whole training split) and the
    task stay as they are, so fits on different subsets are judged on the same rows.
    The arrays are copies; ``prepared`` is unchanged.

    Parameters
    ----------
    index : (n_subset,) int positions into ``prepared.data.X["train"]``, each at most once
    """
    ds = prepared.data
    index = np.asarray(index, dtype=np.intp)
    n_train = ds.X["train"].shape[0]
    if index.ndim != 1 or index.size == 0 or index.min() < 0 or index.max() >= n_train \
            or np.unique(index).size != index.size:
        raise ValueError(f"a training subset takes distinct positions in [0, {n_train}) "
                         f"(got {index.size} of them)")
    X, y, rows = dict(ds.X), dict(ds.y), dict(ds.rows)
    X["train"], y["train"] = ds.X["train"][index], ds.y["train"][index]
    if "train" in rows:
        rows["train"] = rows["train"][index]
    return replace(prepared, data=Splits(X, y, rows), notes=list(prepared.notes))


def prepare_split(dataset: Dataset, rows: dict[str, np.ndarray], config: Config | None = None,
                  config_source: str = "config", *, check_memory: bool = True) -> Prepared:
    """A Prepared for given row positions: preprocessing fitted on ``rows["train"]`` only.

    Parameters
    ----------
    rows : ``train``, ``val``, ``test`` -> (n_split,) int positions into the dataset rows;
        an empty array leaves that split out
    config : the config the result records and ``fit`` checks against (default: the
        dataset one); its ``data`` section must be the one the rows were read with,
        apart from the fractions
    check_memory : refuse a network whose training would not fit in the memory
        available (``nnfit summary`` describes such a network instead)

    The layers are built for their shapes (nothing allocated), so a layer that does
    not fit the one before it is refused here, naming its ``model.layers[i]``.
    """
    config = config or dataset.config
    data, source, notes = config.data, dataset.source, list(dataset.notes)
    rows = {name: np.asarray(rows.get(name, ()), dtype=np.intp) for name in ("train", "val", "test")}
    prep = fit_on_train(dataset.frame, rows, dataset.features, dataset.kind, dataset.classes,
                        dataset.labels, data, source)
    check_width(prep, rows, config, source)
    splits = transform_splits(prep, dataset.frame, rows, source, notes,
                              dtype=np.dtype(config.training.dtype))
    check_finite_splits(splits, prep, dataset.frame, source)
    checked = audit(dataset.frame, rows, dataset.features, config, prep, splits.y.get("train"))
    notes.extend(checked.notes())
    loss = choose_loss(dataset.kind, None if dataset.classes is None else len(dataset.classes),
                       config.training.loss, data.targets, config_source)
    # Weighed on the training rows, like the preprocessing: val and test only get scored.
    weights = resolve_class_weight(config.training.class_weight, dataset.classes,
                                   splits.y.get("train"), data.targets, config_source)
    smoothing = check_label_smoothing(config.training.label_smoothing, dataset.kind,
                                      data.targets, config_source)
    prepared = Prepared(config, source, prep, make_task(prep, loss, weights, smoothing), splits,
                        dataset.n_rows, dataset.split_seed, notes, dataset.task_reason, checked)
    check_layers(prepared, config, f"{config_source}: ")
    notes.extend(training_notes(config, rows["train"].size))
    if check_memory:
        prepared.check_memory(config, config_source)
    return prepared


def check_width(prep: Preprocessor, rows: dict[str, np.ndarray], config: Config,
                source: str) -> None:
    """Refuse (NnfitError) every split's inputs before they are built, when they would not
    fit in the memory available now: one line naming the text column whose one-hot
    inputs make them so wide, with the ``--set`` that leaves it out."""
    refusal = design_refusal(prep, sum(int(r.size) for r in rows.values()),
                             config.training.dtype, " in the training rows")
    if refusal is None:
        return
    message, column = refusal
    if column is not None:
        leave_out = DataAudit(exclude=list(config.data.exclude), features=config.data.features)
        message += f"; leave it out: {leave_out.fix(column)}"
    raise NnfitError(f"{source}: {message}")


def check_layers(prepared: Prepared, config: Config, where: str = "") -> None:
    """The layer list (output layer included) built for its shapes, allocating nothing:
    NnfitError naming ``model.layers[i]`` (after ``where``) for a layer that cannot be
    built on the one before it, or for a network whose output is not one vector per row."""
    layers = prepared.layers(config, prepared.notes, where)
    try:
        built = plan_layers(layers, (prepared.prep.n_inputs,), config.training.dtype)
    except LayerError as exc:
        raise NnfitError(f"{where}model.layers[{exc.index}]: {exc.reason}") from None
    n_out = prepared.task.n_outputs
    if built[-1].output_shape != (n_out,):
        raise NnfitError(f"{where}model.layers: the output layer gets {built[-2].output_shape} per row "
                         f"(tokens) and gives {built[-1].output_shape}, not one vector of {n_out}: "
                         f"put a pool layer (type: pool) after the last attention layer")


EPOCHS_WARNING = 1_000_000  # more epochs than this: a note that only a stop will end the run


def training_notes(config: Config, n_train: int) -> list[Note]:
    """Notes on training settings that are legal but unusual on these rows."""
    t, notes = config.training, []
    if t.batch_size > n_train:
        notes.append(Note(f"training.batch_size {t.batch_size} is more than the {n_train} "
                          f"training rows: every step is full-batch ({n_train} rows)"))
    if t.epochs > EPOCHS_WARNING:
        notes.append(warning(f"training.epochs is {t.epochs}: above {EPOCHS_WARNING:,}, the "
                             f"run ends by early stopping or Ctrl-C (which keeps everything), "
                             f"not by running out of epochs"))
    return notes


