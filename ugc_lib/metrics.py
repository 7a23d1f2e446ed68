"""Metrics: accuracy by group (both WGA definitions) and cluster recovery (ARI, NMI, minority F1).

WGA(s):   minimum accuracy over the values of the spurious attribute s (the paper's
          script).
WGA(y,s): minimum accuracy over the four (y, s) groups (Sagawa et al., 2020).
Groups absent from a split are skipped, never counted as accuracy 0 or 1.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

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
    row = {"loss": float(loss), "acc": float(correct.mean()),
           "wga_s": min(by_s.values()), "wga_ys": min(by_group.values())}
    row.update({f"acc_{GROUP_NAMES[g]}": a for g, a in by_group.items()})
    row.update({f"acc_s{v}": a for v, a in by_s.items()})
    return row


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
        out[f"ari_{name}"] = float(adjusted_rand_score(t, clusters))
        out[f"nmi_{name}"] = float(normalized_mutual_info_score(t, clusters))
    out.update(minority_match(np.asarray(clusters), y, s))
    out["n_clusters"] = int(len(np.unique(clusters)))
    return out
