"""GRASP-style groups: DBSCAN within each class on centred, unit-length per-sample gradients.

GRASP (Zeng et al., 2022, "Outlier-robust group inference via gradient space
clustering") clusters an ERM model's per-sample gradients class by class with DBSCAN and
trains Group DRO over the clusters. What we follow, from the method's public code:
  - per class, the gradients are centred on the class mean and scaled to unit length,
    and DBSCAN runs with the cosine distance;
  - without group labels, eps and min_samples are the pair of the grids below
    (eps in linspace(0.1, 0.7, 13), min_samples in {5, ..., 100}) with the highest
    silhouette score (Euclidean, on the unit vectors; the noise label counts as one
    cluster, as there); the first pair in grid order (eps outer) wins ties. A class where
    no pair gives two labels or more (no silhouette) stays one cluster;
  - noise points (DBSCAN's -1) are outliers, left out of Group DRO ("drop"; train.fit
    leaves their rows out of the robust phase); noise="group" instead keeps them as one
    extra group of their class [ours]. A class that is noise throughout stays one
    cluster [ours], so that no class leaves the training set.
A fixed eps (the tuning grid's axis) replaces the rule, with min_samples as given.
A class of more than DENSE_LIMIT rows is clustered on a seeded subsample of that size and
its other rows join the cluster of their nearest core point within eps [ours] (_one_class).
Labels: class by class, clusters numbered on from the previous class's, so a class never
shares a group with another; noise is -1 (drop) or its class's last id (group).
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import DBSCAN
from sklearn.metrics import silhouette_score

EPS_GRID = tuple(float(e) for e in np.linspace(0.1, 0.7, 13))  # GRASP's code
MIN_SAMPLES_GRID = (5, 10, 20, 30, 40, 50, 60, 100)  # GRASP's code
DENSE_LIMIT = 4096  # [ours] larger classes are clustered on a seeded subsample this size
NOISE = -1


def centre_normalise(G: np.ndarray) -> np.ndarray:
    """(n, P) rows minus their mean, then each scaled to unit length (zero rows stay 0)."""
    Z = G - G.mean(axis=0)
    norms = np.linalg.norm(Z, axis=1, keepdims=True)
    return Z / np.where(norms > 0, norms, 1.0)


class DensityClustering:
    """DBSCAN per class; fit(G, y) sets labels_ (N,), n_noise_ and params_ (per class)."""

    def __init__(self, eps: float | None = None, min_samples: int = 10, noise: str = "drop",
                 random_state: int | None = 0):
        self.eps = eps
        self.min_samples = min_samples
        self.noise = noise
        self.random_state = random_state

    def _one_class(self, Z: np.ndarray) -> tuple[np.ndarray, dict]:
        """DBSCAN labels (n,) of one class's unit rows Z (n, P) and the (eps, min_samples).

        A class of more than DENSE_LIMIT rows is clustered (rule included) on a seeded
        subsample of DENSE_LIMIT rows; every other row takes the label of its nearest core
        point of the subsample when that point lies within eps (DBSCAN's own membership
        rule), else it is noise [ours: DBSCAN and 104 silhouettes on a 20,000-row class
        took over ten minutes a run]."""
        if len(Z) <= DENSE_LIMIT:
            labels, params, _ = self._dense(Z)
            return labels, params
        pick = np.sort(np.random.default_rng(self.random_state).choice(
            len(Z), size=DENSE_LIMIT, replace=False))
        sub_labels, params, core = self._dense(Z[pick])
        labels = np.full(len(Z), NOISE, dtype=np.int64)
        labels[pick] = sub_labels
        rest = np.setdiff1d(np.arange(len(Z)), pick)
        if params["eps"] is None:  # the rule found no split: the class is one cluster
            labels[rest] = 0
        elif len(core):
            C = Z[pick][core]  # (n_core, P) unit rows of the core points
            for lo in range(0, len(rest), 2048):
                rows = rest[lo:lo + 2048]
                dist = 1.0 - Z[rows] @ C.T  # (rows, n_core) cosine distances
                near = dist.argmin(axis=1)
                within = dist[np.arange(len(rows)), near] <= params["eps"]
                labels[rows[within]] = sub_labels[core[near[within]]]
        return labels, {**params, "subsample": DENSE_LIMIT}

    def _dense(self, Z: np.ndarray) -> tuple[np.ndarray, dict, np.ndarray]:
        """DBSCAN on one precomputed distance matrix: labels (n,), (eps, min_samples), and
        the indices of the core points."""
        E = np.sqrt(np.clip(2.0 - 2.0 * Z @ Z.T, 0.0, None))  # Euclidean on unit rows
        np.fill_diagonal(E, 0.0)
        D = E ** 2 / 2.0  # cosine distance = |a - b|^2 / 2 on unit rows

        def run(eps, min_samples):
            db = DBSCAN(eps=eps, min_samples=min_samples, metric="precomputed").fit(D)
            return db.labels_, db.core_sample_indices_

        if self.eps is not None:
            labels, core = run(self.eps, self.min_samples)
            return labels, {"eps": self.eps, "min_samples": self.min_samples}, core
        best, best_score = None, -1.0
        for eps in EPS_GRID:
            for min_samples in (m for m in MIN_SAMPLES_GRID if m <= len(Z)):
                labels, core = run(eps, min_samples)
                if not 2 <= len(np.unique(labels)) <= len(Z) - 1:
                    continue  # no silhouette (GRASP scores these -1, never above the start)
                score = silhouette_score(E, labels, metric="precomputed")
                if score > best_score:
                    best, best_score = (labels, eps, min_samples, core), float(score)
        if best is None:
            return np.zeros(len(Z), dtype=np.int64), {"eps": None, "min_samples": None,
                                                      "silhouette": None}, np.arange(0)
        labels, eps, min_samples, core = best
        return labels, {"eps": eps, "min_samples": min_samples, "silhouette": best_score}, core

    def fit(self, G: np.ndarray, y: np.ndarray) -> "DensityClustering":
        G, y = np.asarray(G, dtype=np.float64), np.asarray(y)
        if G.ndim != 2 or len(G) != len(y):
            raise ValueError(f"G must be (n_samples, dim) with n_samples = len(y) = {len(y)}, "
                             f"got shape {G.shape}")
        if self.noise not in ("drop", "group"):
            raise ValueError(f"noise={self.noise!r} is invalid: allowed 'drop', 'group'")
        labels = np.empty(len(G), dtype=np.int64)
        offset, self.params_, self.n_noise_ = 0, {}, 0
        for c in np.unique(y):
            members = np.flatnonzero(y == c)
            lab, params = self._one_class(centre_normalise(G[members]))
            if (lab < 0).all():  # [ours] never drop a whole class: it stays one cluster
                lab = np.zeros_like(lab)
            noise = lab < 0
            n_clusters = int(lab.max()) + 1 if (~noise).any() else 0
            out = lab + offset
            if noise.any():
                out[noise] = NOISE if self.noise == "drop" else offset + n_clusters
                n_clusters += self.noise == "group"
            labels[members] = out
            offset += n_clusters
            self.n_noise_ += int(noise.sum())
            self.params_[int(c)] = {**params, "n_clusters": n_clusters, "n_noise": int(noise.sum())}
        self.labels_ = labels
        return self
