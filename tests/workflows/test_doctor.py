"""``nnfit doctor``'s workflow: the remedies each verdict names, the paired judgement, the same
split for every variant, and the planted remedy found on constructed cases."""

import json
import math

import numpy as np
import pytest

import doctor_cases
from nnfit.config.load import load_config
from nnfit.errors import NnfitError
from nnfit.evaluation.paired import paired_change
from nnfit.evaluation.verdicts import Kind
from nnfit.workflows.arms import (
    Arm,
    FoldBench,
    SplitBench,
    base_config,
    combined,
    reproduce_line,
    reweighted,
)
from nnfit.workflows.doctor import doctor
from nnfit.workflows.remedies import identifier_columns, remedies

TWO_HIDDEN = ("data: {target: y}\n"
              "model: {layers: [{type: dense, units: 16, activation: relu},"
              " {type: activation, activation: tanh}, {type: dense, units: 5, activation: relu},"
              " {type: dense, units: 1}]}\n")


def _config(text: str, *overrides: str):
    return load_config("c.yaml", list(overrides), text=text)


def _names(kind, config, declared=True, columns=()):
    return [v.name for v in remedies(kind, config, output_declared=declared, columns=columns)]


# -- the remedies -------------------------------------------------------------------------


def test_each_kind_names_its_remedies():
    config = _config(TWO_HIDDEN)  # adamw, its default weight decay 0.01
    assert _names(Kind.OVERFITTING, config) == ["weight_decay ×10", "dropout 0.2", "half width"]
    assert _names(Kind.OVERFITTING_ROSE, config)[-1] == "patience ÷4"
    assert _names(Kind.UNDERFITTING_CAPACITY, config) == ["width ×2", "width ×4", "epochs ×2",
                                                          "lr ×3"]
    assert _names(Kind.UNDERFITTING_EPOCHS, config) == _names(Kind.UNDERFITTING_CAPACITY, config)
    assert _names(Kind.UNDERFITTING_FAILED, config) == ["lr ÷3", "lr ÷10"]
    assert _names(Kind.DIVERGED, config) == ["lr ÷10", "lr ÷3"]
    assert _names(Kind.UNDERFITTING_COLLAPSE, config) == ["balanced classes"]
    for kind in (Kind.GOOD_FIT, Kind.GOOD_FIT_DATA_LIMITED, Kind.INCONCLUSIVE, "a_new_kind"):
        assert _names(kind, config) == ["weight_decay ×10", "dropout 0.2", "width ×2",
                                        "epochs ×2"]


def test_the_overrides_are_the_concrete_changes_and_load():
    config = _config(TWO_HIDDEN, "training.lr=0.003", "training.epochs=40")
    found = {v.name: v.overrides for v in remedies(Kind.OVERFITTING_ROSE, config,
                                                   output_declared=True)}
    assert found["weight_decay ×10"] == ("training.weight_decay=0.1",)
    assert found["half width"] == ("model.layers[0].units=8", "model.layers[2].units=2")
    assert found["patience ÷4"] == ("training.early_stopping.patience=12",)  # 50 // 4
    dropout = _config(TWO_HIDDEN, *found["dropout 0.2"]).model.layers
    assert [layer.type for layer in dropout] == ["dense", "activation", "dropout", "dense",
                                                 "dropout", "dense"]  # none after the output
    faster = {v.name: v.overrides for v in remedies(Kind.DIVERGED, config, output_declared=True)}
    assert faster["lr ÷10"] == ("training.lr=0.0003",)
    assert _config(TWO_HIDDEN, *faster["lr ÷10"]).training.lr == pytest.approx(3e-4)


def test_the_penalty_follows_the_optimizer_and_starts_from_zero():
    def penalty(*overrides):
        return remedies(Kind.OVERFITTING, _config(TWO_HIDDEN, *overrides),
                        output_declared=True)[0].overrides
    assert penalty("training.optimizer=adam") == ("training.l2=0.001",)
    assert penalty("training.optimizer=sgd", "training.l2=0.02") == ("training.l2=0.2",)
    assert penalty("training.weight_decay=0") == ("training.weight_decay=0.001",)
    assert penalty("training.weight_decay=0", "training.l2=0.01") == ("training.l2=0.1",)


def test_a_model_without_hidden_dense_layers_gets_one_to_widen():
    config = _config("data: {target: y}\nmodel: {layers: []}\n")
    variants = remedies(Kind.UNDERFITTING_CAPACITY, config, output_declared=False)
    assert [v.name for v in variants][:2] == ["hidden 32", "hidden 64→64"]
    layers = _config("data: {target: y}\n", *variants[1].overrides).model.layers
    assert [(layer.units, layer.activation) for layer in layers] == [(64, "relu"), (64, "relu")]
    assert _names(Kind.OVERFITTING, config, declared=False) == ["weight_decay ×10"]


def test_existing_dropout_is_raised_and_halving_keeps_one_unit():
    config = _config("data: {target: y}\nmodel: {layers: [{type: dense, units: 1, activation: "
                     "relu}, {type: dropout, rate: 0.1}]}\n")
    found = {v.name: v.overrides for v in remedies(Kind.OVERFITTING, config,
                                                   output_declared=False)}
    assert found["dropout 0.2"] == ("model.layers[1].rate=0.2",)
    assert found["half width"] == ("model.layers[0].units=1",)


def test_identifier_columns_are_excluded_or_taken_out_of_the_features():
    config = _config("data: {target: y, exclude: [note]}\n")
    variant, = remedies(Kind.OVERFITTING_IDENTIFIER, config, output_declared=False,
                        columns=["rownames", "y"])
    assert variant.name == "exclude rownames"
    assert _config("data: {target: y, exclude: [note]}\n",
                   *variant.overrides).data.exclude == ["note", "rownames"]
    listed = _config("data: {target: y, features: [id, a]}\n")
    variant, = remedies(Kind.OVERFITTING_IDENTIFIER, listed, output_declared=False,
                        columns=["id"])
    assert _config("data: {target: y}\n", *variant.overrides).data.features == ["a"]
    assert remedies(Kind.OVERFITTING_IDENTIFIER, config, output_declared=False) == []


def test_identifier_columns_come_from_the_verdict_or_the_audit():
    class Audit:
        identifier_columns = ["id"]
        high_cardinality_columns: list = []
        leaks: list = []

    class Prepared:
        audit = Audit()

    assert identifier_columns({"columns": ["rownames"]}, Prepared()) == ["rownames"]
    assert identifier_columns({}, Prepared()) == ["id"]


def test_overrides_a_variant_replaces_are_dropped_and_the_line_is_quoted():
    assert combined(["training.epochs=40", "model.layers[0].units=8", "training.lr=0.1"],
                    ["training.epochs=80", "model.layers=[]"]) == [
        "training.lr=0.1", "training.epochs=80", "model.layers=[]"]
    line = reproduce_line("my config.yaml", "d.csv", ['data.exclude=["id"]'])
    assert line == "nnfit train 'my config.yaml' d.csv --set 'data.exclude=[\"id\"]'"


# -- the judgement ------------------------------------------------------------------------


def test_a_paired_change_is_judged_against_its_own_noise():
    rng = np.random.default_rng(0)
    base = rng.exponential(size=(2, 200))  # row losses vary a lot from row to row
    better = paired_change(base, base - 0.05 + rng.normal(scale=0.01, size=base.shape))
    assert better.helped and not better.worse and better.z < -10
    noisy = paired_change(base, base + rng.normal(scale=1.0, size=base.shape))
    assert not noisy.helped and not noisy.worse and abs(noisy.z) < 2
    assert math.isclose(better.change, -0.05, abs_tol=0.005) and better.seeds == 2


def test_a_diverged_side_gives_no_numbers_but_a_plain_verdict():
    base = np.ones((1, 30))
    blown = np.full((1, 30), np.inf)
    assert paired_change(blown, base).helped and math.isnan(paired_change(blown, base).z)
    assert paired_change(base, blown).worse and not paired_change(base, blown).helped
    with pytest.raises(ValueError, match="the same rows and seeds"):
        paired_change(base, np.ones((1, 29)))


def test_reweighting_moves_the_weighted_optimum_back():
    p = np.array([[0.9, 0.1]])
    w = [0.5, 4.5]  # weighted optimum: p_w ∝ w·p = (0.45, 0.45)
    weighted = np.log(w * p)
    back = reweighted(weighted, w, None)
    assert np.allclose(np.exp(back) / np.exp(back).sum(), p)
    logit = np.log(w[1] * 0.1 / (w[0] * 0.9))  # one sigmoid output
    assert np.allclose(reweighted(np.array([[logit]]), w, None), np.log(0.1 / 0.9))
    assert reweighted(weighted, w, w) is weighted


# -- the same rows --------------------------------------------------------------------------


def test_a_variant_that_changes_the_data_is_prepared_on_the_base_split(tmp_path):
    rng = np.random.default_rng(1)
    note = rng.normal(size=80).round(3).astype(object)
    note[::7] = ""  # holes only in the column the variant leaves out
    columns = {"id": np.arange(80), "note": note, "x": rng.normal(size=80).round(3),
               "y": rng.normal(size=80).round(3)}
    config_path, csv = doctor_cases.case(tmp_path, "holes", "data: {target: y, missing: drop}\n",
                                         columns)
    config = base_config(config_path, [])
    bench = SplitBench(config, csv, str(config_path), need_val=True)
    variant = base_config(config_path, ['data.exclude=["note"]'],
                          split_seed=config.data.split_seed)
    assert bench.add(Arm("exclude note", (), variant)).error == ""
    other = bench.prepared[next(k for k in bench.prepared if "note" in k)]
    assert other.n_rows > bench.base.n_rows  # the holes no longer drop rows
    for name, rows in bench.base.data.rows.items():
        assert np.array_equal(rows, other.data.rows[name])
    folds = FoldBench(config, csv, str(config_path), 3)
    folds.add(Arm("exclude note", (), variant))
    base_rows, moved = folds.fold_rows.values()
    mapped = folds.split.datasets[next(k for k in folds.split.datasets if "note" in k)]
    for mine, theirs in zip(base_rows, moved, strict=True):
        for name in ("train", "val"):
            assert np.array_equal(folds.split.dataset.frame.index[mine[name]],
                                  mapped.frame.index[theirs[name]])


# -- the planted remedies ------------------------------------------------------------------


def _arms(record):
    return {arm["name"]: arm for arm in record["variants"]}


def test_overfitting_is_cured_by_regularizing(tmp_path):
    config, csv = doctor_cases.overfit(tmp_path)
    record = doctor(config, csv, repeats=1, out=tmp_path / "out").record
    assert record["diagnosis"]["verdict"] == "overfitting"
    assert list(_arms(record)) == ["l2 ×10", "dropout 0.2", "half width"]
    assert record["best"] == "l2 ×10" and _arms(record)["l2 ×10"]["z"] < -2
    assert record["reproduce"].endswith("--set training.l2=0.1")
    best = json.loads((tmp_path / "out" / "best" / "metrics.json").read_text())
    assert best["splits"]["val"]["loss"] < record["base"]["val_loss"]


def test_underfitting_is_cured_by_width(tmp_path):
    config, csv = doctor_cases.underfit(tmp_path)
    record = doctor(config, csv, repeats=1, out=tmp_path / "out").record
    assert "width ×2" in record["helped"] and record["best"].startswith("width")
    wider = doctor(config, csv, repeats=1, out=tmp_path / "wider",
                   kind=Kind.UNDERFITTING_CAPACITY).record
    assert {"width ×2", "width ×4"} <= set(wider["helped"])


def test_a_collapsed_classifier_is_cured_by_class_weights(tmp_path):
    config, csv = doctor_cases.collapse(tmp_path)
    record = doctor(config, csv, repeats=1, out=tmp_path / "out").record
    base = json.loads((tmp_path / "out" / "base" / "metrics.json").read_text())
    assert base["splits"]["val"]["balanced_accuracy"] == 0.5  # the rare class never predicted
    assert record["diagnosis"]["kind"] == "underfitting_collapse"
    assert list(_arms(record)) == ["balanced classes"] and record["best"] == "balanced classes"
    best = json.loads((tmp_path / "out" / "best" / "metrics.json").read_text())
    assert best["class_weight"] and best["splits"]["val"]["balanced_accuracy"] > 0.8


def test_an_identifier_column_is_cured_by_leaving_it_out(tmp_path):
    config, csv = doctor_cases.identifier(tmp_path)
    record = doctor(config, csv, repeats=2, out=tmp_path / "out",
                    kind=Kind.OVERFITTING_IDENTIFIER, columns=["rownames"]).record
    assert record["best"] == "exclude rownames"
    assert _arms(record)["exclude rownames"]["overrides"] == ['data.exclude=["rownames"]']
    assert "rownames" not in (tmp_path / "out" / "best" / "model.json").read_text()


def test_with_folds_every_non_test_row_is_judged_once(tmp_path):
    config, csv = doctor_cases.identifier(tmp_path)
    result = doctor(config, csv, repeats=1, cv=3, out=tmp_path / "out",
                    kind=Kind.OVERFITTING_IDENTIFIER, columns=["rownames"])
    record = result.record
    assert record["val_rows"] == 135 and _arms(record)["exclude rownames"]["rows"] == 135
    assert record["diagnosis"]["pooled_folds"] == 3
    assert record["best"] == "exclude rownames" and (tmp_path / "out" / "best").is_dir()


# -- exits -----------------------------------------------------------------------------------


def test_a_variant_that_cannot_run_is_failed_and_the_rest_go_on(tmp_path):
    config, csv = doctor_cases.small(tmp_path)
    result = doctor(config, csv, repeats=1, out=tmp_path / "out",
                    kind=Kind.OVERFITTING_IDENTIFIER, columns=["x0", "x1"])
    variant, = result.record["variants"]
    assert variant["status"] == "failed" and "no feature columns left" in variant["error"]
    assert result.exit_code == 1 and result.record["best"] is None


def test_ctrl_c_keeps_what_finished(tmp_path):
    config, csv = doctor_cases.small(tmp_path)

    class View:
        def diagnosed(self, plan):
            pass

        def finished(self, event, done, total):
            if done == 3:
                raise KeyboardInterrupt

    result = doctor(config, csv, repeats=2, out=tmp_path / "out", view=View())
    record = json.loads((tmp_path / "out" / "doctor.json").read_text())
    assert result.exit_code == 130 and record["interrupted"]
    assert record["variants"][0]["seeds"] == 1 and (tmp_path / "out" / "base").is_dir()


def test_bad_counts_are_one_line_before_anything_is_written(tmp_path):
    config, csv = doctor_cases.small(tmp_path)
    for kwargs, message in (({"repeats": 0}, "--repeats must be a positive integer"),
                            ({"cv": 1}, "--cv must be a number of folds of at least 2"),
                            ({"n_jobs": 0}, "--jobs must be a positive integer")):
        with pytest.raises(NnfitError, match=message):
            doctor(config, csv, out=tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_a_leak_that_did_not_prove_itself_says_why_validation_cannot_show_it():
    from nnfit.report.doctor_view import conclusion

    arm = {"name": "exclude flag", "status": "ok", "helped": False}
    record = {"variants": [arm], "best": None, "interrupted": False, "helped": [],
              "kind_tried": "overfitting_leak", "diagnosis": {"verdict": "overfitting"}}
    assert conclusion(record, "out") == [
        "nothing helped beyond the noise (2 standard errors of the paired difference): the "
        "validation rows carry the leaking column too, so they cannot show what leaving it out "
        "is worth; keep it only if it is known when you predict; no best run saved"]
    assert remedies(Kind.OVERFITTING_LEAK, _config("data: {target: y}\n"), output_declared=False,
                    columns=["flag"])[0].overrides == ('data.exclude=["flag"]',)
