"""The decisions behind the plots, as pure functions: log or linear and how far the y axis
reaches (``scale.y_axis``); what of the verdict a learning-curves plot marks (``marks``)."""

import math

import pytest

from nnfit.evaluation.verdicts import Check
from nnfit.report.plots.marks import Marks, Rise, caption, curve_marks, rise_of
from nnfit.report.plots.scale import MIN_SPAN, y_axis

# -- the y axis -----------------------------------------------------------------------


def test_curves_spanning_more_than_one_and_a_half_decades_get_a_log_axis():
    assert y_axis([1.0, 0.02]).scale == "log"  # 1.7 decades
    assert y_axis([1.0, 0.05]).scale == "linear"  # 1.3 decades


def test_a_linear_zoom_never_draws_the_fourth_digit_as_shape():
    axis = y_axis([0.0531, 0.0532, 0.0533])
    assert axis.scale == "linear"
    assert axis.hi - axis.lo >= MIN_SPAN * 0.0533  # not 0.0002 wide
    assert axis.lo <= 0.0531 and axis.hi >= 0.0533


def test_a_near_baseline_joins_the_linear_axis():
    axis = y_axis([0.9, 0.95, 1.0], [1.13])
    assert axis.scale == "linear" and axis.shows(1.13) and axis.lo > 0.5


def test_a_baseline_that_would_flatten_the_curves_on_a_linear_axis_takes_a_log_one():
    axis = y_axis([0.05, 0.1, 0.2], [1.1])  # linear with 1.1: the curves in 14% of the height
    assert axis.scale == "log" and axis.shows(1.1) and axis.shows(0.05)


def test_a_baseline_that_would_flatten_the_curves_either_way_is_left_out():
    axis = y_axis([0.30, 0.31, 0.32], [1.1])
    assert axis.scale == "linear" and not axis.shows(1.1)
    assert axis.lo <= 0.30 and 0.32 <= axis.hi < 0.5


def test_a_log_axis_leaves_out_a_baseline_far_beyond_its_decades():
    axis = y_axis([1e-3, 1e-2, 1e-1], [1e3, 0.5])
    assert axis.scale == "log" and not axis.shows(1e3) and axis.shows(0.5)


def test_nonfinite_values_are_ignored_and_losses_get_no_negative_margin():
    assert y_axis([math.nan, math.inf, 0.5, 0.6, None]) == y_axis([0.5, 0.6])
    assert y_axis([0.0, 0.01]).lo >= -0.001
    assert y_axis([0.2, 0.25]).lo >= 0
    assert y_axis([]).scale == "linear"


# -- the marks ----------------------------------------------------------------------


HISTORY = {"train_loss": [1.0, 0.6, 0.4, 0.3, 0.2], "val_loss": [0.9, 0.7, 0.8, 0.9, 1.0]}
EPOCHS = [1, 2, 3, 4, 5]


def _rose(**check):
    return {"evidence": [{"check": Check.VAL_ROSE, "result": True, "best_epoch": 2,
                          "rise": 0.12, "se": 0.035, "train_fell": True, **check}]}


def test_the_rise_is_the_checks_and_runs_from_the_best_epoch_to_the_end():
    assert rise_of(_rose(), HISTORY, EPOCHS, 2) == Rise(2, 5, 0.12, 0.035, True)
    assert rise_of(_rose(result=False), HISTORY, EPOCHS, 2).counted is False


def test_a_rise_judged_over_the_whole_stretch_reads_its_peak_mean_and_z():
    d = _rose(mean_rise=0.08, peak_epoch=4, z=3.5)
    rise = rise_of(d, HISTORY, EPOCHS, 2)
    assert (rise.rise, rise.peak, rise.mean, rise.z) == (0.12, 4, 0.08, 3.5)
    assert caption(d, rise=rise) == ("val rose 0.12 (3.5 SE) after epoch 2 to a peak at epoch 4; "
                                     "+0.08 on average (2.3 SE)")
    assert caption(_rose(train_fell=False), rise=rise_of(_rose(), HISTORY, EPOCHS, 2)).endswith(
        "; train did not fall")
    assert caption(d | {"borderline": "borderline: ..."}, rise=rise).endswith(
        "\nborderline: another seed may flip it")  # lines break between the parts


def test_without_a_check_the_curve_says_whether_val_rose():
    assert rise_of({"evidence": []}, HISTORY, EPOCHS, 2) == Rise(2, 5, pytest.approx(0.3), None,
                                                                 None, peak=5)
    falling = {"train_loss": HISTORY["train_loss"], "val_loss": [0.9, 0.7, 0.6, 0.5, 0.4]}
    assert rise_of({"evidence": []}, falling, EPOCHS, 5) is None
    assert rise_of({"evidence": []}, falling, EPOCHS, 2) is None
    assert rise_of(_rose(rise=-0.01), HISTORY, EPOCHS, 2) is None
    assert caption(_rose(rise=-0.01)) == "val did not rise after epoch 2"


def test_the_caption_carries_the_verdicts_numbers():
    d = _rose() | {"train_loss": 0.124}
    d["evidence"].append({"check": Check.GAP, "result": True, "gap": 0.31, "se": 0.1})
    text = caption(d, rise=rise_of(d, HISTORY, EPOCHS, 2)).replace("\n", " ")
    assert text == "val rose 0.12 (3.4 SE) after epoch 2 · gap 0.31, val 3.5× train (3.1 SE)"
    owned = caption(d, "member 1 of 5", rise_of(d, HISTORY, EPOCHS, 2))
    assert owned.startswith("member 1 of 5's val rose 0.12")


def test_the_caption_names_the_other_checks_that_decided():
    d = {"train_vs_baseline": 0.9, "evidence": [
        {"check": Check.STILL_LEARNING, "result": True, "drop": 0.05, "window": 5},
        {"check": Check.PROBE, "result": False, "layers": "64→64", "train_loss": 0.8},
        {"check": "identifier column", "result": True}]}
    text = caption(d).replace("\n", " ")
    assert "train still falling: 0.05 over the last 5 epochs" in text
    assert "train 90% of the baseline's; a wider network (64→64) reached train 0.8: no clear gain" \
        in text
    assert text.endswith("identifier column")  # a check added later: its name, when it decided


def test_marks_read_the_diagnosis_tolerantly():
    assert curve_marks(HISTORY, EPOCHS, 2, None) == Marks()
    d = {"train_loss": 0.3, "val_loss": math.nan, "baseline_train_loss": 1.1,
         "baseline_val_loss": "?", "evidence": [{"check": Check.GAP}]}
    marks = curve_marks(HISTORY, EPOCHS, 2, d)
    assert marks.scored == {"train": 0.3} and marks.baselines == {"train": 1.1}
    assert marks.rise == Rise(2, 5, pytest.approx(0.3), None, None, peak=5)
