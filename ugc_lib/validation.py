"""Input checks with one-line errors: the estimators' X, labels, groups; config field types.

Every error names the bad argument (X, y, groups, n_clusters, ...) and what is allowed.
Group ids are built from the unique (y, s) pairs, never by arithmetic on s, so any
hashable s works (strings, {-1, 1}, {0, 2}, ...).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any, Hashable, Sequence

import numpy as np
import pandas as pd
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data


def check_numeric_columns(X: Any) -> None:
    """A DataFrame must have numeric columns only; the error names the first other one."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not isinstance(X, pd.DataFrame):
        return
    for name, dtype in dtypes.items():
        if not pd.api.types.is_numeric_dtype(dtype):
            raise ValueError(f"X column {name!r} has dtype {dtype}: allowed numeric columns only "
                             f"(encode it first, e.g. with pandas.get_dummies)")


def n_rows(values: Any) -> int:
    """Number of samples in an array-like (rows of a 2-D one)."""
    shape = getattr(values, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    return len(values)


def check_same_length(name: str, values: Any, n_samples: int) -> None:
    if values is not None and n_rows(values) != n_samples:
        raise ValueError(f"{name} has {n_rows(values)} samples but X has {n_samples}: "
                         f"allowed one value per row of X")


def check_finite(X: np.ndarray, columns: Sequence | None) -> None:
    """NaN or infinity anywhere in X: a one-line error naming the first row and column."""
    bad = ~np.isfinite(X)
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        kind = "NaN" if np.isnan(X[row, col]) else "infinity"
        where = repr(columns[col]) if columns is not None else col
        raise ValueError(f"Input X contains {kind} (row {row}, column {where}): allowed finite "
                         f"numbers only (impute or drop it first)")


def validate_fit_input(estimator, X: Any, y: Any, min_samples: int = 2
                       ) -> tuple[np.ndarray, np.ndarray, LabelEncoder]:
    """(X float32 (N, D), y encoded int64 (N,), the fitted LabelEncoder) for fit.

    Sets n_features_in_ (and feature_names_in_ for a DataFrame) on the estimator.
    """
    check_numeric_columns(X)
    if y is not None and not isinstance(y, str):
        try:
            check_same_length("y", y, n_rows(X))
        except TypeError:  # no length: left to scikit-learn's own check
            pass
    X, y = validate_data(estimator, X, y, dtype=np.float32, ensure_min_samples=1,
                         ensure_all_finite=False)
    check_finite(X, getattr(estimator, "feature_names_in_", None))
    if len(X) < min_samples:
        raise ValueError(f"X has {len(X)} sample{'s' if len(X) != 1 else ''}: allowed at least "
                         f"{min_samples} (n_clusters and one per class)")
    check_classification_targets(y)
    encoder = LabelEncoder().fit(y)
    if len(encoder.classes_) < 2:
        raise ValueError(f"y has one class ({encoder.classes_[0]!r}): allowed at least 2 classes")
    return np.ascontiguousarray(X, dtype=np.float32), encoder.transform(y).astype(np.int64), encoder


def validate_predict_input(estimator, X: Any) -> np.ndarray:
    """X float32 (N, D) for predict, checked against the columns seen in fit."""
    check_numeric_columns(X)
    X = validate_data(estimator, X, dtype=np.float32, reset=False, ensure_all_finite=False)
    check_finite(X, getattr(estimator, "feature_names_in_", None))
    return np.ascontiguousarray(X, dtype=np.float32)


def as_keys(values: Any, name: str) -> list[Hashable]:
    """Per-sample hashable keys: scalars as they are, rows of a 2-D input as tuples."""
    if isinstance(values, (pd.DataFrame, pd.Series)):
        values = values.to_numpy()
    arr = np.asarray(values, dtype=object)
    if arr.ndim == 2:
        keys = [tuple(row) for row in arr]
    elif arr.ndim == 1:
        keys = list(arr)
    else:
        raise ValueError(f"{name} must be 1-D (one value per sample) or 2-D (a tuple per "
                         f"sample), got shape {arr.shape}")
    for k in keys:
        parts = k if isinstance(k, tuple) else (k,)
        if any(_is_missing(p) for p in parts):
            raise ValueError(f"{name} contains a missing value (NaN or None): allowed any "
                             f"hashable value, one per sample")
        try:
            hash(k)
        except TypeError:
            raise ValueError(f"{name} value {k!r} is not hashable: allowed any hashable value "
                             f"(a number, a string, a tuple)") from None
    return [_plain(k) for k in keys]


def _is_missing(value: Any) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _plain(value: Any) -> Hashable:
    """NumPy scalars -> Python scalars, so keys print and compare as users expect."""
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value.item() if isinstance(value, np.generic) else value


def _ordered(keys: Sequence[Hashable]) -> list[Hashable]:
    """The distinct keys, sorted when they can be, else in order of first appearance."""
    distinct = list(dict.fromkeys(keys))
    try:
        return sorted(distinct)
    except TypeError:
        return distinct


def encode_values(values: Any, name: str = "groups") -> tuple[np.ndarray, list[Hashable]]:
    """(ids (N,) int64 in 0..K-1, the K distinct values in id order) for hashable values."""
    keys = as_keys(values, name)
    distinct = _ordered(keys)
    index = {k: i for i, k in enumerate(distinct)}
    return np.array([index[k] for k in keys], dtype=np.int64), distinct


def encode_pairs(y: Any, s: Any, name: str = "groups") -> tuple[np.ndarray, list[tuple]]:
    """(group ids (N,) int64, the (y, s) pair of each id) from the unique (y, s) pairs.

    No arithmetic on s: s in {0, 2} or {-1, 1} or strings all give one id per pair.
    """
    y_keys = as_keys(y, "y")
    s_keys = as_keys(s, name)
    if len(s_keys) != len(y_keys):
        raise ValueError(f"{name} has {len(s_keys)} samples but y has {len(y_keys)}: allowed "
                         f"one value per sample")
    return encode_values(list(zip(y_keys, s_keys)), name)


def check_cluster_count(n_clusters: Any, scope: str, y: np.ndarray, classes: np.ndarray) -> None:
    """n_clusters must be an integer >= 1, and at most the samples of every class in
    scope="per_class" (at most the number of samples otherwise)."""
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)) \
            or n_clusters < 1:
        raise ValueError(f"n_clusters={n_clusters!r} is invalid: allowed an integer >= 1")
    if scope == "per_class":
        counts = np.bincount(y, minlength=len(classes))
        small = int(counts.argmin())
        if counts[small] < n_clusters:
            raise ValueError(f"n_clusters={n_clusters} is larger than class {_plain(classes[small])!r}, "
                             f"which has {int(counts[small])} samples: allowed n_clusters <= "
                             f"{int(counts[small])} with scope='per_class'")
    elif n_clusters > len(y):
        raise ValueError(f"n_clusters={n_clusters} is larger than the {len(y)} samples: allowed "
                         f"n_clusters <= {len(y)}")


# ---------------------------------------------------------------- config field types

def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


# Annotation (as written on the fields below) -> (test, what is allowed). Every field is
# checked for its type, and every number for finiteness, before any range check.
_KINDS: dict[str, tuple[Any, str]] = {
    "int": (_is_int, "an integer"),
    "float": (lambda v: _is_real(v) and math.isfinite(v), "a finite number"),
    "bool": (lambda v: isinstance(v, (bool, np.bool_)), "True or False"),
    "str": (lambda v: isinstance(v, str), "a string"),
    "int | None": (lambda v: v is None or _is_int(v), "None or an integer"),
    "float | None": (lambda v: v is None or (_is_real(v) and math.isfinite(v)),
                     "None or a finite number"),
    "tuple[int, ...]": (lambda v: isinstance(v, tuple) and all(_is_int(x) for x in v),
                        "a tuple of integers"),
    "tuple[int, int, int]": (lambda v: isinstance(v, tuple) and len(v) == 3
                             and all(_is_int(x) for x in v), "three integers"),
}


def check_field_types(section: str, obj: Any) -> None:
    """Raise ValueError naming the first field whose value has the wrong type."""
    for f in dataclasses.fields(obj):
        test, allowed = _KINDS[f.type]
        value = getattr(obj, f.name)
        if not test(value):
            raise ValueError(f"{section}.{f.name}={value!r} is invalid: allowed {allowed}")
