"""Confusion matrices: a grid for few classes, the most-confused pairs and a CSV for many."""

import io

import numpy as np
from rich.console import Console

from nnfit.report.tables import most_confused, print_evaluation
from nnfit.store.csv_file import confusion_csv


def _result(classes, matrix):
    matrix = np.asarray(matrix)
    per_class = {c: {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": int(matrix[i].sum())}
                 for i, c in enumerate(classes)}
    return {"n_rows": int(matrix.sum()), "loss": 0.5, "accuracy": 0.9, "classes": classes,
            "per_class": per_class, "confusion_matrix": matrix.tolist()}


def _printed(result, **kwargs):
    console = Console(file=io.StringIO(), width=200, force_terminal=False)
    print_evaluation(console, result, "data.csv", **kwargs)
    return console.file.getvalue()


def _many(n=15):
    """n classes, 10 rows each on the diagonal, and a few known confusions."""
    classes = [f"c{i:02d}" for i in range(n)]
    matrix = np.eye(n, dtype=int) * 10
    for (i, j), count in {(3, 4): 5, (1, 2): 5, (0, 9): 7, (7, 8): 1}.items():
        matrix[i, j] = count
    for j in range(n):  # 11 single confusions from c14, to push past the top 10
        if j != 14:
            matrix[14, j] += 1 if j < 11 else 0
    return classes, matrix


def test_few_classes_print_the_grid():
    out = _printed(_result(["a", "b", "c"], [[5, 1, 0], [0, 4, 2], [1, 0, 7]]),
                   confusion_path="run/confusion.csv")
    cells = [line.replace("│", " ").replace("┃", " ").split() for line in out.splitlines()]
    assert ["true", "\\", "predicted", "a", "b", "c"] in cells and ["c", "1", "0", "7"] in cells
    assert "most confused" not in out and "confusion.csv" not in out


def test_many_classes_print_the_most_confused_pairs_instead_of_the_grid():
    classes, matrix = _many()
    out = _printed(_result(classes, matrix), confusion_path="run/confusion.csv")
    assert "true \\ predicted" not in out
    rows = [line.replace("│", " ").split() for line in out.splitlines() if "→" in line]
    assert [r[:4] for r in rows[:4]] == [["c00", "→", "c09", "7"], ["c01", "→", "c02", "5"],
                                         ["c03", "→", "c04", "5"], ["c07", "→", "c08", "1"]]
    assert rows[0][4] == "41.2%"  # 7 of c00's 17 rows
    assert len(rows) == 10 and rows[-1][:3] == ["c14", "→", "c05"]
    assert "the full 15×15 confusion matrix is in run/confusion.csv" in out


def test_many_classes_without_a_path_name_no_file():
    classes, matrix = _many()
    assert "confusion.csv" not in _printed(_result(classes, matrix))


def test_most_confused_skips_the_diagonal_and_empty_cells():
    assert most_confused(["a", "b"], [[9, 0], [3, 1]]) == [("b", "a", 3, 0.75)]
    assert most_confused(["a", "b"], [[9, 0], [0, 4]]) == []


def test_confusion_csv_has_one_row_per_true_class():
    text = confusion_csv(["a", "b,c"], np.array([[3, 1], [0, 2]]))
    assert text == 'true\\predicted,a,"b,c"\na,3,1\n"b,c",0,2\n'
