import tracemalloc

import numpy as np
import pytest

from nnfit.nn.build import build_network
from nnfit.nn.optimizers import FLUSH_EVERY, OPTIMIZERS, make_optimizer


def _bound(name, params, grads, n_decay=None, **options):
    opt = make_optimizer(name, **options)
    return opt.bind(params, grads, n_decay)


def test_sgd_step_by_hand():
    p, g = np.array([1.0, -2.0]), np.array([0.5, 4.0])
    _bound("sgd", p, g, lr=0.1).step()
    np.testing.assert_allclose(p, [1.0 - 0.05, -2.0 - 0.4])


def test_momentum_two_steps_by_hand():
    p, g = np.array([1.0]), np.array([2.0])
    opt = _bound("momentum", p, g, lr=0.1, momentum=0.9)
    opt.step()  # v = 2; p = 1 - 0.1·2 = 0.8
    np.testing.assert_allclose(opt.velocity, [2.0])
    np.testing.assert_allclose(p, [0.8])
    opt.step()  # v = 0.9·2 + 2 = 3.8; p = 0.8 - 0.1·3.8 = 0.42
    np.testing.assert_allclose(opt.velocity, [3.8])
    np.testing.assert_allclose(p, [0.42])


def test_nesterov_two_steps_by_hand():
    p, g = np.array([1.0]), np.array([2.0])
    opt = _bound("nesterov", p, g, lr=0.1, momentum=0.9)
    opt.step()  # v = 2; p = 1 - 0.1·(2 + 0.9·2) = 0.62
    np.testing.assert_allclose(opt.velocity, [2.0])
    np.testing.assert_allclose(p, [0.62])
    opt.step()  # v = 3.8; p = 0.62 - 0.1·(2 + 0.9·3.8) = 0.078
    np.testing.assert_allclose(opt.velocity, [3.8])
    np.testing.assert_allclose(p, [0.078])


@pytest.mark.parametrize("name,expected", [
    # v = 0.9·2 + 1 = 2.8; p = 0.8 - 0.5·2.8 = -0.6   (a velocity holding η: 0.12)
    ("momentum", -0.6),
    # v = 2.8; p = 0.62 - 0.5·(1 + 0.9·2.8) = -1.14  (a velocity holding η: -0.492)
    ("nesterov", -1.14),
])
def test_a_new_learning_rate_applies_to_the_raw_velocity(name, expected):
    p, g = np.array([1.0]), np.array([2.0])
    opt = _bound(name, p, g, lr=0.1, momentum=0.9)
    opt.step()  # as in the two-step tests: v = 2
    opt.lr = 0.5
    g[...] = 1.0
    opt.step()
    np.testing.assert_allclose(opt.velocity, [2.8])
    np.testing.assert_allclose(p, [expected])


@pytest.mark.parametrize("name", ["momentum", "nesterov"])
def test_constant_rate_trajectory_equals_the_velocity_with_the_rate_inside(name):
    rng = np.random.default_rng(0)
    lr, mu = 0.05, 0.8
    p, g = rng.standard_normal(6), np.empty(6)
    opt = _bound(name, p, g, lr=lr, momentum=mu)
    q, v = p.copy(), np.zeros(6)  # the old form: v ← μ·v − η·g, v carries −η
    for _ in range(5):
        g[...] = rng.standard_normal(6)
        opt.step()
        v = mu * v - lr * g
        q = q + v if name == "momentum" else q + mu * v - lr * g
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_steps_allocate_no_arrays(name, dtype):
    p, g = np.ones(100_000, dtype=dtype), np.full(100_000, 0.5, dtype=dtype)
    opt = _bound(name, p, g, 50_000, lr=0.1, weight_decay=0.1)
    opt.step()
    tracemalloc.start()
    try:
        for _ in range(FLUSH_EVERY + 2):  # through a flush of the moving averages too
            opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10_000  # one temporary would be 800 kB


def test_adam_steps_by_hand_with_bias_correction():
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    p, g = np.array([1.0, 1.0]), np.array([0.5, -3.0])
    opt = _bound("adam", p, g, lr=lr, beta1=b1, beta2=b2, eps=eps)
    opt.step()
    # t = 1: m̂ = g and v̂ = g², so the step is lr·g/(|g| + eps) ≈ lr·sign(g)
    np.testing.assert_allclose(p, 1.0 - lr * g / (np.abs(g) + eps))
    g2 = np.array([1.0, 1.0])
    before = p.copy()
    g[...] = g2
    opt.step()
    m = b1 * (1 - b1) * np.array([0.5, -3.0]) + (1 - b1) * g2
    v = b2 * (1 - b2) * np.array([0.5, -3.0]) ** 2 + (1 - b2) * g2**2
    m_hat, v_hat = m / (1 - b1**2), v / (1 - b2**2)
    np.testing.assert_allclose(p, before - lr * m_hat / (np.sqrt(v_hat) + eps))


@pytest.mark.parametrize("penalty", ["l2", "weight_decay"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_penalties_leave_biases_alone(name, penalty):
    net = build_network([{"type": "dense", "units": 3, "activation": "relu"},
                         {"type": "dense", "units": 2}], n_features=4, dtype="float64")
    for slot in net.layout:
        if not slot.decays:
            net.param(slot.name)[...] = 1.0
    before = net.named_params()
    before = {k: v.copy() for k, v in before.items()}
    net.grads[...] = 0.0
    _bound(name, net.params, net.grads, net.n_decay, lr=0.1, **{penalty: 0.5}).step()
    for name_, value in net.named_params().items():
        if name_.endswith(".b"):
            np.testing.assert_array_equal(value, before[name_])
        else:
            assert not np.allclose(value, before[name_])
    if name == "sgd":  # zero data gradient: W ← W − lr·λ·W
        np.testing.assert_allclose(net.param("0.W"), before["0.W"] * (1 - 0.1 * 0.5))


def test_weights_come_first_in_the_flat_buffer():
    net = build_network([{"type": "dense", "units": 3}, {"type": "dense", "units": 2}], n_features=4)
    assert [s.name for s in net.layout] == ["0.W", "1.W", "0.b", "1.b"]
    assert net.n_decay == 4 * 3 + 3 * 2


@pytest.mark.parametrize("name,options,message", [
    ("sgd", {"lr": 0.0}, "learning rate must be positive"),
    ("adam", {"lr": 0.1, "weight_decay": -1.0}, "weight_decay must be >= 0"),
    ("adamw", {"lr": 0.1, "l2": -1.0}, "l2 must be >= 0"),
    ("sgd", {"lr": 0.1, "clip_norm": 0.0}, "clip_norm must be positive"),
    ("momentum", {"lr": 0.1, "momentum": 1.0}, "momentum must be in"),
    ("lbfgs", {}, "unknown optimizer 'lbfgs'"),
])
def test_bad_optimizer_options(name, options, message):
    with pytest.raises(ValueError, match=message):
        make_optimizer(name, **options)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flush_subnormals_leaves_none_and_moves_normals_by_at_most_tiny(dtype):
    from nnfit.nn.optimizers import flush_subnormals

    tiny = np.finfo(dtype).tiny
    x = np.array([0.0, tiny / 3, -tiny * 0.6, -tiny * 0.4, tiny * 0.99, tiny, -tiny * 1.5, 1e-30,
                  -0.5, 123.0], dtype=dtype)
    y = x.copy()
    flush_subnormals(y)
    assert not ((y != 0) & (np.abs(y) < tiny)).any()
    assert (np.abs(y - x) <= tiny).all() and (y[-3:] == x[-3:]).all()


def test_adam_state_of_a_dead_unit_does_not_stay_subnormal():
    p, g = np.ones(3, dtype=np.float32), np.array([1.0, 0.0, 0.0], dtype=np.float32)
    opt = _bound("adam", p, g, lr=0.01)
    opt.step()
    g[0] = 0.0
    for _ in range(2000):  # m ← 0.9·m decays through the subnormal range and would stick there
        opt.step()
    tiny = np.finfo(np.float32).tiny
    assert not ((opt.m != 0) & (np.abs(opt.m) < tiny)).any()


def test_adamw_two_steps_by_hand():
    """PyTorch's AdamW: θ ← θ·(1 − η·λ), then the Adam step from the raw gradient."""
    lr, wd, eps = 0.1, 0.5, 1e-8  # β1 0.9, β2 0.999: the bias-corrected moments are exact here
    p, g = np.array([2.0, -1.0]), np.array([0.5, 0.0])
    opt = _bound("adamw", p, g, lr=lr, weight_decay=wd)
    opt.step()
    # step 1: θ = [2, −1]·(1 − 0.05) = [1.9, −0.95]; Adam: −0.1·g/(|g| + ε) = [−0.1, 0]
    np.testing.assert_allclose(p, [1.9 - 0.1 * 0.5 / (0.5 + eps), -0.95])
    g[...] = [0.5, 0.0]
    opt.step()
    # step 2: θ·0.95, then m̂ = 0.5, v̂ = 0.25 again for the first entry
    np.testing.assert_allclose(p, [(1.9 - 0.1 * 0.5 / (0.5 + eps)) * 0.95 - 0.1 * 0.5 / (0.5 + eps),
                                   -0.95 * 0.95])


def test_adamw_defaults_to_weight_decay_001_and_adam_to_none():
    assert make_optimizer("adamw").weight_decay == 0.01
    assert make_optimizer("adam").weight_decay == 0.0
    assert repr(make_optimizer("adamw", lr=0.1, l2=0.5, clip_norm=1.0)) == \
        "adamw(lr=0.1, weight_decay=0.01, l2=0.5, clip_norm=1)"


def test_adamw_is_not_adam_with_l2():
    """The coupled penalty goes through Adam's 1/√v̂: a weight with a large gradient is
    barely decayed. Decoupled decay shrinks every weight by the same factor."""
    g0 = np.array([100.0, 0.001])
    p_w, g_w = np.array([1.0, 1.0]), g0.copy()
    p_l, g_l = np.array([1.0, 1.0]), g0.copy()
    adamw = _bound("adamw", p_w, g_w, lr=0.01, weight_decay=0.1)
    adam_l2 = _bound("adam", p_l, g_l, lr=0.01, l2=0.1)
    adamw.step()
    adam_l2.step()
    # t = 1, Adam's step is η·sign(g + λθ): the penalty changes nothing on entry 0, and on
    # entry 1 it only adds to a gradient whose sign it already had
    np.testing.assert_allclose(p_l, [1.0 - 0.01, 1.0 - 0.01])
    # AdamW shrinks both by η·λ·θ = 0.001 on top of the same Adam step
    np.testing.assert_allclose(p_w, [1.0 * (1 - 0.001) - 0.01, 1.0 * (1 - 0.001) - 0.01],
                               rtol=1e-6)
    np.testing.assert_allclose(p_l - p_w, [0.001, 0.001], rtol=1e-3)


def test_l2_adds_lambda_theta_to_the_gradient():
    p, g = np.array([2.0, -1.0]), np.array([0.5, 1.0])
    _bound("sgd", p, g, lr=0.1, l2=0.5).step()
    np.testing.assert_allclose(p, [2.0 - 0.1 * (0.5 + 1.0), -1.0 - 0.1 * (1.0 - 0.5)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_norm_rescales_the_whole_gradient_to_the_norm(dtype):
    p, g = np.zeros(2, dtype), np.array([3.0, 4.0], dtype)  # ‖g‖ = 5
    opt = _bound("sgd", p, g, lr=1.0, clip_norm=1.0)
    opt.step()
    np.testing.assert_allclose(p, [-0.6, -0.8], rtol=1e-6)
    assert p.dtype == dtype and opt.clipped == 1
    g[...] = [0.3, 0.4]  # below the norm: unchanged
    opt.step()
    np.testing.assert_allclose(p, [-0.9, -1.2], rtol=1e-6)
    assert opt.clipped == 1


def test_clipping_comes_before_the_l2_penalty():
    p, g = np.array([1.0, 0.0]), np.array([0.0, 10.0])
    _bound("sgd", p, g, lr=1.0, clip_norm=1.0, l2=0.5).step()
    # g → [0, 1] by clipping, then + 0.5·θ = [0.5, 1]
    np.testing.assert_allclose(p, [0.5, -1.0])
