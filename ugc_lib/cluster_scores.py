"""ARI and NMI from contingency tables, with scikit-learn's arithmetic but not its overhead.

scikit-learn's adjusted_rand_score and normalized_mutual_info_score spend about 3 ms
per call validating their inputs and building sparse matrices, more than a whole
training epoch of the paper's MLP costs in a stacked batch. These functions take the
dense contingency table (one bincount) and then repeat scikit-learn 1.9's expressions
step by step, in the same order and on arrays of the same shapes, so they return the
same floats (tests/test_cluster_scores.py compares them on random labelings; the
project's pin is scikit-learn==1.9.1).
"""

from __future__ import annotations

from math import log

import numpy as np


def contingency(labels_true: np.ndarray, labels_pred: np.ndarray) -> np.ndarray:
    """(n_classes, n_clusters) int64 counts over the values present, in sorted order
    (sklearn.metrics.cluster.contingency_matrix)."""
    classes, ci = np.unique(np.asarray(labels_true), return_inverse=True)
    clusters, ki = np.unique(np.asarray(labels_pred), return_inverse=True)
    flat = np.bincount(ci.ravel() * len(clusters) + ki.ravel(),
                       minlength=len(classes) * len(clusters))
    return flat.reshape(len(classes), len(clusters)).astype(np.int64)


def adjusted_rand(table: np.ndarray) -> float:
    """adjusted_rand_score from the contingency table (its pair_confusion_matrix steps)."""
    n_samples = np.int64(table.sum())
    n_c = table.sum(axis=1)
    n_k = table.sum(axis=0)
    sum_squares = (table ** 2).sum()  # zeros add nothing: the sparse data's sum
    c11 = sum_squares - n_samples
    c01 = table.dot(n_k).sum() - sum_squares
    c10 = table.T.dot(n_c).sum() - sum_squares
    c00 = n_samples ** 2 - c01 - c10 - sum_squares
    tn, fp, fn, tp = int(c00), int(c01), int(c10), int(c11)
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


def _mutual_info(table: np.ndarray) -> float:
    """mutual_info_score(contingency=table), over the nonzero cells in row-major order."""
    nzx, nzy = np.nonzero(table)
    nz_val = table[nzx, nzy]
    contingency_sum = table.sum()
    pi = table.sum(axis=1)
    pj = table.sum(axis=0)
    if pi.size == 1 or pj.size == 1:
        return 0.0
    log_contingency_nm = np.log(nz_val)
    contingency_nm = nz_val / contingency_sum
    outer = pi.take(nzx).astype(np.int64, copy=False) * pj.take(nzy).astype(np.int64, copy=False)
    log_outer = -np.log(outer) + log(pi.sum()) + log(pj.sum())
    mi = (contingency_nm * (log_contingency_nm - log(contingency_sum))
          + contingency_nm * log_outer)
    mi = np.where(np.abs(mi) < np.finfo(mi.dtype).eps, 0.0, mi)
    return float(np.clip(mi.sum(), 0.0, None))


def _entropy(counts: np.ndarray) -> float:
    """sklearn's _entropy(labels) from the label counts (in sorted label order)."""
    if counts.sum() == 0:
        return 1.0
    pi = counts.astype(np.float64)
    if pi.size == 1:
        return 0.0
    pi_sum = np.sum(pi)
    return float(-np.sum((pi / pi_sum) * (np.log(pi) - log(pi_sum))))


def normalized_mutual_info(table: np.ndarray) -> float:
    """normalized_mutual_info_score (average_method="arithmetic") from the table."""
    n_classes, n_clusters = table.shape
    if n_classes == n_clusters == 1 or n_classes == n_clusters == 0:
        return 1.0
    mi = _mutual_info(table)
    if mi == 0:
        return 0.0
    h_true, h_pred = _entropy(table.sum(axis=1)), _entropy(table.sum(axis=0))
    return float(mi / np.mean([h_true, h_pred]))
