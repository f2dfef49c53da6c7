"""How big a network the starter config gets, and what it is made of: the numbers to tune.

``nnfit init`` (``workflows.init``) asks :func:`hidden_layers` for the layers of a file
with ``n_rows`` training rows and ``n_inputs`` inputs; the table and the rules here are
what ``bench/accuracy.py`` chose (docs/accuracy.md).
"""

from __future__ import annotations

import math

# -- how big a network: the numbers to tune ------------------------------------------------
SIZES = (  # (training rows up to, hidden layers, units per layer): the first row that holds
    (300, 1, 32),
    (1_000, 1, 64),
    (10_000, 2, 128),
    (100_000, 2, 256),
    (math.inf, 3, 256),
)
WEIGHTS_PER_ROW = 10  # hidden-layer weights per training row at most: wide tables, narrower layers
MIN_UNITS = 8  # the narrowest layer the weight budget may leave
ACTIVATION = "relu"
# Seeds averaged (training.ensemble) up to this many training rows: on the 12 datasets of
# bench/accuracy.py five seeds gained 0.005–0.06 on 7 and cost at most one test row on the
# others, for 5× the training (in parallel, seconds at this size); above it one network.
ENSEMBLE, ENSEMBLE_UP_TO = 5, 10_000
# Before the hidden layers, a periodic embedding (numeric_embedding with its defaults: plr,
# 16 frequencies, σ 0.1, 16 values per column) of every input when the table has at most
# EMBED_ALL_UP_TO inputs (a one-hot input then gets a learned vector per category), else of
# its numeric columns when it has 1 to EMBED_UP_TO of them (one-hot inputs pass through).
# On bench/accuracy.py it lifted noisy_sine by 0.10 R² and concrete by 0.04 (both past
# gradient boosting) and cost nothing elsewhere beyond noise. Its cos and sin are 32
# transcendental functions per embedded column and row: on digits' 64 pixel columns it
# trained 4× slower for no gain, and embedding hmda's 20 inputs rather than its numbers
# cost it 1.4× the time for no gain.
EMBEDDING = {"type": "numeric_embedding"}
EMBED_ALL_UP_TO, EMBED_UP_TO = 10, 32


def starter_layers(n_rows: int, n_inputs: int, n_numeric: int, kind: str) -> list[dict]:
    """The starter's layers before the output layer: :data:`EMBEDDING` of every input when
    there are at most :data:`EMBED_ALL_UP_TO`, else of the ``n_numeric`` numeric columns
    when there are 1 to :data:`EMBED_UP_TO`; then :func:`hidden_layers`."""
    hidden = hidden_layers(n_rows, n_inputs, kind)
    if n_inputs <= EMBED_ALL_UP_TO:
        return [{**EMBEDDING, "inputs": "all"}, *hidden]
    return [dict(EMBEDDING)] * (0 < n_numeric <= EMBED_UP_TO) + hidden


def hidden_layers(n_rows: int, n_inputs: int, kind: str) -> list[dict]:
    """The starter's hidden layers for ``n_rows`` training rows of ``n_inputs`` inputs.

    The depth and width come from the first row of :data:`SIZES` whose bound holds
    ``n_rows``: a few hundred rows carry about as much detail as one small layer
    (32–64 units) can follow; a few thousand rows support two layers of 128, and only
    tens of thousands more. A bigger network on fewer rows mostly memorizes them,
    leaving early stopping to do all the regularizing. Then the weight budget: the
    hidden layers may hold at most :data:`WEIGHTS_PER_ROW` weights (biases included)
    per training row, so a wide table with few rows (hundreds of inputs) halves the
    units until they fit, down to :data:`MIN_UNITS`. Early stopping on the validation
    split watches whatever capacity is left. Always ReLU (:data:`ACTIVATION`): it
    trains quickly with Adam from the config's Glorot start, and the diagnosis reports dead
    units.

    Parameters
    ----------
    n_rows : training rows (the training split, not the whole file)
    n_inputs : network inputs after preprocessing (one per numeric column, one per
        category of a text column)
    kind : ``classification`` or ``regression``; checked only: the table serves both
        alike until a benchmark says otherwise

    Returns
    -------
    list of ``{"type": "dense", "units": u, "activation": "relu"}``, first to last;
    the output layer is not included (``prepare`` adds it for the task)
    """
    if kind not in ("classification", "regression"):
        raise ValueError(f"kind must be classification or regression (got {kind!r})")
    if n_rows < 1 or n_inputs < 1:
        raise ValueError(f"need at least one row and one input (got {n_rows}, {n_inputs})")
    n_layers, units, _ = sizing(n_rows, n_inputs)
    return [{"type": "dense", "units": units, "activation": ACTIVATION} for _ in range(n_layers)]


def sizing(n_rows: int, n_inputs: int) -> tuple[int, int, int]:
    """``(layers, units, units before the weight budget)`` for :func:`hidden_layers`."""
    n_layers, table_units = next((n, u) for bound, n, u in SIZES if n_rows <= bound)
    units = table_units
    budget = WEIGHTS_PER_ROW * n_rows
    while units > MIN_UNITS and hidden_weights(n_inputs, n_layers, units) > budget:
        units = max(MIN_UNITS, units // 2)
    return n_layers, units, table_units


def hidden_weights(n_inputs: int, n_layers: int, units: int) -> int:
    """Weights and biases of ``n_layers`` dense layers of ``units`` on ``n_inputs`` inputs."""
    return (n_inputs + 1) * units + (n_layers - 1) * (units + 1) * units


def layers_phrase(layers: list[dict]) -> str:
    """``one hidden layer of 32 ReLU units`` / ``two hidden layers of 128 ReLU units``, after
    ``a periodic embedding of each number, then`` when the first layer is one."""
    if layers and layers[0].get("type") == EMBEDDING["type"]:
        return f"a periodic embedding of each number, then {layers_phrase(layers[1:])}"
    if not layers:
        return "no hidden layer (a linear model)"
    units = {layer.get("units") for layer in layers}
    acts = {str(layer.get("activation")) for layer in layers}
    act = f" {acts.pop().replace('_', ' ').replace('relu', 'ReLU')}" if len(acts) == 1 else ""
    count = _number(len(layers))
    width = (f"{units.pop()}" if len(units) == 1
             else " / ".join(str(layer.get("units")) for layer in layers))
    return f"{count} hidden layer{'s' if len(layers) > 1 else ''} of {width}{act} units"


def _number(n: int) -> str:
    return {1: "one", 2: "two", 3: "three", 4: "four"}.get(n, str(n))
