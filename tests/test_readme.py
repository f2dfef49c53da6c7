"""The README and every page of docs/: each command they show works, and the pages link up.

The rules the documents follow, which this file enforces:

- A ```bash block holds only ``nnfit ...`` commands and ``#`` comments (a line ending in
  ``\\`` continues on the next). Every command runs in this process, through Typer's
  CliRunner on ``nnfit.cli.app``, in document order, in a temporary directory of its own per
  document that links the repository's ``configs/``, ``sample_data/`` and ``examples/``: a
  command may use what an earlier one in the same document wrote (a run directory given with
  ``-o``). It must exit 0, or N where the line before it is the comment ``# exits N``.
  The one exception is the Quick start block, whose two set-up commands CI runs itself
  (``.ci/run``); the ``.venv/bin/nnfit ...`` part of them runs here like any other command.
- A ```python block runs (``exec``) in that directory, in order with the commands; the blocks
  of one document share one namespace. A block whose first line is ``# fragment`` is only
  compiled.
- A ```yaml block with a top-level ``data:`` key is a whole config: it must load; one whose
  first line is ``# configs/NAME.yaml`` must load to what that shipped file loads to.
- What cannot run here goes in a ```sh block (installs, a Dask cluster, the benchmarks) or a
  ```text block (output, with the command after ``$ ``). Their ``nnfit`` command lines are
  parsed by the CLI's own parser, so an option that does not exist fails, but not run.

Besides: the README stays at most 300 lines with the Quick start block unchanged and links
every docs page; every relative link and ``#anchor`` resolves; docs/configuration.md has a
row for every config key.
"""

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
LINKED_DIRS = ("configs", "sample_data", "examples")
QUICK_START = (
    "```bash\n"
    '# 1. install, and train the "good fit" network of the bias–variance demo on shipped data\n'
    "python3 -m venv .venv && .venv/bin/pip install -q . && .venv/bin/nnfit train "
    "configs/bias_variance/good.yaml sample_data/noisy_sine.csv\n"
    "\n"
    "# 2. install the test extras; lint (ruff), check types (mypy) and run the whole test suite\n"
    'python3 -m venv .venv && .venv/bin/pip install -q -e ".[test]" && .venv/bin/ruff check src '
    "tests bench examples sample_data && .venv/bin/mypy && .venv/bin/python -m pytest -n auto\n"
    "```\n")
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
EXITS = re.compile(r"#\s*exits\s+(\d+)\s*$")


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _blocks(path: Path):
    """``(language, first line number of the body, body)`` of each fenced block, in order."""
    text = path.read_text()
    for match in FENCE.finditer(text):
        yield match.group(1), text.count("\n", 0, match.start(2)) + 1, match.group(2)


def _quick_start_commands():
    text = README.read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def _lines(body: str, first: int):
    """``(line number, text, expected exit code)`` of each command in a shell block: comments
    dropped, continued lines joined, ``# exits N`` applied to the command after it."""
    expected, pending, start = 0, "", None
    for number, line in enumerate(body.splitlines(), first):
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            marker = EXITS.search(stripped)
            expected = int(marker.group(1)) if marker else 0
            continue
        start = start or number
        pending += stripped[:-1].rstrip() + " " if stripped.endswith("\\") else stripped
        if not stripped.endswith("\\"):
            yield start, pending, expected
            expected, pending, start = 0, "", None


def _args(command: str) -> list[str]:
    words = shlex.split(command, comments=True)
    for word in words:
        assert word not in ("|", "||", "&", "&&", ";", ">", ">>", "<", "2>", "2>&1"), \
            f"{command!r}: pipes and redirections cannot run in process; drop them"
    assert words[0] == "nnfit", f"{command!r} is not an nnfit command"
    return words[1:]


def _commands(path: Path):
    """What the test runs for one document, in order: ``("bash", line, args, code)``,
    ``("python", line, code)``, ``("yaml", line, text)``, ``("parse", line, args)``."""
    quick_start = set(_quick_start_commands()) if path == README else set()
    for language, first, body in _blocks(path):
        if language == "bash":
            for number, command, code in _lines(body, first):
                if command in quick_start:  # CI runs these; their nnfit part runs here too
                    for part in command.split("&&"):
                        words = shlex.split(part)
                        if words[0].endswith("/nnfit"):
                            yield "bash", number, words[1:], code
                    continue
                yield "bash", number, _args(command), code
        elif language == "python":
            yield "python", first, body
        elif language == "yaml" and re.search(r"^data:", body, re.M):
            yield "yaml", first, body
        elif language == "sh":
            for number, command, _ in _lines(body, first):
                if command.startswith("nnfit "):
                    yield "parse", number, _args(command)
        elif language == "text":
            for number, line in enumerate(body.splitlines(), first):
                if line.startswith("$ nnfit "):
                    yield "parse", number, _args(line[2:])


def _invoke(args: list[str]):
    from typer.testing import CliRunner

    from nnfit.cli import app

    return CliRunner(env={"NO_COLOR": "1", "COLUMNS": "120", "NNFIT_DEBUG": ""}).invoke(app, args)


def _parse(args: list[str]) -> None:
    """Parse a command line as ``nnfit`` would, with its options' types, without running it."""
    from typer.main import get_command

    from nnfit.cli import app

    group = get_command(app)
    root = []
    while args and args[0].startswith("-"):
        root.append(args.pop(0))
    assert set(root) <= {"--debug", "--version", "-h", "--help"}, f"unknown option in {root}"
    command = group.commands.get(args[0]) if args else None
    assert command is not None, f"no nnfit command {args[:1]}"
    try:
        command.make_context(args[0], args[1:])
    except Exception as exc:  # Click's Exit (after --help) is a clean parse; the rest are not
        if type(exc).__name__ != "Exit":
            raise


def _api_checks(namespace: dict) -> None:
    """docs/api.md: "One run, step by step" scores iris's 30 test rows, and a second fit at
    another rate trains differently on the same split."""
    assert namespace["scores"].splits["test"]["rows"] == 30
    assert namespace["faster"].history["train_loss"] != namespace["result"].history["train_loss"]
    assert (Path("runs/iris-api") / "model.npz").exists()


CHECKS = {"docs/api.md": _api_checks}


@pytest.mark.parametrize("path", [README, *DOCS], ids=_name)
def test_every_documented_command_works(path, tmp_path, monkeypatch):
    for name in LINKED_DIRS:
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    for kind, number, *what in _commands(path):
        where = f"{_name(path)}:{number}"
        if kind == "bash":
            args, code = what
            result = _invoke(args)
            output = result.output[-3000:]
            if result.exception and not isinstance(result.exception, SystemExit):
                output += f"\n{type(result.exception).__name__}: {result.exception}"
            assert result.exit_code == code, \
                f"{where}: nnfit {shlex.join(args)} exited {result.exit_code}, not {code}:\n{output}"
        elif kind == "python":
            code = what[0]
            compiled = compile(code, where, "exec")
            if not code.startswith("# fragment"):
                exec(compiled, namespace)
        elif kind == "yaml":
            from nnfit.config import load_config

            config = load_config(where, text=what[0])
            shipped = re.match(r"# (configs/\S+\.yaml)", what[0])
            if shipped:  # a copy of a shipped config must stay one
                assert config == load_config(ROOT / shipped.group(1)), f"{where}: not {shipped[1]}"
        else:
            _parse(list(what[0]))
    if _name(path) in CHECKS:
        CHECKS[_name(path)](namespace)


def test_every_bash_block_holds_only_nnfit_commands():
    """What a ```bash block holds runs; anything else belongs in ```sh (see the docstring)."""
    for path in [README, *DOCS]:
        list(_commands(path))  # _args asserts on each line


def test_the_documents_show_commands_that_run():
    counts = {_name(p): sum(kind == "bash" for kind, *_ in _commands(p)) for p in [README, *DOCS]}
    assert counts["README.md"] >= 8, counts
    assert sum(counts.values()) >= 40, counts


def test_a_broken_command_fails_the_test(tmp_path, monkeypatch):
    """The check itself: an option that does not exist exits 2, and parsing refuses it."""
    monkeypatch.chdir(tmp_path)
    assert _invoke(["train", "configs/iris.yaml", "sample_data/iris.csv", "--epoch", "3"]).exit_code == 2
    from typer._click.exceptions import NoSuchOption  # the Click that Typer runs on

    with pytest.raises(NoSuchOption):
        _parse(["sweep", "configs/iris.yaml", "sample_data/iris.csv", "--lr-ranges", "1:2:3"])
    assert list(_lines("# exits 2\nnnfit x \\\n  --y\n\nnnfit z\n", 1)) == [
        (2, "nnfit x --y", 2), (5, "nnfit z", 0)]


def test_readme_is_a_short_front_door_linking_every_page():
    text = README.read_text()
    assert len(text.splitlines()) <= 300
    linked = set(re.findall(r"\]\((docs/[\w./-]+\.md)\)", text))
    assert linked == {_name(p) for p in DOCS}, "README must link every docs/*.md page, and no other"


def _anchors(path: Path) -> set[str]:
    """The ``#anchors`` GitHub makes of a Markdown file's headings (code blocks left out)."""
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6} +(.+?) *$", FENCE.sub("", path.read_text()), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        seen[slug] = seen.get(slug, -1) + 1
        if seen[slug]:
            seen[f"{slug}-{seen[slug]}"] = 0
    return set(seen)


def test_every_relative_link_resolves():
    for path in [README, *DOCS]:
        for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            linked = (path.parent / file).resolve() if file else path
            assert linked.exists(), f"{_name(path)}: {target}"
            if anchor:
                assert anchor in _anchors(linked), f"{_name(path)}: {target}: no such heading"


def _keys(model) -> list[str]:
    return list(type(model).model_fields)


def test_configuration_md_lists_every_config_key():
    """docs/configuration.md has a section per top-level key and a table row per key in each
    (and early_stopping's keys described): the config models themselves are the list."""
    from nnfit.config import load_config

    config = load_config("c.yaml", text="data: {target: y}\nsweep: {training.lr: [0.1]}\n")
    text = (ROOT / "docs" / "configuration.md").read_text()
    for key in _keys(config):
        assert f"### `{key}`" in text, f"docs/configuration.md: no section for {key}"
    sections = {"data": config.data, "model": config.model, "training": config.training}
    for name, section in sections.items():
        for key in _keys(section):
            assert f"| `{key}` |" in text, f"docs/configuration.md: no row for {name}.{key}"
    for key in _keys(config.training.early_stopping):
        assert f"{key}: " in text, f"docs/configuration.md: early_stopping.{key} not described"


def test_quick_start_is_unchanged():
    section = README.read_text().split("## Quick start\n", 1)[1].split("\n## ", 1)[0]
    assert QUICK_START in section


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
