"""Robust-phase objectives: Group DRO weights, static reweighting, the method registry."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ugc_lib.config import METHOD_NAMES, ObjectiveConfig
from ugc_lib.objectives import (METHODS, FeatureMagnitude, GroupDRO, InverseFrequency,
                                OracleGroupDRO, get_method)


def _assert_simplex(q: torch.Tensor) -> None:
    assert torch.isfinite(q).all(), q
    assert (q >= 0).all(), q
    assert abs(float(q.sum()) - 1.0) < 1e-6, q


def test_group_dro_q_stays_on_simplex_with_absent_groups():
    rng = np.random.default_rng(0)
    n_train, n_groups = 300, 4
    groups = rng.integers(0, n_groups, n_train)
    groups[:n_groups] = np.arange(n_groups)  # every group exists in the training set
    obj = GroupDRO(groups, np.zeros((n_train, 3)), ObjectiveConfig(dro_eta=0.5))
    assert obj.q.shape == (n_groups,)
    _assert_simplex(obj.q)
    saw_absent = False
    for step in range(300):
        if step % 3 == 0:
            # a batch drawn from groups {0, 2} only: groups 1 and 3 are absent
            pool = np.flatnonzero(np.isin(groups, [0, 2]))
        else:
            pool = np.arange(n_train)
        size = int(rng.integers(1, 20))
        index = torch.as_tensor(rng.choice(pool, size=size, replace=False))
        present = set(groups[index.numpy()].tolist())
        saw_absent |= len(present) < n_groups
        losses = torch.as_tensor(rng.uniform(0, 5, size), dtype=torch.float32,
                                 ).requires_grad_(True)
        loss = obj.batch_loss(losses, index)
        assert torch.isfinite(loss)
        loss.backward()
        assert torch.isfinite(losses.grad).all()
        _assert_simplex(obj.q)
    assert saw_absent


def test_group_dro_batch_loss_is_q_weighted_group_mean():
    groups = np.array([0, 0, 1, 1, 1, 2])
    cfg = ObjectiveConfig(dro_eta=0.1)
    obj = GroupDRO(groups, np.zeros((6, 1)), cfg)
    losses = torch.tensor([1.0, 3.0, 2.0, 4.0, 6.0, 9.0])
    index = torch.tensor([0, 1, 2, 3, 4])  # group 2 absent
    group_loss = torch.tensor([2.0, 4.0, 0.0])
    q = torch.full((3,), 1 / 3) * torch.exp(0.1 * group_loss)
    q = q / q.sum()
    loss = obj.batch_loss(losses[index], index)
    torch.testing.assert_close(obj.q, q)
    torch.testing.assert_close(loss, (q * group_loss).sum())


def test_group_dro_moves_mass_to_worst_group():
    groups = np.array([0] * 50 + [1] * 50)
    obj = GroupDRO(groups, np.zeros((100, 2)), ObjectiveConfig(dro_eta=0.05))
    rng = np.random.default_rng(1)
    for _ in range(20):
        index = torch.as_tensor(rng.choice(100, size=20, replace=False))
        losses = torch.where(torch.as_tensor(groups)[index] == 1, 5.0, 0.1)
        obj.batch_loss(losses, index)
    _assert_simplex(obj.q)
    assert obj.q[1] > obj.q[0]
    assert obj.q[1] > 0.9
    assert obj.state()["q"][1] > obj.state()["q"][0]


@pytest.mark.parametrize("normalize", [True, False])
def test_inverse_frequency_equal_total_weight_per_cluster(normalize):
    groups = np.array([0] * 7 + [1] * 2 + [2] * 11)
    obj = InverseFrequency(groups, np.zeros((20, 3)), ObjectiveConfig(normalize_weights=normalize))
    w = obj.weights.double().numpy()
    totals = [w[groups == g].sum() for g in range(3)]
    np.testing.assert_allclose(totals, totals[0], rtol=1e-6)
    if normalize:
        assert w.mean() == pytest.approx(1.0, abs=1e-6)
    else:
        sizes = np.bincount(groups)
        np.testing.assert_allclose(w, 1.0 / sizes[groups], rtol=1e-6)
        np.testing.assert_allclose(totals, 1.0, rtol=1e-6)


def test_static_weights_batch_loss_is_mean_of_weighted_losses():
    groups = np.array([0, 0, 0, 1])
    obj = InverseFrequency(groups, np.zeros((4, 1)), ObjectiveConfig(normalize_weights=False))
    losses = torch.tensor([1.0, 2.0, 3.0, 4.0])
    index = torch.tensor([0, 3])
    expected = (1 / 3 * 1.0 + 1.0 * 4.0) / 2
    assert float(obj.batch_loss(losses[index], index)) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("normalize", [True, False])
def test_feature_magnitude_hand_computed(normalize):
    features = np.array([[1.0, -3.0],   # mean |x| = 2
                         [0.0, 2.0],    # 1
                         [-4.0, 4.0],   # 4
                         [1.0, 1.0]])   # 1
    groups = np.array([0, 0, 1, 1])
    # cluster 0: (2 + 1) / 2 = 1.5; cluster 1: (4 + 1) / 2 = 2.5
    expected = np.array([1.5, 1.5, 2.5, 2.5])
    if normalize:
        expected = expected / expected.mean()
    obj = FeatureMagnitude(groups, features, ObjectiveConfig(normalize_weights=normalize))
    np.testing.assert_allclose(obj.weights.double().numpy(), expected, rtol=1e-6)


def test_get_method_unknown_lists_valid_names():
    with pytest.raises(ValueError) as info:
        get_method("nope")
    message = str(info.value)
    assert "nope" in message
    for name in METHODS:
        assert name in message


def test_methods_registry_matches_config_names():
    assert tuple(METHODS) == METHOD_NAMES
    for name, cls in METHODS.items():
        assert get_method(name) is cls


def test_only_oracle_uses_true_groups():
    assert OracleGroupDRO.uses_true_groups is True
    assert METHODS["oracle_dro"] is OracleGroupDRO
    readers = [name for name, cls in METHODS.items() if cls.uses_true_groups]
    assert readers == ["oracle_dro", "oracle_subsample", "dfr"]
