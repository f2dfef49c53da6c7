"""The memory estimate: counted by hand on a tiny network, and against tracemalloc on real ones."""

import tracemalloc

import numpy as np
import pytest

from nnfit.nn.activations import ACTIVATIONS, make_activation
from nnfit.nn.base import Layer
from nnfit.nn.build import LAYERS, LayerError, build_network
from nnfit.nn.optimizers import OPTIMIZERS, make_optimizer
from nnfit.runtime.memory import available_memory, estimate_bytes, format_bytes
from nnfit.training.early_stopping import EarlyStopping
from nnfit.training.observers import History, ValOutputs
from nnfit.training.trainer import Trainer


def test_every_shipped_layer_type_declares_its_buffers():
    """The base class's five-arrays-each-way rule is a guess for a layer that does not say."""
    guessed = [name for name, cls in LAYERS.items() if cls.buffer_floats is Layer.buffer_floats]
    assert guessed == []


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_each_optimizer_keeps_the_vectors_it_declares(name):
    params = np.zeros(7, np.float32)
    grads = np.zeros_like(params)
    optimizer = make_optimizer(name, lr=0.1).bind(params, grads)
    optimizer.step()
    kept = [v for v in vars(optimizer).values() if isinstance(v, np.ndarray)
            and v.shape == params.shape and v is not params and v is not grads]
    assert len(kept) == OPTIMIZERS[name].vectors


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_each_activation_keeps_the_scratch_it_declares(name):
    """Floats per element kept aside after a forward (softmax's per-row scratch is not one)."""
    z = np.linspace(-2, 2, 35, dtype=np.float32).reshape(7, 5)
    activation = make_activation(name)
    activation.forward(z.copy(), out=np.empty_like(z))
    flat = vars(activation).get("_flat")
    assert (0 if flat is None else flat.size // z.size) == ACTIVATIONS[name].scratch


def test_a_tiny_network_counted_by_hand():
    # Dense(3 → 4, relu) → Dense(4 → 2): 16 + 10 = 26 parameters; float32, sgd, batch 2,
    # 5 rows.
    estimate = estimate_bytes([{"type": "dense", "units": 4, "activation": "relu"},
                               {"type": "dense", "units": 2}], (3,), "float32", 2, 5, "sgd")
    assert estimate.n_params == 26
    assert estimate.parameters == 3 * 26 * 4  # params, grads, best-weights snapshot
    assert estimate.optimizer == 1 * 26 * 4  # sgd: the step's scratch vector only
    # Rows with buffers: a batch of 2 and the last batch of 5 % 2 = 1, so 3. Per row:
    # layer 0: y, bias, dz (4 each) + dx (3) = 15; layer 1 (identity): y, bias (2 each) + dx (4)
    # = 8; the trainer: x (3), y and dlogits (2 each) = 7. Predict over min(4096, 5) rows:
    # two scratch rows of the widest hidden layer, 2 · 4.
    assert estimate.activations == ((15 + 8 + 7) * 3 + 2 * 4 * 5) * 4
    assert estimate.data == 5 * 3 * 4
    assert estimate.total == 312 + 104 + 520 + 60
    assert estimate.batch_size == 2 and estimate.largest_layer == 0


def test_adam_keeps_three_vectors_and_float64_doubles_everything():
    layers = [{"type": "dense", "units": 4}]
    sgd = estimate_bytes(layers, (3,), "float32", 2, 5, "sgd")
    adam = estimate_bytes(layers, (3,), "float32", 2, 5, make_optimizer("adamw", lr=0.1))
    assert adam.optimizer == 3 * sgd.optimizer and adam.total - sgd.total == 2 * sgd.optimizer
    assert estimate_bytes(layers, (3,), "float64", 2, 5, "sgd").total == 2 * sgd.total


def test_a_billion_units_are_estimated_without_allocating_them():
    tracemalloc.start()
    try:
        estimate = estimate_bytes([{"type": "dense", "units": 10**9, "activation": "relu"},
                                   {"type": "dense", "units": 3}], (4,), "float32", 32, 105,
                                  "adamw", n_eval_rows=15)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100_000
    # 8e9 + 3 parameters × 6 vectors × 4 bytes = 192 GB; training buffers of 32 + 105 % 32 = 41
    # rows: (3e9 + 4 + 2·3 + 1e9) floats per row = 656 GB; two predict rows of 1e9 over
    # min(4096, 105) rows = 840 GB: 1.69 TB in all.
    assert estimate.total == pytest.approx(1.688e12, rel=1e-3)
    assert format_bytes(estimate.total) == "1.7 TB"


def test_a_layer_that_does_not_build_is_named():
    with pytest.raises(LayerError, match=r"layers\[1\]: attention takes tokens"):
        estimate_bytes([{"type": "dense", "units": 8}, {"type": "attention", "dim": 8}], (3,),
                       "float32", 32, 100, "adam")


STACKS = {
    "dense": ((40,), [{"type": "dense", "units": 256, "activation": "relu"},
                      {"type": "dense", "units": 256, "activation": "gelu"},
                      {"type": "dense", "units": 3}]),
    "norms": ((30,), [{"type": "dense", "units": 128}, {"type": "batchnorm"},
                      {"type": "activation", "activation": "leaky_relu"},
                      {"type": "dense", "units": 128}, {"type": "layernorm"},
                      {"type": "dropout", "rate": 0.1}, {"type": "dense", "units": 3}]),
    "attention": ((10,), [{"type": "tokens", "dim": 16, "cls": True},
                          {"type": "attention", "dim": 16, "heads": 2},
                          {"type": "pool"}, {"type": "dense", "units": 3}]),
}


@pytest.mark.parametrize("optimizer, batch_size", [("adamw", 64), ("sgd", 256)])
@pytest.mark.parametrize("stack", sorted(STACKS))
def test_the_estimate_is_within_2x_of_the_measured_peak(stack, optimizer, batch_size):
    """Train as the workflow does (early stopping, kept validation outputs, history), then
    predict the training rows as scoring does, all under tracemalloc."""
    shape, layers = STACKS[stack]
    n, n_val = 1500, 300
    estimate = estimate_bytes(layers, shape, "float32", batch_size, n, optimizer,
                              n_eval_rows=n_val)
    rng = np.random.default_rng(0)
    tracemalloc.start()
    try:
        X = rng.standard_normal((n,) + shape, dtype=np.float32)
        X_val = rng.standard_normal((n_val,) + shape, dtype=np.float32)
        y, y_val = rng.integers(0, 3, n), rng.integers(0, 3, n_val)
        net = build_network(layers, input_shape=shape)
        stopper = EarlyStopping("val_loss", patience=None)
        trainer = Trainer(net, "cross_entropy", make_optimizer(optimizer, lr=1e-3),
                          batch_size=batch_size, rng=rng,
                          observers=[stopper, ValOutputs(stopper), History()])
        trainer.fit(X, y, 2, validation=(X_val, y_val))
        net.predict(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak / 2 < estimate.total < 2 * peak, (format_bytes(estimate.total), format_bytes(peak))


@pytest.mark.parametrize("n, text", [(0, "0 bytes"), (999, "1 kB"), (1000, "1 kB"),
                                     (5_120_000_000, "5.1 GB"), (3.7e12, "3.7 TB"),
                                     (12_400_000, "12 MB"), (999_999, "1 MB"), (87, "87 bytes"),
                                     (154_000, "150 kB"), (2.5e15, "2500 TB")])
def test_format_bytes(n, text):
    assert format_bytes(n) == text


def test_available_memory_is_a_positive_count_on_this_machine():
    available = available_memory()
    assert available is None or available > 0
    try:
        with open("/proc/meminfo") as fh:
            total = int(next(line for line in fh if line.startswith("MemTotal:")).split()[1])
    except OSError:
        return
    assert 0 < available <= total * 1024
