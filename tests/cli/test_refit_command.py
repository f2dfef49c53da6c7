"""``training.refit`` seen from the command line: both tables, the refit line, the docs' keys."""

from conftest import ROOT, cli, metrics


def test_train_with_refit_prints_the_selection_run_and_the_saved_model(tmp_path, small_config):
    out = tmp_path / "run"
    result = cli("train", small_config, ROOT / "sample_data" / "iris.csv",
                 "--set", "training.refit=true", "--out", out)
    assert result.returncode == 0, result.stderr
    m = metrics(out)
    chosen = m["refit"]["selection"]
    assert f"early-stopped run (best epoch {chosen['best_epoch']} of {chosen['epochs_run']}; " \
           f"the verdict reads it)" in result.stdout
    assert (f"saved model: refit on {m['refit']['rows']} train + val rows for "
            f"{m['refit']['epochs']} epochs") in result.stdout
    assert (f"refit: the saved model trained on {m['refit']['rows']} rows for "
            f"{m['refit']['epochs']} epochs") in result.stderr
    shown = cli("show", out)
    assert shown.returncode == 0, shown.stderr


def test_refit_without_a_validation_split_is_one_line(tmp_path, small_config):
    result = cli("train", small_config, ROOT / "sample_data" / "iris.csv", "--set",
                 "training.refit=true", "--set", "data.val_fraction=0", "--set",
                 "training.early_stopping=false", "--out", tmp_path / "run")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith(
        "training.refit trains again on the train and validation rows: set "
        "data.val_fraction above 0, or refit: false")
