"""``training.ensemble: K``: K networks trained from seeds ``seed … seed+K−1`` on one split,
their predictions averaged (probabilities for classification, values for regression).

K fits handed to the executor (STYLE §9): one BLAS thread per member
wherever it runs, so ``--jobs 2`` gives the numbers of ``--jobs 1`` bit for bit.
The members share the prepared data (split, preprocessing, task); only the
training stream differs. The result is one :class:`~nnfit.nn.ensemble.Ensemble`,
scored and saved as one run directory that ``eval``, ``predict`` and ``show`` read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, cast

from ..errors import FAILED, NnfitError
from ..evaluation.scoring import score_splits
from ..evaluation.task import HEADLINE_METRIC
from ..nn.ensemble import Ensemble
from ..runtime.executor import run_jobs
from ..runtime.jobs import Interrupted, JobFailed, job_config
from ..runtime.signals import interrupt_code
from ..store.metrics import EnsembleRecords
from .fit import FitResult, fit, fit_packed, packing_refusal

if TYPE_CHECKING:
    from ..config.schema import Config
    from ..nn.network import Network
    from .prepared import Prepared


@dataclass
class Member:
    """One member's fit, its seed, and its :func:`member_record` (scored once, on arrival)."""

    seed: int
    result: FitResult
    record: dict


def fit_ensemble(prepared: Prepared, config: Config, *, n_jobs: int = 1, scheduler=None,
                 on_member: Callable[[int, Member], None] | None = None, pack: bool = True
                 ) -> tuple[FitResult, list[Member]]:
    """Train the members; return a FitResult whose network is the Ensemble, and the members.

    The FitResult's history, epochs and stop reason are the first member's (its learning
    curves are the ones plotted and diagnosed); ``seconds`` is the wall time of all.
    ``on_member(done, member)`` is called in this process as each member finishes.

    With ``pack``, members whose network packing suits train as packed members
    (:func:`~nnfit.workflows.fit.fit_packed`), one pack per local job (:func:`packs`): the
    same numbers, in a fraction of the time for small networks; a pack's members arrive
    together, when its last one stops.
    """
    k, seed = config.training.ensemble, config.training.seed
    members: dict[int, Member] = {}

    def arrived(index: int, result) -> None:
        if isinstance(result, JobFailed):
            raise NnfitError(f"training.ensemble: member {index + 1} (seed {seed + index}) "
                             f"failed: {result.message}", FAILED)
        members[index] = Member(seed + index, result, member_record(prepared, seed + index, result))
        if on_member is not None:
            on_member(len(members), members[index])

    configs = [job_config(config, seed=seed + i) for i in range(k)]
    groups = packs(prepared, config, n_jobs, scheduler) if pack else []
    started = time.perf_counter()
    try:
        if groups:  # a job per pack: its members' results, or one failure for all of them
            def pack_arrived(g: int, results) -> None:
                for j, i in enumerate(groups[g]):
                    arrived(i, results if isinstance(results, JobFailed) else results[j])

            run_jobs(fit_packed, [[configs[i] for i in group] for group in groups],
                     n_jobs=n_jobs, on_result=pack_arrived, shared=prepared)
        else:
            run_jobs(fit, configs, n_jobs=n_jobs, on_result=arrived, scheduler=scheduler,
                     shared=prepared)
    except Interrupted:
        raise NnfitError(f"interrupted: {len(members)} of {k} ensemble members had finished; "
                         f"no model was saved", interrupt_code()) from None
    ordered = [members[i] for i in range(k)]
    # each member is one fit(), whose network is a Network (FitResult also holds Ensembles)
    networks = cast("list[Network]", [m.result.network for m in ordered])
    ensemble = Ensemble(networks, prepared.task.loss.output_activation)
    first = ordered[0].result
    combined = replace(first, network=ensemble, seconds=time.perf_counter() - started,
                       threads=1, threads_reason="one per ensemble member")
    return combined, ordered


def packs(prepared: Prepared, config: Config, n_jobs: int, scheduler=None) -> list[list[int]]:
    """The members' packs: ``n_jobs`` runs of consecutive members (one per local worker), or
    none (``[]``) when they train as separate runs: on a scheduler, with ``training.pack:
    false`` (``--no-pack``), or when packing does not suit the network
    (:func:`~nnfit.workflows.fit.packing_refusal`)."""
    k = config.training.ensemble
    if (scheduler is not None or k < 2 or not config.training.pack
            or packing_refusal(prepared, config) is not None):
        return []
    n = min(n_jobs, k)
    return [list(range(k * g // n, k * (g + 1) // n)) for g in range(n)]


def member_record(prepared: Prepared, seed: int, result: FitResult) -> dict:
    """A member's seed, epochs and per-split loss and headline metric (for the table)."""
    task = prepared.task
    metric = HEADLINE_METRIC[task.kind]
    scored = score_splits(result.network, task, prepared.data, baseline=False)
    splits = {name: {"loss": s["loss"], metric: s[metric]} for name, s in scored.splits.items()}
    return {"seed": seed, "epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
            "stop_reason": result.stop_reason, "seconds": round(result.seconds, 3),
            "splits": splits}


def ensemble_section(members: list[Member], metric: str, jobs: int | None,
                     scheduler: str | None) -> EnsembleRecords:
    """``metrics.json``'s ``ensemble`` section: the members' records and where they ran."""
    return EnsembleRecords.model_validate({
        "members": len(members), "metric": metric, "jobs": jobs, "scheduler": scheduler,
        "records": [m.record for m in members]})
