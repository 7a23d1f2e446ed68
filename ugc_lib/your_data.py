"""A user's own table: load a CSV, split it, and compare ERM, UGC and the oracle over seeds.

The label and the spurious attribute may hold any values (strings, {-1, 1}, ...); groups
are the unique (label, spurious) pairs. Features are the numeric columns (all but the
label, the split and, unless spurious_as_input, the spurious column), z-scored with the
training rows' mean and standard deviation. Notebook 20 is built on this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .estimators import UGCClassifier
from .group_report import cluster_recovery, group_report
from .data.image_folder import SPLIT_NAMES, split_names
from .intervals import mean_ci
from .validation import encode_pairs

PLANTED_LABEL = "diagnosis"
PLANTED_COLUMN = "planted"
# The methods compared, as UGCClassifier settings; "oracle" is fitted with groups=s.
METHODS = {"ERM": {"method": "erm"},
           "UGC (global)": {"method": "group_dro", "scope": "global"},
           "UGC (per class)": {"method": "group_dro", "scope": "per_class"},
           "Oracle Group DRO": {"method": "group_dro", "oracle": True}}


@dataclass
class Table:
    """A user's table, ready for the estimators."""
    X: dict[str, np.ndarray]  # split -> (n, d) float32 z-scored features
    y: dict[str, np.ndarray]  # split -> (n,) labels as in the file
    s: dict[str, np.ndarray]  # split -> (n,) spurious values as in the file
    feature_names: list[str]
    label: str
    spurious: str
    source: str

    @property
    def splits(self) -> list[str]:
        return [name for name in SPLIT_NAMES if name in self.y]


# ---------------------------------------------------------------- the planted demo

def planted_breast_cancer(agreement: float = 0.95, test_agreement: float = 0.5,
                          test_fraction: float = 0.4, seed: int = 0) -> pd.DataFrame:
    """scikit-learn's bundled breast-cancer table (569 x 30) with a planted spurious column.

    Columns: the 30 measurements; "diagnosis" ("malignant" or "benign"); "planted" in
    {-1, 1}, equal to +1 for "benign" with probability `agreement` in the training rows
    and `test_agreement` in the test rows (0.5: independent of the label); "split".
    """
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    df = bunch.frame.drop(columns="target")
    y = bunch.target.to_numpy()  # 1 = benign
    rng = np.random.default_rng(seed)
    test = rng.random(len(y)) < test_fraction
    p_agree = np.where(test, test_agreement, agreement)
    agree = rng.random(len(y)) < p_agree
    df[PLANTED_LABEL] = np.asarray(bunch.target_names)[y]
    df[PLANTED_COLUMN] = np.where(agree == (y == 1), 1, -1)
    df["split"] = np.where(test, "test", "train")
    return df


def write_planted_csv(path: str | Path, **kwargs: Any) -> Path:
    """planted_breast_cancer(**kwargs) written as a CSV; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    planted_breast_cancer(**kwargs).to_csv(path, index=False)
    return path


# ---------------------------------------------------------------- loading

def _column(frame: pd.DataFrame, name: Any, what: str) -> str:
    """The column called `name` (a number given on the command line may name it as text)."""
    for candidate in (name, str(name)):
        if candidate in frame.columns:
            return candidate
    raise ValueError(f"{what}={name!r} is not a column of the table: allowed one of "
                     f"{list(frame.columns)}")


def random_split(y: np.ndarray, s: np.ndarray, test_fraction: float,
                 seed: int = 0) -> np.ndarray:
    """"train"/"test" per row, stratified by the (y, s) groups; each group needs >= 2 rows."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction={test_fraction!r} is invalid: allowed a number in (0, 1)")
    ids, keys = encode_pairs(y, s, "spurious")
    counts = np.bincount(ids)
    if counts.min() < 2:
        small = keys[int(counts.argmin())]
        raise ValueError(f"too few samples for the split: group (label, spurious) = {small} "
                         f"has {int(counts.min())} row(s); allowed groups of >= 2 rows (or give "
                         f"a split column)")
    rng = np.random.default_rng(seed)
    out = np.full(len(y), "train", dtype=object)
    for g in range(len(keys)):
        rows = rng.permutation(np.flatnonzero(ids == g))
        n_test = min(max(1, round(test_fraction * len(rows))), len(rows) - 1)
        out[rows[:n_test]] = "test"
    return out


def load_table(data: str | Path | pd.DataFrame, label: str, spurious: str,
               features: Sequence[str] | None = None, split: str | None = "split",
               spurious_as_input: bool = True, test_fraction: float = 0.3,
               split_seed: int = 0) -> Table:
    """Read a CSV (or take a DataFrame) and make z-scored feature arrays per split.

    features: the input columns (None: every column but label, split and, unless
    spurious_as_input, spurious). split: a column holding train/val/test (or 0/1/2);
    if the table has no such column, a random split stratified by (label, spurious)
    with test_fraction of each group in the test set.
    """
    frame = pd.read_csv(data) if not isinstance(data, pd.DataFrame) else data.copy()
    source = str(data) if not isinstance(data, pd.DataFrame) else "a DataFrame"
    label = _column(frame, label, "label")
    spurious = _column(frame, spurious, "spurious")
    if label == spurious:
        raise ValueError(f"label and spurious name the same column {label!r}: allowed two columns")
    split_col = split if split is not None and (split in frame.columns
                                                or str(split) in frame.columns) else None
    split_col = _column(frame, split_col, "split") if split_col is not None else None
    if features is None:
        skip = {label, split_col} | (set() if spurious_as_input else {spurious})
        features = [c for c in frame.columns if c not in skip]
    else:
        features = [_column(frame, f, "features") for f in features]
        if spurious_as_input and spurious not in features:
            features.append(spurious)
    if not features:
        raise ValueError("features is empty: allowed at least one input column")
    for col in [label, spurious, *features]:
        missing = int(frame[col].isna().sum())
        if missing:
            raise ValueError(f"column {col!r} has {missing} missing value(s): allowed none "
                             f"(drop or impute those rows first)")
    inputs = frame[features]
    if spurious in features and not pd.api.types.is_numeric_dtype(frame[spurious]):
        # a text spurious attribute given as an input: one indicator column per value
        inputs = pd.get_dummies(inputs, columns=[spurious], dtype=np.float64)
    for col in inputs.columns:
        if not pd.api.types.is_numeric_dtype(inputs[col]):
            raise ValueError(f"feature column {col!r} has dtype {inputs[col].dtype}: allowed "
                             f"numeric columns (encode it, or leave it out with features=[...])")
    y_all, s_all = frame[label].to_numpy(), frame[spurious].to_numpy()
    where = (split_names(frame[split_col].tolist(), split_col) if split_col is not None
             else random_split(y_all, s_all, test_fraction, split_seed))
    if not (where == "train").any():
        raise ValueError("too few samples for the split: no training rows")
    values = inputs.to_numpy(dtype=np.float64)  # (N, D)
    train_rows = values[where == "train"]
    mean, std = train_rows.mean(0), train_rows.std(0)
    std[std == 0] = 1.0  # a constant column stays 0 after centring
    z = ((values - mean) / std).astype(np.float32)
    present = [name for name in SPLIT_NAMES if (where == name).any()]
    return Table(X={n: z[where == n] for n in present}, y={n: y_all[where == n] for n in present},
                 s={n: s_all[where == n] for n in present},
                 feature_names=[str(c) for c in inputs.columns], label=str(label),
                 spurious=str(spurious), source=source)


# ---------------------------------------------------------------- what the notebook shows

def group_counts(table: Table) -> pd.DataFrame:
    """Rows per (label, spurious) group and split."""
    y = np.concatenate([table.y[n] for n in table.splits])
    s = np.concatenate([table.s[n] for n in table.splits])
    ids, keys = encode_pairs(y, s, "spurious")  # groups over all splits, so columns align
    where = np.concatenate([[n] * len(table.y[n]) for n in table.splits])
    out = pd.DataFrame({n: np.bincount(ids[where == n], minlength=len(keys))
                        for n in table.splits})
    out.index = pd.Index([str(k) for k in keys], name=f"({table.label}, {table.spurious})")
    return out


def pair_names(y: Sequence, s: Sequence) -> list[str]:
    """"(label, spurious)" text per sample, with plain Python values (no NumPy reprs)."""
    ids, keys = encode_pairs(y, s, "spurious")
    return [str(keys[i]) for i in ids]


def compare(table: Table, seeds: Sequence[int], n_clusters: int = 2,
            methods: dict[str, dict] | None = None, **settings: Any) -> pd.DataFrame:
    """One row per (seed, method, split): accuracy, WGA over the (y, s) groups, each
    group's accuracy ("acc (y, s)") and, on the training split, the clusters' recovery
    of the groups (ARI/NMI against s and (y, s)). settings go to every UGCClassifier."""
    rows = []
    for seed in seeds:
        for name, spec in (methods or METHODS).items():
            spec = dict(spec)
            oracle = spec.pop("oracle", False)
            clf = UGCClassifier(n_clusters=n_clusters, random_state=int(seed), **spec, **settings)
            clf.fit(table.X["train"], table.y["train"],
                    groups=table.s["train"] if oracle else None)
            for split in table.splits:
                y, s = table.y[split], table.s[split]
                report = group_report(y, clf.predict(table.X[split]), list(zip(y, s)))
                row = {"seed": int(seed), "method": name, "split": split,
                       "acc": report.accuracy, "wga": report.worst_group_accuracy}
                row.update({f"acc {k}": v for k, v in report.group_accuracy.items()})
                if split == "train" and spec.get("method") != "erm" and not oracle:
                    row.update(cluster_recovery(clf.clusters_, y, s))
                    row["n_clusters"] = int(len(np.unique(clf.clusters_)))
                rows.append(row)
    return pd.DataFrame(rows)


def summarize(df: pd.DataFrame, by: Sequence[str], columns: Sequence[str],
              decimals: int = 3) -> pd.DataFrame:
    """Mean [95% bootstrap interval] over seeds of each column, one row per `by` group."""
    out = []
    for key, part in df.groupby(list(by), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key))
        for col in columns:
            mean, low, high = mean_ci(part[col].to_numpy(dtype=np.float64))
            row[col] = (f"{mean:.{decimals}f} [{low:.{decimals}f}, {high:.{decimals}f}]"
                        if mean == mean else "n/a")
        row["seeds"] = int(part["seed"].nunique())
        out.append(row)
    return pd.DataFrame(out)


def mean_over_seeds(df: pd.DataFrame, by: Sequence[str], column: str) -> pd.Series:
    """Mean of one column over seeds (for the numbers the notebook's text quotes)."""
    return df.groupby(list(by), sort=False)[column].mean()
