"""Group inference for S seeds at once, equal to baselines.infer_groups run per seed.

Fast path (grouping.source="gradients", where "fc" or "fc_weight", no projection):
  signatures   the closed form of gradients.final_layer_closed_form from the stacked
               model, in the same row blocks as the single run;
  PCA          scikit-learn per seed, as grouping.GradientClustering does;
  k-means      grouping.KMeans for every seed and restart in one array (kmeans_labels):
               initial centres drawn per seed by KMeans itself, then Lloyd's iterations
               with the same NumPy expressions, so labels are bitwise those of KMeans.
Every other grouping (per-class scope, MiniBatchKMeans, other sources, projections,
where="all") runs baselines.infer_groups per seed on the seed's unstacked model, which
is the single run's code on the single run's weights.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.decomposition import PCA

from .baselines import check_per_class_k, infer_groups
from .config import GroupingConfig
from .gradients import MAX_FLOATS, _batch_rows, _batches
from .grouping import GradientClustering, KMeans
from .stacked import StackedModel


def fast_path(cfg: GroupingConfig) -> bool:
    """Whether cfg's signatures come from the stacked model's closed form."""
    return cfg.source == "gradients" and cfg.where in ("fc", "fc_weight") \
        and cfg.projection_dim is None


def _batched_kmeans_applies(cfg: GroupingConfig, n: int) -> bool:
    """Global scope with the exact Lloyd iterations (not MiniBatchKMeans)."""
    return cfg.scope == "global" and (cfg.minibatch_kmeans_above is None
                                      or n <= cfg.minibatch_kmeans_above)


@torch.no_grad()
def closed_form_signatures(stack: StackedModel, X: torch.Tensor, y: torch.Tensor,
                           include_bias: bool) -> np.ndarray:
    """(S, N, C*H [+ C]) float64 final-layer gradients of every seed.

    Row blocks as in gradients.signatures (the same forward shapes, hence the same
    rounding): X (S, N, input_dim), y (S, N).
    """
    n_classes = stack.stacked[stack.param_names.index("final.bias")].shape[1]
    h_dim = stack.stacked[stack.param_names.index("final.weight")].shape[2]
    n_params = n_classes * h_dim + (n_classes if include_bias else 0)
    out = np.empty((X.shape[0], X.shape[1], n_params), dtype=np.float64)
    for sl in _batches(X.shape[1], _batch_rows("closed_form", n_params, None, MAX_FLOATS)):
        h = stack.features(X[:, sl])  # (S, B, H)
        p = F.softmax(stack.final(h), dim=2)  # (S, B, C)
        delta = p - F.one_hot(y[:, sl], n_classes).to(p.dtype)  # (S, B, C) dL/dlogits
        g_w = (delta[..., :, None] * h[..., None, :]).reshape(*h.shape[:2], -1)  # (S, B, C*H)
        G = torch.cat([g_w, delta], dim=2) if include_bias else g_w
        out[:, sl] = G.cpu().double().numpy()
    return out


# ---------------------------------------------------------------- k-means

SQ_DIST_BLOCK = 2 ** 17  # floats of the (problems, N, k, D) difference array held at once:
#                         about 1 MB, in cache (one 2**21 block ran 2x slower per problem)


def _sq_dist(X: np.ndarray, centres: np.ndarray, data: np.ndarray) -> np.ndarray:
    """(P, N, k) squared distances of problem p's data X[data[p]] to centres[p], with
    KMeans._sq_dist's expression (its sum over the last axis rounds the same for any
    leading shape). X (S, N, D), centres (P, k, D), data (P,) indices into X. A block of
    problems at a time, so the temporary difference array stays in cache."""
    n, k, d = X.shape[1], centres.shape[1], X.shape[2]
    step = max(1, SQ_DIST_BLOCK // max(n * k * d, 1))
    out = np.empty((len(centres), n, k))
    for lo in range(0, len(centres), step):
        block = X[data[lo:lo + step]]  # (b, N, D)
        out[lo:lo + step] = ((block[:, :, None, :] - centres[lo:lo + step, None, :, :]) ** 2
                             ).sum(-1)
    return out


def _centre_means(X: np.ndarray, labels: np.ndarray, centres: np.ndarray,
                  data: np.ndarray) -> np.ndarray:
    """New centres (P, k, D): each cluster's member mean, with KMeans._lloyd's own
    expression X[members].mean(0); an empty cluster keeps its centre. (A masked sum over
    all N rows gives the same floats for D >= 2 but reads every row k times: slower.)"""
    out = centres.copy()
    for p, x in enumerate(data):
        for c in range(centres.shape[1]):
            members = labels[p] == c
            if members.any():
                out[p, c] = X[x][members].mean(0)
    return out


def lloyd(X: np.ndarray, centres: np.ndarray, data: np.ndarray, max_iter: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lloyd's iterations for P problems at once: problem p clusters X[data[p]] (X is
    (S, N, D)) from the starting centres[p] (centres (P, k, D)).

    Each problem follows KMeans._lloyd step for step and leaves when its labels repeat.
    Returns (centres (P, k, D), labels (P, N), n_iter (P,)).
    """
    centres = centres.copy()
    labels = np.zeros((len(centres), X.shape[1]), dtype=np.intp)
    n_iter = np.full(len(centres), max_iter)
    active = np.arange(len(centres))
    for it in range(1, max_iter + 1):
        new = _sq_dist(X, centres[active], data[active]).argmin(2)  # (A, N)
        if it > 1:
            same = (new == labels[active]).all(1)
            if same.any():
                n_iter[active[same]] = it - 1  # converged: its labels and centres stay
                active, new = active[~same], new[~same]
                if not len(active):
                    return centres, labels, n_iter
        labels[active] = new
        centres[active] = _centre_means(X, new, centres[active], data[active])
    labels[active] = _sq_dist(X, centres[active], data[active]).argmin(2)
    return centres, labels, n_iter


def kmeans_labels(Z: Sequence[np.ndarray], k: int, init: str, n_init: int, max_iter: int,
                  random_states: Sequence[int]) -> list[np.ndarray]:
    """grouping.KMeans(k, init, n_init, max_iter, random_state).fit(Z[s]).labels_ for
    every s, all restarts of all seeds in one Lloyd run. Z: S arrays (N, D), one N."""
    starts, data = [], []
    for z, state in zip(Z, random_states):
        km = KMeans(k, init=init, n_init=n_init, max_iter=max_iter, random_state=state)
        z = km._validate(z)
        rng = np.random.default_rng(state)
        # KMeans.fit draws restart r's centres before running restart r; Lloyd draws
        # nothing, so drawing all restarts first gives the same centres.
        starts += [km._initial_centres(z, rng) for _ in range(n_init)]
        data.append(z)
    X = np.stack(data)  # (S, N, D)
    owner = np.repeat(np.arange(len(data)), n_init)  # problem -> seed
    centres, labels, _ = lloyd(X, np.stack(starts), owner, max_iter)
    dist = _sq_dist(X, centres, owner)  # (P, N, k)
    inertia = np.take_along_axis(dist, labels[..., None], 2)[..., 0].sum(1)  # (P,)
    best = inertia.reshape(len(data), n_init).argmin(1)  # first least, as KMeans.fit keeps
    labels = labels.reshape(len(data), n_init, -1)
    return [labels[s, best[s]].astype(np.int64) for s in range(len(data))]


# ---------------------------------------------------------------- the entry point

def _embedding(cfg: GroupingConfig, G: np.ndarray, seed: int) -> np.ndarray:
    """GradientClustering.fit's PCA step: (N, pca_dim), or G itself without PCA."""
    if cfg.pca_dim is None:
        return G
    return PCA(n_components=cfg.pca_dim, random_state=seed).fit(G).transform(G)


def infer_groups_batched(cfg: GroupingConfig, stack: StackedModel, X: torch.Tensor,
                         y: torch.Tensor, Xs: Sequence[np.ndarray], ys: Sequence[np.ndarray],
                         seeds: Sequence[int], device
                         ) -> tuple[list[np.ndarray], list[np.ndarray], dict[str, float]]:
    """(signature norms, pseudo-group labels, timings) per seed, each as infer_groups gives.

    X (S, N, input_dim) and y (S, N) are the training sets on the device; Xs, ys the same
    as NumPy arrays. Signature norms (N,) stand in for the (N, P) signatures, which are
    dropped block by block so that S x N x P floats never exist at once.
    """
    norms: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    timings = {"signatures": 0.0, "clustering": 0.0}
    if not fast_path(cfg):
        for s, seed in enumerate(seeds):
            G, lab, t = infer_groups(cfg, stack.unstack(s), Xs[s], ys[s], seed, device)
            norms.append(np.linalg.norm(G, axis=1))
            labels.append(lab)
            for name in timings:
                timings[name] += t[name]
        return norms, labels, timings
    for y_s in ys:
        check_per_class_k(cfg, y_s)
    include_bias = cfg.where == "fc"
    n_classes, h_dim = stack.stacked[stack.param_names.index("final.weight")].shape[1:]
    width = n_classes * h_dim + (n_classes if include_bias else 0)  # P
    block = max(1, MAX_FLOATS // (X.shape[1] * width))  # seeds whose (N, P) fit in MAX_FLOATS
    batched_kmeans = _batched_kmeans_applies(cfg, X.shape[1])
    for lo in range(0, len(seeds), block):
        hi = min(lo + block, len(seeds))
        t0 = time.perf_counter()
        G = closed_form_signatures(stack.narrow(lo, hi), X[lo:hi], y[lo:hi], include_bias)
        norms += [np.linalg.norm(g, axis=1) for g in G]  # per seed, as run_experiment
        t1 = time.perf_counter()
        timings["signatures"] += t1 - t0
        if batched_kmeans:
            Z = [_embedding(cfg, g, seed) for g, seed in zip(G, seeds[lo:hi])]
            labels += kmeans_labels(Z, cfg.k, cfg.kmeans_init, cfg.kmeans_n_init,
                                    cfg.kmeans_max_iter, seeds[lo:hi])
        else:
            labels += [GradientClustering.from_config(cfg, random_state=seed).fit(g, y_s).labels_
                       for g, seed, y_s in zip(G, seeds[lo:hi], ys[lo:hi])]
        timings["clustering"] += time.perf_counter() - t1
    return norms, labels, timings
