"""A class label as text, the same whichever way a CSV or a YAML file wrote it.

``1.0`` and ``1`` are both ``"1"``, booleans are ``"true"`` / ``"false"``, text is kept
as it is but for the spaces around it (``a, b`` pads ``b`` in a CSV). The config reads
``training.class_weight``'s keys with it, the data its target columns, so the two always
agree.
"""

from __future__ import annotations

import numpy as np


def label_text(value) -> str:
    """A class label as text: ``1.0`` and ``1`` are both ``"1"`` and `` p`` is ``"p"``, so CSVs
    agree with each other."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    return str(value).strip()
