"""No Python loop over samples or neurons in forward, backward or update.

Every forward/backward/loss/step method of the engine is scanned for loops; only
the Network's own passes (and the PackedNetwork's, of packed members) may loop, and they
loop over layers.
"""

import ast
from pathlib import Path

import nnfit.nn

ENGINE = Path(nnfit.nn.__file__).parent
HOT = {"forward", "backward", "value_and_grad", "step", "_update", "_advance_velocity",
       "sigmoid", "softmax"}
LAYER_LOOPS = ("Network", "PackedNetwork")  # their passes loop over layers
LOOPS = (ast.For, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _hot_functions():
    for path in sorted(ENGINE.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name in LAYER_LOOPS:
                continue
            for fn in ast.iter_child_nodes(node):
                if isinstance(fn, ast.FunctionDef) and fn.name in HOT:
                    yield path.name, node, fn


def test_scan_sees_the_hot_paths():
    names = {(getattr(owner, "name", "<module>"), fn.name) for _, owner, fn in _hot_functions()}
    assert {("Dense", "forward"), ("Dense", "backward"), ("CrossEntropy", "value_and_grad"),
            ("Adam", "_update"), ("Optimizer", "step"), ("<module>", "softmax")} <= names


def test_no_python_loops_in_hot_paths():
    loops = [f"{file}:{node.lineno} in {fn.name}"
             for file, owner, fn in _hot_functions()
             if getattr(owner, "name", None) not in LAYER_LOOPS
             for node in ast.walk(fn) if isinstance(node, LOOPS)]
    assert loops == []
