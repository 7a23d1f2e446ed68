"""Shared steps of the tabular datasets (Adult, COMPAS): seeded splits, encoding, scaling.

encode() turns a table into model inputs with a vocabulary fixed in the dataset module
(so the input width is known from the config alone, before any file is read):
  numeric      one column each, as float;
  categorical  one-hot over the listed values; a missing value gives all zeros in its
               block; a value outside the list is an error naming the column and value;
  binary       one 0/1 column: 1 where the value is the listed one.
scale() z-scores the numeric columns with the training rows' mean and std (+ eps) only;
one-hot and binary columns stay 0/1.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd


def seeded_split(n_rows: int, sizes: Sequence[int], seed: int, where: str) -> list[np.ndarray]:
    """Disjoint row indices of the given sizes from one seeded permutation of n_rows rows."""
    if sum(sizes) > n_rows:
        raise ValueError(f"data.split_sizes asks for {sum(sizes)} rows of {where}, which has "
                         f"{n_rows}: allowed sizes summing to at most {n_rows}")
    order = np.random.default_rng(seed).permutation(n_rows)
    bounds = np.cumsum([0, *sizes])
    return [np.sort(order[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])]


def width(numeric: Sequence[str], categorical: dict[str, Sequence[str]],
          binary: dict[str, str]) -> int:
    """Number of encoded columns."""
    return len(numeric) + sum(len(v) for v in categorical.values()) + len(binary)


def encode(frame: pd.DataFrame, numeric: Sequence[str], categorical: dict[str, Sequence[str]],
           binary: dict[str, str], where: str) -> tuple[np.ndarray, np.ndarray]:
    """(X (n, width) float64, is_numeric (width,) bool) in the order numeric, categorical, binary."""
    blocks, kinds = [], []
    for col in numeric:
        blocks.append(pd.to_numeric(frame[col], errors="raise").to_numpy(np.float64)[:, None])
        kinds.append(True)
    for col, values in categorical.items():
        present = frame[col].dropna()
        unknown = sorted(set(present) - set(values))
        if unknown:
            raise ValueError(f"{where}: column {col!r} holds {unknown[:3]}, outside the "
                             f"allowed values {list(values)}")
        blocks.append((frame[col].to_numpy(object)[:, None] == np.array(values, object)[None, :])
                      .astype(np.float64))
        kinds += [False] * len(values)
    for col, positive in binary.items():
        blocks.append((frame[col].to_numpy(object) == positive).astype(np.float64)[:, None])
        kinds.append(False)
    return np.concatenate(blocks, axis=1), np.array(kinds, dtype=bool)


def scale(parts: dict[str, np.ndarray], is_numeric: np.ndarray, normalize: bool,
          eps: float) -> dict[str, np.ndarray]:
    """Each split's X as float32, numeric columns z-scored with the train split's statistics."""
    train = parts["train"]
    mean = np.where(is_numeric, train.mean(axis=0), 0.0) if normalize else 0.0
    std = np.where(is_numeric, train.std(axis=0) + eps, 1.0) if normalize else 1.0
    return {name: ((X - mean) / std).astype(np.float32) for name, X in parts.items()}


def split_fields(X: np.ndarray, y: np.ndarray, s: np.ndarray, s_as_input: bool) -> dict:
    """The fields of a base.Split whose input is X, with s appended as the last column when
    it is an input; core is X without s."""
    y, s = np.asarray(y, dtype=np.int64), np.asarray(s, dtype=np.int64)
    inputs = np.concatenate([X, s[:, None].astype(np.float32)], axis=1) if s_as_input else X
    return {"X": np.ascontiguousarray(inputs, dtype=np.float32), "y": y, "s": s, "core": X.copy()}
