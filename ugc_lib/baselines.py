"""Group inference other than the paper's: what is clustered after the warm-up.

grouping.source picks the matrix (one row per training sample) and the estimator:
  gradients  per-sample gradients, PCA + k-means (the paper's UGC; grouping.GradientClustering)
  features   the penultimate activations model.features(x), PCA + k-means
             (GEORGE-style; Sohoni et al., 2020, cluster these per class)
  outputs    the softmax outputs, k-means (SPARE-style; Yang et al., 2023, per class)
  random     a seeded permutation of the gradient clusters: the same cluster sizes with
             the membership scrambled, the control for "do the clusters matter at all"
  errors     the warm-up model's misclassified training samples (JTT's error set;
             Liu et al., 2021): label 1 = error, 0 = correct
Every estimator follows scikit-learn conventions: __init__ stores arguments, fit
validates and sets labels_, randomness comes only from random_state. Only X and y
are read: no group label reaches any of them.
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import GROUPING_SOURCES, GroupingConfig
from .gradients import signatures
from .grouping import GradientClustering


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


def check_per_class_k(cfg: GroupingConfig, y: np.ndarray) -> None:
    """k-means within each class needs at least grouping.k samples in every class."""
    if cfg.scope != "per_class" or cfg.source == "errors":
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
    if cfg.source not in GROUPING_SOURCES:
        raise ValueError(f"grouping.source={cfg.source!r} is invalid: allowed {GROUPING_SOURCES}")
    check_per_class_k(cfg, y)
    t0 = time.perf_counter()
    if cfg.source in ("gradients", "random"):
        G = signatures(model, X, y, where=cfg.where, device=device,  # (N, P or projection_dim)
                       projection_dim=cfg.projection_dim, projection_seed=seed)
    elif cfg.source == "features":
        G = feature_signatures(model, X, device)  # (N, H)
    else:
        G = output_signatures(model, X, device)  # (N, C)
    timings = {"signatures": time.perf_counter() - t0}
    t0 = time.perf_counter()
    if cfg.source == "errors":
        labels = ErrorSet().fit(G, y).labels_
    else:
        labels = GradientClustering.from_config(cfg, random_state=seed).fit(G, y).labels_
        if cfg.source == "random":
            within = y if cfg.scope == "per_class" else None
            labels = RandomGroups(random_state=seed).fit(labels, within).labels_
    timings["clustering"] = time.perf_counter() - t0
    return G, labels, timings
