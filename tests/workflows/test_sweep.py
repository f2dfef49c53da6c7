"""The sweep's plan: rates, grids, and what it refuses."""

import pytest

from nnfit.cli.sweep import parse_lr_range
from nnfit.errors import NnfitError
from nnfit.workflows.sweep_plan import grid, split_values


def test_a_log_spaced_range_keeps_both_ends():
    assert parse_lr_range("1e-4:1e-1:4") == [1e-4, 1e-3, 1e-2, 1e-1]
    assert parse_lr_range("0.001:0.1:3") == [0.001, 0.01, 0.1]


@pytest.mark.parametrize("text", ["1e-4:1e-1", "a:b:3", "1e-1:1e-4:3", "0:1:3", "1e-4:1e-1:1"])
def test_a_bad_range_is_one_line(text):
    with pytest.raises(NnfitError, match=f"--lr-range {text}: "):
        parse_lr_range(text)


def test_commas_make_grid_values_but_yaml_lists_stay_whole():
    assert split_values("16,64") == ["16", "64"]
    assert split_values("[a, b]") == ["[a, b]"] and split_values("0.01") == ["0.01"]


def test_the_grid_is_rates_times_the_other_swept_keys():
    fixed, points = grid([0.1, 0.01], ["training.epochs=5", "training.batch_size=16,64"],
                         {"training.momentum": [0.9]})
    assert fixed == ["training.epochs=5"]
    assert points[0] == ["training.lr=0.1", "training.momentum=0.9", "training.batch_size=16"]
    assert len(points) == 4


def test_a_sweep_section_alone_gives_the_rates():
    assert grid([], [], {"training.lr": [0.1, 0.2]})[1] == [["training.lr=0.1"],
                                                              ["training.lr=0.2"]]


def test_nothing_to_sweep_and_keys_that_move_the_split_are_refused():
    with pytest.raises(NnfitError, match="nothing to sweep: give rates, e.g. --lr 0.001"):
        grid([], ["training.epochs=5"], None)
    with pytest.raises(NnfitError, match=r"^sweep over data.val_fraction: it changes which rows "
                                         r"train and validate, so the points could not be "
                                         r"judged on the same rows; run a sweep per value "
                                         r"instead$"):
        grid([0.1], ["data.val_fraction=0.1,0.2"], None)
    with pytest.raises(NnfitError, match=r"^sweep over data.scale_target: it changes the target "
                                         r"the val loss is measured on, so"):
        grid([0.1], ["data.scale_target=true,false"], None)
    fixed, points = grid([0.1], ["data.scale=standard,quantile"], None)  # any other data key
    assert points == [["training.lr=0.1", "data.scale=standard"],
                      ["training.lr=0.1", "data.scale=quantile"]]
