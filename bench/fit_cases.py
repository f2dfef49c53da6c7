"""The cases of ``bench/diagnosis.py``: a training CSV, a held-out test CSV and a config each.

A **constructed** case draws its rows from a known function with known noise: the training
file (its ``n`` rows, one draw per case, the same for every seed) and a large test file
(``--test-rows``, 20,000 by default) from the same function and noise. What each case was
built to show is its ``intent`` (over, under, good, ...): a design note, never the truth,
which ``bench/diagnosis.py`` finds by experiment.

A **shipped** case is a file of ``sample_data/`` with its shipped config (``configs/``) or
nnfit's starter config (``nnfit.workflows.init.starter_config``, with ``training.ensemble:
1``: ``fit`` trains one network). For each seed a held-out part (``holdout``, 35–40 %,
stratified by class) is cut off before nnfit sees the rest, and ``data.test_fraction`` is
set to 0 (the held-out part is the test). ``noisy_sine.csv`` is a constructed file with a
known function (``sample_data/make_noisy_sine.py``): its test rows are fresh draws, and the
three bias–variance configs run on it as shipped.

Constructed configs set ``data.test_fraction: 0`` (the test file is the test) and the
smallest ``data.val_fraction`` of 0.1, 0.15, ... 0.4 that leaves 20 validation rows, so a
small case is judged by the rules and not refused as too small to judge.
"""

from __future__ import annotations

import copy
import csv
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).parent.parent
DATA = ROOT / "sample_data"
CONFIGS = ROOT / "configs"
MIN_VAL_ROWS = 20  # the verdict's own minimum (diagnosis.MIN_VAL_ROWS), read here as a number

Maker = Callable[[np.random.Generator, int], pd.DataFrame]


@dataclass(frozen=True)
class Case:
    """One benchmark case. ``planted``: the identifier or leaking column (its name as nnfit
    reads it); ``extras``: remedies beyond the common set that this case's truth may use;
    ``metric``: ``loss`` (the per-row loss) or ``balanced`` (class-balanced loss)."""

    name: str
    intent: str
    task: str  # regression or classification
    n: int  # training-file rows
    config: dict  # nnfit's config (without seed and threads, which each job sets)
    make: Maker | None = None  # constructed: rows of the training file
    make_test: Maker | None = None  # test rows (default: ``make``)
    shipped: str | None = None  # shipped: file stem in sample_data/
    holdout: float = 0.0  # shipped: the share cut off as the test
    planted: str | None = None
    extras: tuple[str, ...] = ()
    metric: str = "loss"
    layout: str = "plain"  # plain, or rnames (an R-style first column of row names)
    notes: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)


# -- functions with known noise ----------------------------------------------------------------


def sine(noise: float = 0.3, low: float = -3.0, high: float = 3.0) -> Maker:
    """y = sin(2x) + N(0, noise²), x ~ U(low, high)."""
    def make(rng, n):
        x = rng.uniform(low, high, n)
        return pd.DataFrame({"x": x, "y": np.sin(2 * x) + rng.normal(0, noise, n)})
    return make


def friedman(noise: float = 1.0) -> Maker:
    """Friedman #1: y = 10 sin(π x0 x1) + 20 (x2 − ½)² + 10 x3 + 5 x4 + N(0, noise²), ten
    inputs U(0, 1), five of them unused."""
    def make(rng, n):
        X = rng.uniform(0, 1, (n, 10))
        y = (10 * np.sin(np.pi * X[:, 0] * X[:, 1]) + 20 * (X[:, 2] - 0.5) ** 2 + 10 * X[:, 3]
             + 5 * X[:, 4] + rng.normal(0, noise, n))
        return pd.DataFrame({**{f"x{i}": X[:, i] for i in range(10)}, "y": y})
    return make


def interaction(noise: float = 0.3, d: int = 6) -> Maker:
    """y = x0·x1 + sin(2 x2) + ½ x3 + N(0, noise²), ``d`` inputs N(0, 1)."""
    def make(rng, n):
        X = rng.normal(0, 1, (n, d))
        y = X[:, 0] * X[:, 1] + np.sin(2 * X[:, 2]) + 0.5 * X[:, 3] + rng.normal(0, noise, n)
        return pd.DataFrame({**{f"x{i}": X[:, i] for i in range(d)}, "y": y})
    return make


def linear(noise: float = 0.5, d: int = 5, relevant: int | None = None) -> Maker:
    """y = w·x + N(0, noise²), ``d`` inputs N(0, 1), the first ``relevant`` with weights."""
    def make(rng, n):
        X = rng.normal(0, 1, (n, d))
        w = np.zeros(d)
        k = d if relevant is None else relevant
        w[:k] = np.linspace(1.0, -1.0, k) if k > 1 else 1.0
        return pd.DataFrame({**{f"x{i}": X[:, i] for i in range(d)},
                             "y": X @ w + rng.normal(0, noise, n)})
    return make


def noise_target(d: int = 5) -> Maker:
    """y ~ N(0, 1), independent of ``d`` inputs N(0, 1): nothing to learn."""
    def make(rng, n):
        X = rng.normal(0, 1, (n, d))
        return pd.DataFrame({**{f"x{i}": X[:, i] for i in range(d)}, "y": rng.normal(0, 1, n)})
    return make


def partly(noise: float = 2.0, d: int = 4) -> Maker:
    """y = x0 + ½ tanh(x1) + N(0, noise²): most of the target is noise (R² ≈ 0.2)."""
    def make(rng, n):
        X = rng.normal(0, 1, (n, d))
        y = X[:, 0] + 0.5 * np.tanh(X[:, 1]) + rng.normal(0, noise, n)
        return pd.DataFrame({**{f"x{i}": X[:, i] for i in range(d)}, "y": y})
    return make


def _flip(rng, labels: np.ndarray, share: float, k: int = 2) -> np.ndarray:
    flip = rng.random(labels.size) < share
    out = labels.copy()
    out[flip] = (labels[flip] + rng.integers(1, k, flip.sum())) % k
    return out


def _classes(X: np.ndarray, labels: np.ndarray, names: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({**{f"x{i}": X[:, i] for i in range(X.shape[1])},
                         "label": np.asarray(names)[labels]})


def moons(flip: float = 0.1, extra: int = 0, noise: float = 0.2) -> Maker:
    """Two interleaved half moons (Gaussian jitter ``noise``), ``flip`` of the labels flipped,
    ``extra`` unused N(0, 1) inputs."""
    def make(rng, n):
        labels = rng.integers(0, 2, n)
        t = rng.uniform(0, np.pi, n)
        x0 = np.where(labels == 0, np.cos(t), 1 - np.cos(t))
        x1 = np.where(labels == 0, np.sin(t), 0.5 - np.sin(t))
        X = np.column_stack([x0, x1]) + rng.normal(0, noise, (n, 2))
        X = np.hstack([X, rng.normal(0, 1, (n, extra))])
        return _classes(X, _flip(rng, labels, flip), ("a", "b"))
    return make


def xor(flip: float = 0.05, extra: int = 3) -> Maker:
    """Class = sign(x0·x1), x ~ U(−1, 1); ``extra`` unused inputs; ``flip`` of labels flipped."""
    def make(rng, n):
        X = rng.uniform(-1, 1, (n, 2 + extra))
        labels = (X[:, 0] * X[:, 1] > 0).astype(int)
        return _classes(X, _flip(rng, labels, flip), ("no", "yes"))
    return make


def circles(flip: float = 0.05) -> Maker:
    """Inside or outside the circle of radius 1 around 0, x ~ U(−2, 2)²."""
    def make(rng, n):
        X = rng.uniform(-1.6, 1.6, (n, 2))
        labels = ((X ** 2).sum(axis=1) < 1.0).astype(int)
        return _classes(X, _flip(rng, labels, flip), ("out", "in"))
    return make


def blobs3(spread: float = 1.0, extra: int = 0) -> Maker:
    """Three Gaussian classes around the corners of a triangle (overlapping: linear
    boundaries are the Bayes classifier), ``extra`` unused inputs."""
    centers = np.array([[0.0, 1.5], [-1.3, -0.75], [1.3, -0.75]])

    def make(rng, n):
        labels = rng.integers(0, 3, n)
        X = centers[labels] + rng.normal(0, spread, (n, 2))
        X = np.hstack([X, rng.normal(0, 1, (n, extra))])
        return _classes(X, labels, ("p", "q", "r"))
    return make


def spiral(noise: float = 0.25) -> Maker:
    """Two interleaved spirals of 1.5 turns."""
    def make(rng, n):
        labels = rng.integers(0, 2, n)
        r = rng.uniform(0.2, 1.0, n)
        theta = 3 * np.pi * r + np.pi * labels
        X = 3 * np.column_stack([r * np.cos(theta), r * np.sin(theta)])
        return _classes(X + rng.normal(0, noise, (n, 2)), labels, ("s", "t"))
    return make


def rare(share: float = 0.05, shift: float = 1.2, separable: bool = False,
         common: int = 1) -> Maker:
    """A rare class (``share`` of the rows) among ``common`` common ones.

    Rare rows sit at ``shift`` along x0 from the common ones, unit variance: at 5 % and a
    shift of 1.2 the rare class's probability stays below ½ nearly everywhere, so the
    loss-optimal classifier never predicts it (a collapse). ``separable``: shifted by 6.
    With two common classes they are two well-separated moons on x1.
    """
    def make(rng, n):
        is_rare = rng.random(n) < share
        labels = np.where(is_rare, common, rng.integers(0, common, n))
        X = rng.normal(0, 1, (n, 3))
        X[is_rare, 0] += 6.0 if separable else shift
        if common > 1:
            X[~is_rare, 1] += np.where(labels[~is_rare] == 0, -2.0, 2.0)
        return _classes(X, labels, ("common", "rare") if common == 1 else ("common", "other", "rare"))
    return make


# -- planted columns ---------------------------------------------------------------------------


def sorted_id(base: Maker, target: str, column: str = "id", shuffle_rows: bool = False) -> Maker:
    """``base``'s rows sorted by the target with an id 1..n in that order (the file keeps the
    sorted order, or shuffles its rows with ``shuffle_rows``: the id still follows the target).
    """
    def make(rng, n):
        frame = base(rng, n)
        order = np.argsort(frame[target].to_numpy(), kind="stable")
        frame = frame.iloc[order].reset_index(drop=True)
        frame.insert(0, column, np.arange(1, n + 1))
        if shuffle_rows:
            frame = frame.iloc[rng.permutation(n)].reset_index(drop=True)
        return frame
    return make


def random_id(base: Maker, n_train: int, column: str = "id") -> Maker:
    """The test rows of an id case: ``base``'s rows with ids drawn from the training file's
    range 1..n_train, unrelated to the target (new rows, whose id carries nothing)."""
    def make(rng, n):
        frame = base(rng, n)
        frame.insert(0, column, rng.integers(1, n_train + 1, n))
        return frame
    return make


def text_id(base: Maker, prefix: str, column: str = "row_id") -> Maker:
    """``base``'s rows with a text id ``<prefix>00001``...: one-hot, one input per row."""
    def make(rng, n):
        frame = base(rng, n)
        frame.insert(0, column, [f"{prefix}{i:05d}" for i in range(1, n + 1)])
        return frame
    return make


def leak(base: Maker, target: str, column: str, permuted: bool, noise: float = 0.1,
         classes: bool = False) -> Maker:
    """``base`` plus a column that copies the target (regression: plus ``noise``·sd; classes:
    the label as 0/1 with ``noise`` of it flipped). ``permuted`` (the test rows): the column
    holds the same values in a random order: at prediction time the leak carries nothing."""
    def make(rng, n):
        frame = base(rng, n)
        y = frame[target]
        if classes:
            codes = pd.factorize(y, sort=True)[0]
            value = _flip(rng, codes, noise).astype(float)
        else:
            value = y.to_numpy() + rng.normal(0, noise * y.std(), n)
        if permuted:
            value = rng.permutation(value)
        frame.insert(0, column, value)
        return frame
    return make


# -- configs -----------------------------------------------------------------------------------


def dense(*units: int, act: str = "relu") -> list[dict]:
    return [{"type": "dense", "units": u, "activation": act} for u in units]


def config(target: str, layers: list[dict], *, es: int | None = 30, **training) -> dict:
    """A constructed case's config (val_fraction is set per case by :func:`val_fraction`)."""
    t = {"optimizer": "adam", "lr": 3e-3, "batch_size": 32, "epochs": 300, **training,
         "early_stopping": {"patience": es} if es else False}
    return {"data": {"target": target, "test_fraction": 0.0}, "model": {"layers": layers},
            "training": t}


def val_fraction(n: int) -> float:
    """The smallest of 0.1, 0.15, ..., 0.4 that leaves ``MIN_VAL_ROWS`` validation rows."""
    for f in (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4):
        if round(n * f) >= MIN_VAL_ROWS:
            return f
    return 0.4


def shipped_config(name: str) -> dict:
    import yaml

    return yaml.safe_load((CONFIGS / name).read_text())


C = "classification"
R = "regression"
OVERFIT: dict = {"es": None, "l2": 0.0}  # no early stopping, no penalty


def _cases() -> list[Case]:
    cases = [
        # -- built to underfit: too rigid ---------------------------------------------------
        Case("sine_linear_1k", "under", R, 1000, config("y", [], epochs=200), sine()),
        Case("sine_2unit_1k", "under", R, 1000, config("y", dense(2, act="tanh")), sine()),
        Case("friedman_linear_2k", "under", R, 2000, config("y", [], epochs=200), friedman()),
        Case("interaction_linear_2k", "under", R, 2000, config("y", [], epochs=200),
             interaction()),
        Case("moons_linear_1k", "under", C, 1000, config("label", [], epochs=200), moons()),
        Case("xor_linear_1k", "under", C, 1000, config("label", [], epochs=200), xor()),
        Case("circles_2unit_2k", "under", C, 2000, config("label", dense(2)), circles()),
        Case("spiral_2x4_4k", "under", C, 4000,
             config("label", dense(4, 4, act="tanh"), batch_size=64),
             spiral()),
        # -- built to underfit: too little training -------------------------------------------
        Case("sine_3epochs_5k", "under", R, 5000,
             config("y", dense(32, 32, act="tanh"), epochs=3, lr=1e-3), sine()),
        Case("friedman_8epochs_5k", "under", R, 5000,
             config("y", dense(64, 64), epochs=8, lr=3e-4), friedman()),
        Case("moons_2epochs_2k", "under", C, 2000,
             config("label", dense(32, 32), epochs=2, lr=1e-3), moons()),
        Case("sine_lowlr_sgd_2k", "under", R, 2000,
             config("y", dense(32, 32, act="tanh"), optimizer="sgd", lr=1e-3, epochs=100,
                    schedule="constant"), sine()),
        Case("friedman_lowlr_adam_2k", "under", R, 2000,
             config("y", dense(64, 64), lr=1e-5, epochs=100), friedman()),
        Case("moons_lowlr_sgd_2k", "under", C, 2000,
             config("label", dense(32, 32), optimizer="sgd", lr=3e-4, epochs=100,
                    schedule="constant"), moons()),
        # -- built to overfit: few rows, wide network, long training, no early stopping --------
        Case("sine_overfit_50", "over", R, 50,
             config("y", dense(128, 128), epochs=1000, **OVERFIT), sine(0.4)),
        Case("friedman_overfit_150", "over", R, 150,
             config("y", dense(128, 128), epochs=600, **OVERFIT),
             friedman()),
        Case("interaction_overfit_300", "over", R, 300,
             config("y", dense(128, 128), epochs=400, **OVERFIT),
             interaction(0.5)),
        Case("sparse_overfit_100", "over", R, 100,
             config("y", dense(128, 128), epochs=800, **OVERFIT),
             linear(1.0, d=50, relevant=2)),
        Case("moons_overfit_80", "over", C, 80,
             config("label", dense(128, 128), epochs=1000, **OVERFIT),
             moons(0.15)),
        Case("xor_overfit_200", "over", C, 200,
             config("label", dense(128, 128), epochs=500, **OVERFIT),
             xor(0.1, extra=20)),
        Case("labelnoise_overfit_300", "over", C, 300,
             config("label", dense(128, 128), epochs=400, **OVERFIT),
             moons(0.3)),
        Case("blobs_overfit_120", "over", C, 120,
             config("label", dense(128, 128), epochs=800, **OVERFIT),
             blobs3(extra=20)),
        Case("friedman_overfit_es_100", "over", R, 100,
             config("y", dense(128, 128), epochs=1000, es=300, l2=0.0),
             friedman()),
        # -- built to fit well: a right-sized network with enough rows ------------------------
        Case("sine_good_1k", "good", R, 1000, config("y", dense(32, 32, act="tanh")), sine()),
        Case("sine_good_20k", "good", R, 20000,
             config("y", dense(32, 32, act="tanh"), epochs=60, batch_size=128, es=10), sine()),
        Case("friedman_good_5k", "good", R, 5000,
             config("y", dense(64, 64), epochs=200, batch_size=64),
             friedman()),
        Case("friedman_good_20k", "good", R, 20000,
             config("y", dense(64, 64), epochs=60, batch_size=128, es=10), friedman()),
        Case("interaction_good_3k", "good", R, 3000, config("y", dense(64, 64), batch_size=64),
             interaction()),
        Case("linear_good_500", "good", R, 500, config("y", [], epochs=300), linear()),
        Case("noise_target_1k", "good", R, 1000, config("y", dense(32, 32)), noise_target()),
        Case("partly_2k", "good", R, 2000, config("y", dense(16)), partly()),
        Case("moons_good_2k", "good", C, 2000, config("label", dense(32, 32)), moons()),
        Case("moons_good_20k", "good", C, 20000,
             config("label", dense(32, 32), epochs=60, batch_size=128, es=10), moons()),
        Case("blobs_linear_good_1k", "good", C, 1000, config("label", []), blobs3()),
        Case("circles_good_3k", "good", C, 3000, config("label", dense(32, 32), batch_size=64),
             circles()),
        Case("xor_good_5k", "good", C, 5000,
             config("label", dense(32, 32), epochs=200, batch_size=64), xor()),
        # -- a rare class: collapse, and a separable control ----------------------------------
        Case("collapse_5pct_2k", "collapse", C, 2000, config("label", dense(32)), rare(),
             extras=("class_weight",), metric="balanced"),
        Case("collapse_5pct_3class_5k", "collapse", C, 5000,
             config("label", dense(32, 32), batch_size=64),
             rare(common=2), extras=("class_weight",), metric="balanced"),
        Case("collapse_5pct_600", "collapse", C, 600, config("label", dense(16)), rare(),
             extras=("class_weight",), metric="balanced"),
        Case("rare_separable_2k", "good", C, 2000, config("label", dense(32)),
             rare(separable=True)),
        # -- a planted identifier: learnable in the file, meaningless in new rows -------------
        Case("id_rnames_friedman_1k", "identifier", R, 1000, config("y", dense(64, 64)),
             sorted_id(friedman(), "y"), random_id(friedman(), 1000), planted="Unnamed: 0",
             extras=("exclude",), layout="rnames"),
        Case("id_shuffled_sine_2k", "identifier", R, 2000, config("y", dense(32, 32, act="tanh")),
             sorted_id(sine(), "y", shuffle_rows=True), random_id(sine(), 2000), planted="id",
             extras=("exclude",)),
        Case("id_rnames_moons_1k", "identifier", C, 1000, config("label", dense(32, 32)),
             sorted_id(moons(), "label"), random_id(moons(), 1000), planted="Unnamed: 0",
             extras=("exclude",), layout="rnames"),
        Case("id_text_xor_400", "identifier", C, 400, config("label", dense(64, 64)),
             text_id(xor(0.2), "r"), text_id(xor(0.2), "new"), planted="row_id",
             extras=("exclude",)),
        # -- a planted leak: the target's copy in training, nothing at prediction time --------
        Case("leak_friedman_2k", "leak", R, 2000, config("y", dense(64, 64)),
             leak(friedman(), "y", "check", False), leak(friedman(), "y", "check", True),
             planted="check", extras=("exclude",)),
        Case("leak_moons_2k", "leak", C, 2000, config("label", dense(32, 32)),
             leak(moons(), "label", "flag", False, 0.03, classes=True),
             leak(moons(), "label", "flag", True, 0.03, classes=True),
             planted="flag", extras=("exclude",)),
        # -- far too high a rate: built to diverge, or to fail without diverging --------------
        Case("diverge_sgd_friedman_1k", "diverge", R, 1000,
             config("y", dense(64, 64), optimizer="sgd", lr=1.0, schedule="constant"),
             friedman(), extras=("lr_div10",)),
        Case("failed_adam_moons_1k", "failed", C, 1000,
             config("label", dense(64, 64), lr=3.0, schedule="constant"), moons(),
             extras=("lr_div10",)),
    ]
    for case in cases:
        case.config["data"]["val_fraction"] = val_fraction(case.n)
    return cases + _shipped()


def _shipped() -> list[Case]:
    sine_file = sine(0.4)  # sample_data/make_noisy_sine.py: x ~ U(-3, 3), σ = 0.4
    out = [Case(f"noisy_sine_{stem}", "shipped", R, 300,
                shipped_config(f"bias_variance/{stem}.yaml"), make_test=sine_file,
                shipped="noisy_sine") for stem in ("underfit", "good", "overfit")]
    for stem, target, task, yaml_name, hold in (
            ("iris", "species", C, "iris.yaml", 1 / 3), ("wine", "cultivar", C, "wine.yaml", 1 / 3),
            ("breast_cancer", "diagnosis", C, "breast_cancer.yaml", 0.35),
            ("diabetes", "progression", R, "diabetes.yaml", 0.35),
            ("titanic", "survived", C, None, 0.4), ("hmda", "deny", C, None, 0.4),
            ("chile", "vote", C, None, 0.4), ("auto_mpg", "mpg", R, None, 0.4),
            ("concrete", "compressive_strength", R, None, 0.4), ("cps1985", "wage", R, None, 0.4),
            ("digits", "digit", C, None, 0.35)):
        base = (shipped_config(yaml_name) if yaml_name
                else {"data": {"target": target}, "starter": True})
        n = sum(1 for _ in (DATA / f"{stem}.csv").open()) - 1
        out.append(Case(stem, "shipped", task, n, base, shipped=stem, holdout=hold))
    return out


CASES = _cases()
BY_NAME = {case.name: case for case in CASES}
QUICK = ("sine_linear_1k", "sine_3epochs_5k", "sine_overfit_50", "moons_overfit_80",
         "sine_good_1k", "moons_good_2k", "collapse_5pct_2k", "id_rnames_friedman_1k",
         "diverge_sgd_friedman_1k", "iris")


# -- files ---------------------------------------------------------------------------------


def chosen_cases(parser, text: str | None, quick: bool, cases: list, quick_names) -> list:
    """The cases a benchmark's ``--cases NAME,...`` (or ``--quick``, or all) names, in that
    order; ``parser.error`` for a name ``cases`` lacks."""
    by_name = {case.name: case for case in cases}
    names = ([c.strip() for c in text.split(",") if c.strip()] if text
             else list(quick_names) if quick else list(by_name))
    unknown = [n for n in names if n not in by_name]
    if unknown:
        parser.error(f"unknown case {unknown[0]!r}; --list shows them")
    return [by_name[n] for n in names]


def case_arguments(parser, n_quick: int, test_rows: str, keep: str,
                   *extra: tuple[tuple, dict]) -> None:
    """The options every case benchmark takes — ``--cases``, ``--quick`` (``n_quick`` cases),
    ``--seeds``, ``--jobs``, ``--test-rows`` (help ``test_rows``), ``--json``,
    ``--markdown``, ``--keep`` (help ``keep``), ``--list``, ``-q`` — with ``extra``
    ``(flags, keywords)`` pairs of its own after ``--seeds``."""
    parser.add_argument("--cases", default=None,
                        help="comma-separated case names (default: all; --list shows them)")
    parser.add_argument("--quick", action="store_true",
                        help=f"a smoke run: {n_quick} cases, seeds 0,1, 5000 test rows")
    parser.add_argument("--seeds", default=None, help="comma-separated seeds (default 0,1,2)")
    for flags, keywords in extra:
        parser.add_argument(*flags, **keywords)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--test-rows", type=int, default=None, help=test_rows)
    parser.add_argument("--json", type=Path, metavar="FILE", help="write every number to FILE")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument("--keep", type=Path, metavar="DIR", help=keep)
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")


def checked_counts(parser, args) -> None:
    """``args.seeds`` (``--seeds 0,1,2``; 0,1 with ``--quick``) as integers and
    ``args.test_rows`` (5,000 with ``--quick``, else 20,000) filled in; ``parser.error`` for
    a bad seed, ``--jobs`` or ``--test-rows``."""
    try:
        args.seeds = [int(s) for s in (args.seeds or ("0,1" if args.quick else "0,1,2")).split(",")
                      if s.strip()]
    except ValueError:
        parser.error(f"--seeds takes comma-separated integers (got {args.seeds!r})")
    args.test_rows = args.test_rows or (5000 if args.quick else 20000)
    if not args.seeds or min(args.seeds) < 0 or args.jobs < 1 or args.test_rows < 100:
        parser.error("--seeds needs a seed ≥ 0, --jobs at least 1, --test-rows at least 100")


def _rng(name: str, *stream: int) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(name.encode()), *stream])


def write_csv(frame: pd.DataFrame, path: Path, layout: str) -> None:
    """``frame`` as a CSV; ``rnames``: its first column is R's row names (``write.csv``:
    an empty quoted header, quoted names ``"1"``, ``"2"``, ...)."""
    if layout == "rnames":
        frame = frame.set_index(frame.columns[0])
        frame.index = frame.index.astype(str)
        frame.to_csv(path, index=True, index_label="", quoting=csv.QUOTE_NONNUMERIC)
    else:
        frame.to_csv(path, index=False)


def case_files(case: Case, seed: int, folder: Path, test_rows: int) -> tuple[Path, Path, dict]:
    """``(training CSV, test CSV, config)`` of ``case`` for ``seed``; files are written once
    per case (constructed) or per case and seed (shipped, whose cut depends on the seed)."""
    folder.mkdir(parents=True, exist_ok=True)
    cfg = copy.deepcopy(case.config)
    if case.shipped and case.holdout:
        train, test = folder / f"{case.name}-s{seed}-train.csv", folder / f"{case.name}-s{seed}-test.csv"
        if not train.exists():
            _cut(case, seed, train, test)
        if cfg.pop("starter", False):
            from nnfit.workflows.init import starter_config

            cfg = starter_config(str(train), cfg["data"]["target"])
            cfg["training"]["ensemble"] = 1
        cfg["data"]["test_fraction"] = 0.0
        return train, test, cfg
    train, test = folder / f"{case.name}-train.csv", folder / f"{case.name}-test.csv"
    if not train.exists():
        if case.shipped:
            frame = pd.read_csv(DATA / f"{case.shipped}.csv")
        else:
            assert case.make is not None
            frame = case.make(_rng(case.name, 0), case.n)
        write_csv(frame, train, case.layout)
        make_test = case.make_test or case.make
        assert make_test is not None
        write_csv(make_test(_rng(case.name, 1), test_rows), test, case.layout)
    return train, test, cfg


def _cut(case: Case, seed: int, train: Path, test: Path) -> None:
    """A shipped file's rows split into nnfit's part and the held-out test, stratified by
    class (each class keeps ``1 − holdout`` of its rows for nnfit, at least 2)."""
    frame = pd.read_csv(DATA / f"{case.shipped}.csv")
    rng = _rng(case.name, 2, seed)
    target = case.config["data"]["target"]
    groups = ([np.flatnonzero((frame[target] == v).to_numpy()) for v in frame[target].unique()]
              if case.task == C else [np.arange(len(frame))])
    held = []
    for rows in groups:
        rows = rng.permutation(rows)
        held.append(rows[:min(round(rows.size * case.holdout), rows.size - 2)])
    mask = np.zeros(len(frame), dtype=bool)
    mask[np.concatenate(held)] = True
    frame[~mask].to_csv(train, index=False)
    frame[mask].to_csv(test, index=False)
