"""The containers every dataset returns: Split, Dataset, (y, s) group ids and counts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPLITS = ("train", "val", "test")


def group_id(y: np.ndarray, s: np.ndarray) -> np.ndarray:
    """(y, s) group index in {0, 1, 2, 3} = 2 * y + s."""
    return 2 * np.asarray(y, dtype=np.int64) + np.asarray(s, dtype=np.int64)


GROUP_NAMES = {0: "y0s0", 1: "y0s1", 2: "y1s0", 3: "y1s1"}
GROUP_ORDER = [GROUP_NAMES[g] for g in range(4)]  # y0s0, y0s1, y1s0, y1s1: display order


@dataclass
class Split:
    X: np.ndarray  # (n, input_dim) float32 model input
    y: np.ndarray  # (n,) int64 label
    s: np.ndarray  # (n,) int64 spurious attribute
    core: np.ndarray  # (n, core_dim) float32 core (non-spurious) features, e.g. the grey image

    @property
    def groups(self) -> np.ndarray:
        return group_id(self.y, self.s)

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class Dataset:
    train: Split
    val: Split
    test: Split

    def __getitem__(self, name: str) -> Split:
        if name not in SPLITS:
            raise KeyError(f"unknown split {name!r}: allowed {SPLITS}")
        return getattr(self, name)


def group_counts(ds: Dataset) -> dict[str, dict[str, int]]:
    """Count of each (y, s) group per split."""
    out = {}
    for name in SPLITS:
        g = ds[name].groups
        out[name] = {GROUP_NAMES[k]: int((g == k).sum()) for k in range(4)}
    return out
