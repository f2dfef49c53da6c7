"""Learning curves over training-set size: subsets, jobs, the verdict and trend, the files."""

import csv
from pathlib import Path

import numpy as np
import pytest

from nnfit.cli.curve import parse_sizes
from nnfit.config.load import load_config
from nnfit.data.split import first_rows, stratified_order
from nnfit.errors import NnfitError
from nnfit.evaluation.diagnosis import MIN_VAL_ROWS
from nnfit.evaluation.size_curve import curve_verdict, more_data
from nnfit.evaluation.verdicts import ADVICE, Kind
from nnfit.runtime.jobs import JobFailed
from nnfit.workflows import curve as curve_module
from nnfit.workflows import fit, prepare, score
from nnfit.workflows.curve import curve, curve_jobs
from nnfit.workflows.prepared import subset

ROOT = Path(__file__).parents[2]
SINE = ROOT / "sample_data" / "noisy_sine.csv"
IRIS = ROOT / "sample_data" / "iris.csv"
UNDERFIT = ROOT / "configs" / "bias_variance" / "underfit.yaml"
OVERFIT = ROOT / "configs" / "bias_variance" / "overfit.yaml"


@pytest.fixture
def iris_config(tmp_path):
    path = tmp_path / "iris.yaml"
    path.write_text("data: {target: species}\n"
                    "model: {layers: [{type: dense, units: 8, activation: relu}]}\n"
                    "training: {lr: 0.02, epochs: 4, batch_size: 16}\n")
    return path


# --- sizes -----------------------------------------------------------------------------------

def test_sizes_are_sorted_fractions_each_once():
    assert parse_sizes("1, 0.1,0.4,0.1") == [0.1, 0.4, 1.0]


@pytest.mark.parametrize("text, message", [
    ("0", "--sizes: 0 is not a fraction in (0, 1]"),
    ("0.5,1.5", "--sizes: 1.5 is not a fraction in (0, 1]"),
    ("-0.2", "--sizes: -0.2 is not a fraction"),
    ("nan", "--sizes: nan is not a fraction"),
    ("0.1,half", "--sizes: 'half' is not a number"),
    ("", "--sizes: empty"),
    (" , ", "--sizes: empty"),
    ("0.1,,1", "--sizes: an empty entry in '0.1,,1'"),
])
def test_bad_sizes_are_one_line_errors(text, message):
    with pytest.raises(NnfitError) as caught:
        parse_sizes(text)
    assert caught.value.message.startswith(message) and "\n" not in caught.value.message


# --- subsets ---------------------------------------------------------------------------------

def test_every_prefix_of_the_order_keeps_the_class_proportions():
    labels = np.array([0] * 60 + [1] * 30 + [2] * 10)
    order = stratified_order(100, np.random.default_rng(0), labels)
    for k in (10, 20, 50):
        counts = np.bincount(labels[order[:k]], minlength=3)
        np.testing.assert_allclose(counts, k * np.array([0.6, 0.3, 0.1]), atol=1)


def test_a_small_subset_keeps_one_row_of_every_class():
    labels = np.array([0] * 97 + [1, 2, 2])
    order = stratified_order(100, np.random.default_rng(3), labels)
    for k in (3, 4, 5):
        chosen = first_rows(order, k, labels)
        assert chosen.size == k and set(labels[chosen]) == {0, 1, 2}
        assert np.all(np.diff(chosen) > 0)  # sorted, each row once


def test_subsets_of_one_seed_are_nested_and_the_whole_part_is_every_row():
    order = stratified_order(50, np.random.default_rng(1))
    small, large = first_rows(order, 10, None), first_rows(order, 30, None)
    assert set(small) <= set(large)
    np.testing.assert_array_equal(first_rows(order, 50, None), np.arange(50))


def test_a_subset_cuts_the_training_split_only(iris_config):
    prepared = prepare(load_config(iris_config), IRIS)
    part = subset(prepared, np.array([0, 5, 7]))
    ds, cut = prepared.data, part.data
    np.testing.assert_array_equal(cut.X["train"], ds.X["train"][[0, 5, 7]])
    np.testing.assert_array_equal(cut.rows["train"], ds.rows["train"][[0, 5, 7]])
    assert cut.X["val"] is ds.X["val"] and cut.X["test"] is ds.X["test"]
    assert ds.X["train"].shape[0] == 105  # unchanged
    with pytest.raises(ValueError, match="distinct positions in \\[0, 105\\)"):
        subset(prepared, np.array([1, 1]))


def test_a_size_too_small_for_every_class_is_a_clear_error(iris_config):
    config = load_config(iris_config)
    prepared = prepare(config, IRIS)
    with pytest.raises(NnfitError, match="--sizes 0.02: keeps 2 of the 105 training rows; each "
                                         "size needs at least 3 \\(one per class\\)"):
        curve_jobs(prepared, config, [0.02, 1.0], repeats=1)
    jobs = curve_jobs(prepared, config, [0.03, 1.0], repeats=2)
    assert [(j.size, j.repeat, j.seed) for j in jobs] == [(1.0, 0, 0), (1.0, 1, 1),
                                                          (0.03, 0, 0), (0.03, 1, 1)]
    for job in jobs:
        assert job.config.training.threads == 1
        assert len(set(subset(prepared, job.index).data.y["train"].tolist())) == 3


def test_the_whole_training_part_at_the_config_seed_is_the_plain_run(tmp_path):
    config = load_config(UNDERFIT)
    prepared = prepare(config, SINE)
    result = curve(UNDERFIT, SINE, sizes=[0.5, 1.0], repeats=1, out=tmp_path / "c")
    record = result.record
    result = fit(prepared)
    scores = score(prepared, result)
    full = record["runs"][-1]
    assert (full["size"], full["seed"], full["best_epoch"]) == (1.0, 0, result.best_epoch)
    assert full["train_loss"] == scores.splits["train"]["loss"]
    assert full["val_loss"] == scores.splits["val"]["loss"]
    assert full["val_metric"] == scores.splits["val"]["r2"]


# --- the verdict -----------------------------------------------------------------------------

def test_a_val_loss_still_falling_beyond_its_noise_says_more_data_will_help():
    rng = np.random.default_rng(0)
    after = 0.5 + 0.1 * rng.standard_normal(100)
    falling = more_data(after + 0.1, after, (50, 100), base_val=1.0)  # a tenth of B_val
    assert falling["result"] and falling["drop"] == pytest.approx(0.1)
    flat = more_data(after + 0.001, after, (50, 100), base_val=1.0)  # within DATA_GAIN
    assert not flat["result"]
    few = more_data(after[:10] + 0.1, after[:10], (50, 100), base_val=1.0)
    assert not few["result"]  # under MIN_VAL_ROWS rows: noise


def test_the_curve_verdict_is_the_judges_with_the_trend_added():
    judged = {"verdict": "good fit", "kind": Kind.GOOD_FIT, "reason": "train loss 0.2",
              "advice": ADVICE[Kind.GOOD_FIT]}
    trend = {"result": True, "drop": 0.1, "drop_vs_baseline": 0.1, "z": 4.0, "from_rows": 50,
             "to_rows": 100}
    v = curve_verdict(judged, trend, 1.0, 100)
    assert v["verdict"] == "good fit" and v["reason"].startswith("at 100 training rows (size 1)")
    assert "more data will help" in v["reason"] and v["advice"].startswith("more training rows")
    v = curve_verdict({**judged, "kind": Kind.OVERFITTING, "verdict": "overfitting",
                       "advice": ADVICE[Kind.OVERFITTING]}, trend, 1.0, 100)
    assert v["advice"].startswith("regularize") and v["advice"].endswith("will also help")
    assert curve_verdict(judged, {**trend, "result": False}, 1.0, 100)["advice"] == \
        ADVICE[Kind.GOOD_FIT]


def test_fewer_than_20_validation_rows_make_the_curve_inconclusive(tmp_path):
    (tmp_path / "c.yaml").write_text(
        "data: {target: y, val_fraction: 0.05}\n"
        "model: {layers: [{type: dense, units: 8, activation: tanh}]}\n"
        "training: {epochs: 20}\n")
    result = curve(tmp_path / "c.yaml", SINE, sizes=[0.5, 1.0], repeats=1, out=tmp_path / "c")
    v = result.record["verdict"]
    assert result.record["val_rows"] < MIN_VAL_ROWS
    assert v["verdict"] == "inconclusive" and "validation rows" in v["reason"]
    assert not v["more_data"]["result"]


# --- the demo --------------------------------------------------------------------------------

def test_the_underfit_demo_is_underfitting(tmp_path):
    """The shipped config as it is: five sizes, seeds 0, 1, 2; the same judge as train, whose
    capacity probe finds that a wider network fits the sine."""
    result = curve(UNDERFIT, SINE, out=tmp_path / "c")
    record = result.record
    assert record["verdict"]["verdict"] == "underfitting", record["verdict"]["reason"]


def test_the_overfit_demo_is_overfitting(tmp_path):
    """200 epochs instead of 2000 and one seed, for speed."""
    result = curve(OVERFIT, SINE, sizes=[0.2, 0.5, 1.0], repeats=1, out=tmp_path / "c",
                   overrides=["training.epochs=200"])
    record = result.record
    assert record["verdict"]["verdict"] == "overfitting", record["verdict"]["reason"]


# --- files, failures and Ctrl-C --------------------------------------------------------------

def test_the_directory_holds_the_csv_plot_json_and_config(tmp_path, iris_config):
    result = curve(iris_config, IRIS, sizes=[0.2, 1.0], repeats=2, out=tmp_path / "c")
    record = result.record
    run_dir = result.run_dir
    assert sorted(p.name for p in run_dir.iterdir()) == ["config.yaml", "curve.csv", "curve.json",
                                                         "curve.png"]
    with open(run_dir / "curve.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["size"], r["repeat"]) for r in rows] == [("0.2", "0"), ("0.2", "1"), ("1.0", "0"),
                                                        ("1.0", "1")]
    assert rows[0]["rows"] == "21" and rows[2]["rows"] == "105"
    assert (run_dir / "curve.png").read_bytes()[:4] == b"\x89PNG"
    assert record["metric"] == "accuracy" and record["summary"][0]["runs"] == 2


def test_a_config_without_a_validation_split_is_refused_before_writing(tmp_path):
    with pytest.raises(NnfitError, match="needs a validation split"):
        curve(UNDERFIT, SINE, out=tmp_path / "c", overrides=["data.val_fraction=0"])
    assert not (tmp_path / "c").exists()


def test_a_failed_job_is_reported_and_the_others_are_kept(tmp_path, iris_config, monkeypatch):
    real = curve_module.curve_job

    def flaky(prepared, job):
        if job.size < 1:
            raise ValueError("boom")
        return real(prepared, job)

    monkeypatch.setattr(curve_module, "curve_job", flaky)
    result = curve(iris_config, IRIS, sizes=[0.5, 1.0], repeats=1, out=tmp_path / "c")
    record = result.record
    assert record["failed"] == [{"size": 0.5, "repeat": 0, "seed": 0, "error": "boom"}]
    assert [r["size"] for r in record["runs"]] == [1.0]
    assert result.exit_code == 1


def test_ctrl_c_writes_what_finished(tmp_path, iris_config):
    seen = []

    def on_run(run, done, total):
        seen.append(run)
        if done == 2:
            raise KeyboardInterrupt

    result = curve(iris_config, IRIS, sizes=[0.3, 0.6, 1.0], repeats=1, out=tmp_path / "c",
                   on_run=on_run)
    record = result.record
    assert record["interrupted"] and result.exit_code == 130
    assert len(record["runs"]) == 2 and not isinstance(seen[0], JobFailed)
    lines = (tmp_path / "c" / "curve.csv").read_text().splitlines()
    assert len(lines) == 3 and (tmp_path / "c" / "curve.png").exists()
