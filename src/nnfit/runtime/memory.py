"""What this machine can give a run, and what a run will ask of it, in one place.

:func:`available_memory` asks the operating system; :func:`estimate_bytes` adds up
what training a network needs from its layer specs alone (the layers are built
for their shapes, never allocated, and each declares its buffers:
``Layer.buffer_floats``; the optimizer its vectors: ``Optimizer.vectors``), so a
config that asks for terabytes is refused in one line before anything is
allocated or written.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..nn.build import plan_network
from ..nn.optimizers import optimizer_class


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

PREDICT_CHUNK = 4096  # rows per chunk of Network.predict (its default batch_size)


def _size(shape) -> int:
    return math.prod(shape)


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
                   n_eval_rows: int = 0, linear_skip: bool = False) -> MemoryEstimate:
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
        Its class declares the vectors of ``n_params`` it keeps (``Optimizer.vectors``).
    n_eval_rows : int
        Validation rows scored every epoch (their outputs are kept).
    linear_skip : bool
        The network adds a linear skip (``model.linear_skip``): its weights and buffers
        count, as a last entry of ``layer_bytes``.

    Raises
    ------
    nnfit.nn.build.LayerError
        A spec that does not build (as ``build_network`` would).
    ValueError
        An optimizer name that is not in ``nnfit.nn.optimizers.OPTIMIZERS``.
    """
    layers = plan_network(layer_specs, tuple(input_shape), dtype, linear_skip)
    itemsize = np.dtype(dtype).itemsize
    vectors = optimizer_class(optimizer).vectors
    n_rows, n_eval_rows = max(int(n_rows), 1), max(int(n_eval_rows), 0)
    batch = min(int(batch_size), n_rows)
    rows = batch + n_rows % batch  # the buffers of a full and of the last, partial batch
    chunk = min(PREDICT_CHUNK, max(n_rows, n_eval_rows))
    n_in, n_out = _size(layers[0].input_shape), _size(layers[-1].output_shape)

    shares, n_params, n_state, train, passing, kept = [], 0, 0, 0, 0, 0
    for layer in layers:
        t, p, k = layer.buffer_floats()
        params = layer.n_params
        state = sum(_size(shape) for shape in layer.state_shapes().values())
        n_params, n_state = n_params + params, n_state + state
        train, passing, kept = train + t, max(passing, p), kept + k  # eval: a layer at a time
        shares.append((params * (3 + vectors) + 2 * state + t * rows + (p + k) * chunk)
                      * itemsize)
    stack = layers[:-1] if linear_skip else layers  # predict's scratch: the stack's widths
    width = max((_size(layer.output_shape) for layer in stack[:-1]), default=0)
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
