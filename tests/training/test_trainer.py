import numpy as np
import pytest

import nnfit
from nnfit.nn.build import build_network
from nnfit.nn.optimizers import make_optimizer
from nnfit.training.observers import Observer
from nnfit.training.trainer import Trainer, fit


def xor_blobs(n_per=50, seed=0):
    """Four Gaussian blobs at (±1, ±1); the class is the XOR of the signs."""
    rng = np.random.default_rng(seed)
    centers = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]], dtype=float)
    X = np.concatenate([c + 0.25 * rng.standard_normal((n_per, 2)) for c in centers])
    y = np.repeat([0, 0, 1, 1], n_per)
    return X, y


def noisy_sine(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, size=(n, 1))
    return X, np.sin(2 * X[:, 0]) + 0.1 * rng.standard_normal(n)


HIDDEN2 = [{"type": "dense", "units": 16, "activation": "relu"},
           {"type": "dense", "units": 16, "activation": "relu"}]


def test_two_hidden_layers_learn_xor_to_near_zero_loss():
    X, y = xor_blobs()
    net = build_network(HIDDEN2 + [{"type": "dense", "units": 2}], n_features=2, seed=0)
    history = fit(net, X, y, loss="cross_entropy", optimizer="adam", lr=0.01, epochs=150, seed=0)
    assert history["train_loss"][-1] < 0.01
    proba = nnfit.make_loss("cross_entropy").output(net.predict(X))
    assert (proba.argmax(axis=1) == y).all()


def test_a_linear_model_cannot_learn_xor():
    X, y = xor_blobs()
    net = build_network([{"type": "dense", "units": 2}], n_features=2, seed=0)
    history = fit(net, X, y, loss="cross_entropy", lr=0.01, epochs=150, seed=0)
    assert history["train_loss"][-1] > 0.6  # log 2 ≈ 0.693 is chance


def test_mlp_fits_noisy_sine_far_better_than_linear():
    X, y = noisy_sine()
    mlp = build_network([{"type": "dense", "units": 32, "activation": "tanh"},
                         {"type": "dense", "units": 32, "activation": "tanh"},
                         {"type": "dense", "units": 1}], n_features=1, seed=0)
    linear = build_network([{"type": "dense", "units": 1}], n_features=1, seed=0)
    mse_mlp = fit(mlp, X, y, loss="mse", lr=0.01, epochs=300, seed=0)["train_loss"][-1]
    mse_lin = fit(linear, X, y, loss="mse", lr=0.01, epochs=300, seed=0)["train_loss"][-1]
    assert mse_lin > 0.4  # sin(2x) has variance ≈ 0.5, a line explains little of it
    assert mse_mlp < 0.03  # the noise variance is 0.01
    assert mse_mlp < mse_lin / 10


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adam"])
def test_same_seed_gives_identical_training(optimizer):
    X, y = noisy_sine(100)

    def run(seed):
        net = build_network(HIDDEN2 + [{"type": "dense", "units": 1}], n_features=1, seed=seed)
        h = fit(net, X, y, loss="mse", optimizer=optimizer, lr=0.01, epochs=5, batch_size=16, seed=seed)
        return h["train_loss"], net.params.copy()

    (loss_a, params_a), (loss_b, params_b), (loss_c, _) = run(3), run(3), run(4)
    assert loss_a == loss_b
    np.testing.assert_array_equal(params_a, params_b)
    assert loss_a != loss_c


def test_epoch_loss_covers_every_row_once_including_the_partial_batch():
    X, y = noisy_sine(37)
    net = build_network([{"type": "dense", "units": 1}], n_features=1, dtype="float64", seed=0)
    seen = []

    class Spy(Observer):
        def on_epoch_end(self, epoch, logs):
            seen.append(logs)

    # lr tiny: the weights barely move, so the epoch's train loss ≈ the loss at the start
    start = nnfit.make_loss("sse").value(net.predict(X), y.reshape(-1, 1))
    trainer = Trainer(net, "sse", make_optimizer("sgd", lr=1e-12), batch_size=10, observers=[Spy()])
    logs = trainer.fit(X, y, epochs=1)
    assert sorted(trainer._batch_buffers(X, y.reshape(-1, 1))) == [7, 10]
    assert logs["train_loss"] == pytest.approx(start / 37, rel=1e-9)  # per row, over 10+10+10+7
    assert seen == [logs] and set(logs) == {"epoch", "train_loss", "lr", "seconds"}


def test_validation_loss_is_reported_every_epoch():
    X, y = noisy_sine(120)
    net = build_network([{"type": "dense", "units": 8, "activation": "tanh"},
                         {"type": "dense", "units": 1}], n_features=1)
    history = fit(net, X[:100], y[:100], loss="mse", epochs=4, validation=(X[100:], y[100:]))
    assert len(history["val_loss"]) == len(history["train_loss"]) == 4
    assert history.epochs == [1, 2, 3, 4]
    val_y = y[100:].reshape(-1, 1).astype(np.float32)
    expected = nnfit.make_loss("mse").value(net.predict(X[100:]), val_y)
    assert history["val_loss"][-1] == pytest.approx(expected)


def test_an_observer_can_stop_training():
    class StopAtTwo(Observer):
        def on_epoch_end(self, epoch, logs):
            if epoch == 2:
                self.trainer.stop_training = True

    X, y = noisy_sine(50)
    net = build_network([{"type": "dense", "units": 1}], n_features=1)
    history = fit(net, X, y, loss="mse", epochs=10, observers=[StopAtTwo()])
    assert history.epochs == [1, 2]


CE3 = [{"type": "dense", "units": 3}]
MSE1 = [{"type": "dense", "units": 1}]
BCE2 = [{"type": "dense", "units": 2}]
ROWS = np.zeros((150, 2))
CLASSES = np.arange(150) % 3


@pytest.mark.parametrize("layers,loss,X,y,validation,message", [
    (CE3, "cross_entropy", ROWS, CLASSES[:149], None, r"^y has 149 rows but X has 150$"),
    (MSE1, "mse", ROWS[:10], np.zeros(11), None, r"^y has 11 rows but X has 10$"),
    (CE3, "cross_entropy", ROWS, CLASSES, (ROWS[:10], CLASSES[:9]),
     r"^validation y has 9 rows but validation X has 10$"),
    (CE3, "cross_entropy", ROWS, CLASSES + 1, None,
     r"^class index 3 is outside \[0, 3\) for a network with 3 outputs$"),
    (CE3, "cross_entropy", ROWS, CLASSES - 1, None, r"^class index -1 is outside \[0, 3\)"),
    (CE3, "cross_entropy", ROWS, CLASSES, (ROWS[:2], np.array([0, 7])),
     r"^validation: class index 7 is outside \[0, 3\)"),
    (CE3, "cross_entropy", ROWS, CLASSES / 2, None, "integer class indices"),
    (BCE2, "binary_cross_entropy", ROWS[:3], [[0, 1], [1, -1], [1, 1]], None,
     r"^binary_cross_entropy targets must lie in \[0, 1\] \(got -1\)$"),
    (BCE2, "binary_cross_entropy", ROWS[:3], [[0, 1], [1, np.nan], [2, 1]], None, r"\(got nan\)"),
    (MSE1, "mse", ROWS[:4], np.zeros((4, 2)), None,
     r"^y has 2 columns but the network has 1 output; mse targets are \(n_samples, n_outputs\)$"),
    (BCE2, "binary_cross_entropy", ROWS[:4], np.zeros(4), None,
     r"^y has 1 column but the network has 2 outputs"),
    (MSE1, "mse", ROWS[:4], np.zeros((4, 1, 1)), None, r"^y has shape \(4, 1, 1\) but"),
    (MSE1, "sse", ROWS[:4], np.zeros(4), (ROWS[:2], np.zeros((2, 3))), r"^validation: y has 3 columns"),
])
def test_bad_targets_raise_a_plain_value_error(layers, loss, X, y, validation, message):
    net = build_network(layers, n_features=2)
    before = net.params.copy()
    with pytest.raises(ValueError, match=message):
        nnfit.fit(net, X, y, loss=loss, epochs=1, validation=validation)
    np.testing.assert_array_equal(net.params, before)  # rejected before any step


def test_inputs_of_the_wrong_width_are_refused_before_training():
    net = build_network([{"type": "dense", "units": 2}], n_features=3, seed=0)
    with pytest.raises(ValueError, match=r"X has rows of shape \(4,\) but the network takes \(3,\)"):
        fit(net, np.zeros((5, 4)), np.zeros(5, dtype=int), loss="cross_entropy", epochs=1)
