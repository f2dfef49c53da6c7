"""nnfit: fit and evaluate neural networks on CSV data, on NumPy with hand-written backprop.

The Python API (imported lazily, so ``nnfit --help`` stays instant)::

    import nnfit
    net = nnfit.build_network([{"type": "dense", "units": 16, "activation": "tanh"},
                               {"type": "dense", "units": 1}], n_features=1, seed=0)
    history = nnfit.fit(net, X, y, loss="mse", optimizer="adam", lr=0.01, epochs=200)
    y_hat = net.predict(X)
"""

__version__ = "0.1.0"

_EXPORTS = {
    "build_network": "nnfit.nn.build",
    "make_layer": "nnfit.nn.build",
    "Network": "nnfit.nn.network",
    "make_loss": "nnfit.nn.losses",
    "make_optimizer": "nnfit.nn.optimizers",
    "fit": "nnfit.training.trainer",
    "Trainer": "nnfit.training.trainer",
    "History": "nnfit.training.observers",
    "Observer": "nnfit.training.observers",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'nnfit' has no attribute {name!r}")
