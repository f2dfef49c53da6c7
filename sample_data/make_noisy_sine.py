"""Writes noisy_sine.csv: the bias–variance demo (y = sin(2x) + N(0, 0.4²), x ~ U(-3, 3)).

    python sample_data/make_noisy_sine.py
"""

from pathlib import Path

import numpy as np

rng = np.random.default_rng(2024)
x = np.sort(rng.uniform(-3, 3, 300))
y = np.sin(2 * x) + rng.normal(0, 0.4, x.size)
lines = ["x,y"] + [f"{a:.5f},{b:.5f}" for a, b in zip(x, y, strict=False)]
(Path(__file__).parent / "noisy_sine.csv").write_text("\n".join(lines) + "\n")
