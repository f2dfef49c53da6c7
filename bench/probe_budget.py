"""The capacity probe's cost against the main fit's: the budget of issue 27, measured.

For each shipped config (on its shipped CSV) and, with ``--big``, the reference problem of
``bench/process.py`` (60 000 rows × 100 features, 100 → 256 → 128 → 10, 5 epochs), it
trains the main fit, then calls the capacity probe as ``nnfit train`` would with the probe
on ``auto`` and wanted (``capacity_probe``, within its budget), and reports the main fit's
seconds, the probe's epochs and seconds (both of its trainings and their scoring), and
probe / main. One BLAS thread; process CPU time, so other load on the machine counts less.

    python bench/probe_budget.py [--big] [--markdown]

The budget is a cost model (``nnfit.workflows.probe.probe_epochs``): half the main run's
cost, or, when that buys fewer epochs than the probe needs, the least it needs if that
costs at most ``PROBE_FLOOR`` (about half a second); otherwise the probe does not
run and the verdict says so.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from tables import render  # bench/tables.py: python bench/probe_budget.py puts bench/ on the path

ROOT = Path(__file__).parent.parent
SHIPPED = [("iris.yaml", "iris.csv"), ("wine.yaml", "wine.csv"),
           ("breast_cancer.yaml", "breast_cancer.csv"), ("diabetes.yaml", "diabetes.csv"),
           ("bias_variance/underfit.yaml", "noisy_sine.csv"),
           ("bias_variance/good.yaml", "noisy_sine.csv"),
           ("bias_variance/overfit.yaml", "noisy_sine.csv")]
BIG = """\
data: {target: label, task: classification, test_fraction: 0.2, val_fraction: 0}
model: {layers: [{type: dense, units: 256, activation: relu},
                 {type: dense, units: 128, activation: relu}]}
training: {optimizer: adam, lr: 0.001, schedule: constant, batch_size: 128, epochs: 5,
           early_stopping: false, seed: 0}
"""


def measure(config_path: Path, csv: Path) -> list[str]:
    from nnfit.config.load import load_config
    from nnfit.workflows.fit import fit
    from nnfit.workflows.prepared import prepare
    from nnfit.workflows.probe import capacity_probe

    config = load_config(config_path, ["training.threads=1"])
    prepared = prepare(config, csv)
    started = time.process_time()
    result = fit(prepared)
    main = time.process_time() - started
    started = time.process_time()
    probe = capacity_probe(prepared, config, result.epochs_run, result.network.n_params)
    spent = time.process_time() - started
    name = config_path.relative_to(ROOT / "configs") if config_path.is_relative_to(ROOT) \
        else "60k × 100 reference"
    if isinstance(probe, str):
        return [str(name), f"{main:.2f}", "—", "not run", "—", probe]
    return [str(name), f"{main:.2f}", str(probe["epochs"]), f"{spent:.2f}",
            f"{spent / main:.2f}", probe["layers"]]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="also the 60k × 100 reference")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    rows = []
    with threadpool_limits(limits=1):
        for config, csv in SHIPPED:
            rows.append(measure(ROOT / "configs" / config, ROOT / "sample_data" / csv))
            print(f"  {rows[-1][0]}: {rows[-1][1]} s, probe {rows[-1][3]}", file=sys.stderr)
        if args.big:
            from process import write_data

            with tempfile.TemporaryDirectory() as tmp:
                data = write_data(Path(tmp))
                config = Path(tmp) / "big.yaml"
                config.write_text(BIG)
                rows.append(measure(config, data))
    print(render(["config", "main fit CPU s", "probe epochs", "probe CPU s", "probe / main",
                  "probe network (or why not)"], rows, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
