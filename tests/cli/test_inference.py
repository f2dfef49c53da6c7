"""`nnfit eval`, `predict` and `show`: round trips against training, and every bad input."""

import io
import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, cli, metrics, nnfit
from typer.testing import CliRunner

from nnfit.cli.app import app
from nnfit.config.load import load_config
from nnfit.nn.losses import make_loss
from nnfit.store.model_file import load_model
from nnfit.workflows import prepare

runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "120"})
IRIS = ROOT / "sample_data" / "iris.csv"
SINE = ROOT / "sample_data" / "noisy_sine.csv"


def _train(config, data, out):
    result = runner.invoke(app, ["train", str(config), str(data), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out


def _rows_csv(data, rows, path, drop=()):
    """The CSV's header and the given data rows, byte for byte (minus dropped columns)."""
    lines = data.read_text().splitlines()
    frame = pd.read_csv(io.StringIO("\n".join([lines[0]] + [lines[r + 1] for r in rows])),
                        dtype=str, keep_default_na=False)
    frame.drop(columns=list(drop)).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("config,data", [(ROOT / "configs" / "iris.yaml", IRIS),
                                         (ROOT / "configs" / "bias_variance" / "good.yaml", SINE)])
def test_eval_on_the_test_split_reproduces_metrics_json(tmp_path, config, data):
    run = _train(config, data, tmp_path / "run")
    test_rows = prepare(load_config(config), data).data.rows["test"]
    test_csv = _rows_csv(data, test_rows, tmp_path / "test.csv")
    result = runner.invoke(app, ["eval", str(run), str(test_csv), "--json"])
    assert result.exit_code == 0, result.output
    scored = json.loads(result.stdout)
    expected = metrics(run)["splits"]["test"]
    assert scored["n_rows"] == expected.pop("rows") == len(test_rows)
    for name, value in expected.items():
        assert scored[name] == value, name  # bit-identical, not approximately equal


def test_predict_matches_the_in_memory_network(tmp_path):
    run = _train(ROOT / "configs" / "iris.yaml", IRIS, tmp_path / "run")
    source = pd.read_csv(IRIS)
    source.insert(0, "flower", [f"f{i}" for i in range(len(source))])
    no_target = tmp_path / "unlabelled.csv"
    source.drop(columns=["species"]).to_csv(no_target, index=False)
    out = tmp_path / "predictions.csv"
    result = runner.invoke(app, ["predict", str(run), str(no_target), "-o", str(out), "--id", "flower"])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    assert list(written.columns) == ["flower", "predicted_species", "probability_setosa",
                                     "probability_versicolor", "probability_virginica"]
    assert written["flower"].tolist() == source["flower"].tolist()

    net, prep, meta = load_model(run)
    X, _ = prep.transform(source, "iris")
    proba = make_loss(meta["loss"]).output(net.predict(X))
    np.testing.assert_array_equal(written.iloc[:, 2:].to_numpy().astype(np.float32), proba)
    assert written["predicted_species"].tolist() == [prep.classes[i] for i in proba.argmax(axis=1)]
    assert (written["predicted_species"] == source["species"]).mean() > 0.9


def test_predict_to_stdout_for_regression_and_binary_classes(tmp_path):
    run = _train(ROOT / "configs" / "bias_variance" / "good.yaml", SINE, tmp_path / "run")
    result = runner.invoke(app, ["predict", str(run), str(SINE)])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(io.StringIO(result.stdout))
    assert list(written.columns) == ["predicted_y"] and len(written) == 300
    assert np.corrcoef(written["predicted_y"], pd.read_csv(SINE)["y"])[0, 1] > 0.7

    cancer = ROOT / "sample_data" / "breast_cancer.csv"
    run2 = _train(ROOT / "configs" / "breast_cancer.yaml", cancer, tmp_path / "run2")
    written = pd.read_csv(io.StringIO(runner.invoke(app, ["predict", str(run2), str(cancer)]).stdout))
    assert list(written.columns) == ["predicted_diagnosis", "probability_benign",
                                     "probability_malignant"]
    np.testing.assert_allclose(written.iloc[:, 1:].sum(axis=1), 1.0, rtol=1e-6)


def test_show_describes_the_run(tmp_path):
    run = _train(ROOT / "configs" / "iris.yaml", IRIS, tmp_path / "run")
    result = runner.invoke(app, ["show", str(run)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "classification of species" in out and "setosa, versicolor, virginica" in out
    assert "sepal_length, sepal_width, petal_length, petal_width" in out
    assert "Dense(4 → 16, relu)" in out and "403" in out
    assert "test" in out and metrics(run)["diagnosis"]["verdict"] in out


def test_eval_shows_per_class_scores_and_confusion_matrix(tmp_path):
    run = _train(ROOT / "configs" / "iris.yaml", IRIS, tmp_path / "run")
    result = runner.invoke(app, ["eval", str(run), str(IRIS)])
    assert result.exit_code == 0, result.output
    assert "per class" in result.stdout and "confusion matrix" in result.stdout
    scored = json.loads(runner.invoke(app, ["eval", str(run), str(IRIS), "--json"]).stdout)
    assert np.sum(scored["confusion_matrix"]) == 150
    assert [row["support"] for row in scored["per_class"].values()] == [50, 50, 50]


def test_many_classes_show_the_most_confused_pairs_and_write_the_full_matrix(tmp_path):
    rng = np.random.default_rng(0)
    k = 15
    label = rng.integers(0, k, 450)
    frame = pd.DataFrame({"a": label + rng.normal(0, 0.8, 450), "b": rng.normal(size=450),
                          "y": [f"c{i:02d}" for i in label]})
    data = tmp_path / "many.csv"
    frame.to_csv(data, index=False)
    config = tmp_path / "many.yaml"
    config.write_text("data: {target: y}\ntraining: {epochs: 5, lr: 0.05}\n")
    run = _train(config, data, tmp_path / "run")
    result = runner.invoke(app, ["eval", str(run), str(data), "--confusion",
                                 str(tmp_path / "confusion.csv")])
    assert result.exit_code == 0, result.output
    assert "true \\ predicted" not in result.stdout  # no 15-column grid
    assert "most confused pairs (15 classes, top 10)" in result.stdout
    assert f"{tmp_path / 'confusion.csv'}" in result.stdout
    written = pd.read_csv(tmp_path / "confusion.csv", index_col=0)
    assert written.shape == (k, k) and written.to_numpy().sum() == 450
    bare = runner.invoke(app, ["eval", str(run), str(data)])
    assert "write the full confusion matrix with --confusion FILE" in bare.stderr


def test_eval_and_predict_agree_on_a_binary_tie(tmp_path):
    """A model whose output is exactly p = 0.5 for every row: both say the first class."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=60), "y": np.repeat(["no", "yes"], 30)})
    data = tmp_path / "binary.csv"
    frame.to_csv(data, index=False)
    config = tmp_path / "binary.yaml"
    config.write_text("data: {target: y}\ntraining: {epochs: 2}\n")
    run = _train(config, data, tmp_path / "run")
    network, _, _ = load_model(run)
    network.params[...] = 0  # every logit is 0: P(yes) = 0.5
    import io as _io

    buffer = _io.BytesIO()
    np.savez(buffer, params=network.params)
    (run / "model.npz").write_bytes(buffer.getvalue())
    scored = json.loads(runner.invoke(app, ["eval", str(run), str(data), "--json"]).stdout)
    assert scored["confusion_matrix"] == [[30, 0], [30, 0]]
    predicted = pd.read_csv(_io.StringIO(runner.invoke(app, ["predict", str(run), str(data)]).stdout))
    assert set(predicted["predicted_y"]) == {"no"} and (predicted["probability_yes"] == 0.5).all()


# -- bad input, through the installed command ---------------------------------------------
@pytest.fixture(scope="module")
def colour_run(tmp_path_factory):
    """A small trained run with a text feature, for the bad-input cases."""
    root = tmp_path_factory.mktemp("colour")
    data = root / "train.csv"
    rng = np.random.default_rng(0)
    colours = rng.choice(["red", "green", "blue"], 120)
    x = rng.uniform(0, 1, 120)
    pd.DataFrame({"x": x, "colour": colours, "y": x + (colours == "red")}).to_csv(data, index=False)
    config = root / "c.yaml"
    config.write_text("data: {target: y}\nmodel: {layers: [{type: dense, units: 8, "
                      "activation: tanh}]}\ntraining: {epochs: 20, lr: 0.01}\n")
    run = root / "run"
    assert cli("train", config, data, "--out", run, "-q").returncode == 0
    return run


def _one_line(result, code=2):
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def _csv(tmp_path, text, name="in.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_bad_inputs_exit_non_zero_with_one_line_and_write_nothing(tmp_path, colour_run):
    import shutil

    good = _csv(tmp_path, "x,colour,y\n0.5,red,1.5\n0.2,blue,0.2\n")
    broken = tmp_path / "broken"
    shutil.copytree(colour_run, broken)
    out = tmp_path / "pred.csv"

    def run_case(name, run, data, expected):
        for command in (("eval", run, data), ("predict", run, data, "-o", out)):
            line = _one_line(cli(*command))
            assert expected in line, (name, command[0], line)
            assert not out.exists(), name

    run_case("missing run dir", tmp_path / "nope", good, "nope: no such run directory")
    (broken / "model.json").rename(broken / "model.json.bak")
    run_case("missing model files", broken, good, "model.json is missing")
    (broken / "model.json.bak").rename(broken / "model.json")

    data = (colour_run / "model.npz").read_bytes()
    (broken / "model.npz").write_bytes(data[: len(data) // 2])
    run_case("truncated model.npz", broken, good, "model.npz: unreadable or corrupted")
    (broken / "model.npz").write_bytes(data)

    meta = json.loads((colour_run / "model.json").read_text())
    (broken / "model.json").write_text(json.dumps({**meta, "format_version": 7}))
    run_case("newer format version", broken, good, "model format version 7 is newer than this "
             "nnfit reads: written by nnfit")
    (broken / "model.json").write_text(json.dumps(meta))

    run_case("missing feature column", colour_run, _csv(tmp_path, "x,y\n0.5,1\n", "nf.csv"),
             "nf.csv: feature column not found: colour")
    run_case("text where a number belongs", colour_run,
             _csv(tmp_path, "x,colour,y\n0.5,red,1\nabc,blue,2\n", "txt.csv"),
             "txt.csv: column 'x', line 3: 'abc' is not a number")
    run_case("empty csv", colour_run, _csv(tmp_path, "", "empty.csv"), "empty.csv: the CSV is empty")
    line = _one_line(cli("eval", colour_run, _csv(tmp_path, "x,colour\n0.5,red\n", "nt.csv")))
    assert "nt.csv: target column not found: y" in line


def test_pickled_model_is_refused_by_the_cli(tmp_path, colour_run):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(colour_run, run)
    buffer = io.BytesIO()
    np.savez(buffer, params=np.array([{"payload": "x"}], dtype=object))
    (run / "model.npz").write_bytes(buffer.getvalue())
    line = _one_line(nnfit("predict", run, _csv(tmp_path, "x,colour\n0.5,red\n")))
    assert line.endswith("model.npz: refused: params is an object array, which only pickle can "
                         "load (nnfit never unpickles)")


def test_unseen_category_is_all_zero_with_a_warning(tmp_path, colour_run):
    data = _csv(tmp_path, "x,colour\n0.5,red\n0.5,purple\n0.5,blue\n")
    result = cli("predict", colour_run, data)
    assert result.returncode == 0, result.stderr
    assert "1 value(s) of 'colour' never seen in training (encoded as all-zero)" in result.stderr
    assert len(pd.read_csv(io.StringIO(result.stdout))) == 3


def test_predict_refuses_to_overwrite_its_input(tmp_path, colour_run):
    data = _csv(tmp_path, "x,colour\n0.5,red\n")
    line = _one_line(cli("predict", colour_run, data, "-o", data))
    assert "is the input CSV" in line
    assert data.read_text() == "x,colour\n0.5,red\n"


# -- files a run directory may hold that nnfit did not write -------------------------------
def _show_metrics(run, tmp_path, write):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    write(copy / "metrics.json")
    result = cli("show", copy)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "features (2 columns, 4 inputs): x, colour" in result.stdout  # the model still shows
    return result.stdout


@pytest.mark.parametrize("content,says", [
    ("[]", "metrics.json: unreadable (must be a mapping of keys (got []))"),
    ('{"task": "regression"}', "metrics.json: unreadable (loss: required key is missing)"),
    ('{"a": ' * 50_000, "metrics.json: unreadable (not valid JSON (nested too deeply to read))"),
    ('{"a": NaN}', "metrics.json: unreadable (not valid JSON (NaN is not a JSON number))"),
    (lambda m: m["splits"]["test"].update(loss="low"),
     "metrics.json: unreadable (splits.test.loss: must be a number or null (got 'low'))"),
    (lambda m: m["splits"]["val"].pop("r2"),
     "metrics.json: unreadable (splits.val: has ['loss', 'mae', 'mse', 'rmse', 'rows'], not the "
     "first split's ['loss', 'mae', 'mse', 'r2', 'rmse', 'rows'])"),
    (lambda m: m.pop("diagnosis"), "metrics.json: unreadable (diagnosis: required key is missing)"),
    (lambda m: m["dead_relu"].append({"layer": 0}),
     "metrics.json: unreadable (dead_relu[0].description: required key is missing)"),
])
def test_show_prints_the_model_and_one_line_for_a_metrics_json_it_cannot_show(tmp_path, colour_run,
                                                                              content, says):
    def write(path):
        if callable(content):
            data = json.loads(path.read_text())
            content(data)
            path.write_text(json.dumps(data))
        else:
            path.write_text(content)

    out = _show_metrics(colour_run, tmp_path, write)
    assert out.rstrip().splitlines()[-1] == says


def test_show_refuses_a_symlinked_metrics_json_and_prints_text_from_it_literally(tmp_path,
                                                                                 colour_run):
    outside = tmp_path / "elsewhere.json"
    outside.write_text((colour_run / "metrics.json").read_text())
    out = _show_metrics(colour_run, tmp_path, lambda path: (path.unlink(), path.symlink_to(outside)))
    assert out.rstrip().splitlines()[-1].startswith(
        "metrics.json: unreadable (is a symbolic link; nnfit reads a run's files only")

    def markup(path):  # square brackets are rich markup: a closing tag alone used to crash
        data = json.loads(path.read_text())
        data["diagnosis"]["verdict"] = "[/]"
        data["splits"]["[/x]"] = data["splits"].pop("test")
        path.write_text(json.dumps(data))

    out = _show_metrics(colour_run, tmp_path / "m", markup)
    assert "[/]: " in out and "│ [/x]" in out


def test_predict_never_writes_inside_the_run_directory_or_over_its_input(tmp_path, colour_run):
    import os
    import shutil

    run = tmp_path / "run"
    shutil.copytree(colour_run, run)
    data = _csv(tmp_path, "x,colour\n0.5,red\n")
    (tmp_path / "into-run").symlink_to(run)
    (tmp_path / "to-input.csv").symlink_to(data)
    os.link(data, tmp_path / "hard.csv")
    (tmp_path / "sub").mkdir()
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    cases = [
        (run / "predictions.csv", f"is inside the run directory {run}"),
        (run / "model.json", f"is inside the run directory {run}"),
        (tmp_path / "sub" / ".." / "run" / "new.csv", "is inside the run directory"),
        (tmp_path / "into-run" / "new.csv", "is inside the run directory"),
        (tmp_path / "sub" / ".." / "in.csv", "is the input CSV"),
        (tmp_path / "to-input.csv", "is the input CSV"),
        (tmp_path / "hard.csv", "is the input CSV"),
        (colour_run / "anything.csv", "would write into the run directory"),  # another run
    ]
    for out, says in cases:
        line = _one_line(cli("predict", run, data, "-o", out))
        assert line.startswith(f"-o {out}: ") and says in line, line
    line = _one_line(cli("eval", run, _csv(tmp_path, "x,colour,y\n0.5,red,1\n", "l.csv"),
                         "--confusion", run / "confusion.csv"))
    assert line.startswith(f"--confusion {run / 'confusion.csv'}: is inside the run directory")
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before
    assert data.read_text() == "x,colour\n0.5,red\n" and not (colour_run / "anything.csv").exists()
