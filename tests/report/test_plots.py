"""The plots tell the verdict's story: curves.png survives NaN and inf, draws the rise after the
best epoch as the verdict counted it, the scored losses and the baselines; --cv draws the folds'
aligned curves; the size-curve and sweep plots keep their curves readable."""

import math

import numpy as np
import pytest

from nnfit.evaluation.verdicts import Check
from nnfit.report.plots.fold_curves import aligned, fold_plot
from nnfit.report.plots.learning_curves import (
    NO_FINITE_LOSS,
    CurvesPlot,
    Line,
    curves_figure,
    learning_curves,
)
from nnfit.report.plots.size_curve import drawn_values, size_curves, size_points
from nnfit.report.plots.sweep import curves_axis, error_bar, rate_axis, sweep_plot

PNG = b"\x89PNG\r\n\x1a\n"
NAN, INF = math.nan, math.inf
DIVERGED = "diverged at epoch 1: the loss became NaN/inf — lower the learning rate"
HISTORY = {"train_loss": [1.0, 0.6, 0.4, 0.3, 0.2], "val_loss": [0.9, 0.7, 0.8, 0.9, 1.0]}


def _plot(history, epochs, best=0, **kwargs):
    return CurvesPlot(history, epochs, best, "t", **kwargs)


def _texts(fig):
    return [t.get_text() for t in fig.axes[0].texts]


def _labels(fig):
    return fig.axes[0].get_legend_handles_labels()[1]


def _drawn(line):
    """The finite (x, y) points a line really draws."""
    return [(x, y) for x, y in zip(line.get_xdata(), line.get_ydata(), strict=False)
            if math.isfinite(y)]


def _diagnosis(rise=0.3, se=0.1, counted=True, **extra):
    return {"verdict": "overfitting" if counted else "good fit", "kind": "overfitting",
            "reason": "r", "train_loss": 0.35, "val_loss": 0.72, "baseline_train_loss": 1.1,
            "baseline_val_loss": 1.12, "best_epoch": 2,
            "evidence": [{"check": Check.VAL_ROSE, "result": counted, "best_epoch": 2,
                          "best_val_loss": 0.7, "end_val_loss": 0.7 + rise, "rise": rise,
                          "se": se, "train_fell": True, **extra},
                         {"check": Check.GAP, "result": False, "gap": 0.37, "se": 0.2}]}


# -- curves.png: NaN, inf and notes ---------------------------------------------------


@pytest.mark.parametrize("history, epochs", [
    ({"train_loss": [NAN], "val_loss": [NAN]}, [1]),
    ({"train_loss": [0.7, NAN], "val_loss": [0.9, NAN]}, [1, 2]),
    ({"train_loss": [INF], "val_loss": [-INF]}, [1]),
    ({"train_loss": [1e-3, INF, NAN], "val_loss": [INF, 1e3, NAN]}, [1, 2, 3]),
    ({}, []),  # interrupted before the first epoch ended
])
def test_png_is_produced_whatever_the_losses(history, epochs):
    assert learning_curves(_plot(history, epochs, note=DIVERGED)).startswith(PNG)
    assert learning_curves(_plot(history, epochs, diagnosis=_diagnosis(),
                                 scored_epoch=1)).startswith(PNG)


def test_diverged_at_epoch_1_shows_the_note_on_an_empty_plot():
    fig = curves_figure(_plot({"train_loss": [NAN], "val_loss": [NAN]}, [1], note=DIVERGED))
    assert _texts(fig) == [DIVERGED]
    assert fig.axes[0].get_yscale() == "linear"


def test_without_a_note_an_all_nan_plot_says_there_is_nothing_finite():
    assert _texts(curves_figure(_plot({"train_loss": [INF, NAN]}, [1, 2]))) == [NO_FINITE_LOSS]


def test_a_single_finite_point_is_drawn_with_a_marker():
    fig = curves_figure(_plot({"train_loss": [0.7, NAN], "val_loss": [0.9, INF]}, [1, 2], 1,
                              note=DIVERGED))
    train, val = fig.axes[0].lines[:2]
    assert _drawn(train) == [(1, 0.7)] and _drawn(val) == [(1, 0.9)]
    assert train.get_marker() == "o" and val.get_marker() == "o"
    assert fig.axes[0].get_xlim()[1] > 2  # the epoch that diverged stays in view
    assert _texts(fig) == [DIVERGED]


def test_log_scale_ignores_inf_and_long_runs_keep_plain_lines():
    losses = [1.0 / (e + 1) for e in range(20)] + [INF]
    fig = curves_figure(_plot({"train_loss": losses}, list(range(1, 22)), 20))
    assert fig.axes[0].get_yscale() == "linear"  # 1 .. 0.048: 1.3 decades
    assert fig.axes[0].lines[0].get_marker() == "None"
    assert _texts(fig) == []
    spread = curves_figure(_plot({"train_loss": [100.0, 0.5, INF]}, [1, 2, 3], 2))
    assert spread.axes[0].get_yscale() == "log"


# -- curves.png: the verdict's marks ------------------------------------------------------


@pytest.mark.parametrize("counted, label", [
    (True, "val rose after its best (counted as overfitting)"),
    (False, "val rose after its best (not counted)"),
])
def test_the_rise_after_the_best_epoch_is_shaded_as_the_verdict_counted_it(counted, label):
    fig = curves_figure(_plot(HISTORY, [1, 2, 3, 4, 5], 2, diagnosis=_diagnosis(counted=counted)))
    assert label in _labels(fig)
    span = next(p for p in fig.axes[0].patches if p.get_label() == label)
    assert span.get_x() == 2 and span.get_x() + span.get_width() == 5  # best epoch to the end
    assert "val rose 0.3 (3.0 SE) after epoch 2" in fig.axes[0].get_title()


def test_a_rise_no_check_judged_is_shaded_as_not_judged_and_none_without_a_rise():
    few_rows = {"verdict": "inconclusive", "evidence": [
        {"check": Check.VALIDATION_ROWS, "result": False, "rows": 8, "needed": 20}]}
    fig = curves_figure(_plot(HISTORY, [1, 2, 3, 4, 5], 2, diagnosis=few_rows))
    assert "val rose after its best (not judged)" in _labels(fig)
    assert "only 8 validation rows" in fig.axes[0].get_title()
    plain = curves_figure(_plot(HISTORY, [1, 2, 3, 4, 5], 2))
    assert not any("val rose" in label for label in _labels(plain))


def test_the_scored_losses_sit_at_the_scored_epoch():
    fig = curves_figure(_plot(HISTORY, [1, 2, 3, 4, 5], 2, diagnosis=_diagnosis(),
                              scored_epoch=2, scored_by="restored weights"))
    marks = fig.axes[0].collections[-1]
    assert marks.get_offsets().tolist() == [[2.0, 0.35], [2.0, 0.72]]
    assert "restored weights (epoch 2): train 0.35, val 0.72" in _labels(fig)
    unmarked = curves_figure(_plot(HISTORY, [1, 2, 3, 4, 5], 2, diagnosis=_diagnosis()))
    assert not any(label.startswith("restored weights") for label in _labels(unmarked))


def test_a_baseline_in_range_is_a_line_one_out_of_range_is_named_in_the_legend():
    near = curves_figure(_plot(HISTORY, [1, 2, 3, 4, 5], 2, diagnosis=_diagnosis()))
    assert any(list(line.get_ydata()) == [1.12, 1.12] for line in near.axes[0].lines)
    far = _diagnosis() | {"baseline_train_loss": 40.0, "baseline_val_loss": 40.0}
    history = {"train_loss": [0.32, 0.31, 0.30, 0.30, 0.30], "val_loss": [0.33, 0.32, 0.32, 0.32, 0.33]}
    fig = curves_figure(_plot(history, [1, 2, 3, 4, 5], 2, diagnosis=far))
    assert fig.axes[0].get_ylim()[1] < 1  # zoomed on the curves, not flattened by the baseline
    assert "baseline train / val loss 40 (inputs ignored), above the plot" in _labels(fig)
    assert not any(40.0 in list(line.get_ydata()) for line in fig.axes[0].lines)


def test_an_ensemble_names_whose_curve_the_caption_reads():
    fig = curves_figure(_plot(HISTORY, [1, 2, 3, 4, 5], 2, diagnosis=_diagnosis(),
                              curve_of="member 1 of 5", scored_by="ensemble of 5",
                              scored_epoch=2))
    assert fig.axes[0].get_title().startswith("member 1 of 5's val rose 0.3")
    assert "ensemble of 5 (epoch 2): train 0.35, val 0.72" in _labels(fig)


# -- --cv: the folds' aligned curves --------------------------------------------------


def _fold(train, val):
    return {"train_loss": train, "val_loss": val}


FOLDS = [_fold([1.0, 0.5, 0.4, 0.3], [1.1, 0.6, 0.5, 0.6]),
         _fold([0.9, 0.6, 0.5, 0.45, 0.4, 0.35], [1.0, 0.7, 0.6, 0.55, 0.6, 0.65]),
         _fold([1.2, 0.7, 0.5, 0.4, 0.38], [1.2, 0.8, 0.6, 0.5, 0.58])]


def test_fold_curves_are_aligned_as_the_pooled_evidence_aligns_them():
    from types import SimpleNamespace

    from nnfit.evaluation.pooling import pooled_evidence

    folds = [SimpleNamespace(history=h, patience=None, scored_epoch=b, train_rows=np.zeros(2),
                             val_rows=np.zeros(2), rise_rows=None, held={},
                             record={"best_epoch": b, "stop_reason": "early_stopping",
                                     "train_loss": 0.3, "val_loss": 0.5,
                                     "baseline_train_loss": 1.0, "baseline_val_loss": 1.0})
             for h, b in zip(FOLDS, (3, 4, 4), strict=True)]
    pooled = pooled_evidence(folds)
    diagnosis = {"verdict": "good fit", "best_epoch": pooled.best_epoch, "train_loss": 0.3}
    plot = fold_plot(FOLDS, [3, 4, 4], diagnosis, "iris (--cv 3)",
                     Line("final model's train loss", list(range(1, 7)), [1, .5, .4, .3, .2, .1]))
    assert aligned(FOLDS)["val_loss"].shape == (3, 4)
    for key in ("train_loss", "val_loss"):
        np.testing.assert_allclose(plot.history[key], pooled.history[key])
        low, high = plot.spread[key]
        assert all(lo - 1e-12 <= m <= hi + 1e-12
                   for lo, m, hi in zip(low, plot.history[key], high, strict=True))
    assert plot.spread["val_loss"][1][-1] == 0.65  # fold 2's last val loss, at the frame's end
    assert plot.best_epoch == pooled.best_epoch and plot.epochs == [1, 2, 3, 4]
    assert plot.scored_epoch == 3  # the median of 3, 4 − 2 and 4 − 1: the aligned frame
    assert plot.title == "iris (--cv 3): good fit, judged on the 3 folds' curves"
    assert "aligned at their ends" in plot.xlabel and "fold 1" in plot.xlabel
    assert plot.extra[0].epochs == [1, 2, 3, 4] and "first 4 of 6 epochs" in plot.extra[0].label
    assert learning_curves(plot).startswith(PNG)


def test_folds_of_equal_length_are_plain_epochs():
    same = [_fold([1.0, 0.5, 0.4], [1.1, 0.6, 0.5]), _fold([0.9, 0.6, 0.5], [1.0, 0.7, 0.6])]
    plot = fold_plot(same, [3, 3], {"verdict": "good fit", "best_epoch": 3}, "x")
    assert plot.xlabel == "epoch" and plot.extra == []
    assert plot.history["train_loss"] == pytest.approx([0.95, 0.55, 0.45])


# -- nnfit curve and nnfit sweep ------------------------------------------------------


SUMMARY = [{"rows": 10, "train_loss_mean": 0.30, "train_loss_std": 0.05,
            "val_loss_mean": 0.60, "val_loss_std": 0.1},
           {"rows": 100, "train_loss_mean": 0.32, "train_loss_std": None,
            "val_loss_mean": None, "val_loss_std": None}]


def test_size_curve_draws_error_bars_from_the_repeats_std():
    assert size_points(SUMMARY, "train_loss") == ([10, 100], [0.30, 0.32], [0.05, 0.0])
    assert size_points(SUMMARY, "val_loss") == ([10], [0.60], [0.1])
    assert sorted(drawn_values(SUMMARY)) == pytest.approx(
        sorted([0.30, 0.35, 0.25, 0.32, 0.32, 0.32, 0.60, 0.70, 0.50]))
    assert size_curves(SUMMARY, 1.1, "t", baseline_train=1.0).startswith(PNG)
    assert size_curves([], 1.1, "t").startswith(PNG)


def _row(run, lr, loss, status="ok", **extra):
    return {"run": run, "training.lr": lr, "status": status, "val_loss": loss, **extra}


def test_sweep_error_bars_come_from_val_loss_se_when_the_rows_have_it():
    assert error_bar(_row(1, 0.1, 0.5, val_loss_se=0.02)) == 0.02
    assert error_bar(_row(1, 0.1, 0.5)) == 0.0  # no standard error in the rows yet
    assert error_bar(_row(1, 0.1, 0.5, val_loss_se=NAN)) == 0.0
    rows = [_row(1, 0.01, 0.50, val_loss_se=0.02), _row(2, 0.1, 0.52, val_loss_se=0.02)]
    assert rate_axis(rows).lo <= 0.48 and rate_axis(rows).hi >= 0.54
    for with_se in (rows, [_row(1, 0.01, 0.50), _row(2, 0.1, 0.52)]):
        assert sweep_plot(with_se, {1: [0.9, 0.5], 2: [0.8, 0.52]}, with_se[0], "t",
                          baseline=1.1).startswith(PNG)
    assert sweep_plot([], {}, None, "t").startswith(PNG)


def test_a_diverged_run_does_not_set_the_sweeps_axes():
    rows = [_row(1, 0.01, 0.50), _row(2, 0.1, 0.52), _row(3, 10.0, 1e9, status="diverged")]
    curves = {1: [0.9, 0.5], 2: [0.8, 0.52], 3: [5.0, 1e9]}
    assert rate_axis(rows).hi < 1 and rate_axis(rows).scale == "linear"
    assert curves_axis(rows, curves).hi < 1
    assert curves_axis(rows, curves, baseline=1.1).shows(1.1)
    assert sweep_plot(rows, curves, rows[0], "t", baseline=1.1).startswith(PNG)
