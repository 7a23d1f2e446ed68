"""Measurements for claim C4: the paper's "theoretical insight" on a linear model, squared loss.

The paper (Sec. 3, Appendix A): for f(x) = theta^T x with small initialisation and
squared-error loss, grad_theta loss ~= -y x, so per-sample gradients align with the
feature-label correlation and clustering them separates samples by their dominant
feature (core vs spurious).

Conventions here: labels are recoded y in {-1, +1} (y_pm = 2 y - 1); the model has no
bias (f(x) = theta^T x, as in the paper); the loss is l = 1/2 (theta^T x - y)^2, whose
gradient is exactly g = (theta^T x - y) x = -y x + f(x) x. Two exact consequences:
  cos(g, -y x)         = sign(1 - y f(x))     (every per-sample cosine is +1 or -1)
  |g - (-y x)| / |y x| = |f(x)|               (relative deviation from -y x)
so "g ~= -y x" holds in direction for every sample with margin y f(x) < 1 and in
magnitude to the extent |f(x)| << 1. The functions below measure both on the
project's data (input [5 z-scored core features, s in {0, 1}]).

The verdict rule for C4 (claims.RULE_C4) was written before any of these numbers were seen.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import numpy as np
import pandas as pd

from .config import DataConfig, GroupingConfig
from .data import make_synthetic
from .grouping import GradientClustering
from .metrics import recovery

INIT_SCALES = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 3.0)  # [ours] the init-scale axis
C4_INIT_SCALE = 1e-3  # [ours] fixed by claims.RULE_C4
TRAIN_LR = 1e-2  # [ours] the paper's best LR, for both optimizers
TRAIN_EPOCHS = 5  # [ours] "a few epochs"
TRAIN_BATCH = 64  # [text] the paper's batch size


def pm_labels(y: np.ndarray) -> np.ndarray:
    """(N,) labels {0, 1} -> (N,) float64 labels {-1, +1}."""
    return 2.0 * np.asarray(y, dtype=np.float64) - 1.0


def init_theta(dim: int, scale: float, seed: int) -> np.ndarray:
    """(dim,) initial weights: scale * N(0, I), from its own NumPy generator."""
    return scale * np.random.default_rng(seed).standard_normal(dim)


def squared_loss_grads(theta: np.ndarray, X: np.ndarray, y_pm: np.ndarray) -> np.ndarray:
    """(N, d) per-sample gradients of 1/2 (theta^T x - y)^2: (theta^T x_i - y_i) x_i.

    theta (d,), X (N, d), y_pm (N,) in {-1, +1}.
    """
    X = np.asarray(X, dtype=np.float64)
    residual = X @ theta - y_pm  # (N,)
    return residual[:, None] * X


def cosine_to_target(G: np.ndarray, X: np.ndarray, y_pm: np.ndarray) -> np.ndarray:
    """(N,) cosine between each gradient G[i] (N, d) and the target -y_i x_i."""
    target = -y_pm[:, None] * np.asarray(X, dtype=np.float64)  # (N, d)
    num = (G * target).sum(1)
    den = np.linalg.norm(G, axis=1) * np.linalg.norm(target, axis=1)
    return num / np.where(den > 0, den, np.nan)


def relative_deviation(G: np.ndarray, X: np.ndarray, y_pm: np.ndarray) -> np.ndarray:
    """(N,) |G[i] - (-y_i x_i)| / |y_i x_i|; equals |f(x_i)| for the linear model."""
    target = -y_pm[:, None] * np.asarray(X, dtype=np.float64)
    norm = np.linalg.norm(target, axis=1)
    return np.linalg.norm(G - target, axis=1) / np.where(norm > 0, norm, np.nan)


def train_linear(X: np.ndarray, y_pm: np.ndarray, theta0: np.ndarray, optimizer: str = "sgd",
                 lr: float = TRAIN_LR, epochs: int = TRAIN_EPOCHS, batch_size: int = TRAIN_BATCH,
                 seed: int = 0) -> np.ndarray:
    """(epochs + 1, d) weights after each epoch (row 0 = theta0) of minibatch training.

    Loss: mean over the batch of 1/2 (theta^T x - y)^2. optimizer: "sgd" (plain) or
    "adam" (default betas 0.9, 0.999, eps 1e-8). Shuffling uses default_rng(seed).
    """
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer={optimizer!r} is invalid: allowed 'sgd', 'adam'")
    X = np.asarray(X, dtype=np.float64)
    rng = np.random.default_rng(seed)
    theta = np.array(theta0, dtype=np.float64)
    m, v, t = np.zeros_like(theta), np.zeros_like(theta), 0
    path = [theta.copy()]
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            grad = squared_loss_grads(theta, X[idx], y_pm[idx]).mean(0)  # (d,)
            if optimizer == "sgd":
                theta -= lr * grad
            else:
                t += 1
                m = 0.9 * m + 0.1 * grad
                v = 0.999 * v + 0.001 * grad ** 2
                theta -= lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        path.append(theta.copy())
    return np.array(path)


def alignment(theta: np.ndarray, X: np.ndarray, y_pm: np.ndarray) -> dict:
    """Scalar summaries of how close the gradients at theta are to -y x.

    mean_cos: mean per-sample cosine; frac_aligned: share of samples with cosine > 0
    (margin y f < 1); rel_dev: mean |g + y x| / |y x| (= mean |f(x)|); accuracy of
    sign(f) on y.
    """
    G = squared_loss_grads(theta, X, y_pm)
    cos = cosine_to_target(G, X, y_pm)
    f = np.asarray(X, dtype=np.float64) @ theta
    return {"mean_cos": float(np.nanmean(cos)), "frac_aligned": float(np.nanmean(cos > 0)),
            "rel_dev": float(np.nanmean(relative_deviation(G, X, y_pm))),
            "accuracy": float(np.mean(np.sign(f) == y_pm))}


def alignment_frame(data_cfg: DataConfig, seeds: Sequence[int],
                    scales: Sequence[float] = INIT_SCALES,
                    optimizers: Sequence[str] = ("sgd", "adam"),
                    train_scale: float = C4_INIT_SCALE) -> pd.DataFrame:
    """Tidy frame over seeds, one row per (seed, stage, optimizer, init scale, epoch).

    stage "init": every scale, epoch 0, no training. stage "train": init train_scale,
    each optimizer, epochs 0..TRAIN_EPOCHS. Training set of make_synthetic(data_cfg, seed);
    theta0 drawn with the same seed. Columns: seed, stage, optimizer, init_scale, epoch,
    and the keys of `alignment`.
    """
    rows = []
    for seed in seeds:
        tr = make_synthetic(data_cfg, seed).train
        y_pm = pm_labels(tr.y)
        for scale in scales:
            theta = init_theta(tr.X.shape[1], scale, seed)
            rows.append({"seed": seed, "stage": "init", "optimizer": "-", "init_scale": scale,
                         "epoch": 0, **alignment(theta, tr.X, y_pm)})
        theta0 = init_theta(tr.X.shape[1], train_scale, seed)
        for opt in optimizers:
            for epoch, theta in enumerate(train_linear(tr.X, y_pm, theta0, opt, seed=seed)):
                rows.append({"seed": seed, "stage": "train", "optimizer": opt,
                             "init_scale": train_scale, "epoch": epoch,
                             **alignment(theta, tr.X, y_pm)})
    return pd.DataFrame(rows)


def cluster_linear_grads(G: np.ndarray, y: np.ndarray, s: np.ndarray, grouping: GroupingConfig,
                         seed: int) -> dict:
    """metrics.recovery of k-means on the (N, d) linear-model gradients.

    Uses the preset's k-means settings (k, init, restarts, iterations, scope) without
    PCA: the gradients have only d = 6 coordinates, fewer than the text's 10 PCA dims.
    """
    clusterer = GradientClustering.from_config(replace(grouping, pca_dim=None), random_state=seed)
    clusters = clusterer.fit(G, y).labels_
    return recovery(clusters, y, s)


def linear_recovery_frame(data_cfg: DataConfig, seeds: Sequence[int],
                          groupings: dict[str, GroupingConfig],
                          init_scale: float = C4_INIT_SCALE,
                          optimizers: Sequence[str] = ("sgd", "adam"),
                          s_pm_diagnostic: bool = True) -> pd.DataFrame:
    """One row per (seed, k-means settings, gradients): recovery of y, s, (y, s), minority.

    gradients "linear, init <scale>" are taken at theta0 = init_scale * N(0, I) before
    training; "linear, <n> ep. <opt>" after TRAIN_EPOCHS epochs of that optimizer. groupings maps a label
    (e.g. the preset name) to its GroupingConfig. With s_pm_diagnostic, one more
    source re-codes the input s from {0, 1} to {-1, +1} before taking the init
    gradients (a diagnostic of the encoding, not the paper's data).
    """
    rows = []
    for seed in seeds:
        tr = make_synthetic(data_cfg, seed).train
        y_pm = pm_labels(tr.y)
        X = np.asarray(tr.X, dtype=np.float64)
        theta0 = init_theta(X.shape[1], init_scale, seed)
        sources = {f"linear, init {init_scale:g}": (theta0, X)}
        for opt in optimizers:
            sources[f"linear, {TRAIN_EPOCHS} ep. {opt}"] = (
                train_linear(X, y_pm, theta0, opt, seed=seed)[-1], X)
        if s_pm_diagnostic:
            X_pm = X.copy()
            X_pm[:, -1] = 2 * X_pm[:, -1] - 1
            sources[f"linear, init {init_scale:g}, s=-1/+1 (diag.)"] = (theta0, X_pm)
        for label, grouping in groupings.items():
            for source, (theta, Xs) in sources.items():
                G = squared_loss_grads(theta, Xs, y_pm)
                rows.append({"seed": seed, "kmeans": label, "gradients": source,
                             **cluster_linear_grads(G, tr.y, tr.s, grouping, seed)})
    return pd.DataFrame(rows)


def group_mean_gradients(data_cfg: DataConfig, seed: int, init_scale: float = C4_INIT_SCALE,
                         decimals: int = 3) -> pd.DataFrame:
    """(4 groups + 1, 1 + d) mean per-sample gradient by (y, s) group at theta0 (training set).

    Column n is the group size. The last row is each coordinate's standard deviation
    around its group mean: the noise k-means must see through to split by group.
    """
    tr = make_synthetic(data_cfg, seed).train
    y_pm = pm_labels(tr.y)
    G = squared_loss_grads(init_theta(tr.X.shape[1], init_scale, seed), tr.X, y_pm)
    cols = [f"core{j}" for j in range(tr.core.shape[1])] + (["s"] if G.shape[1] > tr.core.shape[1]
                                                           else [])
    df = pd.DataFrame(G, columns=cols)
    df["group"] = [f"y{a}s{b}" for a, b in zip(tr.y, tr.s)]
    out = df.groupby("group").mean()
    out.insert(0, "n", df.groupby("group").size())
    out.loc["std within groups"] = [np.nan] + list(df.groupby("group").transform(
        lambda c: c - c.mean()).std().to_numpy())
    out = out.round(decimals)
    out["n"] = out["n"].astype("Int64")
    return out
