"""The learning-rate range test: schedule, smoothing, stop rule, the suggestion, and the
acceptance test (training at the suggestion is as good as the best of a 5-rate sweep)."""

from pathlib import Path

import numpy as np
import pytest

from nnfit.config.load import load_config
from nnfit.errors import NnfitError
from nnfit.report.plots.lr import text_plot
from nnfit.training.range_test import BETA, DIVERGE, WARMUP, schedule
from nnfit.workflows import fit, prepare, score
from nnfit.workflows.lr_find import MIN_DROP, RULE, check_range, find_lr, suggest

ROOT = Path(__file__).parents[2]
DIABETES = ROOT / "configs" / "diabetes.yaml"
GOOD = ROOT / "configs" / "bias_variance" / "good.yaml"


@pytest.fixture(scope="module")
def diabetes():
    return prepare(load_config(DIABETES), ROOT / "sample_data" / "diabetes.csv")


def with_training(config, **changes):
    return config.model_copy(update={"training": config.training.model_copy(update=changes)})


def test_the_schedule_grows_exponentially_from_start_to_end():
    rates = schedule(1e-7, 10.0, 100)
    assert rates[0] == 1e-7 and rates[-1] == pytest.approx(10.0)
    np.testing.assert_allclose(rates[1:] / rates[:-1], (1e8) ** (1 / 99))


@pytest.mark.parametrize("start, end, steps, message", [
    (0, 1, 100, "--start must be a positive learning rate (got 0)"),
    (1e-3, -1, 100, "--end must be a positive learning rate (got -1)"),
    (float("nan"), 1, 100, "--start must be a positive learning rate (got nan)"),
    (1.0, 1.0, 100, "--start 1 must be below --end 1"),
    (1.0, 0.1, 100, "--start 1 must be below --end 0.1"),
    (1e-7, 10, 5, "--steps must be an integer of at least 10 (got 5)"),
])
def test_a_range_the_test_cannot_run_is_a_usage_error(start, end, steps, message):
    with pytest.raises(NnfitError, match="^" + message.replace("(", r"\(").replace(")", r"\)")) \
            as caught:
        check_range(start, end, steps)
    assert caught.value.exit_code == 2


def s_curve(n=100, at=60, width=6.0, noise=0.0, seed=0):
    """A plateau at 2 falling to 1 around step ``at``, then rising again after step 90."""
    steps = np.arange(n)
    curve = 1.0 + 1.0 / (1.0 + np.exp((steps - at) / width))
    curve[90:] += 0.3 * (steps[90:] - 89)
    return curve + noise * np.random.default_rng(seed).standard_normal(n)


def test_the_suggestion_is_where_the_curve_has_come_half_way_down():
    index, rule = suggest(s_curve())
    assert rule == RULE
    assert index == 60  # the curve crosses 1.5, half-way from 2 to 1, at step 60
    assert s_curve()[index - 1] > 1.5 >= s_curve()[index]


def test_a_dip_in_the_plateau_that_comes_back_does_not_count():
    curve = s_curve()
    curve[20:25] = 1.4  # below the half-way level, then back on the plateau
    index, _ = suggest(curve)
    assert index == 60


def test_a_curve_that_hardly_falls_gets_no_suggestion():
    flat = 2.0 + 0.02 * np.sin(np.arange(100))
    index, rule = suggest(flat)
    assert index is None
    assert rule.startswith("no suggestion: the smoothed loss fell by ")
    assert f"under {MIN_DROP:.0%}" in rule and "try --steps 300" in rule


def test_a_run_that_blew_up_during_the_warm_up_gets_no_suggestion():
    index, rule = suggest(np.array([1.0, 1.1, 1.2, 1.3]), steps=100)
    assert index is None and "blew up after 4 of 100 steps" in rule


def test_the_text_plot_marks_the_suggestion_and_keeps_the_blow_up_off_the_scale():
    curve = s_curve()
    lines = text_plot(schedule(1e-7, 10.0, 100), curve, 60, width=60, height=10, skip=10)
    plot, axis, labels = lines[:10], lines[10], lines[11]
    bar = plot[0].index("|")
    assert plot[0][:bar].strip() == "2" and plot[-1][:bar].strip() == "1.01"  # peak, minimum
    column = axis.index("^")
    assert [line[column:column + 1] for line in plot].count("o") == 1
    assert plot[0].rstrip().endswith("↑")  # the last steps, above the range, clipped
    assert labels.split() == ["lr", "1e-07", "1e-05", "1e-03", "1e-01", "1e+01"]
    assert axis[bar] == "+" and axis.count("+") == 1 + 5  # the corner and every other decade


def test_the_range_test_on_diabetes_suggests_a_rate_where_the_smoothed_loss_falls(diabetes):
    result = find_lr(diabetes)
    lrs, smoothed, i = result.lrs, result.smoothed, result.index
    n = lrs.size
    # the rates are the schedule's; the smoothing is the bias-corrected moving average
    np.testing.assert_allclose(lrs, schedule(1e-7, 10.0, 100)[:n])
    average, expected = 0.0, []
    for t, loss in enumerate(result.losses, start=1):
        average = BETA * average + (1 - BETA) * loss
        expected.append(average / (1 - BETA**t))
    np.testing.assert_allclose(smoothed, expected, rtol=1e-12)
    # it stopped when the smoothed loss passed 4× its minimum (after the warm-up)
    first = int(WARMUP * 100)
    assert result.stop_reason == "exploded" and n < 100
    assert smoothed[-1] > DIVERGE * smoothed[first:-1].min()
    assert (smoothed[first:-1] <= DIVERGE * np.minimum.accumulate(smoothed[first:-1])).all()
    # the suggestion: one of the rates, on the descent between the plateau and the minimum
    low = first + int(np.argmin(smoothed[first:]))
    assert result.suggested == lrs[i] and first < i < low
    assert smoothed[i - 3:i].mean() > smoothed[i] > smoothed[i + 1:i + 4].mean()
    assert smoothed[i] > smoothed[low] + 0.2 * (smoothed[first:i].max() - smoothed[low])
    assert 1e-3 < result.suggested < 1.0


def test_the_same_seed_gives_the_same_suggestion_and_changes_nothing(diabetes):
    before = fit(diabetes).network.params.copy()
    first, again = find_lr(diabetes), find_lr(diabetes)
    assert first.suggested == again.suggested
    np.testing.assert_array_equal(first.losses, again.losses)
    other = find_lr(diabetes, with_training(diabetes.config, seed=1))
    assert not np.array_equal(other.losses[:10], first.losses[:10])
    # a throwaway network: the prepared data and a later training are untouched
    np.testing.assert_array_equal(fit(diabetes).network.params, before)


def test_a_network_that_learns_too_little_in_100_steps_gets_no_suggestion():
    prepared = prepare(load_config(GOOD, ["training.seed=2"]),
                       ROOT / "sample_data" / "noisy_sine.csv")
    result = find_lr(prepared)
    assert result.suggested is None and result.index is None
    assert result.rule.startswith("no suggestion: the smoothed loss fell by")


def test_training_at_the_suggestion_is_within_10_percent_of_a_five_rate_sweep(diabetes):
    """The issue's acceptance test. diabetes.yaml (16 ReLU units, Adam, weight decay, early
    stopping) is a regression whose val loss levels off at the noise, so 10% is a real
    margin: the sweep's small rates end far above it (1e-5: 66% above the best; from Glorot's
    smaller initial weights 1e-4 gets within 15%, so the sweep starts at 1e-5)."""
    config = diabetes.config

    def val_loss(lr):
        run = with_training(config, lr=float(lr))
        return score(diabetes, fit(diabetes, run), run, probe="never").splits["val"]["loss"]

    sweep = [val_loss(lr) for lr in np.geomspace(1e-5, 1e-1, 5)]
    best = min(sweep)
    assert max(sweep) > 1.2 * best  # a poor rate does fail the 10% margin here
    suggested = find_lr(diabetes).suggested
    assert val_loss(suggested) <= 1.1 * best
