"""Confusion-matrix views that need no console: the CSV text and the most-confused pairs."""

from __future__ import annotations


def confusion_csv(classes: list[str], matrix) -> str:
    """The confusion matrix as CSV text: header ``true\\predicted,<class>,...``, one row per true class.

    ``matrix`` is ``(n_classes, n_classes)`` counts, rows the true class, columns the
    predicted one. Class names are quoted as CSV needs; lines end in ``\\n``.
    """
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["true\\predicted", *map(str, classes)])
    for cls, row in zip(classes, matrix):
        writer.writerow([str(cls), *(int(v) for v in row)])
    return buffer.getvalue()


def most_confused(classes: list[str], matrix, top: int = 10) -> list[tuple[str, str, int, float]]:
    """The ``top`` off-diagonal cells with rows in them, as ``(true, predicted, count, share)``.

    ``share`` is ``count`` over the rows of that true class. Sorted by count, largest
    first, then by the true and the predicted class names.
    """
    names = [str(c) for c in classes]
    pairs = []
    for i, row in enumerate(matrix):
        total = sum(int(v) for v in row)
        for j, count in enumerate(row):
            if i != j and count > 0:
                pairs.append((names[i], names[j], int(count), int(count) / total))
    pairs.sort(key=lambda p: (-p[2], p[0], p[1]))
    return pairs[:top]
