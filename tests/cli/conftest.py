import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent.parent
NNFIT = Path(sys.executable).parent / "nnfit"  # the installed console script


def nnfit(*args, cwd=None, **kwargs) -> subprocess.CompletedProcess:
    """Run the installed ``nnfit`` command as a user would."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    env.pop("NNFIT_DEBUG", None)
    env.pop("NNFIT_PLOTS", None)  # plots as a user's run draws them (tests/inline_plots.py)
    return subprocess.run([str(NNFIT), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=240, **kwargs)


@dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str


def cli(*args) -> Completed:
    """Run ``nnfit`` in this process with Typer's CliRunner: what ``nnfit(...)`` shows, faster."""
    from typer.testing import CliRunner

    from nnfit.cli.app import app

    result = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "120", "NNFIT_DEBUG": ""}).invoke(
        app, [str(a) for a in args])
    return Completed(result.exit_code, result.stdout, result.stderr)


def metrics(run_dir) -> dict:
    return json.loads((Path(run_dir) / "metrics.json").read_text())


@pytest.fixture
def small_config(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text("data: {target: species}\n"
                    "model: {layers: [{type: dense, units: 8, activation: relu}]}\n"
                    "training: {lr: 0.02, epochs: 15, batch_size: 16, early_stopping: {patience: 5}}\n")
    return path
