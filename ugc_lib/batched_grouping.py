"""Group inference for S seeds at once, equal to grouping.infer_groups run per seed.

Fast path (grouping.source="gradients", where "fc" or "fc_weight", no projection):
  signatures   the closed form of gradients.final_layer_closed_form from the stacked
               model, in the same row blocks as the single run;
  PCA          scikit-learn per seed, as grouping.GradientClustering does;
  k-means      fast_kmeans.kmeans_labels: grouping.KMeans' labels, bitwise, with initial
               centres drawn by KMeans itself and a cheaper exact assignment step.
Every other grouping (per-class scope, MiniBatchKMeans, other sources, projections,
where="all") runs grouping.infer_groups per seed on the seed's unstacked model, which
is the single run's code on the single run's weights.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.decomposition import PCA

from .grouping import check_per_class_k, infer_groups
from .config import GroupingConfig
from .gradients import MAX_FLOATS, _batch_rows, _batches
from .fast_kmeans import kmeans_labels
from .grouping import GradientClustering
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
                           include_bias: bool, seeds: slice) -> np.ndarray:
    """(S_b, N, C*H [+ C]) float64 final-layer gradients of the seeds in `seeds`.

    Row blocks as in gradients.signatures (the same forward shapes, hence the same
    rounding): X (S_b, N, input_dim), y (S_b, N), the training sets of those seeds.
    (A single run's blocks start on aligned rows whenever the block is a multiple of 4
    rows, i.e. unless the signature has over 16,384 columns and N exceeds one block;
    stacked_linear always aligns its operands.)
    """
    n_classes, h_dim = stack.stacked[stack.param_names.index("final.weight")].shape[1:]
    n_params = n_classes * h_dim + (n_classes if include_bias else 0)
    out = np.empty((X.shape[0], X.shape[1], n_params), dtype=np.float64)
    out_t = torch.from_numpy(out)  # shares out's memory
    for sl in _batches(X.shape[1], _batch_rows("closed_form", n_params, None, MAX_FLOATS)):
        h = stack.features(X[:, sl], seeds)  # (S_b, B, H)
        p = F.softmax(stack.final(h, seeds), dim=2)  # (S_b, B, C)
        delta = p - F.one_hot(y[:, sl], n_classes).to(p.dtype)  # (S_b, B, C) dL/dlogits
        g_w = (delta[..., :, None] * h[..., None, :]).reshape(*h.shape[:2], -1)  # (S_b, B, C*H)
        G = torch.cat([g_w, delta], dim=2) if include_bias else g_w
        out_t[:, sl].copy_(G)  # float32 -> float64 (exact) in one pass, as .double() gives
    return out


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
    batched_kmeans = _batched_kmeans_applies(cfg, X.shape[1])
    for block in stack.seed_blocks(X.shape[1]):  # a few seeds at a time: in cache
        t0 = time.perf_counter()
        G = closed_form_signatures(stack, X[block], y[block], include_bias, block)
        norms += [np.linalg.norm(g, axis=1) for g in G]  # per seed, as run_experiment
        t1 = time.perf_counter()
        timings["signatures"] += t1 - t0
        block_seeds, block_ys = seeds[block], ys[block]
        if batched_kmeans:
            Z = [_embedding(cfg, g, seed) for g, seed in zip(G, block_seeds)]
            labels += kmeans_labels(Z, cfg.k, cfg.kmeans_init, cfg.kmeans_n_init,
                                    cfg.kmeans_max_iter, block_seeds)
        else:
            labels += [GradientClustering.from_config(cfg, random_state=seed).fit(g, y_s).labels_
                       for g, seed, y_s in zip(G, block_seeds, block_ys)]
        timings["clustering"] += time.perf_counter() - t1
    return norms, labels, timings
