"""The newer layers keep the engine's habits: float32 stays float32, training reuses buffers."""

import tracemalloc

import numpy as np
import pytest

from nnfit.nn.build import LAYERS, build_network
from nnfit.nn.optimizers import make_optimizer

STACKS = {
    "tokenizer": ((5,), [{"type": "tokens", "dim": 4, "cls": True}, {"type": "dense", "units": 3}]),
    "pooled": ((5,), [{"type": "tokens", "dim": 4}, {"type": "pool"}, {"type": "dense", "units": 3}]),
    "cls_pooled": ((6, 4), [{"type": "pool", "mode": "cls"}, {"type": "dense", "units": 3}]),
    "rows": ((5,), [{"type": "dense", "units": 6, "activation": "relu"}, {"type": "batchnorm"},
                    {"type": "layernorm"}, {"type": "dropout", "rate": 0.3},
                    {"type": "dense", "units": 3}]),
    "tokens": ((4, 5), [{"type": "batchnorm"}, {"type": "layernorm"},
                        {"type": "dense", "units": 6, "activation": "tanh"},
                        {"type": "dropout", "rate": 0.2}, {"type": "layernorm"},
                        {"type": "dense", "units": 3}]),
    "attention": ((5,), [{"type": "tokens", "dim": 8, "cls": True},
                         {"type": "attention", "dim": 8, "heads": 2}, {"type": "pool"},
                         {"type": "dense", "units": 3}]),
    "attention_gelu": ((5,), [{"type": "tokens", "dim": 8},
                              {"type": "attention", "dim": 8, "heads": 2, "activation": "gelu"},
                              {"type": "pool"}, {"type": "dense", "units": 3, "activation": "gelu"}]),
    "embedding_plr": ((5,), [{"type": "numeric_embedding", "frequencies": 4, "dim": 6},
                             {"type": "dense", "units": 3}]),
    "embedding_lite": ((5,), [{"type": "numeric_embedding", "frequencies": 4, "dim": 6,
                               "lite": True}, {"type": "dense", "units": 3}]),
    "embedding_periodic": ((5,), [{"type": "numeric_embedding", "kind": "periodic",
                                   "frequencies": 4}, {"type": "dense", "units": 3}]),
}


def _step(net, opt, x, dlogits):
    """One training step; ``dlogits`` stands for a loss gradient (losses read 2-D outputs only)."""
    logits = net.forward(x, training=True)
    net.backward(dlogits)
    opt.step()
    return logits


def _setup(stack, n=9):
    input_shape, layers = STACKS[stack]
    rng = np.random.default_rng(0)
    net = build_network(layers, input_shape=input_shape, dtype="float32")
    opt = make_optimizer("adam", lr=0.01, weight_decay=0.1).bind(net.params, net.grads, net.n_decay)
    x = rng.standard_normal((n,) + input_shape).astype(np.float32)
    dlogits = rng.standard_normal((n,) + net.output_shape).astype(np.float32)
    return net, opt, x, dlogits


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_float32_path_never_upcasts_in_the_new_layers(stack):
    net, opt, x, dlogits = _setup(stack)
    logits = _step(net, opt, x, dlogits)
    arrays = [logits, dlogits, net.params, net.grads, net.state, net.predict(x), net.forward(x)]
    arrays += [buf for layer in net.layers for buf in layer._buffers.values()]
    arrays += [v for layer in net.layers for v in vars(layer).values()
               if isinstance(v, np.ndarray) and v.dtype.kind != "i"]  # not index arrays
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}


def _second_step_peak(net, opt, x, dlogits):
    """The traced peak of a step after the first (which allocates the buffers): the lower
    of two, so a one-off allocation elsewhere in the process (a cache filled, a dict grown
    by an earlier test in the same worker) is not counted as the step's."""
    _step(net, opt, x, dlogits)
    peaks = []
    for _ in range(2):
        tracemalloc.start()
        try:
            _step(net, opt, x, dlogits)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    return min(peaks)


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_training_steps_allocate_no_more_than_the_dense_path(stack):
    n = 512
    net, opt, x, dlogits = _setup(stack, n)
    peak = _second_step_peak(net, opt, x, dlogits)
    _, layers = STACKS[stack]
    # the dense path at the shapes its layers see in ``net`` (after a tokenizer: (tokens, dim))
    first_dense = next(layer for layer in net.layers if layer.type == "dense")
    dense = build_network([s for s in layers if s["type"] == "dense"],
                          input_shape=first_dense.input_shape)
    dense_opt = make_optimizer("adam", lr=0.01).bind(dense.params, dense.grads, dense.n_decay)
    dense_x = np.ones((n,) + dense.input_shape, np.float32)
    dense_dlogits = np.ones((n,) + dense.output_shape, np.float32)
    dense_peak = _second_step_peak(dense, dense_opt, dense_x, dense_dlogits)
    one_batch_column = n * 4  # 2 kB: less than any per-batch float32 array
    # views, scalars and reductions' iterator buffers (~0.3 kB each) only: no per-batch array
    assert peak - dense_peak < one_batch_column, (peak, dense_peak)


def test_every_newer_layer_type_is_in_the_registry():
    assert {"batchnorm", "layernorm", "dropout", "tokens", "pool", "attention",
            "numeric_embedding"} <= set(LAYERS)
