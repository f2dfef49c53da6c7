"""nnfit against scikit-learn's MLP on the shipped datasets: same split, same inputs.

For each shipped config, nnfit trains as `nnfit train` does; scikit-learn's
MLPClassifier / MLPRegressor gets the identical preprocessed training and validation rows,
the same hidden layers, activation, optimizer (Adam), learning rate, batch size, L2
penalty, epoch budget and early-stopping patience (its own early stopping holds out
the same share of rows that nnfit's validation split has, and keeps its best
weights, as nnfit does), and both are scored on the identical test rows.

    pip install -e ".[bench]" && python bench/compare_sklearn.py
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from nnfit.config.load import load_config
from nnfit.evaluation.metrics import classification_metrics, regression_metrics
from nnfit.workflows import fit, prepare, score

ROOT = Path(__file__).parent.parent
RUNS = [("iris", "species"), ("wine", "cultivar"), ("breast_cancer", "diagnosis"),
        ("diabetes", "progression")]


def sklearn_model(config, prep, layers):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    hidden = tuple(layer["units"] for layer in layers[:-1])
    acts = {layer["activation"] if isinstance(layer["activation"], str) else "relu"
            for layer in layers[:-1]} or {"identity"}
    t, d = config.training, config.data
    patience = t.early_stopping.patience if t.early_stopping else t.epochs
    options = dict(hidden_layer_sizes=hidden, activation=acts.pop(), solver="adam",
                   learning_rate_init=t.lr, batch_size=t.batch_size, max_iter=t.epochs,
                   alpha=t.weight_decay, random_state=t.seed, tol=0.0, n_iter_no_change=patience,
                   early_stopping=t.early_stopping is not None,
                   validation_fraction=d.val_fraction / (1 - d.test_fraction))
    return (MLPClassifier if prep.task == "classification" else MLPRegressor)(**options)


def main():
    print(f"{'dataset':15} {'metric':9} {'nnfit':>8} {'sklearn':>8}   (test split)")
    for name, _ in RUNS:
        config_path, csv = ROOT / "configs" / f"{name}.yaml", ROOT / "sample_data" / f"{name}.csv"
        p = prepare(load_config(config_path), csv)
        ours = score(p, fit(p)).splits["test"]
        ds, prep = p.data, p.prep
        model = sklearn_model(p.config, prep, p.layers())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter
            X_fit = np.vstack([ds.X["train"], ds.X["val"]])
            y_fit = np.concatenate([ds.y["train"], ds.y["val"]])
            if prep.task == "classification":
                model.fit(X_fit, y_fit)
                theirs = classification_metrics(ds.y["test"], model.predict(ds.X["test"]))
                metric = "accuracy"
            else:
                model.fit(X_fit, y_fit.ravel())
                pred = p.task.decode(model.predict(ds.X["test"]).reshape(-1, 1))
                theirs = regression_metrics(p.task.decode(ds.y["test"]), pred)
                metric = "r2"
        print(f"{name:15} {metric:9} {ours[metric]:8.3f} {theirs[metric]:8.3f}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
