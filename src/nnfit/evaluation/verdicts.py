"""The words of a verdict: its kinds, the checks its evidence lists, and the advice per kind.

``nnfit.evaluation.diagnosis`` decides which kind a run is; everything that shows
or acts on a verdict (the console, metrics.json, plots, ``nnfit doctor``) reads
these names.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """Which verdict, finer than its label: the advice is keyed by it."""

    DIVERGED = "diverged"
    OVERFITTING = "overfitting"  # from the gap: val loss well above train loss
    OVERFITTING_ROSE = "overfitting_rose"  # val rose after its best epoch while train fell
    OVERFITTING_IDENTIFIER = "overfitting_identifier"  # memorized through an identifier column
    OVERFITTING_LEAK = "overfitting_leak"  # leans on a column that copies the target
    UNDERFITTING_COLLAPSE = "underfitting_collapse"  # a classifier that predicts one class
    UNDERFITTING_EPOCHS = "underfitting_epochs"  # still learning at the end
    UNDERFITTING_CAPACITY = "underfitting_capacity"  # the probe shows more capacity helps
    UNDERFITTING_FAILED = "underfitting_failed"  # worse than ignoring the inputs
    UNDERFITTING_RATE = "underfitting_rate"  # a rate too high kept it at the baseline
    GOOD_FIT = "good_fit"
    GOOD_FIT_DATA_LIMITED = "good_fit_data_limited"  # the probe gains nothing: the data limits
    INCONCLUSIVE = "inconclusive"


class Check(StrEnum):
    """The checks a verdict's evidence lists, by the names ``metrics.json`` gives them."""

    VALIDATION_ROWS = "validation rows"
    VAL_ROSE = "val rose after its best"
    GAP = "generalization gap"
    WORSE = "worse than the baseline"
    STILL_LEARNING = "still learning"
    PROBE = "capacity probe"
    SAME_WIDTH = "same network, probe's recipe"
    OVERFITTING = "overfitting"
    COLLAPSE = "predicts one class"


ADVICE = {
    Kind.DIVERGED: "lower the learning rate (training.lr), or clip the inputs' scale",
    Kind.OVERFITTING: "regularize: l2 or weight_decay (adamw), dropout, a smaller network, or "
                      "more training rows",
    Kind.OVERFITTING_ROSE: "regularize (l2 or weight_decay, dropout, a smaller network) or stop "
                           "earlier: early stopping with less patience",
    Kind.OVERFITTING_IDENTIFIER: "leave the identifier column out (data.exclude): the network "
                                 "memorizes rows through it; regularizing will not help",
    Kind.OVERFITTING_LEAK: "leave the leaking column out (data.exclude) unless it is known when "
                           "you predict: the validation score leans on it and new rows will "
                           "not have it",
    Kind.UNDERFITTING_COLLAPSE: "weigh the classes (training.class_weight: balanced) so the rare "
                                "classes count",
    Kind.UNDERFITTING_EPOCHS: "train longer (training.epochs) or with a higher learning rate",
    Kind.UNDERFITTING_CAPACITY: "a larger network: more units or layers",
    Kind.UNDERFITTING_RATE: "lower the learning rate (training.lr ÷10), or find one with "
                            "nnfit lr-find",
    Kind.UNDERFITTING_FAILED: "training made the model worse than ignoring the inputs: lower the "
                              "learning rate",
    Kind.GOOD_FIT: "nothing to fix in the fit",
    Kind.GOOD_FIT_DATA_LIMITED: "a bigger network will not help: better features or more data "
                                "might",
    Kind.INCONCLUSIVE: "run cross-validation (--cv 5) to judge on all rows",
}
VERDICT = {Kind.DIVERGED: "diverged", Kind.OVERFITTING: "overfitting",
           Kind.OVERFITTING_ROSE: "overfitting", Kind.OVERFITTING_IDENTIFIER: "overfitting",
           Kind.OVERFITTING_LEAK: "overfitting",
           Kind.UNDERFITTING_COLLAPSE: "underfitting",
           Kind.UNDERFITTING_EPOCHS: "underfitting", Kind.UNDERFITTING_CAPACITY: "underfitting",
           Kind.UNDERFITTING_FAILED: "underfitting", Kind.UNDERFITTING_RATE: "underfitting",
           Kind.GOOD_FIT: "good fit",
           Kind.GOOD_FIT_DATA_LIMITED: "good fit", Kind.INCONCLUSIVE: "inconclusive"}


#: the kinds whose advice is to leave named columns out (the verdict's ``columns``)
EXCLUDES = (Kind.OVERFITTING_IDENTIFIER, Kind.OVERFITTING_LEAK)


def contradicts(a: dict, b: dict) -> bool:
    """Whether two verdicts on the same data and config say opposite things: both decided
    (neither inconclusive nor borderline) and with different labels. The commands that judge
    the same data — train, curve, ``--cv`` — must never contradict each other."""
    decided = [v for v in (a, b) if v["verdict"] != "inconclusive" and not v.get("borderline")]
    return len(decided) == 2 and a["verdict"] != b["verdict"]
