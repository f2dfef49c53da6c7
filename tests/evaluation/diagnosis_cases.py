"""Constructed fits whose truth is known by construction, for the diagnosis tests.

Each case is a small CSV made from a seed, a config, and the verdicts that are right
for it. They are small enough to train in a fraction of a second.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DENSE = "{{type: dense, units: {}, activation: {}}}"


def _layers(*specs) -> str:
    return "[" + ", ".join(DENSE.format(units, act) for units, act in specs) + "]"


def sine(n, noise, rng):
    x = rng.uniform(-3, 3, n)
    return pd.DataFrame({"x": x, "y": np.sin(2 * x) + noise * rng.standard_normal(n)})


def noise_target(n, rng):
    x = rng.standard_normal((n, 3))
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "y": rng.standard_normal(n)})


def weak(n, rng):
    x = rng.standard_normal((n, 6))
    return pd.DataFrame({**{f"x{i}": x[:, i] for i in range(6)},
                         "y": 0.3 * x[:, 0] + rng.standard_normal(n)})


def partly(n, rng):
    x = rng.standard_normal((n, 2))
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": x[:, 0] + 1.5 * rng.standard_normal(n)})


def blobs(n, rng, spread=0.4):
    label = rng.integers(0, 3, n)
    centers = np.array([[0, 0], [3, 0], [0, 3]])
    x = centers[label] + spread * rng.standard_normal((n, 2))
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": np.array(["p", "q", "r"])[label]})


def xor(n, rng):
    x = rng.uniform(-1, 1, (n, 2))
    label = (x[:, 0] > 0) ^ (x[:, 1] > 0)
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": np.where(label, "yes", "no")})


def noise_labels(n, rng):
    x = rng.standard_normal((n, 3))
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2],
                         "y": rng.choice(["p", "q"], n)})


# name: (data(rng), config YAML, the verdicts that are right)
CASES = {
    "early best, then val rises while train falls": (
        lambda rng: weak(400, rng),
        "data: {target: y, val_fraction: 0.3}\n"
        f"model: {{layers: {_layers((256, 'relu'), (256, 'relu'))}}}\n"
        "training: {lr: 0.01, epochs: 60, batch_size: 16, early_stopping: {patience: 40}}\n",
        {"overfitting"}),
    "a large net on few rows": (
        lambda rng: sine(200, 0.4, rng),
        "data: {target: y, test_fraction: 0.45, val_fraction: 0.45}\n"
        f"model: {{layers: {_layers((128, 'relu'), (128, 'relu'))}}}\n"
        "training: {lr: 0.01, epochs: 300, batch_size: 8, early_stopping: false,\n"
        "           optimizer: adam, schedule: constant}\n",
        {"overfitting"}),
    "a linear model on a curved target": (
        lambda rng: sine(200, 0.1, rng),
        "data: {target: y}\ntraining: {lr: 0.05, epochs: 60}\n",
        {"underfitting"}),
    "too few epochs, loss still falling": (
        lambda rng: sine(200, 0.1, rng),
        "data: {target: y}\n"
        f"model: {{layers: {_layers((32, 'relu'), (32, 'relu'))}}}\n"
        "training: {lr: 0.003, epochs: 20, optimizer: adam, schedule: constant}\n",
        {"underfitting"}),
    "a pure-noise target": (
        lambda rng: noise_target(200, rng),
        "data: {target: y}\n"
        f"model: {{layers: {_layers((16, 'relu'))}}}\n"
        "training: {lr: 0.01, epochs: 80}\n",
        {"good fit", "overfitting", "inconclusive"}),
    "a target the features explain partly": (
        lambda rng: partly(300, rng),
        "data: {target: y}\n"
        f"model: {{layers: {_layers((16, 'relu'))}}}\n"
        "training: {lr: 0.01, epochs: 80}\n",
        {"good fit", "inconclusive"}),
    "a well-sized net": (
        lambda rng: sine(300, 0.3, rng),
        "data: {target: y}\n"
        f"model: {{layers: {_layers((32, 'tanh'), (32, 'tanh'))}}}\n"
        "training: {lr: 0.01, epochs: 150, early_stopping: {patience: 30}}\n",
        {"good fit"}),
    "3 to 10 validation rows": (
        lambda rng: sine(60, 0.3, rng),
        "data: {target: y, val_fraction: 0.1}\n"
        f"model: {{layers: {_layers((16, 'tanh'))}}}\n"
        "training: {lr: 0.01, epochs: 40}\n",
        {"inconclusive"}),
    "NaN at epoch 1": (
        lambda rng: sine(100, 0.3, rng),
        "data: {target: y}\n"
        f"model: {{layers: {_layers((16, 'tanh'))}}}\n"
        "training: {optimizer: sgd, lr: 100000, epochs: 5}\n",
        {"diverged"}),
    "separable classes": (
        lambda rng: blobs(300, rng),
        "data: {target: y}\n"
        f"model: {{layers: {_layers((16, 'relu'))}}}\n"
        "training: {lr: 0.02, epochs: 60}\n",
        {"good fit"}),
    "a linear model on XOR classes": (
        lambda rng: xor(300, rng),
        "data: {target: y}\ntraining: {lr: 0.05, epochs: 60}\n",
        {"underfitting"}),
    "labels that are noise": (
        lambda rng: noise_labels(300, rng),
        "data: {target: y}\n"
        f"model: {{layers: {_layers((16, 'relu'))}}}\n"
        "training: {lr: 0.01, epochs: 60}\n",
        {"good fit", "overfitting", "inconclusive"}),
    "no validation split": (
        lambda rng: sine(300, 0.3, rng),
        "data: {target: y, val_fraction: 0}\n"
        f"model: {{layers: {_layers((32, 'tanh'), (32, 'tanh'))}}}\n"
        "training: {lr: 0.01, epochs: 150, early_stopping: false}\n",
        {"good fit"}),
}
