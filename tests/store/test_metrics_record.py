"""metrics.json is one typed record: what a run writes reads back through the same model, and
the model writes it again byte for byte (its keys in the order the file has them)."""

import json
from pathlib import Path

from typer.testing import CliRunner

from nnfit.cli import app
from nnfit.store.metrics import MetricsRecord, read_metrics

ROOT = Path(__file__).parent.parent.parent
IRIS = ROOT / "sample_data" / "iris.csv"


def test_a_runs_metrics_json_round_trips_through_the_record(tmp_path):
    run = tmp_path / "run"
    # --cv with an ensemble: every optional section (cv, the pooled diagnosis, ensemble)
    done = CliRunner().invoke(app, ["train", str(ROOT / "configs" / "iris.yaml"), str(IRIS),
                                    "--epochs", "4", "--no-probe", "-q", "--out", str(run),
                                    "--cv", "2", "--set", "training.ensemble=2", "--jobs", "1",
                                    "--set", "training.class_weight=balanced"])
    assert done.exit_code == 0, done.output
    text = (run / "metrics.json").read_text()
    record = MetricsRecord.model_validate(json.loads(text), strict=True)
    assert json.dumps(record.dump(), indent=2) + "\n" == text
    assert read_metrics(run) == (json.loads(text), None)
    assert record.diagnosis.kind is not None and record.data is not None
    assert record.cv is not None and record.ensemble is not None
    assert json.loads(text)["class_weight"] == record.class_weight is not None
