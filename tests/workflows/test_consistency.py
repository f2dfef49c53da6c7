"""train, curve and --cv on the same data and config never contradict each other.

They read the same evidence with the same judge (``nnfit.evaluation.diagnosis``): train
its one split, curve the repeats at the largest size pooled, ``--cv`` all folds pooled.
Either their verdicts agree, or one of them is inconclusive or borderline and says why
(``verdicts.contradicts``). The full matrix (every shipped config, seeds 0–2, default
curve and ``--cv 5``) is ``bench/consistency.py``; this test runs a cheaper one.
"""

import json
from pathlib import Path

import pytest

from nnfit.evaluation.verdicts import contradicts
from nnfit.workflows.curve import curve
from nnfit.workflows.cv import cross_validate
from nnfit.workflows.train import train

ROOT = Path(__file__).parents[2]
CASES = [("bias_variance/underfit.yaml", "noisy_sine.csv"),
         ("bias_variance/good.yaml", "noisy_sine.csv"),
         ("iris.yaml", "iris.csv"), ("diabetes.yaml", "diabetes.csv")]


def test_contradicts_needs_two_decided_verdicts_that_differ():
    good, over = {"verdict": "good fit"}, {"verdict": "overfitting"}
    assert contradicts(good, over) and not contradicts(good, dict(good))
    assert not contradicts(good, {"verdict": "inconclusive"})
    assert not contradicts({**good, "borderline": "borderline: ..."}, over)


@pytest.mark.parametrize("config, data", CASES)
def test_train_curve_and_cv_never_contradict(tmp_path, config, data):
    config, data = ROOT / "configs" / config, ROOT / "sample_data" / data
    trained = train(config, data, out=tmp_path / "t").metrics.diagnosis.model_dump()
    curved = curve(config, data, sizes=[0.5, 1.0], repeats=2,
                   out=tmp_path / "c").record["verdict"]
    folds = cross_validate(config, data, k=3, out=tmp_path / "cv").metrics.diagnosis.model_dump()
    verdicts = {"train": trained, "curve": curved, "--cv 3": folds}
    shown = json.dumps({name: (v["verdict"], v["reason"]) for name, v in verdicts.items()})
    for a in verdicts:
        for b in verdicts:
            assert not contradicts(verdicts[a], verdicts[b]), shown
