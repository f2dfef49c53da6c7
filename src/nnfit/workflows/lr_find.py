"""``nnfit lr-find``: the learning-rate range test (Smith 2015; fastai's ``lr_find``).

One short training run whose rate grows exponentially per mini-batch, from
``start`` to ``end`` over ``steps`` mini-batches (epochs cycle as needed):
step ``i`` (from 0) trains at ``start · (end / start) ** (i / (steps − 1))``.
Each step's loss is the batch's loss per row *before* its update. The losses
are smoothed with an exponential moving average with bias correction
(``a ← β·a + (1 − β)·loss``, ``smoothed = a / (1 − βᵗ)``, β = 0.98 as in
fastai), and the run stops once the smoothed loss exceeds ``DIVERGE`` (4) times
its minimum, or a batch loss is no longer finite.

It trains a throwaway network: the config's network built fresh from its seed
(the weights ``nnfit train`` starts from), with the config's optimizer, batch
size and weight decay, on the training split of ``train`` (validation and test
rows are not used). Nothing the caller holds is changed, and the same seed
gives the same curve and suggestion.

**The suggestion** is the rate *half-way down* the descent. Leave out the first
tenth of the steps (``WARMUP``: an average of a few batches is no level to
judge by, so the 4× stop rule starts after them too); take the smoothed curve's
minimum after them and its peak before that minimum; suggest the first rate
from which the smoothed loss stays below the level half-way between the two.
On an S-shaped descent that is where the loss falls fastest, and by
construction the smoothed loss is falling there (the step before was above the
level). When the loss fell by less than ``MIN_DROP`` (10%) of its peak there is
no descent to speak of and no suggestion: the network learned too little in so
few steps, and more ``--steps`` show it.

Why not fastai's rules (measured on ``configs/diabetes.yaml``, seeds 0–9, training
at the suggestion against the best of five rates 1e-4 … 1e-1): fastai's *valley*
(ported exactly: the longest strictly decreasing subsequence of the smoothed
curve between its first tenth and its last 5 steps; the rate half its length
before its end) trained within 10% of the best on 8 of 10 seeds (1.18× and
1.12× on the others); this rule on 10 of 10 (worst 1.09×). The *steepest* single
step latched on to the noise of the flat part near 1e-6 (4.3–7.4× the best on
seeds 0–2). The half-way rule measures the descent by how far the loss falls,
not by how many steps it lasts. Its price is ``MIN_DROP``: where the loss barely
falls within the test it says so instead of guessing (``bias_variance/good.yaml``
at 100 steps: 6 of 10 seeds), while the valley still names a rate.

The smoothed curve lags the batch losses: with β = 0.98 its mean lag is 24–34
steps over steps 60–100, 2–2.7 decades of rate at the default 100 steps over 8
decades, so its minimum sits near the rate where training blows up and the
half-way point well past where the batch losses began to fall (compare the
``loss`` and ``smoothed`` columns of ``lr_find.csv``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..config.load import load_config
from ..data.seeds import TRAIN_STREAM, stream
from ..errors import FAILED, NnfitError, Note
from ..report.console import print_notes
from ..report.plots.lr import lr_find_plot
from ..runtime.threads import blas_threads
from ..store.atomic import write_atomic
from ..store.csv_file import write_csv
from ..store.run_dir import make_run_dir
from ..training.range_test import (
    END,
    MIN_STEPS,
    START,
    STEPS,
    RangeTest,
    schedule,
    warmup_steps,
)
from ..training.trainer import Trainer
from .fit import optimizer_for, single_network, threads_for
from .prepared import Prepared, prepare
from .run import resolved_config

if TYPE_CHECKING:
    from ..config.schema import Config

MIN_DROP = 0.1  # a descent takes the smoothed loss at least this share below its peak
RULE = ("half-way down: the first rate from which the smoothed loss stays below the level "
        "half-way between its peak and its minimum (the first tenth of the steps left out)")
COLUMNS = ("step", "lr", "loss", "smoothed")


@dataclass
class LrFindResult:
    """The range test's curve and its suggestion.

    ``lrs``, ``losses`` and ``smoothed`` are ``(n_steps,)`` float64 arrays, one
    value per mini-batch run (fewer than asked when the loss blew up); ``suggested``
    is ``lrs[index]``, or None when the loss did not fall clearly, ``rule`` then
    saying why instead of how it was chosen.
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggested: float | None
    rule: str
    index: int | None = None  # the suggestion's position in the arrays
    stop_reason: str = "completed"  # completed (every step), exploded (4× the minimum), diverged
    steps: int = STEPS  # the steps asked for


def check_range(start: float, end: float, steps: int) -> None:
    """NnfitError (exit 2) for a range the test cannot run."""
    for name, value in (("--start", start), ("--end", end)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            shown = f"{value:g}" if isinstance(value, (int, float)) else repr(value)
            raise NnfitError(f"{name} must be a positive learning rate (got {shown})")
    if start >= end:
        raise NnfitError(f"--start {start:g} must be below --end {end:g}: the rate grows from "
                         f"start to end")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < MIN_STEPS:
        raise NnfitError(f"--steps must be an integer of at least {MIN_STEPS} (got {steps!r})")


def suggest(smoothed: np.ndarray, steps: int | None = None) -> tuple[int | None, str]:
    """The half-way-down rule (module docstring): the suggested step's index, or None,
    and the rule (or why there is no suggestion) in words.

    Parameters
    ----------
    smoothed : (n,) the smoothed losses, in step order
    steps : the steps asked for (default ``n``); the first ``WARMUP`` share of them is left out
    """
    asked = steps or smoothed.size
    bad = np.flatnonzero(~np.isfinite(smoothed))
    n = int(bad[0]) if bad.size else smoothed.size
    first = warmup_steps(asked)
    if n - first < 3:
        return None, (f"no suggestion: the loss blew up after {n} of {asked} steps, before "
                      f"the first tenth was over; lower --start or --end")
    curve = smoothed[first:n]
    low = int(np.argmin(curve))
    peak = int(np.argmax(curve[:low + 1]))
    drop = (curve[peak] - curve[low]) / curve[peak] if curve[peak] > 0 else 0.0
    if not drop >= MIN_DROP:
        return None, (f"no suggestion: the smoothed loss fell by {drop:.0%} of its peak, under "
                      f"{MIN_DROP:.0%}: the network learned too little in {asked} steps "
                      f"(try --steps {3 * asked})")
    level = (curve[peak] + curve[low]) / 2
    index = peak + int(np.flatnonzero(curve[peak:low + 1] > level)[-1]) + 1
    return first + index, RULE


def find_lr(prepared: Prepared, config: Config | None = None, *, start: float = START,
            end: float = END, steps: int = STEPS) -> LrFindResult:
    """Run the range test on ``prepared``'s training split; print and write nothing.

    ``config`` overrides the prepared one (as for ``fit``): its network, seed,
    optimizer, batch size and weight decay are used; ``training.lr``, ``epochs``
    and early stopping are not. Raises NnfitError for a bad range.

    Examples
    --------
    >>> result = find_lr(prepare(config, "data.csv"))        # doctest: +SKIP
    >>> lrs = np.geomspace(result.suggested / 10, result.suggested * 10, 5)  # a sweep's range
    """
    check_range(start, end, steps)
    config = config or prepared.config
    if config.data != prepared.config.data:
        raise ValueError("config.data differs from the prepared data's: prepare again for it")
    t, ds = config.training, prepared.data
    network = prepared.build(config)  # the throwaway copy: fresh weights from the config's seed
    rates = schedule(start, end, steps)
    recorder = RangeTest(rates, warmup=warmup_steps(steps))
    trainer = Trainer(network, prepared.task.loss, optimizer_for(t, lr=start),
                      batch_size=t.batch_size, rng=stream(t.seed, TRAIN_STREAM),
                      observers=[recorder])
    n_train = ds.X["train"].shape[0]
    epochs = math.ceil(steps / math.ceil(n_train / t.batch_size))
    threads, _ = threads_for(network, t)
    with blas_threads(threads):
        trainer.fit(ds.X["train"], ds.y["train"], epochs)
    reason = "diverged" if trainer.stop_reason == "diverged" else recorder.reason
    lrs, smoothed = np.array(recorder.lrs), np.array(recorder.smoothed)
    index, rule = suggest(smoothed, steps)
    return LrFindResult(lrs, np.array(recorder.losses), smoothed,
                        None if index is None else float(lrs[index]), rule, index, reason, steps)


def curve_rows(result: LrFindResult) -> list[tuple[int, float, float, float]]:
    """``(step from 1, lr, loss, smoothed)`` per mini-batch: ``lr_find.csv``'s rows."""
    columns = zip(result.lrs.tolist(), result.losses.tolist(), result.smoothed.tolist(), strict=False)
    return [(i + 1, lr, loss, s) for i, (lr, loss, s) in enumerate(columns)]


def record(result: LrFindResult) -> dict:
    """What ``--json`` prints: the suggestion, the rule, how the run ended and the curve."""
    return {"suggested_lr": result.suggested, "rule": result.rule,
            "suggested_step": None if result.index is None else result.index + 1,
            "stop_reason": result.stop_reason, "steps": result.steps,
            "curve": [dict(zip(COLUMNS, row, strict=False)) for row in curve_rows(result)]}


@dataclass
class LrFindRun:
    """What ``nnfit lr-find`` returns: the range test's result, where it was written, and the
    command's notes (a config with ``training.ensemble: K`` is tested as one network)."""

    result: LrFindResult
    run_dir: Path
    notes: list[Note] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """1 when there is no suggestion, else 0."""
        return FAILED if self.result.suggested is None else 0

    def json(self) -> dict:
        return {**record(self.result), "notes": [note.text for note in self.notes],
                "run_dir": str(self.run_dir)}


def lr_find(config_path: str | Path, csv_path: str | Path, *, start: float = START,
            end: float = END, steps: int = STEPS, out: str | Path | None = None,
            overrides: Sequence[str] = (), console=None) -> LrFindRun:
    """The command: prepare (the split of ``train``), run the range test, and write
    ``lr_find.csv``, ``lr_find.png`` and the resolved ``config.yaml``.

    ``console`` shows the data notes and the command's own (also in the result). Raises
    NnfitError for bad input before anything is written.
    """
    check_range(start, end, steps)
    config, single = single_network(load_config(config_path, overrides), "nnfit lr-find")
    notes = [] if single is None else [Note(single, key="single_network")]
    prepared = prepare(config, csv_path, str(config_path))
    if console is not None:
        print_notes(console, None, [*prepared.notes, *notes])
    result = find_lr(prepared, config, start=start, end=end, steps=steps)
    name, t = Path(config_path).stem, config.training
    run_dir = make_run_dir(out, f"{name}-lr-find")
    write_atomic(run_dir / "config.yaml", resolved_config(prepared, config, overrides))
    write_csv(run_dir / "lr_find.csv", COLUMNS, curve_rows(result))
    write_atomic(run_dir / "lr_find.png", lr_find_plot(
        result.lrs, result.smoothed, result.index,
        f"{name}: learning-rate range test ({t.optimizer}, batch {t.batch_size}, seed {t.seed})",
        skip=warmup_steps(steps)))
    return LrFindRun(result, run_dir, notes)
