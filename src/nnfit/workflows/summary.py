"""``nnfit summary``: the network a config builds on a CSV, without training it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config.load import load_config
from ..errors import Note
from ..nn.network import summarize
from ..runtime import memory
from ..runtime.memory import format_bytes
from .prepared import memory_phrase, prepare


@dataclass
class Summary:
    """The layer table of a network and what training it would take.

    ``layers``: ``(description, output shape, parameters)`` per layer; ``memory_line``
    says what training needs (and what this machine has); ``fits``: whether ``nnfit
    train`` would accept it (when not, ``memory_line`` is the warning).
    """

    task: str
    loss: str
    n_inputs: int
    layers: list[tuple[str, tuple[int, ...], int]]
    notes: list[Note]
    fits: bool
    memory_line: str

    @property
    def n_params(self) -> int:
        return sum(n for *_, n in self.layers)


def summary(config_path: str | Path, csv_path: str | Path, overrides: Sequence[str] = ()
            ) -> Summary:
    """The layer table of the network a config builds on a CSV, without training.

    The layers are built for their shapes only and their parameters counted, never
    allocated, so any size gets its table.
    """
    config = load_config(config_path, overrides)
    prepared = prepare(config, csv_path, str(config_path), check_memory=False)
    rows = summarize(prepared.planned(dtype=config.training.dtype))
    estimate, available = prepared.memory(), memory.available_memory()
    refusal = prepared.memory_refusal(estimate, available)
    line = memory_phrase(estimate, "training")
    if available is not None:
        line += f"; this machine has {format_bytes(available)} available"
    if refusal is not None:
        line = f"warning: {refusal}: nnfit train would refuse it"
    return Summary(prepared.task.kind, prepared.task.loss_name, prepared.prep.n_inputs, rows,
                   prepared.notes, refusal is None, line)
