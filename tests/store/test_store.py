import io
import json
import os

import numpy as np
import pytest

from nnfit.data.preprocess import Preprocessor
from nnfit.errors import NnfitError
from nnfit.nn.build import build_network
from nnfit.store.atomic import write_atomic
from nnfit.store.model_file import load_model, save_model
from nnfit.store.run_dir import make_run_dir

PREP = Preprocessor(task="regression", targets=["y"], features=["a", "b"],
                    numeric={"a": [0.0, 1.0], "b": [1.0, 2.0]}, target_scale=[[0.0, 1.0]])


def _saved(tmp_path):
    net = build_network([{"type": "dense", "units": 3, "activation": "relu"},
                         {"type": "dense", "units": 1}], n_features=2, seed=4)
    save_model(tmp_path, net, PREP, "mse")
    return net


def test_write_atomic_replaces_whole_files_and_leaves_no_temporaries(tmp_path):
    target = tmp_path / "f.txt"
    write_atomic(target, "first")
    write_atomic(target, b"second")
    assert target.read_text() == "second"
    assert os.listdir(tmp_path) == ["f.txt"]
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # follows the umask, not mkstemp's 0600


def test_model_round_trip_is_bit_identical(tmp_path):
    net = _saved(tmp_path)
    loaded, prep, meta = load_model(tmp_path)
    np.testing.assert_array_equal(loaded.params, net.params)
    x = np.random.default_rng(0).standard_normal((5, 2)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))
    assert prep == PREP and meta["format_version"] == 1 and meta["loss"] == "mse"


def test_pickled_model_file_is_refused(tmp_path):
    _saved(tmp_path)
    buffer = io.BytesIO()
    np.savez(buffer, params=np.array([{"evil": 1}], dtype=object))
    (tmp_path / "model.npz").write_bytes(buffer.getvalue())
    with pytest.raises(NnfitError, match="model.npz: refused: params is an object array"):
        load_model(tmp_path)


def test_truncated_model_file_and_unknown_format_version(tmp_path):
    _saved(tmp_path)
    data = (tmp_path / "model.npz").read_bytes()
    (tmp_path / "model.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(NnfitError, match="model.npz: unreadable or corrupted"):
        load_model(tmp_path)
    _saved(tmp_path)
    meta = json.loads((tmp_path / "model.json").read_text())
    meta["format_version"] = 99
    (tmp_path / "model.json").write_text(json.dumps(meta))
    with pytest.raises(NnfitError, match="model format version 99 is newer than this nnfit"):
        load_model(tmp_path)


def test_parameters_that_do_not_fit_the_architecture_are_refused(tmp_path):
    _saved(tmp_path)
    buffer = io.BytesIO()
    np.savez(buffer, params=np.zeros(5, dtype=np.float32))
    (tmp_path / "model.npz").write_bytes(buffer.getvalue())
    with pytest.raises(NnfitError, match=r"model.npz: params has shape \[5\]; the architecture "
                                         r"in model.json needs \[13\]$"):
        load_model(tmp_path)


def test_run_dir_default_and_refusal_to_overwrite(tmp_path):
    first = make_run_dir(None, "iris", root=tmp_path)
    second = make_run_dir(None, "iris", root=tmp_path)
    assert first != second and first.name.startswith("iris-") and second.is_dir()
    (first / "history.csv").write_text("epoch\n1\n")  # what a killed run leaves
    with pytest.raises(NnfitError, match="is not empty"):
        make_run_dir(first, "iris")
    assert (first / "history.csv").read_text() == "epoch\n1\n"
    (first / "model.json").write_text("{}")
    with pytest.raises(NnfitError, match="already holds a run"):
        make_run_dir(first, "iris")
    assert make_run_dir(tmp_path / "empty", "iris").is_dir()


def test_history_rows_are_on_disk_after_every_epoch(tmp_path):
    from nnfit.store.history import HistoryWriter

    writer = HistoryWriter(tmp_path / "history.csv")
    writer.on_train_begin(trainer=None)
    for epoch in (1, 2):
        writer.on_epoch_end(epoch, {"epoch": epoch, "train_loss": 0.5 / epoch})
        # read by another handle before training ends: what a killed run leaves behind
        assert (tmp_path / "history.csv").read_text().splitlines()[-1] == f"{epoch},{0.5 / epoch!r}"
    writer.on_train_end({})


def test_concurrent_default_run_dirs_are_all_distinct(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        dirs = list(pool.map(lambda _: make_run_dir(None, "iris", root=tmp_path), range(8)))
    assert len(set(dirs)) == 8 and all(d.is_dir() and d.name.startswith("iris-") for d in dirs)


def test_written_files_follow_the_umask_without_touching_it(tmp_path):
    previous = os.umask(0o027)
    try:
        write_atomic(tmp_path / "f.txt", "x")
        assert os.umask(0o027) == 0o027  # unchanged by the write
    finally:
        os.umask(previous)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o640


def test_history_of_a_run_that_diverged_has_blank_cells_for_what_it_could_not_score(tmp_path):
    from nnfit.store.history import write_history

    write_history(tmp_path / "h.csv", {"train_loss": [0.5, float("nan")], "val_accuracy": [0.9]},
                  [1, 2])
    assert (tmp_path / "h.csv").read_text().splitlines() == [
        "epoch,train_loss,val_accuracy", "1,0.5,0.9", "2,nan,"]


def test_batchnorm_running_statistics_survive_save_and_load_bit_exactly(tmp_path):
    net = build_network([{"type": "dense", "units": 4, "activation": "relu"},
                         {"type": "batchnorm"}, {"type": "dropout", "rate": 0.2},
                         {"type": "dense", "units": 1}], n_features=2, seed=1)
    x = np.random.default_rng(0).standard_normal((16, 2)).astype(np.float32)
    for _ in range(3):
        net.forward(x, training=True)  # moves the running mean and variance
    assert net.state.any()
    save_model(tmp_path, net, PREP, "mse")
    loaded, _, meta = load_model(tmp_path)
    np.testing.assert_array_equal(loaded.state, net.state)
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))
    assert [slot["name"] for slot in meta["state_layout"]] == ["1.running_mean", "1.running_var"]


def test_a_model_saved_without_state_still_loads(tmp_path):
    _saved(tmp_path)
    buffer = io.BytesIO()
    with np.load(tmp_path / "model.npz") as npz:
        np.savez(buffer, params=npz["params"])  # as nnfit wrote it before state existed
    (tmp_path / "model.npz").write_bytes(buffer.getvalue())
    meta = json.loads((tmp_path / "model.json").read_text())
    del meta["state_layout"]
    (tmp_path / "model.json").write_text(json.dumps(meta))
    assert load_model(tmp_path)[0].state.size == 0


CLASSES = Preprocessor(task="classification", targets=["c"], features=["a", "b"],
                       numeric={"a": [0.0, 1.0], "b": [1.0, 2.0]}, classes=["no", "yes"])


def _saved_classifier(tmp_path, class_weight=None):
    tmp_path.mkdir(exist_ok=True)
    net = build_network([{"type": "dense", "units": 1}], n_features=2, seed=4)
    save_model(tmp_path, net, CLASSES, "binary_cross_entropy", class_weight)
    return json.loads((tmp_path / "model.json").read_text())


def test_class_weights_are_saved_beside_the_loss_and_only_when_there_are_some(tmp_path):
    meta = _saved_classifier(tmp_path / "w", [0.75, 1.5])
    assert meta["class_weight"] == [0.75, 1.5]
    assert list(meta).index("class_weight") == list(meta).index("loss") + 1
    assert load_model(tmp_path / "w")[2]["class_weight"] == [0.75, 1.5]
    assert "class_weight" not in _saved_classifier(tmp_path / "plain")  # as before: old files load
    assert "class_weight" not in load_model(tmp_path / "plain")[2]


@pytest.mark.parametrize("bad,why", [
    ([1.0], "class_weight: must be a list of 2 weights, one per class (got [1.0])"),
    ([1.0, 0.0], "class_weight[1]: must be positive (got 0.0)"),
    ([1.0, "2"], "class_weight[1]: must be a number (got '2')"),
    ({"no": 1.0}, "class_weight: must be a list (got {'no': 1.0})"),
])
def test_class_weights_from_an_untrusted_model_file_are_checked(tmp_path, bad, why):
    meta = _saved_classifier(tmp_path, [1.0, 2.0])
    (tmp_path / "model.json").write_text(json.dumps({**meta, "class_weight": bad}))
    with pytest.raises(NnfitError) as info:
        load_model(tmp_path)
    assert info.value.message == f"{tmp_path / 'model.json'}: {why}"
