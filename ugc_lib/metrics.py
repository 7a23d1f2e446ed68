"""Metrics: accuracy by group (both WGA definitions) and cluster recovery (ARI, NMI, minority F1).

WGA(s):   minimum accuracy over the values of the spurious attribute s (the paper's
          script).
WGA(y,s): minimum accuracy over the four (y, s) groups (Sagawa et al., 2020).
WCA:      worst-class accuracy, the minimum over the values of y; it needs no group
          label, so a label-free model selection can read it (selection.py).
Groups absent from a split are skipped, never counted as accuracy 0 or 1.
"""

from __future__ import annotations

import numpy as np

from .cluster_scores import adjusted_rand, contingency, normalized_mutual_info
from .data import GROUP_NAMES, group_id


def accuracy_by(correct: np.ndarray, keys: np.ndarray) -> dict[int, float]:
    """Accuracy of each value of keys that occurs."""
    return {int(k): float(correct[keys == k].mean()) for k in np.unique(keys)}


def wga_s(pred: np.ndarray, y: np.ndarray, s: np.ndarray) -> float:
    """Worst accuracy over the values of s."""
    return min(accuracy_by(np.asarray(pred) == np.asarray(y), np.asarray(s)).values())


def wga_ys(pred: np.ndarray, y: np.ndarray, s: np.ndarray) -> float:
    """Worst accuracy over the (y, s) groups present."""
    return min(accuracy_by(np.asarray(pred) == np.asarray(y), group_id(y, s)).values())


def split_metrics(pred: np.ndarray, y: np.ndarray, s: np.ndarray, loss: float) -> dict:
    correct = np.asarray(pred) == np.asarray(y)
    by_group = accuracy_by(correct, group_id(y, s))
    by_s = accuracy_by(correct, np.asarray(s))
    by_y = accuracy_by(correct, np.asarray(y))
    row = {"loss": float(loss), "acc": float(correct.mean()),
           "wga_s": min(by_s.values()), "wga_ys": min(by_group.values()),
           "wca": min(by_y.values())}
    row.update({f"acc_{GROUP_NAMES[g]}": a for g, a in by_group.items()})
    row.update({f"acc_s{v}": a for v, a in by_s.items()})
    row.update({f"acc_y{v}": a for v, a in by_y.items()})
    return row


def split_metrics_batched(preds: np.ndarray, y: np.ndarray, s: np.ndarray,
                          losses) -> list[dict]:
    """[split_metrics(preds[i], y[i], s[i], losses[i]) for each seed i], from per-seed
    counts (one bincount): preds, y, s (S, n) integer arrays, s >= 0. Each accuracy is
    (correct count) / (count) in float64, as NumPy's mean of a boolean array gives it."""
    correct = np.asarray(preds) == np.asarray(y)  # (S, n)
    n_seeds, n = correct.shape
    acc = (correct.sum(1) / n).tolist()  # == correct[i].mean()
    tables = []
    for keys in (group_id(y, s), np.asarray(s), np.asarray(y)):  # (S, n) each
        width = int(keys.max()) + 1 if keys.size else 1
        flat = (np.arange(n_seeds)[:, None] * width + keys).ravel()
        total = np.bincount(flat, minlength=n_seeds * width).reshape(n_seeds, width)
        right = np.bincount(flat, weights=correct.ravel(),
                            minlength=n_seeds * width).reshape(n_seeds, width)
        with np.errstate(invalid="ignore"):  # absent keys: 0 / 0, skipped below
            tables.append(((total > 0).tolist(), (right / total).tolist()))
    (g_has, g_acc), (s_has, s_acc), (y_has, y_acc) = tables
    out = []
    for i in range(n_seeds):
        by_group = {g: a for g, (h, a) in enumerate(zip(g_has[i], g_acc[i])) if h}
        by_s = {v: a for v, (h, a) in enumerate(zip(s_has[i], s_acc[i])) if h}
        by_y = {v: a for v, (h, a) in enumerate(zip(y_has[i], y_acc[i])) if h}
        row = {"loss": float(losses[i]), "acc": acc[i],
               "wga_s": min(by_s.values()), "wga_ys": min(by_group.values()),
               "wca": min(by_y.values())}
        row.update({f"acc_{GROUP_NAMES[g]}": a for g, a in by_group.items()})
        row.update({f"acc_s{v}": a for v, a in by_s.items()})
        row.update({f"acc_y{v}": a for v, a in by_y.items()})
        out.append(row)
    return out


def minority_match(clusters: np.ndarray, y: np.ndarray, s: np.ndarray) -> dict:
    """Precision and recall of the cluster that best matches the minority (s != y).

    Best match = highest F1 against the minority set. Returns None values (strict JSON) when there
    is no minority sample.
    """
    minority = np.asarray(s) != np.asarray(y)
    if not minority.any():
        return {"minority_cluster": -1, "minority_precision": None,
                "minority_recall": None, "minority_f1": None}
    best = None
    for c in np.unique(clusters):
        members = clusters == c
        hit = float((members & minority).sum())
        precision, recall = hit / members.sum(), hit / minority.sum()
        f1 = 0.0 if hit == 0 else 2 * precision * recall / (precision + recall)
        if best is None or f1 > best[3]:
            best = (int(c), precision, recall, f1)
    return dict(zip(("minority_cluster", "minority_precision", "minority_recall", "minority_f1"),
                    best))


def recovery(clusters: np.ndarray, y: np.ndarray, s: np.ndarray) -> dict:
    """How well clusters recover y, s and the (y, s) groups (ARI, NMI) and the minority.

    With k = 2, clusters that merely split by label score ARI near 0.9 against
    (y, s) at 95% correlation, so ARI against s *and* y, and the minority match,
    are all reported.
    """
    targets = {"y": np.asarray(y), "s": np.asarray(s), "ys": group_id(y, s)}
    out = {}
    for name, t in targets.items():
        table = contingency(t, clusters)  # scikit-learn's ARI / NMI, without its overhead
        out[f"ari_{name}"] = adjusted_rand(table)
        out[f"nmi_{name}"] = normalized_mutual_info(table)
    out.update(minority_match(np.asarray(clusters), y, s))
    out["n_clusters"] = int(len(np.unique(clusters)))
    return out
