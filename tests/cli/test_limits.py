"""Absurd sizes and broken layer stacks: one line, an exit code, nothing written (in process)."""

import pytest
from conftest import ROOT, cli

IRIS = ROOT / "sample_data" / "iris.csv"
GB = 10**9


def _config(tmp_path, layers, training="epochs: 2", name="c.yaml"):
    path = tmp_path / name
    path.write_text(f"data: {{target: species}}\nmodel: {{layers: {layers}}}\n"
                    f"training: {{{training}}}\n")
    return path


BILLION = "[{type: dense, units: 1000000000, activation: relu}]"
# iris: 105 training rows, 15 validation rows, 4 inputs, 3 classes, batch 32 and AdamW:
# 8e9 + 3 parameters × 6 vectors × 4 bytes (192 GB) + 41 rows of training buffers (656 GB)
# + 2 predict rows of 1e9 over 105 rows (840 GB) = 1.7 TB
NEEDS = ("the network needs ~1.7 TB (parameters, optimizer state, activations for batch 32) and "
         "this machine has 5.1 GB available")


@pytest.fixture
def machine(monkeypatch):
    """This machine, with 5.1 GB available."""
    monkeypatch.setattr("nnfit.runtime.memory.available_memory", lambda: 5_100_000_000)


def test_train_refuses_a_billion_units_in_one_line_and_writes_nothing(tmp_path, machine,
                                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = _config(tmp_path, BILLION)
    result = cli("train", config, IRIS, "--out", tmp_path / "run")
    assert result.returncode == 2
    assert result.stderr == f"{config}: model.layers[0].units: {NEEDS}\n"
    assert not (tmp_path / "run").exists() and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("command", [("curve",), ("train", "--cv", "3"), ("lr-find",),
                                     ("sweep", "--lr", "0.1")])
def test_every_training_command_refuses_before_writing(tmp_path, machine, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    config = _config(tmp_path, BILLION)
    result = cli(command[0], config, IRIS, *command[1:], "--out", tmp_path / "out")
    assert result.returncode == 2, result.stderr
    last = result.stderr.splitlines()[-1]  # --cv: a fold trains on fewer rows, so ~1.6 TB
    assert last.startswith(f"{config}: model.layers[0].units: the network needs ~1.")
    assert last.endswith("TB (parameters, optimizer state, activations for batch 32) and this "
                         "machine has 5.1 GB available")
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()


def test_the_real_available_memory_refuses_a_trillion_units(tmp_path):
    result = cli("train", _config(tmp_path, "[{type: dense, units: 1000000000000, "
                                            "activation: relu}]"), IRIS,
                 "--out", tmp_path / "run")
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert "model.layers[0].units: the network needs ~" in result.stderr
    assert not (tmp_path / "run").exists()


def test_summary_shows_the_table_of_a_billion_units_and_warns_once(tmp_path, machine):
    config = _config(tmp_path, BILLION)
    result = cli("summary", config, IRIS)
    assert result.returncode == 0, result.stderr
    assert "Dense(4 → 1000000000, relu)" in result.stdout and "8,000,000,003" in result.stdout
    assert result.stderr == (f"warning: model.layers[0].units: {NEEDS}: nnfit train would "
                             f"refuse it\n")


def test_summary_says_what_training_needs_when_it_fits(tmp_path, monkeypatch):
    monkeypatch.setattr("nnfit.runtime.memory.available_memory", lambda: 24 * GB)
    result = cli("summary", _config(tmp_path, "[{type: dense, units: 8, activation: relu}]"), IRIS)
    assert result.returncode == 0 and result.stderr == ""
    assert ("training needs ~19 kB (parameters, optimizer state, activations for batch 32); this "
            "machine has 24 GB available") in result.stdout
    monkeypatch.setattr("nnfit.runtime.memory.available_memory", lambda: None)
    unknown = cli("summary", _config(tmp_path, BILLION), IRIS)  # nothing to compare with
    assert unknown.returncode == 0 and unknown.stderr == ""
    assert ("training needs ~1.7 TB (parameters, optimizer state, activations for batch 32)\n"
            in unknown.stdout)


@pytest.mark.parametrize("layers, message", [
    ("[{type: tokens, dim: 8}, {type: attention, dim: 8, heads: 3}, {type: pool}]",
     "model.layers[1]: attention dim 8 is not divisible by heads 3: each head takes dim / heads "
     "features (try heads dividing 8)"),
    ("[{type: tokens, dim: 4}, {type: attention, dim: 4, heads: 8}, {type: pool}]",
     "model.layers[1]: attention heads 8 is more than dim 4: each head takes dim / heads "
     "features, at least 1 (try heads dividing 4)"),
    ("[{type: dense, units: 8}, {type: attention, dim: 8}]",
     "model.layers[1]: attention takes tokens (tokens, 8), got (8,)"),
    ("[{type: tokens, dim: 8}, {type: attention, dim: 8, heads: 2}]",
     "model.layers: the output layer gets (4, 8) per row (tokens) and gives (4, 3), not one "
     "vector of 3: put a pool layer (type: pool) after the last attention layer"),
])
@pytest.mark.parametrize("command", ["train", "summary"])
def test_a_layer_that_does_not_fit_the_one_before_is_a_config_error(tmp_path, layers, message,
                                                                    command):
    config = _config(tmp_path, layers)
    args = ("--out", tmp_path / "run") if command == "train" else ()
    result = cli(command, config, IRIS, *args)
    assert (result.returncode, result.stderr) == (2, f"{config}: {message}\n")
    assert not (tmp_path / "run").exists()


def test_odd_but_legal_training_settings_get_a_note(tmp_path):
    config = _config(tmp_path, "[{type: dense, units: 4, activation: relu}]",
                     "epochs: 2000000, batch_size: 500, early_stopping: {patience: 5}")
    result = cli("summary", config, IRIS)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert ("training.batch_size 500 is more than the 105 training rows: every step is "
            "full-batch (105 rows)") in lines
    assert ("warning: training.epochs is 2000000: above 1,000,000, the run ends by early stopping "
            "or Ctrl-C (which keeps everything), not by running out of epochs") in lines


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # data/ scales the inf before the check
def test_an_infinite_cell_in_the_csv_is_named_not_trained_into_a_nan(tmp_path):
    rows = IRIS.read_text().splitlines()
    cells = rows[6].split(",")
    cells[1] = "inf"
    rows[6] = ",".join(cells)
    data = tmp_path / "iris_inf.csv"
    data.write_text("\n".join(rows) + "\n")
    result = cli("train", _config(tmp_path, "[{type: dense, units: 4, activation: relu}]"), data,
                 "--out", tmp_path / "run")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"{data}: column 'sepal_width', line 7: inf is not a finite number (1 such cell); "
        f"remove the rows, or empty the cells and set data.missing")
    assert not (tmp_path / "run").exists()


def test_a_memory_error_is_one_line_and_exit_1(tmp_path, monkeypatch):
    def fails(*args, **kwargs):
        raise MemoryError("Unable to allocate 29.8 GiB for an array with shape (8000000003,) and "
                          "data type float32")

    monkeypatch.setattr("nnfit.workflows.summary.summary", fails)
    result = cli("summary", _config(tmp_path, BILLION), IRIS)
    assert (result.returncode, result.stderr) == (1, (
        "nnfit: out of memory: Unable to allocate 29.8 GiB for an array with shape (8000000003,) "
        "and data type float32 (a smaller model, training.batch_size or data set needs less)\n"))


# -- a text column of many distinct values: refused before its one-hot inputs are built ------
def _many_names(tmp_path):
    """2,000 rows; 'code' has 100 distinct values, 20 rows each (every split sees them all)."""
    path = tmp_path / "names.csv"
    path.write_text("x,code,y\n" + "".join(f"{i % 7},c{i % 100:03d},{'ab'[i % 2]}\n"
                                           for i in range(2000)))
    return path


WIDE = ("text column 'code' has 100 distinct values in the training rows, one input each: "
        "2,000 rows × 101 inputs need ~810 kB and this machine has 100 kB available; leave it "
        "out: --set 'data.exclude=[code]'")


@pytest.mark.parametrize("command", [
    ("train",), ("train", "--cv", "3"), ("summary",), ("curve",), ("sweep", "--lr", "0.1"),
    ("lr-find",), ("doctor",), ("init",), ("train", "--starter")])
def test_a_text_column_too_wide_for_memory_is_refused_before_its_inputs_are_built(
        tmp_path, monkeypatch, command):
    data = _many_names(tmp_path)
    config = _config(tmp_path, "[{type: dense, units: 4, activation: relu}]", name="c.yaml")
    config.write_text(config.read_text().replace("species", "y"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("nnfit.runtime.memory.available_memory", lambda: 100_000)

    def built(*args, **kwargs):
        raise AssertionError("the inputs were built before the refusal")

    monkeypatch.setattr("nnfit.data.preprocess.Preprocessor.transform", built)
    if command[0] == "init":
        args = ("init", data, "--target", "y", "-o", tmp_path / "out.yaml")
    elif command[-1] == "--starter":
        args = ("train", data, "--target", "y", "--out", tmp_path / "out")
    else:
        out = () if command[0] == "summary" else ("--out", tmp_path / "out")
        args = (command[0], config, data, *command[1:], *out)
    result = cli(*args)
    assert result.returncode == 2, result.stderr
    expected = f"{data}: {WIDE}"
    if "--cv" in command:  # a fold's rows: the 1,600 outside the test split
        expected = expected.replace("2,000 rows × 101 inputs need ~810", "1,600 rows × 101 "
                                    "inputs need ~650")
    assert result.stderr.splitlines()[-1] == expected
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.yaml").exists()


def test_predict_refuses_inputs_too_wide_for_memory_before_building_them(tmp_path, monkeypatch):
    data = _many_names(tmp_path)
    config = _config(tmp_path, "[{type: dense, units: 4, activation: relu}]", name="c.yaml")
    config.write_text(config.read_text().replace("species", "y"))
    assert cli("train", config, data, "--out", tmp_path / "run", "-q").returncode == 0
    monkeypatch.setattr("nnfit.runtime.memory.available_memory", lambda: 300_000)  # the model fits
    result = cli("predict", tmp_path / "run", data, "-o", tmp_path / "p.csv")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"{data}: text column 'code' has 100 distinct values, one input each: 2,000 rows × 101 "
        f"inputs need ~1.6 MB and this machine has 300 kB available")
    assert not (tmp_path / "p.csv").exists()
