"""The README's Quick start and CI run the same test command."""

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent


def _quick_start_commands():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_quick_start_has_exactly_two_commands():
    assert len(_quick_start_commands()) == 2


def test_ci_runs_the_readme_test_command():
    test_command = _quick_start_commands()[1]
    assert "pytest" in test_command and ".[test]" in test_command
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_the_api_example_runs_and_learns():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(ROOT / "examples" / "iris_api.py")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    accuracy = float(result.stdout.split("test accuracy ")[1].split()[0])
    assert accuracy >= 0.9


def test_the_run_steps_example_runs(monkeypatch):
    text = (ROOT / "README.md").read_text()
    section = text.split("### One run, step by step", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(ROOT)
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["scores"].splits["test"]["rows"] == 30
    assert namespace["faster"].history["train_loss"] != namespace["result"].history["train_loss"]
