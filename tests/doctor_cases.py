"""Constructed cases for ``nnfit doctor``, each with its remedy planted: small CSVs and configs
written to a directory, fast to train (tiny networks, few epochs). ``init: auto`` (He for
ReLU) where a case needs a network that starts large: its larger weights collapse the rare
class and memorize the identifier within the case's epochs."""

from pathlib import Path

import numpy as np


def write_csv(path: Path, columns: dict) -> Path:
    names = list(columns)
    n = len(columns[names[0]])
    lines = [",".join(names)]
    lines += [",".join(str(columns[c][i]) for c in names) for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


def case(directory: Path, name: str, config: str, columns: dict) -> tuple[Path, Path]:
    """``(config path, CSV path)`` of a case, written under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / f"{name}.yaml"
    config_path.write_text(config)
    return config_path, write_csv(directory / f"{name}.csv", columns)


def overfit(directory: Path) -> tuple[Path, Path]:
    """Few training rows (40), a wide network (2 × 128), a noisy target, no early stopping:
    the val loss rises while train falls. A larger penalty, dropout or fewer units help."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = X[:, 0] + rng.normal(size=200)
    columns = {f"x{i}": np.round(X[:, i], 4) for i in range(5)} | {"y": np.round(y, 4)}
    return case(directory, "overfit", (
        "data: {target: y, val_fraction: 0.5, test_fraction: 0.1}\n"
        "model: {layers: [{type: dense, units: 128, activation: relu},"
        " {type: dense, units: 128, activation: relu}]}\n"
        "training: {optimizer: adam, l2: 0.01, lr: 0.01, epochs: 100, batch_size: 16,"
        " early_stopping: false, schedule: constant}\n"), columns)


def underfit(directory: Path) -> tuple[Path, Path]:
    """One tanh unit (monotonic) on ``y = x² + noise``: it cannot bend; more units can."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, size=300)
    y = x ** 2 + rng.normal(scale=0.3, size=300)
    return case(directory, "underfit", (
        "data: {target: y, val_fraction: 0.3, test_fraction: 0.1}\n"
        "model: {layers: [{type: dense, units: 1, activation: tanh}]}\n"
        "training: {optimizer: adam, lr: 0.03, epochs: 60, batch_size: 32,"
        " early_stopping: false}\n"), {"x": np.round(x, 4), "y": np.round(y, 4)})


def collapse(directory: Path) -> tuple[Path, Path]:
    """5 % positives, well separated on x0, but plain SGD for 50 epochs never predicts them
    (balanced accuracy 0.5); weighing the classes makes the network learn them."""
    rng = np.random.default_rng(0)
    positive = rng.random(500) < 0.06
    x0 = rng.normal(size=500) + 3.0 * positive
    columns = {"x0": np.round(x0, 4), "x1": np.round(rng.normal(size=500), 4),
               "y": np.where(positive, "yes", "no")}
    return case(directory, "collapse", (
        "data: {target: y, val_fraction: 0.4, test_fraction: 0.1}\n"
        "model: {init: auto, layers: [{type: dense, units: 8, activation: relu}]}\n"
        "training: {optimizer: sgd, lr: 0.01, epochs: 50, batch_size: 32,"
        " early_stopping: false, seed: 1}\n"), columns)


def identifier(directory: Path) -> tuple[Path, Path]:
    """A ``rownames`` column (1, 2, …, in no relation to the target) beside two real
    features: a wide network trained long memorizes the noise through it."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 2))
    y = X[:, 0] + X[:, 1] + rng.normal(scale=0.5, size=150)
    columns = {"rownames": np.arange(1, 151), "x0": np.round(X[:, 0], 4),
               "x1": np.round(X[:, 1], 4), "y": np.round(y, 4)}
    return case(directory, "identifier", (
        "data: {target: y, val_fraction: 0.4, test_fraction: 0.1}\n"
        "model: {init: auto, layers: [{type: dense, units: 64, activation: relu},"
        " {type: dense, units: 64, activation: relu}]}\n"
        "training: {optimizer: adam, lr: 0.01, epochs: 150, batch_size: 16,"
        " early_stopping: false, schedule: constant}\n"), columns)


def small(directory: Path) -> tuple[Path, Path]:
    """A quick classification case (iris-like blobs) for the command's plumbing."""
    rng = np.random.default_rng(0)
    labels = np.repeat(["a", "b", "c"], 40)
    centers = {"a": (0, 0), "b": (2, 0), "c": (0, 2)}
    X = np.array([centers[k] for k in labels]) + rng.normal(scale=0.8, size=(120, 2))
    columns = {"x0": np.round(X[:, 0], 4), "x1": np.round(X[:, 1], 4), "label": labels}
    return case(directory, "small", (
        "data: {target: label, val_fraction: 0.25, test_fraction: 0.2}\n"
        "model: {layers: [{type: dense, units: 8, activation: relu}]}\n"
        "training: {lr: 0.02, epochs: 15, batch_size: 16, early_stopping: {patience: 5}}\n"),
        columns)
