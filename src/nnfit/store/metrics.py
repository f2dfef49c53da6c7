"""``metrics.json``: one typed record, :class:`MetricsRecord`, written and read through the
same model.

A run writes it with :func:`write_metrics` (every section validated, only the sections
the run has, in the model's key order). ``show`` reads it back with :func:`read_metrics`:
a run directory may come from anyone, so the file is validated strictly against the same
model before anything indexes into it; a file that fails is reported in one line
(``metrics.json: unreadable (…)``) and the rest of ``show`` still prints. Keys the model
does not name are kept on writing and ignored on reading: ``metrics.json`` is a report,
not a contract, and grows with every release.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..config.messages import format_errors
from ..errors import shorten
from ..evaluation.verdicts import Check
from .atomic import write_json
from .safe_read import RunFileError, read_json


def _number(value: Any) -> Any:
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise ValueError(f"must be a number or null (got {value!r})")
    return value


Number = Annotated[Any, AfterValidator(_number)]  # a metric; null where it is undefined
Scores = dict[str, Number]  # one split: rows, loss and the task's metrics


class Loose(BaseModel):
    """Typed where read; other keys kept (on writing) and never relied on (on reading)."""

    model_config = ConfigDict(extra="allow")


class Diagnosis(Loose):
    verdict: str
    reason: str
    advice: str | None = None
    kind: str | None = None  # nnfit.evaluation.diagnosis.Kind; absent from older files
    borderline: str | None = None  # the margin, when the deciding test was close to its line
    notes: list[str] = []  # e.g. a model restored to (nearly) untrained weights
    columns: list[str] = []  # overfitting_identifier: the columns to leave out
    evidence: list[dict[str, Any]] = []
    not_checked: list[dict[str, Any]] = []

    @model_validator(mode="after")
    def _probe_has_its_numbers(self):
        for check in self.evidence:
            if check.get("check") == Check.PROBE:
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
    units: int
    dead: int
    share: float


class MemberRecord(Loose):
    seed: int
    epochs_run: int
    best_epoch: int
    stop_reason: str = "completed"
    seconds: float | None = None
    splits: dict[str, Scores]


class EnsembleRecords(Loose):
    members: int
    metric: str
    jobs: int | None = None
    scheduler: str | None = None
    records: list[MemberRecord]


class DataSource(Loose):
    csv: str
    rows: int
    inputs: int


class Identifier(Loose):
    column: str
    reason: str


class ManyInputs(Loose):
    column: str
    inputs: int


class Leak(Loose):
    column: str
    target: str
    rule: str
    score: float


class Copies(Loose):
    rows: int
    copies: int


class DataChecks(Loose):
    """``nnfit.data.audit.DataAudit.record``: what the data checks before the fit found."""

    identifiers: list[Identifier] = []
    high_cardinality: list[ManyInputs] = []
    leaks: list[Leak] = []
    duplicates: dict[str, Copies] = {}  # val, test -> rows identical to a training row
    class_shares: dict[str, float] | None = None  # classification: share of the training rows


class MetricsRecord(Loose):
    """The whole of ``metrics.json``, in its key order; the optional sections only when set."""

    task: str
    loss: str
    splits: Annotated[dict[str, Scores], Field(min_length=1)]
    baseline: dict[str, Scores]
    diagnosis: Diagnosis
    epochs_run: int
    best_epoch: int
    seconds: float | None = None
    stop_reason: str = "completed"
    restored_best: bool | None = None
    threads: int | None = None
    threads_reason: str | None = None
    dead_relu: list[DeadUnits] = []
    confusion_split: str | None = None
    class_weight: dict[str, float] | None = None
    label_smoothing: float | None = None  # the loss's ε (its "loss" numbers include it)
    data: DataSource | None = None
    data_checks: DataChecks | None = None
    ensemble: EnsembleRecords | None = None
    cv: dict[str, Any] | None = None  # train --cv: the folds, their mean and std
    refit: dict[str, Any] | None = None  # training.refit: rows, epochs, the selection run

    def dump(self) -> dict:
        """The record as ``metrics.json`` holds it (the sections this run has)."""
        return self.model_dump(exclude_unset=True)

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
            shown: list[str] = [s for s in ("val", "test") if s in self.splits] or ["train"]
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


def write_metrics(run_dir: str | Path, record: MetricsRecord) -> Path:
    """``RUN_DIR/metrics.json``, written atomically."""
    return write_json(Path(run_dir) / "metrics.json", record.dump())


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
        MetricsRecord.model_validate(metrics, strict=True)
    except RunFileError as exc:
        return None, f"metrics.json: unreadable ({shorten(exc.why, 300)})"
    except ValidationError as exc:
        first = format_errors(exc, MetricsRecord)[0][1]
        return None, f"metrics.json: unreadable ({shorten(first, 300)})"
    return metrics, None
