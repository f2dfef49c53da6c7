"""What importing the CLI and printing its help load: none of the heavy modules, so
``nnfit --help`` stays instant (issue 17: under 0.3 s). Each case runs in a fresh
interpreter, since this one has imported everything already."""

import json
import os
import subprocess
import sys

import nnfit

HEAVY = ("numpy", "pandas", "matplotlib", "rich.progress", "yaml", "pydantic", "joblib", "dask",
         "torch", "sklearn")
SRC = os.path.dirname(os.path.dirname(nnfit.__file__))

# Prints {"<case>": [heavy modules loaded after it], ...}; the cases run in this order in
# one process, so each list includes what the cases before it loaded.
PROBE = """
import contextlib, io, json, sys
HEAVY = {heavy!r}
loaded = lambda: sorted(m for m in HEAVY if m in sys.modules)
out = {}
import nnfit
out["import nnfit"] = loaded()
import nnfit.cli
out["import nnfit.cli"] = loaded()

def run(*argv):
    sys.argv = ["nnfit", *argv]
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        try:
            nnfit.cli.main()
        except SystemExit as exit:
            assert exit.code in (0, None), (argv, exit.code)
    return text.getvalue()

text = run("--help")
out["nnfit --help"] = loaded()
out["commands"] = [line.split()[0] for line in text.split("Commands:")[1].strip().splitlines()]
for command in out["commands"]:
    assert command in run(command, "--help"), command
out["nnfit COMMAND --help"] = loaded()
print(json.dumps(out))
""".replace("{heavy!r}", repr(HEAVY))


def probe() -> dict:
    env = {**os.environ, "PYTHONPATH": SRC, "NO_COLOR": "1", "COLUMNS": "120"}
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_cli_import_and_help_load_no_heavy_module():
    out = probe()
    assert out["import nnfit"] == []
    assert out["import nnfit.cli"] == []
    assert out["nnfit --help"] == []
    assert {"train", "predict", "sweep", "init"} <= set(out["commands"])
    # Typer (0.2x) coerces the root's unset --help flag through a pydantic TypeAdapter as soon
    # as a subcommand is parsed, so `nnfit train --help` loads pydantic (about 50 ms); that is
    # Typer's import, the only one allowed here.
    assert set(out["nnfit COMMAND --help"]) <= {"pydantic"}


def test_the_api_still_loads_on_first_use():
    code = ("import sys, nnfit; before = 'numpy' in sys.modules; fit = nnfit.fit; "
            "print(before, 'numpy' in sys.modules, fit.__module__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": SRC}, timeout=120)
    assert result.stdout.split() == ["False", "True", "nnfit.training.trainer"], result.stderr
