"""curves.png is drawn from what the verdict read: ``train`` hands its diagnosis to the plot
(a run whose val loss rose gets the rise marked), ``train --cv`` hands the folds' curves."""

from pathlib import Path

import numpy as np
import pytest

from nnfit.evaluation.verdicts import Check
from nnfit.report.plots import learning_curves as plots
from nnfit.report.plots import renderer

ROOT = Path(__file__).parents[2]
IRIS = ROOT / "sample_data" / "iris.csv"


@pytest.fixture
def drawn(monkeypatch):
    """What each curves.png was drawn from: the plot handed to ``learning_curves`` and the
    marks ``curve_marks`` made of it."""
    seen: dict[str, list] = {"plots": [], "marks": []}
    real_marks, real_png = plots.curve_marks, renderer.learning_curves

    def marks(*args, **kwargs):
        seen["marks"].append(real_marks(*args, **kwargs))
        return seen["marks"][-1]

    def png(plot):
        seen["plots"].append(plot)
        return real_png(plot)

    monkeypatch.setattr(plots, "curve_marks", marks)
    monkeypatch.setattr(renderer, "learning_curves", png)  # drawn in-process in tests
    return seen


def _rising(tmp_path) -> tuple[Path, Path]:
    """A weak signal, a wide network and a long patience: val rises after an early best."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 6))
    y = 0.3 * x[:, 0] + rng.standard_normal(300)
    csv = tmp_path / "weak.csv"
    csv.write_text("x0,x1,x2,x3,x4,x5,y\n" + "".join(
        ",".join(f"{v:.6f}" for v in (*row, t)) + "\n" for row, t in zip(x, y, strict=True)))
    config = tmp_path / "wide.yaml"
    config.write_text("data: {target: y, val_fraction: 0.3}\n"
                      "model: {layers: [{type: dense, units: 64, activation: relu},\n"
                      "                 {type: dense, units: 64, activation: relu}]}\n"
                      "training: {lr: 0.01, epochs: 40, batch_size: 16,\n"
                      "           early_stopping: {patience: 40}}\n")
    return config, csv


def test_train_marks_the_rise_the_verdict_measured(tmp_path, drawn):
    from nnfit.workflows.train import train

    config, csv = _rising(tmp_path)
    outcome = train(config, csv, out=tmp_path / "run", probe="never")
    assert (tmp_path / "run" / "curves.png").read_bytes().startswith(b"\x89PNG")
    diagnosis = outcome.metrics.dump()["diagnosis"]
    check = next(c for c in diagnosis["evidence"] if c["check"] == Check.VAL_ROSE)
    assert check["rise"] > 0
    (plot,), (marks,) = drawn["plots"], drawn["marks"]
    assert plot.diagnosis is not None and plot.scored_epoch == outcome.metrics.best_epoch
    assert marks.rise is not None
    assert marks.rise.start == check["best_epoch"]
    assert marks.rise.rise == pytest.approx(check["rise"])
    assert marks.rise.peak == check.get("peak_epoch") and marks.rise.mean == check.get("mean_rise")
    assert marks.rise.counted == bool(check["result"])
    assert "val rose" in marks.caption and f"after epoch {check['best_epoch']}" in marks.caption
    assert marks.baselines and marks.scored


def test_cv_draws_the_folds_curves_the_verdict_was_judged_on(tmp_path, drawn):
    from nnfit.workflows.cv import cross_validate

    config = tmp_path / "iris.yaml"
    config.write_text("data: {target: species, split_seed: 3}\n"
                      "model: {layers: [{type: dense, units: 8, activation: relu}]}\n"
                      "training: {lr: 0.02, epochs: 12, batch_size: 16,\n"
                      "           early_stopping: {patience: 3}}\n")
    outcome = cross_validate(config, IRIS, k=3, n_jobs=1, out=tmp_path / "cv")
    (plot,) = drawn["plots"]
    metrics = outcome.metrics.dump()
    diagnosis, folds = metrics["diagnosis"], metrics["cv"]["folds"]
    assert plot.best_epoch == diagnosis["best_epoch"]
    assert plot.epochs == list(range(1, diagnosis["epochs_run"] + 1))  # the pooled frame
    assert set(plot.spread) == {"train_loss", "val_loss"}
    assert plot.title.startswith(f"iris (--cv 3): {diagnosis['verdict']}")
    assert plot.extra and plot.extra[0].label.startswith("final model's train loss")
    assert plot.curves_label == " (mean of 3 folds)"
    assert plot.diagnosis["verdict"] == diagnosis["verdict"]
    assert len(folds) == 3 and (tmp_path / "cv" / "curves.png").exists()
