"""The sweep's choice: the best mean, ties within one paired SE, the middle of a tied run of
rates, the edge of the range."""

import math

import numpy as np
import pytest

from nnfit.evaluation.selection import Point, against_best, choose, loss_and_se

RNG = np.random.default_rng(0)
NOISE = RNG.standard_normal((1, 200))  # the rows' own difficulty, shared by every point


def _point(i, lr, offset, spread=0.05, ok=True, seeds=1):
    """Per-row losses: the shared row difficulty + a point offset + its own small noise."""
    own = RNG.standard_normal((seeds, 200))
    rows = 1.0 + 0.5 * NOISE + offset + spread * (own - own.mean())  # its mean: exactly offset
    return Point(i, {"training.lr": lr}, rows, ok)


def test_a_clear_best_is_chosen_and_says_so():
    points = [_point(0, 0.001, 0.5), _point(1, 0.01, 0.0), _point(2, 0.1, 0.4)]
    choice = choose(points, ["training.lr"])
    assert (choice.chosen, choice.best, choice.tied) == (1, 1, [1])
    assert choice.why == "the lowest val loss" and choice.edge is None


def test_points_within_one_paired_se_are_tied_and_the_middle_one_is_chosen():
    points = [_point(0, 0.001, 0.5), _point(1, 0.01, 0.002), _point(2, 0.03, 0.0),
              _point(3, 0.1, 0.001), _point(4, 0.3, 0.3)]
    choice = choose(points, ["training.lr"])
    assert choice.best == 2 and choice.tied == [1, 2, 3]
    assert choice.chosen == 2  # the middle of 0.01, 0.03, 0.1
    assert choice.why == ("lr 0.01, lr 0.03 and lr 0.1 are within noise of each other (1 "
                          "paired standard error or 1% of the best); chosen: the middle of them")


def test_the_middle_of_a_tie_is_chosen_even_when_an_end_has_the_lowest_mean():
    points = [_point(0, 0.001, 0.5), _point(1, 0.01, 0.001), _point(2, 0.03, 0.0005),
              _point(3, 0.1, 0.0)]
    choice = choose(points, ["training.lr"])
    assert choice.best == 3 and choice.tied == [1, 2, 3] and choice.chosen == 2


def test_an_edge_choice_warns_with_a_wider_range():
    points = [_point(0, 0.001, 0.5), _point(1, 0.01, 0.3), _point(2, 0.1, 0.0)]
    choice = choose(points, ["training.lr"])
    assert choice.chosen == 2
    assert choice.edge == ("training.lr=0.1 is the largest value swept: the best may lie beyond "
                           "it; widen the range (e.g. --lr-range 0.1:10:5)")
    low = choose([_point(0, 0.001, 0.0), _point(1, 0.01, 0.3), _point(2, 0.1, 0.5)],
                 ["training.lr"])
    assert low.edge.startswith("training.lr=0.001 is the smallest value swept")
    assert choose(points[1:], ["training.lr"]).edge is None  # two values: no range to speak of


def test_diverged_and_failed_points_are_never_chosen_nor_compared():
    points = [Point(0, {"training.lr": 1.0}, None, False),
              _point(1, 0.1, 0.0, ok=False), _point(2, 0.01, 0.2)]
    choice = choose(points, ["training.lr"])
    assert choice.chosen == 2 and against_best(points, choice.best) == {2: (0.0, 0.0)}
    assert choose(points[:2], ["training.lr"]).chosen is None


def test_a_grid_over_two_settings_takes_the_best_mean_of_the_tied():
    points = [Point(i, {"training.lr": lr, "training.batch_size": b}, p.rows, True)
              for i, (lr, b, p) in enumerate([(0.01, 16, _point(0, 0, 0.001)),
                                              (0.01, 64, _point(1, 0, 0.0)),
                                              (0.1, 16, _point(2, 0, 0.3)),
                                              (0.1, 64, _point(3, 0, 0.002))])]
    choice = choose(points, ["training.lr", "training.batch_size"])
    assert choice.chosen == choice.best == 1 and len(choice.tied) == 3
    assert choice.why.endswith("chosen: the lowest val loss")


def test_the_standard_error_adds_the_spread_of_the_seeds():
    rows = np.array([[1.0, 2.0, 3.0, 4.0], [2.0, 3.0, 4.0, 5.0]])
    loss, se = loss_and_se(rows)
    per_row = rows.mean(axis=0)
    expected = math.hypot(per_row.std(ddof=1) / 2, np.std([2.5, 3.5], ddof=1) / math.sqrt(2))
    assert loss == 3.0 and se == pytest.approx(expected)
    assert math.isnan(loss_and_se(np.array([[1.0, np.inf]]))[0])
