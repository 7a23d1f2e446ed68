"""Group inference from signatures: PCA then k-means, globally or per class.

scikit-learn conventions: __init__ stores arguments, fit validates and sets
attributes ending in "_", randomness comes only from random_state.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA

from .config import GROUPING_SCOPES, KMEANS_INITS, GroupingConfig


class KMeans:
    """Lloyd's k-means in NumPy.

    init="random" with n_init=1, max_iter=10 is the paper script's k-means (k random
    training points as starting centres, plain Lloyd iterations). init="k-means++" with
    n_init restarts (best inertia kept) is the usual choice. An empty cluster keeps its
    previous centre.
    """

    def __init__(self, n_clusters: int = 2, init: str = "k-means++", n_init: int = 10,
                 max_iter: int = 300, random_state: int | None = 0):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state

    def _validate(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
        if not 1 <= self.n_clusters <= len(X):
            raise ValueError(f"n_clusters={self.n_clusters} is invalid: allowed 1..{len(X)} "
                             f"(the number of samples)")
        if self.init not in KMEANS_INITS:
            raise ValueError(f"init={self.init!r} is invalid: allowed {KMEANS_INITS}")
        if self.n_init < 1 or self.max_iter < 1:
            raise ValueError(f"n_init={self.n_init}, max_iter={self.max_iter}: both must be >= 1")
        if not np.isfinite(X).all():
            raise ValueError("X contains NaN or infinite values")
        return X

    def _initial_centres(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if self.init == "random":
            return X[rng.choice(len(X), self.n_clusters, replace=False)].copy()
        centres = [X[rng.integers(len(X))]]
        d2 = ((X - centres[0]) ** 2).sum(1)
        for _ in range(1, self.n_clusters):
            total = d2.sum()
            idx = rng.choice(len(X), p=d2 / total) if total > 0 else rng.integers(len(X))
            centres.append(X[idx])
            d2 = np.minimum(d2, ((X - X[idx]) ** 2).sum(1))
        return np.array(centres)

    @staticmethod
    def _sq_dist(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
        return ((X[:, None, :] - centres[None, :, :]) ** 2).sum(-1)  # (N, k)

    def _lloyd(self, X: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        labels = None
        for it in range(1, self.max_iter + 1):
            new_labels = self._sq_dist(X, centres).argmin(1)
            if labels is not None and np.array_equal(new_labels, labels):
                return centres, labels, it - 1
            labels = new_labels
            for c in range(self.n_clusters):
                members = labels == c
                if members.any():
                    centres[c] = X[members].mean(0)
        labels = self._sq_dist(X, centres).argmin(1)
        return centres, labels, self.max_iter

    def fit(self, X: np.ndarray) -> "KMeans":
        X = self._validate(X)
        rng = np.random.default_rng(self.random_state)
        best = None
        for _ in range(self.n_init):
            centres, labels, n_iter = self._lloyd(X, self._initial_centres(X, rng))
            inertia = float(self._sq_dist(X, centres)[np.arange(len(X)), labels].sum())
            if best is None or inertia < best[0]:
                best = (inertia, centres, labels, n_iter)
        self.inertia_, self.cluster_centers_, self.labels_, self.n_iter_ = best
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self._sq_dist(np.asarray(X, dtype=np.float64), self.cluster_centers_).argmin(1)


class GradientClustering:
    """PCA (optional) then k-means on signatures, over all samples or within each class.

    With scope="per_class" the labels are class * k + cluster, so up to k * n_classes
    groups; y is then required by fit. minibatch_above: when a k-means problem has more
    than this many samples, scikit-learn's MiniBatchKMeans (same init, n_init, max_iter,
    random_state; batches of 1024) replaces the exact Lloyd iterations; None = never.
    """

    def __init__(self, k: int = 2, pca_dim: int | None = 10, scope: str = "global",
                 kmeans_init: str = "k-means++", kmeans_n_init: int = 10,
                 kmeans_max_iter: int = 300, random_state: int | None = 0,
                 minibatch_above: int | None = None):
        self.k = k
        self.pca_dim = pca_dim
        self.scope = scope
        self.kmeans_init = kmeans_init
        self.kmeans_n_init = kmeans_n_init
        self.kmeans_max_iter = kmeans_max_iter
        self.random_state = random_state
        self.minibatch_above = minibatch_above

    @classmethod
    def from_config(cls, cfg: GroupingConfig, random_state: int | None) -> "GradientClustering":
        return cls(k=cfg.k, pca_dim=cfg.pca_dim, scope=cfg.scope, kmeans_init=cfg.kmeans_init,
                   kmeans_n_init=cfg.kmeans_n_init, kmeans_max_iter=cfg.kmeans_max_iter,
                   random_state=random_state, minibatch_above=cfg.minibatch_kmeans_above)

    def _cluster(self, Z: np.ndarray) -> np.ndarray:
        if self.minibatch_above is not None and len(Z) > self.minibatch_above:
            from sklearn.cluster import MiniBatchKMeans

            mb = MiniBatchKMeans(self.k, init=self.kmeans_init, n_init=self.kmeans_n_init,
                                 max_iter=self.kmeans_max_iter, batch_size=1024,
                                 random_state=self.random_state)
            return mb.fit(Z).labels_
        km = KMeans(self.k, init=self.kmeans_init, n_init=self.kmeans_n_init,
                    max_iter=self.kmeans_max_iter, random_state=self.random_state)
        return km.fit(Z).labels_

    def fit(self, G: np.ndarray, y: np.ndarray | None = None) -> "GradientClustering":
        G = np.asarray(G, dtype=np.float64)
        if G.ndim != 2:
            raise ValueError(f"signatures must be 2-D (n_samples, dim), got shape {G.shape}")
        if self.scope not in GROUPING_SCOPES:
            raise ValueError(f"scope={self.scope!r} is invalid: allowed {GROUPING_SCOPES}")
        if self.pca_dim is not None and not 1 <= self.pca_dim <= min(G.shape):
            raise ValueError(f"pca_dim={self.pca_dim} is invalid: allowed None or "
                             f"1..{min(G.shape)} (min of n_samples and signature dim)")
        if self.pca_dim is not None:
            self.pca_ = PCA(n_components=self.pca_dim, random_state=self.random_state).fit(G)
            Z = self.pca_.transform(G)
        else:
            self.pca_ = None
            Z = G
        self.embedding_ = Z  # (N, pca_dim or P)
        if self.scope == "global":
            self.labels_ = self._cluster(Z)
        else:
            if y is None:
                raise ValueError("scope='per_class' needs the class labels y in fit(G, y)")
            y = np.asarray(y)
            labels = np.empty(len(Z), dtype=np.int64)
            for c in np.unique(y):
                members = y == c
                if members.sum() < self.k:
                    raise ValueError(f"k={self.k} is invalid for scope='per_class': class {c} "
                                     f"has only {int(members.sum())} samples")
                labels[members] = int(c) * self.k + self._cluster(Z[members])
            self.labels_ = labels
        self.labels_ = np.asarray(self.labels_, dtype=np.int64)
        return self
