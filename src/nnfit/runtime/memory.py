"""What this machine can give a run, and what a run will ask of it, in one place.

:func:`available_memory` asks the operating system; :func:`estimate_bytes` adds up
what training a network needs from its layer specs alone (the layers are built
for their shapes, never allocated), so a config that asks for terabytes is
refused in one line before anything is allocated or written.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


def available_memory() -> int | None:
    """Bytes of memory a new allocation can get now without swapping, or None if unknown.

    On Linux this is ``MemAvailable`` from ``/proc/meminfo``: free memory plus the page
    cache and other memory the kernel can reclaim. Elsewhere it is the free physical pages
    (``os.sysconf("SC_AVPHYS_PAGES") * SC_PAGE_SIZE``), which leaves out the reclaimable
    cache and so undercounts. A container's cgroup memory limit is not consulted.

    Returns
    -------
    int or None
        None when neither source is available (the caller then skips its check).
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # the kernel writes kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


# -- what training needs ------------------------------------------------------------------

# Vectors of n_params that each optimizer keeps: its state (Adam and AdamW: the two
# moments; momentum and Nesterov: the velocity) plus the scratch vector of the step
# that every optimizer has.
OPTIMIZER_VECTORS = {"sgd": 1, "momentum": 2, "nesterov": 2, "adam": 3, "adamw": 3}

PREDICT_CHUNK = 4096  # rows per chunk of Network.predict (its default batch_size)

# Floats per element of a layer's output that its activation keeps aside
# (leaky_relu: z·slope; gelu: tanh u, f'(z) and a scratch).
ACTIVATION_SCRATCH = {"leaky_relu": 1, "gelu": 3}


def _act(name: str) -> int:
    return ACTIVATION_SCRATCH.get(name, 0)


def _size(shape) -> int:
    return math.prod(shape)


def _dense(layer) -> tuple[int, int, int]:
    # training: y, the spread bias, dz (not through identity), dx, the activation's scratch
    out, act = _size(layer.output_shape), layer.activation.name
    train = (2 + (act != "identity") + _act(act)) * out + _size(layer.input_shape)
    return train, 0, _act(act) * out


def _activation(layer) -> tuple[int, int, int]:
    out, act = _size(layer.output_shape), layer.activation.name
    return (2 + _act(act)) * out, 0, _act(act) * out  # y, dx, the scratch


def _attention(layer) -> tuple[int, int, int]:
    """Counted from ``Attention.forward``/``backward`` and their sub-layers' buffers:
    38 arrays of (tokens, dim), 4 of (tokens, ffn hidden) and 4 of (heads, tokens, tokens)
    in training, plus dropout masks and GELU's scratch; 17, 1 and 2 in an eval pass."""
    t, d = layer.input_shape
    td, th, htt = t * d, t * layer.subs["ffn1"].units, layer.heads * t * t
    gelu, drop = 3 * (layer.activation == "gelu"), layer.dropout > 0
    train = 38 * td + (4 + gelu + 3 * drop) * th + (4 + 3 * drop) * htt
    return train, 17 * td + (1 + drop) * th + (2 + drop) * htt, gelu * th


def _same(train: int, passing: int = 0) -> Callable:
    """A layer whose buffers are ``train`` (and ``passing``) arrays of its output's size."""
    return lambda layer: (train * _size(layer.output_shape),
                          passing * _size(layer.output_shape), 0)


# Per layer type, floats per row: what the layer keeps for training (its reused buffers,
# forward and backward), what it allocates and frees within an eval pass (on top of
# predict's two scratch buffers), and what an eval pass leaves kept (an activation's
# scratch, grown to the chunk). Counted from each layer's code and rounded up: a generous
# count (every layer is charged a dx, the first one too), not a measurement.
BUFFERS: dict[str, Callable] = {
    "dense": _dense,
    "activation": _activation,
    "batchnorm": _same(4),  # y, x̂, the spread statistics, dx
    "layernorm": _same(5, 2),  # y, x̂, the spread statistics, dx, scratch; eval: x̂, spread
    "dropout": _same(3),  # y, mask, dx
    "tokens": lambda layer: (2 * _size(layer.output_shape) + 3 * _size(layer.input_shape),
                             2 * _size(layer.input_shape), 0),  # y, the products; [x, 1]
    "pool": lambda layer: (_size(layer.output_shape) + _size(layer.input_shape), 0, 0),
    "attention": _attention,
}


def _unknown(layer) -> tuple[int, int, int]:
    """A layer type without an entry: five arrays of its input and output, each way."""
    both = _size(layer.input_shape) + _size(layer.output_shape)
    return 5 * both, 5 * both, 0


@dataclass(frozen=True)
class MemoryEstimate:
    """What training a network takes, in bytes, by part.

    ``parameters``: the parameters, their gradients and the best-weights snapshot (and
    the non-trainable state, twice); ``optimizer``: the optimizer's vectors;
    ``activations``: the layers' training buffers for a batch (and the last, partial
    one), the trainer's batch buffers, and an eval pass over ``PREDICT_CHUNK`` rows with
    its outputs; ``data``: the design matrix in the network's dtype.
    ``layer_bytes`` is each layer's share of the first three.
    """

    parameters: int
    optimizer: int
    activations: int
    data: int
    batch_size: int
    n_params: int
    layer_bytes: tuple[int, ...]

    @property
    def total(self) -> int:
        return self.parameters + self.optimizer + self.activations + self.data

    @property
    def largest_layer(self) -> int:
        """The index of the layer whose share is largest."""
        return int(np.argmax(self.layer_bytes))


def estimate_bytes(layer_specs: Sequence[dict], input_shape: tuple[int, ...], dtype,
                   batch_size: int, n_rows: int, optimizer, *,
                   n_eval_rows: int = 0) -> MemoryEstimate:
    """What training these layers takes, from their specs, without allocating them.

    Parameters
    ----------
    layer_specs : sequence of dict
        As ``build_network`` takes them (the output layer included).
    input_shape : tuple of int
        One sample's shape, e.g. ``(n_features,)``.
    dtype : {"float32", "float64"}
    batch_size : int
    n_rows : int
        Training rows.
    optimizer : str or Optimizer
        Its name decides the vectors it keeps (see ``OPTIMIZER_VECTORS``).
    n_eval_rows : int
        Validation rows scored every epoch (their outputs are kept).

    Raises
    ------
    nnfit.nn.build.LayerError
        A spec that does not build (as ``build_network`` would).
    """
    from ..nn.build import plan_layers

    layers = plan_layers(layer_specs, tuple(input_shape), dtype)
    itemsize = np.dtype(dtype).itemsize
    name = optimizer if isinstance(optimizer, str) else optimizer.name
    vectors = OPTIMIZER_VECTORS.get(name, 3)
    n_rows, n_eval_rows = max(int(n_rows), 1), max(int(n_eval_rows), 0)
    batch = min(int(batch_size), n_rows)
    rows = batch + n_rows % batch  # the buffers of a full and of the last, partial batch
    chunk = min(PREDICT_CHUNK, max(n_rows, n_eval_rows))
    n_in, n_out = _size(layers[0].input_shape), _size(layers[-1].output_shape)

    shares, n_params, n_state, train, passing, kept = [], 0, 0, 0, 0, 0
    for layer in layers:
        t, p, k = BUFFERS.get(layer.type, _unknown)(layer)
        params = layer.n_params
        state = sum(_size(shape) for shape in layer.state_shapes().values())
        n_params, n_state = n_params + params, n_state + state
        train, passing, kept = train + t, max(passing, p), kept + k  # eval: a layer at a time
        shares.append((params * (3 + vectors) + 2 * state + t * rows + (p + k) * chunk)
                      * itemsize)
    width = max((_size(layer.output_shape) for layer in layers[:-1]), default=0)
    trainer = (n_in + 2 * n_out) * rows  # gathered x and y, dL/dlogits
    outputs = 3 * n_eval_rows * n_out  # this epoch's, and the best and last kept
    activations = (train * rows + (passing + kept + 2 * width) * chunk + trainer + outputs) \
        * itemsize
    return MemoryEstimate(parameters=(3 * n_params + 2 * n_state) * itemsize,
                          optimizer=vectors * n_params * itemsize, activations=activations,
                          data=(n_rows + n_eval_rows) * n_in * itemsize, batch_size=batch,
                          n_params=n_params, layer_bytes=tuple(shares))


def format_bytes(n: float) -> str:
    """``n`` bytes in decimal units with two significant digits: ``3.7 TB``, ``510 kB``."""
    n = float(f"{n:.2g}")  # rounded first, so 999,999 bytes read 1 MB, not 1000 kB
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            value = n / scale
            return f"{value:.2g} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{int(n)} bytes"
