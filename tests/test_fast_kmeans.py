"""fast_kmeans: grouping.KMeans' labels, bitwise, on random and adversarial problems."""

from __future__ import annotations

import numpy as np
import pytest

from ugc_lib.fast_kmeans import assign, kmeans_labels
from ugc_lib.grouping import KMeans


def _problems(rng):
    """(name, data) pairs: plain, ties on a grid, tiny and huge scales, duplicates."""
    out = []
    for d in (1, 2, 10, 64):
        n = int(rng.integers(20, 150))
        out.append((f"gauss{d}", rng.standard_normal((n, d)) * (1 + 5 * (rng.random((n, 1)) < 0.1))))
        grid = rng.integers(-2, 3, (n, d)).astype(float)  # many exactly equidistant points
        out += [(f"grid{d}", grid), (f"tiny{d}", grid * 1e-160), (f"offset{d}", grid + 1e8),
                (f"huge{d}", rng.standard_normal((n, d)) * 1e150),
                (f"dup{d}", np.repeat(rng.standard_normal((3, d)), n // 3 + 1, axis=0)[:n])]
    return out


@pytest.mark.parametrize("init", ["random", "k-means++"])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_labels_equal_grouping_kmeans(init, k):
    rng = np.random.default_rng(k)
    for name, z in _problems(rng):
        for n_init, max_iter in ((1, 10), (3, 300), (2, 1)):
            expected = KMeans(k, init=init, n_init=n_init, max_iter=max_iter,
                              random_state=7).fit(z).labels_
            got = kmeans_labels([z], k, init, n_init, max_iter, [7])[0]
            assert got.dtype == np.int64
            assert np.array_equal(got, expected), (name, n_init, max_iter)


def test_many_problems_each_with_its_own_random_state():
    rng = np.random.default_rng(0)
    Z = [rng.standard_normal((80, 5)) for _ in range(4)]
    states = [3, 1, 4, 1]
    got = kmeans_labels(Z, 2, "k-means++", 10, 300, states)
    for z, state, labels in zip(Z, states, got):
        assert np.array_equal(labels, KMeans(2, n_init=10, random_state=state).fit(z).labels_)


def test_assign_resolves_exact_ties_like_argmin():
    """Points exactly halfway between two centres go to the first, as argmin does."""
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, 0.0], [0.5, 3.0], [2.0, 0.0]])
    centres = np.array([[0.0, 0.0], [1.0, 0.0]])
    expected = KMeans._sq_dist(X, centres).argmin(1)
    assert np.array_equal(assign(X, centres, (X ** 2).sum(1)), expected)
    assert assign(X, centres, (X ** 2).sum(1))[2] == 0


def test_invalid_input_is_rejected_as_kmeans_rejects_it():
    with pytest.raises(ValueError, match="NaN"):
        kmeans_labels([np.array([[0.0], [np.nan]])], 1, "random", 1, 10, [0])
