import numpy as np
import pytest

from nnfit.nn.activations import sigmoid, softmax
from nnfit.nn.build import build_network
from nnfit.nn.ensemble import Ensemble


def nets(n_out, k=3, dtype="float64"):
    return [build_network([{"type": "dense", "units": 5, "activation": "tanh"},
                           {"type": "dense", "units": n_out}], n_features=4, dtype=dtype, seed=s)
            for s in range(k)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logits_of_the_mean_probability(dtype):
    X = np.random.default_rng(0).standard_normal((7, 4)).astype(dtype)
    members = nets(1, dtype=dtype)
    got = sigmoid(Ensemble(members, "sigmoid").predict(X), np.empty((7, 1), dtype))
    want = np.mean([sigmoid(n.predict(X), np.empty((7, 1), dtype)) for n in members], axis=0)
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == "float32" else 1e-12)
    assert got.dtype == dtype
    members = nets(3, dtype=dtype)
    got = softmax(Ensemble(members, "softmax").predict(X),
                  np.empty((7, 3), dtype), np.empty((7, 1), dtype))
    want = np.mean([softmax(n.predict(X), np.empty((7, 3), dtype), np.empty((7, 1), dtype))
                    for n in members], axis=0)
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == "float32" else 1e-12)
    members = nets(2, dtype=dtype)
    np.testing.assert_allclose(Ensemble(members, "identity").predict(X),
                               np.mean([n.predict(X) for n in members], axis=0), rtol=1e-6)


def test_certain_members_stay_finite():
    members = nets(1, k=2)
    for net in members:
        net.params[...] = 0.0
        net.param("1.b")[...] = 800.0  # σ = 1 exactly
    out = Ensemble(members, "sigmoid").predict(np.zeros((2, 4)))
    assert np.isfinite(out).all() and out[0, 0] > 30


def test_members_must_share_the_architecture():
    with pytest.raises(ValueError, match="member 1 has another architecture"):
        Ensemble([nets(1, 1)[0], nets(2, 1)[0]], "identity")
    with pytest.raises(ValueError, match="at least 2 members"):
        Ensemble(nets(1, 1), "identity")
    assert repr(Ensemble(nets(1, 2), "sigmoid")).startswith("Ensemble(2 × Network(")


def test_the_scorer_scores_an_ensembles_training_rows_with_the_ensemble_not_member_1():
    from nnfit.data.dataset import Splits
    from nnfit.evaluation.scoring import score_splits
    from nnfit.evaluation.task import Regression

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 3)), rng.standard_normal((40, 1))
    spec = [{"type": "dense", "units": 4, "activation": "relu"},
            {"type": "dense", "units": 1, "activation": "identity"}]
    members = [build_network(spec, 3, dtype="float64", seed=s) for s in (1, 2)]
    ensemble = Ensemble(members, "identity")
    task = Regression("mse", ["y"], [[0.0, 1.0]])
    scored = score_splits(ensemble, task, Splits({"train": X}, {"train": y}), census=True)
    np.testing.assert_allclose(scored.outputs["train"], ensemble.predict(X))
    assert scored.dead and scored.dead[0]["units"] == 4  # the first member's census
