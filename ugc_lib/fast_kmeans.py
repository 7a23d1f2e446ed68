"""grouping.KMeans' labels for many problems, bitwise equal and about 2x faster.

grouping.KMeans assigns each point to the centre of least squared distance, computed
as ((x - c) ** 2).sum(-1): three passes over an (N, k, D) array per Lloyd iteration,
most of the cost of the paper script's clustering. Here the distances are first taken
from the expansion |x|^2 - 2 x.c + |c|^2 (one matrix product). This value and KMeans'
own both lie within 2 (D + 3) eps (|x|^2 + |c|^2) of the exact distance, so wherever
the best centre beats every other by more than margin(D) * (|x|^2 + max |c|^2) + TINY
(at least 4x the sum of those errors over two centres), KMeans picks the same centre.
The few other points (near a boundary, ties, overflow) are recomputed with KMeans' own
expression, whose row sums round the same for any subset of rows. Centres are updated
with KMeans' own expression (X[members].mean(0)) and the restarts' inertias from
KMeans' distances of the chosen labels, so every number KMeans derives from the labels
is the same number here.

Stacking all problems into one array was measured slower (about 2x per problem): the
work is arithmetic on (N, k, D) arrays, not per-call overhead, and one problem's array
stays in cache while a stack of them does not. So problems run one after another.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .grouping import KMeans

EPS = np.finfo(np.float64).eps
TINY = 2.0 ** -960  # about 1e-289: far above the rounding of subnormal distances


def margin(dim: int) -> float:
    """Relative gap above which the expanded distances decide the argmin for sure:
    1e-8, or 16 (D + 3) eps for very wide data (4x the sum of both error bounds)."""
    return max(1e-8, 16 * (dim + 3) * EPS)


def assign(X: np.ndarray, centres: np.ndarray, sq_norms: np.ndarray) -> np.ndarray:
    """(N,) labels equal to KMeans._sq_dist(X, centres).argmin(1). X (N, D) float64,
    centres (k, D), sq_norms (N,) = (X ** 2).sum(1).

    |x|^2 is the same for every centre, so the comparison uses |c|^2 - 2 x.c; |x|^2
    enters only the margin's scale.
    """
    k = centres.shape[0]
    c_norms = (centres ** 2).sum(1)  # (k,)
    score = c_norms - 2.0 * (X @ np.ascontiguousarray(centres.T))  # (N, k) distance - |x|^2
    # + TINY: near underflow the errors are absolute, not relative
    threshold = margin(X.shape[1]) * (sq_norms + c_norms.max()) + TINY  # (N,)
    if k == 1:
        return np.zeros(len(X), dtype=np.intp)
    if k == 2:
        diff = score[:, 0] - score[:, 1]
        labels = (diff > 0).astype(np.intp)  # argmin keeps the first of equals
        sure = np.abs(diff) > threshold
    else:
        labels = score.argmin(1)
        others = score.copy()
        others[np.arange(len(X)), labels] = np.inf
        sure = others.min(1) - score[np.arange(len(X)), labels] > threshold
    unsure = np.flatnonzero(~sure)  # also every NaN comparison (overflow)
    if len(unsure):
        labels[unsure] = KMeans._sq_dist(X[unsure], centres).argmin(1)
    return labels


def lloyd(X: np.ndarray, centres: np.ndarray, max_iter: int
          ) -> tuple[np.ndarray, np.ndarray, int]:
    """KMeans._lloyd step for step, with assign() for the labels."""
    centres = centres.copy()
    sq_norms = (X ** 2).sum(1)
    labels = None
    for it in range(1, max_iter + 1):
        new_labels = assign(X, centres, sq_norms)
        if labels is not None and np.array_equal(new_labels, labels):
            return centres, labels, it - 1
        labels = new_labels
        for c in range(centres.shape[0]):
            members = labels == c
            if members.any():
                centres[c] = X[members].mean(0)
    return centres, assign(X, centres, sq_norms), max_iter


def kmeans_labels(Z: Sequence[np.ndarray], k: int, init: str, n_init: int, max_iter: int,
                  random_states: Sequence[int]) -> list[np.ndarray]:
    """[grouping.KMeans(k, init, n_init, max_iter, random_state).fit(z).labels_ for z,
    random_state in zip(Z, random_states)], each (N,) int64."""
    out = []
    for z, state in zip(Z, random_states):
        km = KMeans(k, init=init, n_init=n_init, max_iter=max_iter, random_state=state)
        z = km._validate(z)
        rng = np.random.default_rng(state)
        best = None
        for _ in range(n_init):
            centres, labels, _ = lloyd(z, km._initial_centres(z, rng), max_iter)
            if n_init == 1:  # one restart: KMeans keeps it whatever its inertia
                best = (0.0, labels)
                break
            # KMeans' distances of the chosen labels: the same rows, the same sums
            inertia = float(((z - centres[labels]) ** 2).sum(-1).sum())
            if best is None or inertia < best[0]:
                best = (inertia, labels)
        out.append(np.asarray(best[1], dtype=np.int64))
    return out
