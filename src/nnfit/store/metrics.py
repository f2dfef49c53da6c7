"""``metrics.json`` as ``nnfit show`` reads it: validated, never trusted.

``show`` prints a run's metrics with :func:`nnfit.report.console.print_report` (and the
ensemble table), which index into the file freely. A run directory may come from anyone,
so :func:`read_metrics` checks the parts those functions read against :class:`ShownMetrics`
first; a file that fails is reported in one line (``metrics.json: unreadable (…)``) and
the rest of ``show`` still prints. Keys ``show`` does not read are allowed and ignored:
``metrics.json`` is a report, not a contract, and grows with every release.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import NnfitError
from .safe_read import one_line, read_json


def _number(value: Any) -> Any:
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise ValueError(f"must be a number or null (got {value!r})")
    return value


Number = Annotated[Any, AfterValidator(_number)]  # a metric; null where it is undefined
Scores = dict[str, Number]  # one split: rows, loss and the task's metrics


class Loose(BaseModel):
    """Strict types for what is read, other keys ignored."""

    model_config = ConfigDict(extra="ignore", strict=True)


class Diagnosis(Loose):
    verdict: str
    reason: str
    advice: str | None = None
    evidence: list[dict[str, Any]] = []

    @model_validator(mode="after")
    def _probe_has_its_numbers(self):
        for check in self.evidence:
            if check.get("check") == "capacity probe":
                for key in ("epochs", "seconds", "train_loss"):
                    value = check.get(key)
                    if isinstance(value, bool) or not isinstance(value, (int, float)):
                        raise ValueError(f"evidence: the capacity probe's {key} must be a "
                                         f"number (got {value!r})")
                if "layers" not in check:
                    raise ValueError("evidence: the capacity probe has no layers")
        return self


class DeadUnits(Loose):
    layer: int
    description: str
    dead: int
    units: int
    share: float


class MemberRecord(Loose):
    seed: int
    best_epoch: int
    epochs_run: int
    splits: dict[str, Scores]


class EnsembleRecords(Loose):
    members: int
    metric: str
    records: list[MemberRecord]


class ShownMetrics(Loose):
    """What ``show`` prints of ``metrics.json``."""

    task: str
    loss: str
    splits: Annotated[dict[str, Scores], Field(min_length=1)]
    baseline: dict[str, Scores]
    diagnosis: Diagnosis
    epochs_run: int
    best_epoch: int
    stop_reason: str = "completed"
    class_weight: dict[str, float] | None = None
    dead_relu: list[DeadUnits] = []
    ensemble: EnsembleRecords | None = None

    @model_validator(mode="after")
    def _tables_are_complete(self):
        """Every row of a table has the columns of its first row."""
        columns = set(next(iter(self.splits.values()))) | {"loss"}
        for split, scores in self.splits.items():
            if set(scores) | {"rows"} != columns | {"rows"}:
                raise ValueError(f"splits.{split}: has {sorted(scores)}, not the first "
                                 f"split's {sorted(columns)}")
        base = "val" if "val" in self.baseline else "train"
        if base not in self.baseline or not columns <= set(self.baseline[base]) | {"rows"}:
            raise ValueError(f"baseline.{base}: missing, or without the metrics of the splits")
        if self.ensemble is not None:
            shown = [s for s in ("val", "test") if s in self.splits] or ["train"]
            wanted = {"loss", self.ensemble.metric}
            for split in shown:
                if split not in self.splits or not wanted <= set(self.splits[split]):
                    raise ValueError(f"ensemble.metric: {self.ensemble.metric!r} is not in "
                                     f"splits.{split}")
                for i, record in enumerate(self.ensemble.records):
                    if split not in record.splits or not wanted <= set(record.splits[split]):
                        raise ValueError(f"ensemble.records[{i}].splits.{split}: lacks "
                                         f"{sorted(wanted)}")
        return self


def read_metrics(run_dir: str | Path) -> tuple[dict | None, str | None]:
    """``(metrics, problem)``: the checked ``metrics.json`` of a run, or None and why not.

    ``(None, None)`` when there is no ``metrics.json``; ``(None, "metrics.json: unreadable
    (…)")`` when it cannot be read or shown (one line, naming the first problem).
    """
    path = Path(run_dir) / "metrics.json"
    if not path.exists() and not path.is_symlink():
        return None, None
    try:
        metrics = read_json(run_dir, "metrics.json")
        ShownMetrics.model_validate(metrics, strict=True)
    except NnfitError as exc:
        why = exc.message.removeprefix(f"{path}: ")
        return None, f"metrics.json: unreadable ({one_line(why, 300)})"
    except ValidationError as exc:
        from ..config.messages import format_errors

        first = format_errors(exc, ShownMetrics)[0][1]
        return None, f"metrics.json: unreadable ({one_line(first, 300)})"
    return metrics, None
