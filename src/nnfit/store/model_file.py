"""``model.json`` and ``model.npz`` as untrusted input: one schema, checked before building.

``eval``, ``predict`` and ``show`` load model files that may come from anywhere, so
:func:`read_model` checks everything they will use, in this order, and the first
problem is one line naming the file and the key (exit code 2):

1. the files: regular files of the run directory, not symbolic links; ``model.json`` at
   most 50 MB, strict JSON (:mod:`nnfit.store.safe_read`);
2. ``format_version``: a newer one says which nnfit wrote it;
3. the schema (:class:`ModelFile`, pydantic, strict: ``"3"`` is not 3, ``true`` is not 1):
   types, ranges, finite numbers, unique names. The layer list is validated by the
   config's own layer models (``nnfit.config.schema.LAYER_MODELS``), so a bad layer reads as it
   would in a config;
4. consistency (:func:`check_consistency`): the preprocessing's columns and statistics
   agree with each other, the loss suits the task, class weights suit the classes, the
   network's input width is the preprocessing's and its output width the task's;
5. sizes (:func:`plan`): the parameter and state layouts are computed from the layers
   without allocating anything and must equal ``layout``, ``state_layout`` and
   ``n_params``; loading must fit in the memory available (:mod:`nnfit.runtime.memory`);
6. ``model.npz`` (:mod:`nnfit.store.npz`): exactly the members ``params`` and ``state``,
   whose ``.npy`` headers are read from the zip and checked (dtype, shape, byte count, no
   object arrays: nothing is ever unpickled) before their data; then the data must be
   finite and pass the zip's CRC check.

Unknown keys are refused. nnfit adds a key to ``model.json`` only together with a new
``FORMAT_VERSION``, so a file written by a newer nnfit stops at step 2 ("format version
2 is newer") instead of at its first new key; a format-1 file with a key no nnfit wrote
has been edited. Keys added within format 1 (``state_layout``, ``class_weight``,
``label_smoothing``, ``ensemble``, ``architecture.linear_skip``, and the preprocessing's
``quantiles``, ``missing``, ``reading``) are optional, so older files still load.

Writing (:func:`save_model`) goes through :func:`nnfit.store.atomic.write_atomic`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from .. import __version__
from ..config.messages import format_errors
from ..data.preprocess import Preprocessor
from ..errors import NnfitError, shorten, shown
from ..nn.build import build_network
from ..nn.ensemble import Ensemble
from ..nn.losses import make_loss
from ..nn.network import slot_dicts
from ..runtime import memory
from ..runtime.memory import format_bytes
from .atomic import write_atomic, write_json
from .model_schema import FORMAT_VERSION, Invalid, Layouts, ModelFile, check_consistency
from .npz import read_arrays
from .safe_read import open_run_file, read_json


def save_model(run_dir: Path, network, prep, loss_name: str,
               class_weight: list[float] | None = None, label_smoothing: float = 0.0) -> None:
    """``model.npz`` (the parameter vector, and the non-trainable state such as batchnorm's
    running statistics) and ``model.json`` (everything to rebuild it). ``class_weight``
    (the loss's weight per class) and ``label_smoothing`` (its ε, when above 0) are
    written beside ``loss``, so ``nnfit eval`` reports the loss training minimized.

    An :class:`~nnfit.nn.ensemble.Ensemble` is saved as its members' vectors stacked,
    ``params (n_members, n_params)``, with ``ensemble: {members: K}`` in model.json.
    """
    members = network.members
    first, stacked = members[0], len(members) > 1
    buffer = io.BytesIO()
    if stacked:
        np.savez(buffer, params=np.stack([m.params for m in members]),
                 state=np.stack([m.state for m in members]))
    else:
        np.savez(buffer, params=first.params, state=first.state)
    write_atomic(run_dir / "model.npz", buffer.getvalue())
    meta = {
        "format_version": FORMAT_VERSION,
        "nnfit_version": __version__,
        "architecture": {"input_shape": list(first.input_shape), "layers": first.specs(),
                         "dtype": first.dtype.name, "n_params": int(first.n_params),
                         **({"linear_skip": True} if first.skip is not None else {})},
        "layout": slot_dicts(first.layout),
        "state_layout": slot_dicts(first.state_layout),
        "loss": loss_name,
        **({"class_weight": [float(w) for w in class_weight]} if class_weight is not None else {}),
        **({"label_smoothing": float(label_smoothing)} if label_smoothing else {}),
        "preprocessing": prep.to_dict(),
        **({"ensemble": {"members": len(members)}} if stacked else {}),
    }
    write_json(run_dir / "model.json", meta)


def load_model(run_dir: str | Path):
    """``(network, preprocessor, meta)`` from a run directory.

    The files are untrusted input: :func:`read_model` checks all of
    model.json and model.npz against one schema before anything is built, so every
    problem is one NnfitError line (exit 2). ``meta`` is model.json as parsed.
    """
    model = read_model(run_dir)
    arch = model.description.architecture
    layers = [layer.model_dump() for layer in arch.layers]
    params = model.params if model.members else model.params[None]
    states = model.state if model.members else model.state[None]
    networks = []
    for p, s in zip(params, states, strict=False):
        network = build_network(layers, input_shape=tuple(arch.input_shape), dtype=arch.dtype,
                                seed=0, linear_skip=arch.linear_skip)
        network.params[...] = p
        network.state[...] = s
        networks.append(network)
    prep = Preprocessor.from_dict(model.meta["preprocessing"])
    if not model.members:
        return networks[0], prep, model.meta
    return Ensemble(networks, make_loss(model.description.loss).output_activation), prep, \
        model.meta


def loading_bytes(expected: Layouts, dtype: str, members: int) -> int:
    """Memory that loading takes: the arrays read from model.npz, and per network its
    parameters, their gradients and its state (``Network`` allocates all three)."""
    return np.dtype(dtype).itemsize * max(members, 1) * (3 * expected.n_params
                                                         + 2 * expected.n_state)


def check_memory(expected: Layouts, dtype: str, members: int, path: Path) -> None:
    """Refuse a model that needs more memory than is available (an absurd or hostile size)."""
    need, available = loading_bytes(expected, dtype, members), memory.available_memory()
    if available is not None and need > available:
        each = f" × {members} members" if members else ""
        raise NnfitError(f"{path}: loading needs {format_bytes(need)} of memory "
                         f"({expected.n_params:,} {dtype} parameters{each}), more than the "
                         f"{format_bytes(available)} available")


@dataclass
class LoadedModel:
    """Everything in a run's model files, checked; nothing built yet.

    ``meta`` is model.json as parsed; ``params`` ``(n_params,)`` or, for an ensemble,
    ``(members, n_params)``; ``state`` likewise (``(…, 0)`` when the layers have none).
    """

    meta: dict
    description: ModelFile
    params: np.ndarray
    state: np.ndarray

    @property
    def members(self) -> int:
        return self.description.members


def read_model(run_dir: str | Path) -> LoadedModel:
    """Read and check a run's ``model.json`` and ``model.npz`` (see the module's docstring).

    Raises NnfitError (exit 2) with one line naming the file at the first problem.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise NnfitError(f"{run_dir}: no such run directory")
    json_path = run_dir / "model.json"
    with open_run_file(run_dir, "model.npz"):
        pass  # both files are there before either is read: the likelier mistake first
    meta = read_json(run_dir, "model.json")
    _check_format_version(meta, json_path)
    try:
        description = ModelFile.model_validate(meta, strict=True)
    except ValidationError as exc:
        errors = sorted(format_errors(exc, ModelFile), key=lambda e: "(did you mean" not in e[1])
        more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" \
            if len(errors) > 1 else ""
        raise NnfitError(f"{json_path}: {shorten(errors[0][1], 300)}{more}") from None
    try:
        expected = check_consistency(description)
    except Invalid as exc:
        raise NnfitError(f"{json_path}: {shorten(str(exc), 300)}") from None
    dtype, members = description.architecture.dtype, description.members
    check_memory(expected, dtype, members, json_path)
    lead = (members,) if members else ()
    arrays = read_arrays(run_dir, {"params": lead + (expected.n_params,),
                                   "state": lead + (expected.n_state,)}, dtype,
                         optional=("state",) if expected.n_state == 0 else ())
    state = arrays.get("state", np.zeros(lead + (0,), dtype=dtype))
    return LoadedModel(meta, description, arrays["params"], state)


def _check_format_version(meta: Any, path: Path) -> None:
    if not isinstance(meta, dict):
        raise NnfitError(f"{path}: must be a JSON object with format_version, architecture, "
                         f"layout, loss and preprocessing (got a {type(meta).__name__})")
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        got = "missing" if "format_version" not in meta \
            else f"not an integer ({shown(version, 39)})"
        raise NnfitError(f"{path}: format_version is {got}; is this a model.json written by "
                         f"'nnfit train'?")
    if version > FORMAT_VERSION:
        writer = meta.get("nnfit_version")
        writer = shorten(writer, 40) if isinstance(writer, str) else "an unknown version"
        raise NnfitError(f"{path}: model format version {version} is newer than this nnfit "
                         f"reads: written by nnfit {writer}, this nnfit {__version__} reads "
                         f"format {FORMAT_VERSION}; upgrade nnfit to load it")
    if version != FORMAT_VERSION:
        raise NnfitError(f"{path}: model format version {version} is not one this nnfit "
                         f"{__version__} reads (it reads {FORMAT_VERSION})")
