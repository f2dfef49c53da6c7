"""nnfit's Python API in a few lines: build a network, train it on arrays, predict.

Run from the repository root:  python examples/iris_api.py
"""

import csv
from pathlib import Path

import numpy as np

import nnfit

iris_csv = Path(__file__).parent.parent / "sample_data" / "iris.csv"
rows = list(csv.reader(iris_csv.read_text().splitlines()))
X = np.array([r[:4] for r in rows[1:]], dtype=float)
classes, y = np.unique([r[4] for r in rows[1:]], return_inverse=True)

rng = np.random.default_rng(0)
order = rng.permutation(len(y))
train, test = order[:120], order[120:]
mean, std = X[train].mean(axis=0), X[train].std(axis=0)
X = (X - mean) / std

net = nnfit.build_network(
    [{"type": "dense", "units": 16, "activation": "relu"},
     {"type": "dense", "units": 16, "activation": {"name": "leaky_relu", "slope": 0.05}},
     {"type": "dense", "units": len(classes)}],
    n_features=4, seed=0)
history = nnfit.fit(net, X[train], y[train], loss="cross_entropy", optimizer="adam",
                    lr=0.01, epochs=100, batch_size=16, seed=0)

proba = nnfit.make_loss("cross_entropy").output(net.predict(X[test]))
accuracy = (proba.argmax(axis=1) == y[test]).mean()
print(net)
print(f"train loss {history['train_loss'][0]:.3f} -> {history['train_loss'][-1]:.3f} "
      f"over {len(history.epochs)} epochs; test accuracy {accuracy:.3f} on {len(test)} flowers")
