"""ugc_lib.theory (claim C4) and the C14 helper of ugc_lib.diagnostics: fast property tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ugc_lib import claims, diagnostics, theory
from ugc_lib.claims import NOT_REPRODUCED, PARTLY, REPRODUCED
from ugc_lib.config import DataConfig
from ugc_lib.data import make_synthetic

from conftest import make_tiny


@pytest.fixture(scope="module")
def train_split():
    return make_synthetic(DataConfig(n_samples=300, split_sizes=(200, 50, 50)), seed=3).train


def test_gradient_matches_autograd(train_split):
    X, y_pm = train_split.X.astype(np.float64), theory.pm_labels(train_split.y)
    theta = theory.init_theta(X.shape[1], 0.5, seed=1)
    G = theory.squared_loss_grads(theta, X, y_pm)
    t = torch.tensor(theta, requires_grad=True)
    for i in (0, 7, 42):
        loss = 0.5 * (torch.tensor(X[i]) @ t - y_pm[i]) ** 2
        (g,) = torch.autograd.grad(loss, t)
        np.testing.assert_allclose(G[i], g.numpy(), atol=1e-12)


def test_cosine_is_sign_of_one_minus_margin(train_split):
    X, y_pm = train_split.X, theory.pm_labels(train_split.y)
    theta = theory.init_theta(X.shape[1], 2.0, seed=0)
    cos = theory.cosine_to_target(theory.squared_loss_grads(theta, X, y_pm), X, y_pm)
    margin = y_pm * (X.astype(np.float64) @ theta)
    np.testing.assert_allclose(np.abs(cos), 1.0, atol=1e-12)
    assert np.array_equal(np.sign(cos), np.sign(1 - margin))


def test_relative_deviation_is_abs_f(train_split):
    X, y_pm = train_split.X, theory.pm_labels(train_split.y)
    theta = theory.init_theta(X.shape[1], 0.3, seed=4)
    dev = theory.relative_deviation(theory.squared_loss_grads(theta, X, y_pm), X, y_pm)
    np.testing.assert_allclose(dev, np.abs(X.astype(np.float64) @ theta), atol=1e-12)


def test_alignment_tends_to_one_as_init_shrinks(train_split):
    X, y_pm = train_split.X, theory.pm_labels(train_split.y)
    cos = [theory.alignment(theory.init_theta(X.shape[1], sc, 0), X, y_pm)["mean_cos"]
           for sc in (10.0, 1.0, 1e-2, 1e-4)]
    assert cos[-1] == 1.0 and cos[-2] == 1.0
    assert all(a <= b + 1e-12 for a, b in zip(cos, cos[1:]))  # monotone in the scale
    assert cos[0] < 0.5


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_reduces_loss_and_is_deterministic(train_split, optimizer):
    X, y_pm = train_split.X, theory.pm_labels(train_split.y)
    theta0 = theory.init_theta(X.shape[1], 1e-3, 0)
    path = theory.train_linear(X, y_pm, theta0, optimizer, epochs=3, seed=5)
    assert path.shape == (4, X.shape[1])
    np.testing.assert_array_equal(path[0], theta0)
    loss = lambda th: float(np.mean(0.5 * (X.astype(np.float64) @ th - y_pm) ** 2))  # noqa: E731
    assert loss(path[-1]) < loss(path[0])
    np.testing.assert_array_equal(path, theory.train_linear(X, y_pm, theta0, optimizer, epochs=3,
                                                            seed=5))


def test_train_linear_rejects_unknown_optimizer(train_split):
    with pytest.raises(ValueError, match="optimizer"):
        theory.train_linear(train_split.X, theory.pm_labels(train_split.y), np.zeros(6), "rmsprop")


def test_verdict_c4_rule():
    assert claims.verdict_c4([1.0] * 5, [0.6] * 5, "both").verdict == REPRODUCED
    assert claims.verdict_c4([1.0] * 5, [0.1] * 5, "both").verdict == NOT_REPRODUCED
    assert claims.verdict_c4([1.0] * 5, [0.3, 0.7] * 2 + [0.5], "both").verdict == PARTLY
    assert claims.verdict_c4([0.9] * 5, [0.9] * 5, "both").verdict == NOT_REPRODUCED
    v = claims.verdict_c4([0.96, 0.97], [0.6, 0.6], "paper_text")
    assert v.id == "C4" and v.preset == "paper_text" and v.n_seeds == 2
    assert v.verdict == REPRODUCED and [p["outcome"] for p in v.parts] == ["holds", "holds"]


def test_group_mean_gradients_shape():
    cfg = DataConfig(n_samples=300, split_sizes=(200, 50, 50))
    table = theory.group_mean_gradients(cfg, seed=0)
    assert list(table.columns) == ["n", "core0", "core1", "core2", "core3", "core4", "s"]
    assert int(table["n"].iloc[:-1].sum()) == 200
    # at a tiny init, g = -y x: the s coordinate is -y_pm * s, constant within a group
    assert table.loc["std within groups", "s"] == 0.0


def test_c14_check_detects_only_group_readers():
    cfg = make_tiny(**{"objective.method": "inverse_freq"})
    out = diagnostics.c14_check(cfg, seed=0)
    assert out["s_changed"] > 0.2
    assert out["clusters_identical"] and out["weights_identical"] and out["predictions_identical"]
    oracle = diagnostics.c14_check(make_tiny(**{"objective.method": "oracle_dro"}), seed=0)
    assert not oracle["weights_identical"]
