"""k-means and gradient clustering."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from ugc_lib.grouping import GradientClustering, KMeans


def _blobs(rng, n_per=40, dim=5, k=3, spread=0.3, distance=20.0):
    centres = rng.normal(size=(k, dim))
    centres = distance * centres / np.linalg.norm(centres, axis=1, keepdims=True)
    centres[1] = -centres[0]  # at least two far apart
    X = np.concatenate([c + spread * rng.standard_normal((n_per, dim)) for c in centres])
    labels = np.repeat(np.arange(k), n_per)
    return X, labels


@pytest.mark.parametrize("init,n_init", [("random", 25), ("k-means++", 10)])
def test_kmeans_recovers_planted_blobs(rng, init, n_init):
    X, truth = _blobs(rng, k=3)
    km = KMeans(3, init=init, n_init=n_init, random_state=0).fit(X)
    assert adjusted_rand_score(truth, km.labels_) == 1.0
    assert km.labels_.shape == (len(X),)
    np.testing.assert_array_equal(km.predict(X), km.labels_)


def test_kmeans_same_random_state_same_labels(rng):
    X = rng.standard_normal((150, 4))  # no structure: labels depend on the starts
    for init in ("random", "k-means++"):
        a = KMeans(5, init=init, n_init=2, random_state=7).fit(X)
        b = KMeans(5, init=init, n_init=2, random_state=7).fit(X)
        np.testing.assert_array_equal(a.labels_, b.labels_)
        np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)


def test_kmeans_too_many_clusters_raises():
    with pytest.raises(ValueError, match="n_clusters"):
        KMeans(6).fit(np.zeros((5, 2)))


def test_kmeans_inertia_is_best_over_restarts(rng):
    X = rng.standard_normal((120, 3))
    one = KMeans(4, init="random", n_init=1, random_state=3).fit(X)
    many = KMeans(4, init="random", n_init=8, random_state=3).fit(X)
    assert many.inertia_ <= one.inertia_ + 1e-9
    d2 = ((X[:, None] - many.cluster_centers_[None]) ** 2).sum(-1)
    assert many.inertia_ == pytest.approx(d2[np.arange(len(X)), many.labels_].sum())


def test_per_class_labels_are_class_times_k_plus_cluster(rng):
    n = 90
    y = rng.integers(0, 2, n)
    G = rng.standard_normal((n, 12)) + 3.0 * y[:, None]
    k = 3
    gc = GradientClustering(k=k, pca_dim=4, scope="per_class", random_state=0).fit(G, y)
    labels = gc.labels_
    assert labels.dtype == np.int64
    assert gc.embedding_.shape == (n, 4)
    for lab in np.unique(labels):
        classes = np.unique(y[labels == lab])
        assert len(classes) == 1, (lab, classes)  # every label lies in one class
        assert lab // k == classes[0]
        assert 0 <= lab % k < k
    # each class is split into k clusters
    for c in (0, 1):
        assert len(np.unique(labels[y == c])) == k


def test_global_scope_ignores_y(rng):
    G = rng.standard_normal((60, 8))
    y = rng.integers(0, 2, 60)
    a = GradientClustering(k=2, pca_dim=3, random_state=0).fit(G, y).labels_
    b = GradientClustering(k=2, pca_dim=3, random_state=0).fit(G).labels_
    np.testing.assert_array_equal(a, b)
    assert set(a.tolist()) <= {0, 1}


def test_per_class_k_larger_than_class_raises(rng):
    G = rng.standard_normal((20, 4))
    y = np.array([0] * 18 + [1] * 2)
    with pytest.raises(ValueError, match="k=3"):
        GradientClustering(k=3, pca_dim=None, scope="per_class").fit(G, y)


def test_per_class_without_y_raises(rng):
    with pytest.raises(ValueError, match="per_class"):
        GradientClustering(k=2, pca_dim=None, scope="per_class").fit(rng.standard_normal((20, 4)))


def test_pca_dim_too_large_raises(rng):
    G = rng.standard_normal((30, 6))
    with pytest.raises(ValueError, match="pca_dim"):
        GradientClustering(k=2, pca_dim=7).fit(G)
    G_wide = rng.standard_normal((5, 40))  # min(shape) is the sample count here
    with pytest.raises(ValueError, match="pca_dim"):
        GradientClustering(k=2, pca_dim=6).fit(G_wide)
    # the boundary is allowed
    GradientClustering(k=2, pca_dim=6).fit(G)


def test_inputs_source_clusters_the_raw_inputs():
    """grouping.source="inputs": the signatures are the training inputs themselves, so the
    clusters equal k-means on X (no model involved)."""
    from conftest import make_tiny
    from ugc_lib.grouping import SOURCES, infer_groups
    from ugc_lib.config import grouping_input_dim
    from ugc_lib.data import make_dataset

    cfg = make_tiny(**{"grouping.source": "inputs", "grouping.pca_dim": None})
    assert "inputs" in SOURCES and grouping_input_dim(cfg) == cfg.data.input_dim
    ds = make_dataset(cfg.data, 0)
    G, labels, _ = infer_groups(cfg.grouping, None, ds.train.X, ds.train.y, seed=0)
    assert G.shape == ds.train.X.shape and np.array_equal(G, ds.train.X.astype(np.float64))
    G2, labels2, _ = infer_groups(cfg.grouping, None, ds.train.X + 0.0, ds.train.y, seed=0)
    assert np.array_equal(labels, labels2) and len(set(labels.tolist())) == cfg.grouping.k


def test_inputs_source_runs_end_to_end_and_batched_equals_single():
    from conftest import make_tiny
    from ugc_lib import runner
    from ugc_lib.train import run_experiment

    cfg = make_tiny(**{"grouping.source": "inputs", "grouping.pca_dim": None,
                       "grouping.scope": "per_class"})
    batch = runner.sweep([cfg], [0, 1, 2], cache_dir=None)
    for seed, rec in zip((0, 1, 2), batch):
        alone = run_experiment(cfg, seed)
        assert rec["clusters"] == alone["clusters"] and rec["history"] == alone["history"]
