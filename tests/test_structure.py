"""The house's rules, checked on the source: imports point one way and never in a circle,
functions stay short, modules stay small (docs/architecture.md)."""

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).parent.parent / "src" / "nnfit"

# cli -> workflows -> {report, store, runtime, evaluation, training, data, config} -> nn.
# The middle packages may use each other, never in a circle (checked below); ``errors`` and
# the package face (``nnfit/__init__.py``: the version, the lazy API) are for everyone.
RANK = {"cli": 3, "workflows": 2, "report": 1, "store": 1, "runtime": 1, "evaluation": 1,
        "training": 1, "data": 1, "config": 1, "nn": 0}
BASE = {"nnfit", "nnfit.errors"}
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 410  # "about 400"


def _module(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in SRC.rglob("*.py")}


def _imports(name: str) -> set[str]:
    """The nnfit modules ``name`` imports, anywhere in it (function-local imports too)."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names = [f"{module}.{alias.name}" for alias in node.names]
            # ``from . import x`` imports the submodule x; ``from .m import f`` imports m
            targets = names if all(n in MODULES for n in names) else [module, *names]
        else:
            continue
        found.update(t for t in targets if t in MODULES and t != name)
    return found


GRAPH = {name: _imports(name) for name in MODULES}


def _package(name: str) -> str:
    return name.split(".")[1] if name.count(".") >= 1 else ""


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph``, as a list of nodes, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_every_module_belongs_to_a_package_of_the_layout():
    loose = [m for m in MODULES if m not in BASE and _package(m) not in RANK]
    assert loose == [], f"modules outside the layout's packages: {loose}"


def test_imports_point_down_the_layout():
    upward = [f"{a} -> {b}" for a, targets in GRAPH.items() for b in targets
              if b not in BASE and a not in BASE
              and RANK[_package(b)] > RANK[_package(a)]]
    assert upward == []


def test_the_engine_imports_nothing_of_ours_outside_it():
    outside = [f"{a} -> {b}" for a, targets in GRAPH.items() if _package(a) == "nn"
               for b in targets if _package(b) != "nn" and b != "nnfit.errors"]
    assert outside == []


def test_nothing_imports_the_cli():
    assert [a for a, targets in GRAPH.items() if _package(a) != "cli"
            and any(_package(b) == "cli" for b in targets)] == []


def test_no_module_imports_in_a_circle():
    assert _cycle(GRAPH) is None


def test_no_package_imports_in_a_circle():
    packages: dict[str, set[str]] = defaultdict(set)
    for a, targets in GRAPH.items():
        for b in targets:
            if a not in BASE and b not in BASE and _package(a) != _package(b):
                packages[_package(a)].add(_package(b))
    assert _cycle(packages) is None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def _functions(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            yield node.name, node.end_lineno - first + 1


@pytest.mark.parametrize("name", sorted(MODULES))
def test_functions_and_modules_stay_short(name):
    path = MODULES[name]
    long = [(f, n) for f, n in _functions(path) if n > MAX_FUNCTION_LINES]
    assert long == [], f"{path}: functions over {MAX_FUNCTION_LINES} lines: {long}"
    assert len(path.read_text().splitlines()) <= MAX_MODULE_LINES


def test_the_length_rule_counts_the_signature_and_decorators(tmp_path):
    path = tmp_path / "f.py"
    path.write_text("@app.command()\ndef f(\n    a,\n):\n    return a\n")
    assert list(_functions(path)) == [("f", 5)]
