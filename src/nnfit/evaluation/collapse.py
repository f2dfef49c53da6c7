"""Majority-class collapse: a classifier that never gets a minority class right.

On imbalanced classes a network can reach the loss of the class priors by
predicting the majority class for every row; its accuracy then equals the
majority share and its balanced accuracy is 1/K. The loss curves of such a run
may look like any verdict (a gap that reads as overfitting, a flat curve that
reads as a good fit), so the diagnosis asks this first, from the predicted
classes of the held-out rows.
"""

from __future__ import annotations

import numpy as np

MIN_ROWS = 5  # a class needs this many rows before "never predicted" means something
NEGLECTED = 0.1  # a minority class with at most this share of its rows right: (almost) never
MINORITY = 0.5  # a class under this share of its fair 1/K is a minority
DOMINANT = 0.9  # one class given to this share of the rows: the predictions collapsed onto it


def collapse(true: np.ndarray, pred: np.ndarray, classes: list[str],
             rows: str = "held-out") -> dict | None:
    """The collapse record when at most ``NEGLECTED`` of the rows of a minority class (one
    with at least ``MIN_ROWS`` of them) are predicted right while one class takes
    ``DOMINANT`` of the predictions; else None.

    ``true``, ``pred``: class indices ``(n,)`` of the same rows; ``rows``: which rows they
    are, in words (held-out, or training when too few rare rows were held out).
    """
    k = len(classes)
    n = int(true.size)
    if k < 2 or n == 0:
        return None
    counts = np.bincount(true, minlength=k)
    given = np.bincount(pred, minlength=k)
    share = counts / n
    right = np.bincount(true, weights=(true == pred), minlength=k)
    missed = [i for i in range(k) if counts[i] >= MIN_ROWS and right[i] <= NEGLECTED * counts[i]
              and share[i] < MINORITY / k]
    top = int(np.argmax(given))
    if not missed or given[top] < DOMINANT * n:
        return None
    present = counts > 0
    recall = np.divide(right, counts, out=np.zeros(k), where=present)
    return {"predicted": classes[top], "predicted_share": float(given[top] / n),
            "never_predicted": [classes[i] for i in missed],
            "right": {classes[i]: int(right[i]) for i in missed},
            "of": {classes[i]: int(counts[i]) for i in missed}, "which_rows": rows,
            "shares": {classes[i]: float(share[i]) for i in range(k)},
            "balanced_accuracy": float(recall[present].mean()),
            "chance": 1.0 / int(present.sum()), "rows": n}


def describe(found: dict) -> str:
    """The reason in words: which class it predicts, which it (almost) never does, and what
    that costs."""
    missed = [f"{found['right'][c]} of the {found['of'][c]} rows of {c!r}"
              for c in found["never_predicted"]]
    return (f"the model predicts {found['predicted']!r} for {found['predicted_share']:.0%} of "
            f"the {found['rows']} {found['which_rows']} rows and gets {', '.join(missed)} "
            f"right: balanced accuracy {found['balanced_accuracy']:.2f}, chance is "
            f"{found['chance']:.2f}")
