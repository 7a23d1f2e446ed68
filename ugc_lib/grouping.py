"""Group inference after the warm-up: what is clustered (SOURCES) and how (PCA + k-means).

grouping.source picks the matrix (one row per training sample) and the estimator:
  gradients  per-sample gradients, PCA + k-means (the paper's UGC; GradientClustering)
  features   the penultimate activations model.features(x), PCA + k-means
             (GEORGE-style; Sohoni et al., 2020, cluster these per class)
  outputs    the softmax outputs, k-means (SPARE-style; Yang et al., 2023, per class)
  random     a seeded permutation of the gradient clusters: the same cluster sizes with
             the membership scrambled, the control for "do the clusters matter at all"
  errors     the warm-up model's misclassified training samples (JTT's error set;
             Liu et al., 2021): label 1 = error, 0 = correct
  inputs     the raw inputs, PCA + k-means: are the groups visible without gradients?
  labels     the classes themselves (groups = y): class-balanced baselines over them
  grasp      per-sample gradients, DBSCAN within each class (GRASP-style; grasp.py);
             noise points are labelled -1 with grouping.dbscan_noise="drop"
Adding a source is one (signature, labels) pair plus one line in SOURCES. Every
estimator follows scikit-learn conventions: __init__ stores arguments, fit validates
and sets attributes ending in "_", randomness comes only from random_state. Only X
and y are read: no group label reaches any of them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.decomposition import PCA
from torch import nn

from .gradients import signatures
from .grasp import DensityClustering

if TYPE_CHECKING:  # annotations only: config imports this module for its registries
    from .config import GroupingConfig

GROUPING_SCOPES = ("global", "per_class")
DBSCAN_NOISE = ("drop", "group")  # grouping.source="grasp": what becomes of noise points
KMEANS_INITS = ("random", "k-means++")


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


# ---------------------------------------------------------------- other sources

@torch.no_grad()
def feature_signatures(model: nn.Module, X: np.ndarray, device="cpu") -> np.ndarray:
    """(N, H) float64 penultimate activations (the final layer's input), eval mode."""
    was_training = model.training
    model.eval()
    try:
        H = model.features(torch.as_tensor(X, dtype=torch.float32, device=device))
    finally:
        model.train(was_training)
    return H.detach().cpu().double().numpy()


@torch.no_grad()
def output_signatures(model: nn.Module, X: np.ndarray, device="cpu") -> np.ndarray:
    """(N, C) float64 softmax probabilities, eval mode."""
    was_training = model.training
    model.eval()
    try:
        P = F.softmax(model(torch.as_tensor(X, dtype=torch.float32, device=device)), dim=1)
    finally:
        model.train(was_training)
    return P.detach().cpu().double().numpy()


class RandomGroups:
    """Pseudo-groups with given sizes and random membership: a permutation of `labels`.

    fit(labels) shuffles which sample carries which label, so every group keeps its size;
    fit(labels, y) shuffles within each class, so per-class groups stay per class.
    """

    def __init__(self, random_state: int | None = 0):
        self.random_state = random_state

    def fit(self, labels: np.ndarray, y: np.ndarray | None = None) -> "RandomGroups":
        labels = np.asarray(labels, dtype=np.int64)
        if labels.ndim != 1:
            raise ValueError(f"labels must be 1-D (n_samples,), got shape {labels.shape}")
        if y is not None and np.shape(y) != labels.shape:
            raise ValueError(f"y has shape {np.shape(y)}, labels {labels.shape}: they must match")
        rng = np.random.default_rng(self.random_state)
        out = labels.copy()
        blocks = [np.arange(len(labels))] if y is None else \
            [np.flatnonzero(np.asarray(y) == c) for c in np.unique(y)]
        for idx in blocks:
            out[idx] = labels[idx][rng.permutation(len(idx))]
        self.labels_ = out
        return self


class ErrorSet:
    """JTT's error set: labels_ = 1 where argmax(P) != y (the warm-up model errs), else 0."""

    def fit(self, P: np.ndarray, y: np.ndarray) -> "ErrorSet":
        P, y = np.asarray(P), np.asarray(y)
        if P.ndim != 2 or len(P) != len(y):
            raise ValueError(f"P must be (n_samples, n_classes) with n_samples = len(y) = "
                             f"{len(y)}, got shape {P.shape}")
        self.labels_ = (P.argmax(1) != y).astype(np.int64)
        self.n_errors_ = int(self.labels_.sum())
        return self


# ---------------------------------------------------------------- the registry

SignatureFn = Callable[["GroupingConfig", nn.Module, np.ndarray, np.ndarray, int, object],
                       np.ndarray]  # (cfg, model, X, y, seed, device) -> (N, D)
LabelFn = Callable[["GroupingConfig", np.ndarray, np.ndarray, int], np.ndarray]
# (cfg, signatures, y, seed) -> (N,) pseudo-group labels


@dataclass(frozen=True)
class Source:
    signatures: SignatureFn
    labels: LabelFn
    per_class_k: bool = True  # does scope="per_class" run k-means within each class?


def _gradient_rows(cfg, model, X, y, seed, device) -> np.ndarray:
    return signatures(model, X, y, where=cfg.where, device=device,  # (N, P or projection_dim)
                      projection_dim=cfg.projection_dim, projection_seed=seed)


def _clusters(cfg, G, y, seed) -> np.ndarray:
    return GradientClustering.from_config(cfg, random_state=seed).fit(G, y).labels_


def _shuffled_clusters(cfg, G, y, seed) -> np.ndarray:
    within = y if cfg.scope == "per_class" else None
    return RandomGroups(random_state=seed).fit(_clusters(cfg, G, y, seed), within).labels_


def _one_hot(y: np.ndarray, model: nn.Module) -> np.ndarray:
    n_classes = model.final.out_features  # every model's final nn.Linear (models.py)
    return np.eye(n_classes)[np.asarray(y, dtype=np.int64)]  # (N, n_classes)


def _density_clusters(cfg, G, y, seed) -> np.ndarray:
    """GRASP-style labels (grasp.py), after PCA when grouping.pca_dim is set."""
    if cfg.pca_dim is not None:
        G = PCA(n_components=cfg.pca_dim, random_state=seed).fit_transform(G)
    return DensityClustering(eps=cfg.dbscan_eps, min_samples=cfg.dbscan_min_samples,
                             noise=cfg.dbscan_noise, random_state=seed).fit(G, y).labels_


SOURCES: dict[str, Source] = {
    "gradients": Source(_gradient_rows, _clusters),
    "features": Source(lambda cfg, model, X, y, seed, device: feature_signatures(model, X, device),
                       _clusters),
    "outputs": Source(lambda cfg, model, X, y, seed, device: output_signatures(model, X, device),
                      _clusters),
    "random": Source(_gradient_rows, _shuffled_clusters),
    # the model's inputs themselves (N, input_dim): are the groups visible without gradients?
    "inputs": Source(lambda cfg, model, X, y, seed, device: np.asarray(X, dtype=np.float64),
                     _clusters),
    "errors": Source(lambda cfg, model, X, y, seed, device: output_signatures(model, X, device),
                     lambda cfg, P, y, seed: ErrorSet().fit(P, y).labels_, per_class_k=False),
    # (N, n_classes) one-hot labels; the groups are the classes (no k-means, no PCA)
    "labels": Source(lambda cfg, model, X, y, seed, device: _one_hot(y, model),
                     lambda cfg, Y, y, seed: np.asarray(y, dtype=np.int64), per_class_k=False),
    "grasp": Source(_gradient_rows, _density_clusters, per_class_k=False),
}


def check_per_class_k(cfg: GroupingConfig, y: np.ndarray) -> None:
    """k-means within each class needs at least grouping.k samples in every class."""
    if cfg.scope != "per_class" or not SOURCES[cfg.source].per_class_k:
        return
    classes, counts = np.unique(np.asarray(y), return_counts=True)
    if len(counts) and counts.min() < cfg.k:
        c = int(classes[counts.argmin()])
        raise ValueError(f"grouping.k={cfg.k} is invalid for grouping.scope='per_class': class "
                         f"{c} has only {int(counts.min())} training samples; allowed k <= "
                         f"{int(counts.min())}")


def infer_groups(cfg: GroupingConfig, model: nn.Module, X: np.ndarray, y: np.ndarray, seed: int,
                 device="cpu") -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """(signatures (N, P), pseudo-group labels (N,), timings) for cfg.source after warm-up.

    seed is the clustering's random_state (and the random control's permutation seed).
    """
    if cfg.source not in SOURCES:
        raise ValueError(f"grouping.source={cfg.source!r} is invalid: allowed {tuple(SOURCES)}")
    source = SOURCES[cfg.source]
    check_per_class_k(cfg, y)
    t0 = time.perf_counter()
    G = source.signatures(cfg, model, X, y, seed, device)
    timings = {"signatures": time.perf_counter() - t0}
    t0 = time.perf_counter()
    labels = source.labels(cfg, G, y, seed)
    timings["clustering"] = time.perf_counter() - t0
    return G, labels, timings
