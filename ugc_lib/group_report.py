"""Metrics for users' own data with any hashable labels: per-group accuracy and cluster recovery."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Hashable

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

from .validation import as_keys, check_same_length, encode_pairs, encode_values


@dataclass(frozen=True)
class GroupReport:
    """Accuracy per group, the worst group and the group counts (see group_report)."""
    accuracy: float
    worst_group_accuracy: float
    worst_group: Hashable
    counts: dict = field(repr=False)
    group_accuracy: dict = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per group: n and accuracy."""
        keys = list(self.counts)
        return pd.DataFrame({"group": [str(k) for k in keys],
                             "n": [self.counts[k] for k in keys],
                             "accuracy": [self.group_accuracy[k] for k in keys]})

    def __str__(self) -> str:
        table = self.to_frame().to_string(index=False, float_format=lambda v: f"{v:.3f}")
        return (f"{table}\naccuracy {self.accuracy:.3f}, worst-group accuracy "
                f"{self.worst_group_accuracy:.3f} (group {self.worst_group})")


def group_report(y_true, y_pred, groups) -> GroupReport:
    """Per-group accuracy, worst-group accuracy (WGA) and counts, for any hashable groups.

    groups: one hashable value per sample (s, or (y, s) tuples, or a 2-D array whose
    rows are the groups). Groups are those present; none is counted as accuracy 0 or 1.
    """
    truth, pred = as_keys(y_true, "y_true"), as_keys(y_pred, "y_pred")
    ids, distinct = encode_values(groups, "groups")  # (N,) ids into the distinct groups
    if len(pred) != len(truth) or len(ids) != len(truth):
        raise ValueError(f"y_true, y_pred and groups have {len(truth)}, {len(pred)} and "
                         f"{len(ids)} samples: allowed equal lengths")
    if not truth:
        raise ValueError("y_true is empty: allowed at least one sample")
    correct = np.array([a == b for a, b in zip(truth, pred)], dtype=np.float64)
    n = np.bincount(ids, minlength=len(distinct))
    hits = np.bincount(ids, weights=correct, minlength=len(distinct))
    counts = {k: int(n[i]) for i, k in enumerate(distinct)}
    accuracy = {k: float(hits[i] / n[i]) for i, k in enumerate(distinct)}
    worst = min(accuracy, key=accuracy.get)
    return GroupReport(accuracy=float(correct.mean()), worst_group_accuracy=accuracy[worst],
                       worst_group=worst, counts=counts, group_accuracy=accuracy)


def cluster_recovery(labels, y, s) -> dict[str, float]:
    """How well pseudo-groups recover the true groups, for any hashable y and s.

    ARI and NMI against y, s and the (y, s) pairs (1 = the same partition, ~0 =
    unrelated). Clusters that only split the labels already score high against (y, s)
    when s mostly follows y, so worst_group_f1 is reported too: for each (y, s) group
    the F1 of the cluster that matches it best, 2|g & c| / (|g| + |c|), and then the
    smallest of these over the groups (1 = every group is exactly one cluster).
    """
    labels = np.asarray(labels)
    pairs, _ = encode_pairs(y, s, "s")
    targets = {"y": encode_values(y, "y")[0], "s": encode_values(s, "s")[0], "ys": pairs}
    check_same_length("y", targets["y"], len(labels))
    out = {}
    for name, t in targets.items():
        out[f"ari_{name}"] = float(adjusted_rand_score(t, labels))
        out[f"nmi_{name}"] = float(normalized_mutual_info_score(t, labels))
    counts = contingency_matrix(pairs, labels)  # (groups, clusters) shared samples
    f1 = 2 * counts / (counts.sum(1, keepdims=True) + counts.sum(0, keepdims=True))
    out["worst_group_f1"] = float(f1.max(1).min())
    return out

