"""`nnfit predict` streams its CSV: a chunk at a time, written as it goes, bit-identical to a
whole read with the same checks and messages; and `--id` never hides a prediction column."""

import pandas as pd
import pytest
from conftest import ROOT, cli

import nnfit.workflows.inference as inference
from nnfit.store.csv_file import frame_csv
from nnfit.workflows.inference import _outputs, load_inputs

DATA = ROOT / "sample_data"
CONFIGS = ROOT / "configs"
SHIPPED = [  # every shipped config with its CSV, and every other CSV with its starter config
    *[(CONFIGS / f"{name}.yaml", name, None) for name in ("iris", "breast_cancer", "diabetes",
                                                             "wine")],
    (CONFIGS / "attention" / "diabetes.yaml", "diabetes", None),
    (CONFIGS / "attention" / "wine.yaml", "wine", None),
    *[(CONFIGS / "bias_variance" / f"{name}.yaml", "noisy_sine", None)
      for name in ("good", "overfit", "underfit")],
    *[(None, name, target) for name, target in [
        ("auto_mpg", "mpg"), ("chile", "vote"), ("concrete", "compressive_strength"),
        ("cps1985", "wage"), ("digits", "digit"), ("hmda", "deny"), ("titanic", "survived")]],
]


@pytest.fixture
def one_thread(monkeypatch):
    """One BLAS thread for every forward pass: the bits of a product depend on the thread
    count, which otherwise follows the machine's load."""
    monkeypatch.setattr(inference, "choose_threads", lambda requested, macs: (1, "test"))


def _whole_read(run, csv, id_column=None):
    """What predict wrote before it streamed: the whole CSV read, transformed and predicted
    at once (the path eval still takes), as CSV text, and its warnings."""
    inputs = load_inputs(run, csv, False, (id_column,) if id_column else ())
    columns = {id_column: inputs.frame[id_column].to_numpy()} if id_column else {}
    columns.update(inputs.task.prediction_columns(_outputs(inputs.network, inputs.X)))
    return frame_csv(pd.DataFrame(columns)), "".join(f"{w}\n" for w in inputs.warnings)


def _streamed(monkeypatch, rows, batch, *args):
    monkeypatch.setattr(inference, "chunk_rows", lambda n_inputs: rows)
    monkeypatch.setattr(inference, "PREDICT_CHUNK", batch)
    return cli("predict", *args)


@pytest.mark.parametrize("config,name,target", SHIPPED, ids=lambda v: getattr(v, "stem", v))
def test_streamed_predictions_are_bit_identical_on_every_shipped_dataset(
        tmp_path, monkeypatch, one_thread, config, name, target):
    csv = DATA / f"{name}.csv"
    train = [config, csv] if config else [csv, "--target", target]
    run = tmp_path / "run"
    assert cli("train", *train, "--out", run, "-q", "--epochs", "1", "--no-probe"
               ).returncode == 0
    first = pd.read_csv(csv, nrows=0).columns[0]
    for id_args in ([], ["--id", first]):
        for rows, batch in [(65_536, 4096), (13, 4096), (13, 64), (250, 100)]:
            monkeypatch.setattr(inference, "PREDICT_CHUNK", batch)
            expected = _whole_read(run, csv, *id_args[1:])
            result = _streamed(monkeypatch, rows, batch, run, csv, *id_args)
            assert result.returncode == 0, result.stderr
            assert (result.stdout, result.stderr) == expected, (name, rows, batch, id_args)


def _colour_run(tmp_path, missing):
    data = tmp_path / "train.csv"
    rows = [f"{i / 10},{'rgb'[i % 3]},{i % 2}" for i in range(60)]
    data.write_text("x,colour,y\n" + "\n".join(rows) + "\n")
    config = tmp_path / f"{missing}.yaml"
    config.write_text(f"data: {{target: y, missing: {missing}}}\n"
                      "model: {layers: [{type: dense, units: 4, activation: tanh}]}\n"
                      "training: {epochs: 1}\n")
    run = tmp_path / f"run-{missing}"
    assert cli("train", config, data, "--out", run, "-q", "--no-probe").returncode == 0
    return run


def test_streamed_rows_keep_every_check_count_and_line_number(tmp_path, monkeypatch, one_thread):
    """Each bad file gives, a few rows at a time, the message of a whole read: the first
    bad line's number, and counts over the whole file."""
    runs = {missing: _colour_run(tmp_path, missing) for missing in ("error", "drop", "mean")}
    good = [f"{i / 7},{'rgbp'[i % 4]}" for i in range(20)]  # p: never seen in training

    def case(name, lines, header="x,colour"):
        path = tmp_path / f"{name}.csv"
        path.write_text(header + "\n" + "\n".join(lines) + "\n")
        return path

    files = {
        "text": case("text", good[:9] + ["abc,r"] + good[9:]),
        "holes": case("holes", good[:5] + [",r"] + good[5:13] + ["0.5,", ",g"] + good[13:]),
        "all_holes": case("all_holes", [",r"] * 9),
        "wider": case("wider", good[:14] + ["1,r,extra"] + good[14:]),
        "no_column": case("no_column", ["0.5"] * 3, header="x"),
        "unseen": case("unseen", good),
    }
    for missing, run in runs.items():
        for name, path in files.items():
            whole = _streamed(monkeypatch, 65_536, 5, run, path)  # one chunk: the whole file
            for rows in (1, 3, 4):
                streamed = _streamed(monkeypatch, rows, 5, run, path)
                assert streamed.returncode == whole.returncode, (missing, name, streamed.stderr)
                assert streamed.stderr == whole.stderr, (missing, name, rows)
                if whole.returncode == 0:
                    assert streamed.stdout == whole.stdout, (missing, name, rows)
    says = {(missing, name): _streamed(monkeypatch, 2, 5, run, path).stderr.strip()
            for missing, run in runs.items() for name, path in files.items()}
    assert says["error", "holes"].endswith(
        "holes.csv: 3 row(s) have empty cells, the first at line 7, column 'x'; this model was "
        "trained with data.missing: error (cells reading NA, N/A, null and the like count as "
        "empty unless data.keep_default_na is false)")
    assert says["drop", "all_holes"].endswith(
        "all_holes.csv: no rows left after dropping rows with empty cells")
    assert says["drop", "holes"].splitlines() == [
        f"warning: {files['holes']}: skipped 3 of 23 rows with empty cells (the model was "
        f"trained with data.missing: drop)",
        f"warning: {files['holes']}: 5 value(s) of 'colour' never seen in training (encoded as "
        f"all-zero)"]


def test_predict_reads_and_writes_a_chunk_at_a_time(tmp_path, monkeypatch, one_thread):
    """Memory is bounded by a chunk: no more rows are transformed, predicted or held at
    once than a chunk and a batch, and the output is written as the rows come."""
    run = _colour_run(tmp_path, "mean")
    data = tmp_path / "many.csv"
    data.write_text("x,colour\n" + "".join(f"{i % 97 / 10},{'rgb'[i % 3]}\n"
                                            for i in range(2_000)))
    seen: list[int] = []
    transform = inference.Preprocessor.transform
    monkeypatch.setattr(inference.Preprocessor, "transform",
                        lambda self, frame, *a, **k: (seen.append(len(frame)),
                                                      transform(self, frame, *a, **k))[1])
    from nnfit.store import output

    writes: list[int] = []
    write = output.Writer.write
    monkeypatch.setattr(output.Writer, "write",
                        lambda self, text: (writes.append(len(seen)), write(self, text))[1])
    out = tmp_path / "out.csv"
    result = _streamed(monkeypatch, 100, 64, run, data, "-o", out)
    assert result.returncode == 0, result.stderr
    assert len(seen) == 20 and max(seen) == 100  # 20 chunks of 100 rows, never the file
    assert len(writes) > 10 and writes[0] <= 2  # written as it goes, from the first chunks
    assert pd.read_csv(out).shape == (2_000, 3)
    assert out.read_text() == _whole_read(run, data)[0]


def _iris_run(tmp_path):
    """A one-epoch iris run directory."""
    config = tmp_path / "iris.yaml"
    config.write_text("data: {target: species}\ntraining: {epochs: 1}\n")
    run = tmp_path / "run"
    assert cli("train", config, DATA / "iris.csv", "--out", run, "-q", "--no-probe"
               ).returncode == 0
    return run


@pytest.mark.parametrize("id_column", ["predicted_species", "probability_setosa"])
def test_an_id_named_like_a_prediction_column_is_refused(tmp_path, id_column):
    run = _iris_run(tmp_path)
    data = tmp_path / "with_ids.csv"
    frame = pd.read_csv(DATA / "iris.csv")
    frame.insert(0, id_column, [f"id{i}" for i in range(len(frame))])
    frame.to_csv(data, index=False)
    out = tmp_path / "out.csv"
    result = cli("predict", run, data, "--id", id_column, "-o", out)
    assert (result.returncode, result.stderr) == (2, (
        f"--id {id_column}: clashes with the prediction column {id_column} that predict "
        f"writes; rename the column in the CSV, or copy another\n"))
    assert not out.exists()


@pytest.mark.parametrize("cell", ["inf", "1e400"])
def test_an_infinite_cell_is_one_line_in_predict_and_eval(tmp_path, cell):
    run = _iris_run(tmp_path)
    data = tmp_path / "bad.csv"
    lines = (DATA / "iris.csv").read_text().splitlines()
    lines[3] = cell + lines[3][lines[3].index(","):]
    data.write_text("\n".join(lines) + "\n")
    message = (f"{data}: column 'sepal_length', line 4: inf is not a finite number (1 such "
               f"cell); remove the rows, or empty the cells and set data.missing\n")
    for args in (("predict", run, data, "-o", tmp_path / "p.csv"), ("eval", run, data)):
        result = cli(*args)
        assert (result.returncode, result.stderr) == (2, message)
    assert not (tmp_path / "p.csv").exists()
