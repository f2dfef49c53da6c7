"""The data side of a run, done once: read, split, preprocess — and the Prepared it gives.

``prepare`` reads as one straight line: :func:`read_unsplit` (read → exclude →
select columns → index warnings → missing cells → task → classes), then
:func:`standard_rows` (the seeded, stratified train / val / test split), then
:func:`prepare_rows` (preprocessing fitted on the training rows, every split
transformed, the model checked against the task). Commands that split the same
rows many ways (``train --cv``) read once and call :func:`prepare_rows` per
split; ``nnfit curve`` cuts a Prepared's training split with :func:`subset`.

Randomness: the seed feeds two independent streams, one for the split (fixed
here) and one for initialization and shuffling (drawn in ``fit``), so a fit
with another seed or learning rate never changes which rows are held out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import NnfitError
from ..evaluation.task import Task

if TYPE_CHECKING:
    from ..config.schema import Config
    from ..data.dataset import Splits
    from ..data.preprocess import Preprocessor
    from ..nn.network import Network
    from ..runtime.memory import MemoryEstimate

SPLIT_STREAM, TRAIN_STREAM = 0, 1


def stream(seed: int, which: int) -> np.random.Generator:
    """The seeded Generator of one purpose (split or training): ``seed``'s child stream
    ``which``, statistically independent of the other (NumPy's SeedSequence spawning)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(which,)))


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
    notes: list[str] = field(default_factory=list)

    def layers(self, config: Config | None = None, notes: list[str] | None = None) -> list[dict]:
        """The layer specs of ``config`` (default: the prepared one) with the output layer."""
        config = config or self.config
        return output_layers([layer.model_dump() for layer in config.model.layers], self.task,
                             notes if notes is not None else [])

    def build(self, config: Config | None = None) -> Network:
        """A freshly initialized network for ``config``, seeded from its training stream.

        Refused (NnfitError) before allocating when training it would not fit in the
        memory this machine has available (see :meth:`check_memory`).
        """
        from ..nn.build import build_network

        config = config or self.config
        self.check_memory(config)
        return build_network(self.layers(config), n_features=self.prep.n_inputs,
                             dtype=config.training.dtype,
                             seed=stream(config.training.seed, TRAIN_STREAM))

    def memory(self, config: Config | None = None) -> MemoryEstimate:
        """What training ``config``'s network on these rows takes (``nnfit.resources``)."""
        from ..runtime.memory import estimate_bytes

        config = config or self.config
        t, X = config.training, self.data.X
        rows = {name: X[name].shape[0] if name in X else 0 for name in ("train", "val")}
        return estimate_bytes(self.layers(config), (self.prep.n_inputs,), t.dtype, t.batch_size,
                              rows["train"], t.optimizer, n_eval_rows=rows["val"])

    def check_memory(self, config: Config | None = None, config_source: str = "") -> None:
        """Refuse (NnfitError, one line naming the layer that costs most) a network whose
        training needs more memory than this machine has available now; pass when that is
        unknown."""
        from ..runtime import memory as resources

        config = config or self.config
        refusal = self.memory_refusal(self.memory(config), resources.available_memory(), config)
        if refusal is not None:
            raise NnfitError(f"{config_source + ': ' if config_source else ''}{refusal}")

    def memory_refusal(self, estimate: MemoryEstimate, available: int | None,
                       config: Config | None = None) -> str | None:
        """Why ``estimate`` does not fit in ``available`` bytes, or None when it does."""
        from ..runtime import memory as resources

        config = config or self.config
        if available is None or estimate.total <= available:
            return None
        n_config = len(config.model.layers)
        i = estimate.largest_layer
        key = {"dense": "units", "tokens": "dim", "attention": "dim"}.get(
            config.model.layers[i].type if i < n_config else "", "")
        where = (f"model.layers[{i}]{'.' + key if key else ''}" if i < n_config
                 else "model.layers (the output layer)")
        return (f"{where}: {memory_phrase(estimate)} and this machine has "
                f"{resources.format_bytes(available)} available")


def memory_phrase(estimate: MemoryEstimate) -> str:
    """``the network needs ~3.7 TB (parameters, optimizer state, activations for batch 32)``."""
    from ..runtime.memory import format_bytes

    return (f"the network needs ~{format_bytes(estimate.total)} (parameters, optimizer state, "
            f"activations for batch {estimate.batch_size})")


def prepare(config: Config, csv_path: str | Path, config_source: str = "config", *,
            check_memory: bool = True) -> Prepared:
    """Read the CSV, decide the task, split, fit preprocessing on train, transform; check the model.

    :func:`read_unsplit`, then :func:`standard_rows`, then :func:`prepare_rows`. Raises
    NnfitError for anything wrong with the data or the config on this data, before
    anything is written (``check_memory``: see :func:`prepare_rows`).
    """
    unsplit = read_unsplit(config, csv_path)
    return prepare_rows(unsplit, standard_rows(unsplit), config, config_source,
                        check_memory=check_memory)


def output_layers(layers: list[dict], task: Task, notes: list[str]) -> list[dict]:
    """The layer list with its output layer: the declared one, checked, or one appended.

    A last ``dense`` layer whose activation is identity (or the loss's own output
    activation, which the loss applies) is the declared output layer.
    """
    n_out, fused = task.n_outputs, task.loss.output_activation
    last = layers[-1] if layers else None
    act = last and (last["activation"] if isinstance(last.get("activation"), str)
                    else (last.get("activation") or {}).get("name"))
    if last and last["type"] == "dense" and act in ("identity", "linear", fused):
        where = f"model.layers[{len(layers) - 1}]"
        if last["units"] != n_out:
            remedy = ("or give it an activation to make it a hidden layer" if act != fused else
                      f"a last {fused} layer is the output layer (the loss applies {fused}); "
                      f"for a hidden layer use another activation")
            raise NnfitError(f"{where}.units: the output layer needs {n_out} unit"
                             f"{'s' if n_out > 1 else ''} for {task.describe()} (got "
                             f"{last['units']}); {remedy}")
        if act == fused and fused != "identity":
            notes.append(f"{where}: {fused} is applied by the {task.loss_name} loss; the layer "
                         f"outputs logits")
            layers = [*layers[:-1], {**last, "activation": "identity"}]
        return layers
    notes.append(f"output layer: dense, {n_out} unit{'s' if n_out > 1 else ''} for "
                 f"{task.describe()}")
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
    from dataclasses import replace

    from ..data.dataset import Splits

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


# -- one reading, many splits (cross-validation folds) ---------------------------------------


@dataclass
class Unsplit:
    """The data side before any split: the CSV read and cleaned, the task decided.

    ``prepare`` is :func:`read_unsplit`, then :func:`standard_rows`, then
    :func:`prepare_rows` in one go; a command that splits the same rows many ways
    (``train --cv``) reads once and calls :func:`prepare_rows` per split.
    """

    config: Config
    source: str
    frame: object  # pandas DataFrame: the used columns (text as categoricals), rows left after
    # the missing-cell policy
    features: list[str]
    kind: str
    labels: np.ndarray | None  # (n_rows,) class labels as text; None for regression
    classes: list[str] | None
    split_seed: int
    notes: list[str]

    @property
    def n_rows(self) -> int:
        return len(self.frame)


def read_unsplit(config: Config, csv_path: str | Path) -> Unsplit:
    """The steps of :func:`prepare` before the split: read, select (text columns as
    categoricals), missing cells, task, classes."""
    from ..data import dataset as d
    from ..data.table import exclude_columns, read_table

    data, source = config.data, str(csv_path)
    frame = exclude_columns(read_table(csv_path, data), data.exclude, source)
    frame, features = d.select_columns(frame, data, source)
    frame = d.text_as_categories(frame, list(frame.columns))
    notes = d.index_notes(frame, features)
    frame = d.handle_missing(frame, features, data, source, notes)
    kind = d.decide_task(frame, data, source, notes)
    labels, classes = d.class_labels(frame, data, kind, source, notes)
    split_seed = config.training.seed if data.split_seed is None else data.split_seed
    return Unsplit(config, source, frame, features, kind, labels, classes, split_seed, notes)


def standard_rows(unsplit: Unsplit) -> dict[str, np.ndarray]:
    """The train / val / test row positions :func:`prepare` uses for this config (seeded)."""
    from ..data.dataset import split_rows

    return split_rows(unsplit.n_rows, unsplit.config.data, unsplit.labels,
                      stream(unsplit.split_seed, SPLIT_STREAM), unsplit.source)


def prepare_rows(unsplit: Unsplit, rows: dict[str, np.ndarray], config: Config | None = None,
                 config_source: str = "config", *, check_memory: bool = True) -> Prepared:
    """A Prepared for given row positions: preprocessing fitted on ``rows["train"]`` only.

    Parameters
    ----------
    rows : ``train``, ``val``, ``test`` -> (n_split,) int positions into the unsplit rows;
        an empty array leaves that split out
    config : the config the result records and ``fit`` checks against (default: the
        unsplit one); its ``data`` section must be the one the rows were read with,
        apart from the fractions
    check_memory : refuse a network whose training would not fit in the memory
        available (``nnfit summary`` describes such a network instead)

    The layers are built for their shapes (nothing allocated), so a layer that does
    not fit the one before it is refused here, naming its ``model.layers[i]``.
    """
    from ..data import dataset as d
    from ..evaluation.task import choose_loss, make_task, resolve_class_weight

    config = config or unsplit.config
    data, source, notes = config.data, unsplit.source, list(unsplit.notes)
    rows = {name: np.asarray(rows.get(name, ()), dtype=np.intp) for name in ("train", "val", "test")}
    prep = d.fit_on_train(unsplit.frame, rows, unsplit.features, unsplit.kind, unsplit.classes,
                          unsplit.labels, data, source, notes)
    splits = d.transform_splits(prep, unsplit.frame, rows, source, notes,
                                dtype=np.dtype(config.training.dtype))
    check_finite_splits(splits, prep, unsplit.frame, source)
    loss = choose_loss(unsplit.kind, unsplit.classes and len(unsplit.classes),
                       config.training.loss, data.targets, config_source)
    # Weighed on the training rows, like the preprocessing: val and test only get scored.
    weights = resolve_class_weight(config.training.class_weight, unsplit.classes,
                                   splits.y.get("train"), data.targets, config_source)
    prepared = Prepared(config, source, prep, make_task(prep, loss, weights), splits,
                        unsplit.n_rows, unsplit.split_seed, notes)
    try:
        check_layers(prepared, config)
    except NnfitError as exc:
        raise NnfitError(f"{config_source}: {exc.message}") from None
    notes.extend(training_notes(config, rows["train"].size))
    if check_memory:
        prepared.check_memory(config, config_source)
    return prepared


def check_layers(prepared: Prepared, config: Config) -> None:
    """The layer list (output layer included) built for its shapes, allocating nothing:
    NnfitError naming ``model.layers[i]`` for a layer that cannot be built on the one
    before it, or for a network whose output is not one vector per row."""
    from ..nn.build import LayerError, plan_layers

    layers = prepared.layers(config, prepared.notes)
    try:
        built = plan_layers(layers, (prepared.prep.n_inputs,), config.training.dtype)
    except LayerError as exc:
        raise NnfitError(f"model.layers[{exc.index}]: {exc.reason}") from None
    n_out = prepared.task.n_outputs
    if built[-1].output_shape != (n_out,):
        raise NnfitError(f"model.layers: the output layer gets {built[-2].output_shape} per row "
                         f"(tokens) and gives {built[-1].output_shape}, not one vector of {n_out}: "
                         f"put a pool layer (type: pool) after the last attention layer")


EPOCHS_WARNING = 1_000_000  # more epochs than this: a note that only a stop will end the run


def training_notes(config: Config, n_train: int) -> list[str]:
    """Notes on training settings that are legal but unusual on these rows."""
    t, notes = config.training, []
    if t.batch_size > n_train:
        notes.append(f"training.batch_size {t.batch_size} is more than the {n_train} training "
                     f"rows: every step is full-batch ({n_train} rows)")
    if t.epochs > EPOCHS_WARNING:
        notes.append(f"warning: training.epochs is {t.epochs}: above {EPOCHS_WARNING:,}, the run "
                     f"ends by early stopping or Ctrl-C (which keeps everything), not by running "
                     f"out of epochs")
    return notes


def check_finite_splits(splits, prep, frame, source: str) -> None:
    """NnfitError when a split's inputs or targets are not all finite: an inf in the CSV
    (``inf``, or a number too large for float64), named by column and line."""
    from ..nn.checks import all_finite

    for name, X in splits.X.items():
        for array, columns in ((X, prep.input_names), (splits.y[name], prep.targets)):
            if all_finite(array):
                continue
            bad = ~np.isfinite(array.reshape(array.shape[0], -1))
            column = columns[int(np.argmax(bad.any(axis=0)))]  # one-hot columns are 0 or 1
            _raise_infinite(column, frame, source)


def _raise_infinite(column: str, frame, source: str) -> None:
    import pandas as pd

    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    infinite = np.flatnonzero(np.isinf(values))
    if infinite.size:
        row = frame.index[infinite[0]]
        raise NnfitError(f"{source}: column {column!r}, line {row + 2}: {frame[column][row]} is "
                         f"not a finite number ({infinite.size} such cell"
                         f"{'s' if infinite.size > 1 else ''}); remove the rows, or empty the "
                         f"cells and set data.missing")
    raise NnfitError(f"{source}: column {column!r}: its numbers are too large to scale in float64; "
                     f"rescale the column")
