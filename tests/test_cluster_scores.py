"""cluster_scores: ARI and NMI from contingency tables equal scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from ugc_lib.cluster_scores import adjusted_rand, contingency, normalized_mutual_info
from ugc_lib.metrics import recovery


def _labelings(rng):
    yield np.array([], dtype=int), np.array([], dtype=int)
    yield np.zeros(10, int), np.zeros(10, int)  # one class, one cluster
    yield np.zeros(10, int), np.arange(10)  # every sample its own cluster
    yield np.array([0, 0, 1, 1]), np.array([1, 1, 0, 0])
    yield np.array([0, 0, 1, 2]), np.array([0, 0, 1, 1])
    for _ in range(300):
        n = int(rng.integers(1, 1200))
        a = rng.integers(0, int(rng.integers(1, 6)), n)
        b = rng.integers(0, int(rng.integers(1, 9)), n)
        if rng.random() < 0.4:
            b = np.where(rng.random(n) < 0.9, a, b)  # mostly agreeing
        yield a, b * 3 + 5  # labels need not be 0..k-1


def test_equal_to_scikit_learn():
    rng = np.random.default_rng(0)
    for a, b in _labelings(rng):
        table = contingency(a, b)
        for ours, theirs in ((adjusted_rand(table), adjusted_rand_score(a, b)),
                             (normalized_mutual_info(table), normalized_mutual_info_score(a, b))):
            assert abs(ours - theirs) <= 1e-9
            assert ours == theirs  # the same expressions in the same order: the same float


def test_contingency_counts_present_values_in_sorted_order():
    table = contingency(np.array([3, 3, 1, 1, 1]), np.array([7, 2, 2, 2, 7]))
    assert table.tolist() == [[2, 1], [1, 1]]  # rows 1, 3; columns 2, 7
    assert table.dtype == np.int64


@pytest.mark.parametrize("seed", [0, 1])
def test_recovery_reports_scikit_learn_values(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 500)
    s = np.where(rng.random(500) < 0.9, y, 1 - y)
    clusters = rng.integers(0, 3, 500)
    rec = recovery(clusters, y, s)
    for name, t in (("y", y), ("s", s), ("ys", 2 * y + s)):
        assert rec[f"ari_{name}"] == adjusted_rand_score(t, clusters)
        assert rec[f"nmi_{name}"] == normalized_mutual_info_score(t, clusters)
