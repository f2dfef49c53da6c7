"""Learning curves survive NaN and inf, and say in the plot why there is little to see."""

import math

import pytest

from nnfit.report.plots.learning_curves import NO_FINITE_LOSS, curves_figure, learning_curves

PNG = b"\x89PNG\r\n\x1a\n"
NAN, INF = math.nan, math.inf
DIVERGED = "diverged at epoch 1: the loss became NaN/inf — lower the learning rate"


def _texts(fig):
    return [t.get_text() for t in fig.axes[0].texts]


def _drawn(line):
    """The finite (x, y) points a line really draws."""
    return [(x, y) for x, y in zip(line.get_xdata(), line.get_ydata(), strict=False) if math.isfinite(y)]


@pytest.mark.parametrize("history, epochs", [
    ({"train_loss": [NAN], "val_loss": [NAN]}, [1]),
    ({"train_loss": [0.7, NAN], "val_loss": [0.9, NAN]}, [1, 2]),
    ({"train_loss": [INF], "val_loss": [-INF]}, [1]),
    ({"train_loss": [1e-3, INF, NAN], "val_loss": [INF, 1e3, NAN]}, [1, 2, 3]),
    ({}, []),  # interrupted before the first epoch ended
])
def test_png_is_produced_whatever_the_losses(history, epochs):
    png = learning_curves(history, epochs, 0, "run: diverged", note=DIVERGED)
    assert png.startswith(PNG)
    assert learning_curves(history, epochs, 0, "run").startswith(PNG)


def test_diverged_at_epoch_1_shows_the_note_on_an_empty_plot():
    fig = curves_figure({"train_loss": [NAN], "val_loss": [NAN]}, [1], 0, "t", note=DIVERGED)
    assert _texts(fig) == [DIVERGED]
    assert fig.axes[0].get_yscale() == "linear"


def test_without_a_note_an_all_nan_plot_says_there_is_nothing_finite():
    fig = curves_figure({"train_loss": [INF, NAN]}, [1, 2], 0, "t")
    assert _texts(fig) == [NO_FINITE_LOSS]


def test_a_single_finite_point_is_drawn_with_a_marker():
    fig = curves_figure({"train_loss": [0.7, NAN], "val_loss": [0.9, INF]}, [1, 2], 1, "t",
                        note=DIVERGED)
    train, val = fig.axes[0].lines[:2]
    assert _drawn(train) == [(1, 0.7)] and _drawn(val) == [(1, 0.9)]
    assert train.get_marker() == "o" and val.get_marker() == "o"
    assert fig.axes[0].get_xlim()[1] > 2  # the epoch that diverged stays in view
    assert _texts(fig) == [DIVERGED]


def test_log_scale_ignores_inf_and_long_runs_keep_plain_lines():
    losses = [1.0 / (e + 1) for e in range(20)] + [INF]
    fig = curves_figure({"train_loss": losses}, list(range(1, 22)), 20, "t")
    assert fig.axes[0].get_yscale() == "linear"  # 1 .. 0.048 does not span two decades
    assert fig.axes[0].lines[0].get_marker() == "None"
    assert _texts(fig) == []
    spread = curves_figure({"train_loss": [100.0, 0.5, INF]}, [1, 2, 3], 2, "t")
    assert spread.axes[0].get_yscale() == "log"


def test_the_region_where_val_rose_is_shaded_as_evidence():
    from nnfit.report.plots.learning_curves import curves_figure

    history = {"train_loss": [1.0, 0.6, 0.4, 0.3, 0.2], "val_loss": [0.9, 0.7, 0.8, 0.9, 1.0]}
    shaded = curves_figure(history, [1, 2, 3, 4, 5], 2, "t", rose=True)
    labels = shaded.axes[0].get_legend_handles_labels()[1]
    assert "val rose, train fell" in labels
    plain = curves_figure(history, [1, 2, 3, 4, 5], 2, "t")
    assert "val rose, train fell" not in plain.axes[0].get_legend_handles_labels()[1]
