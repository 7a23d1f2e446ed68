"""Notebook 13's tuned comparison: every dataset, every method's grid, both selection protocols.

Per dataset the methods' equal-tuning grids (tuning.py) are swept over the seeds; for each
(method, seed) each protocol of selection.py picks one grid point and epoch on validation;
the chosen model's test metrics and the minority F1 of the groups it trained on make one
row. The table, the first-ranked method and the paired gaps are read off those rows.

DATASETS: the synthetic presets get every method and the full grids; the real datasets
(the designs of notebooks 17-19: Colored MNIST with the CNN, Adult and COMPAS with s as an
input) get REAL_METHODS and the reduced grid, the same for every method.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd

from .config import RunConfig, get_preset
from .intervals import mean_ci
from .real_studies import colored_mnist, tabular
from .selection import PROTOCOLS, selection_rows
from .studies import BASELINES, GAP, NO_INFERRED_GROUPS
from .tables import NA, fmt_ci, fmt_number, paired_gaps as seed_gaps, summarize
from .tuning import method_grid, method_of

# The methods the comparison must show on every dataset; the class-balanced one is
# subsampling (Idrissi et al.'s SUBY), the cheaper of the two on the real datasets.
REAL_METHODS = ("ERM", "JTT (retrained)", "UGC global (paper)", "UGC per class",
                "GRASP-style (gradients, DBSCAN)", "raw-input clustering",
                "random groups (UGC sizes)", "class-balanced subsampling",
                "group-balanced subsampling (oracle)", "DFR (validation groups)",
                "oracle Group DRO")
assert set(REAL_METHODS) <= set(BASELINES)
# dataset -> (base config, its methods, reduced grid?, seed parameter of notebook 13)
DATASETS: dict[str, tuple[Callable[[], RunConfig], tuple[str, ...], bool, str]] = {
    "synthetic (paper_text)": (lambda: get_preset("paper_text"), tuple(BASELINES), False, "synthetic"),
    "synthetic (paper_code)": (lambda: get_preset("paper_code"), tuple(BASELINES), False, "synthetic"),
    "Colored MNIST (CNN)": (lambda: colored_mnist(), REAL_METHODS, True, "real"),
    "Adult (s input)": (lambda: tabular("adult", True), REAL_METHODS, True, "real"),
    "COMPAS (s input)": (lambda: tabular("compas", True), REAL_METHODS, True, "real"),
}
UGC = ("UGC global (paper)", "UGC per class")
# methods that read group labels in training (the oracle's groups, or validation's for DFR)
USES_GROUP_LABELS = ("oracle Group DRO", "group-balanced subsampling (oracle)",
                     "DFR (validation groups)")
assert set(USES_GROUP_LABELS) <= set(BASELINES)
GRASP, RANDOM = "GRASP-style (gradients, DBSCAN)", "random groups (UGC sizes)"
METRICS = ("wga_ys", "acc", "rec_minority_f1")  # the table's columns, in this order
LABELS = {"wga_ys": "test WGA(y,s)", "acc": "test accuracy",
          "rec_minority_f1": "minority F1 (train groups)"}


def _check_dataset(name: str) -> tuple:
    if name not in DATASETS:
        raise ValueError(f"dataset={name!r} is invalid: allowed {list(DATASETS)}")
    return DATASETS[name]


def dataset_configs(name: str) -> list[RunConfig]:
    """Every method's grid on one dataset, method after method."""
    make_base, methods, reduced, _ = _check_dataset(name)
    base = make_base()
    return [cfg for m in methods for cfg in method_grid(m, base, reduced)]


def _minority_f1(record: dict) -> dict:
    """The recovery score of the groups the chosen run trained on (NaN where it infers none)."""
    value = record.get("recovery", {}).get("minority_f1")
    if method_of(record) in NO_INFERRED_GROUPS or value is None:
        value = np.nan
    return {"rec_minority_f1": float(value)}


def selection_frame(records_by_dataset: dict[str, Sequence[dict]]) -> pd.DataFrame:
    """One row per (dataset, method, seed, protocol): what the protocol chose on validation
    (grid index, epoch, score) and that model's test metrics and minority F1."""
    frames = []
    for dataset, records in records_by_dataset.items():
        _check_dataset(dataset)
        rows = selection_rows(records, method_of, extra=_minority_f1)
        frames.append(pd.DataFrame(rows).assign(dataset=dataset))
    df = pd.concat(frames, ignore_index=True)
    order = {m: i for i, m in enumerate(BASELINES)}
    df["_o"] = df["method"].map(order)
    df["_d"] = df["dataset"].map({d: i for i, d in enumerate(DATASETS)})
    df["_p"] = df["protocol"].map({p: i for i, p in enumerate(PROTOCOLS)})
    cols = ["dataset", "protocol", "method", "seed"]
    return (df.sort_values(["_d", "_p", "_o", "seed"]).drop(columns=["_o", "_d", "_p"])
            [cols + [c for c in df.columns if c not in cols and not c.startswith("_")]]
            .reset_index(drop=True))


def comparison_table(frame: pd.DataFrame) -> pd.DataFrame:
    """dataset x protocol x method: mean [95% CI] over seeds of each of METRICS."""
    table = summarize(frame, ["dataset", "protocol", "method"], METRICS)
    table = table.rename(columns={"WGA(y,s)": LABELS["wga_ys"], "accuracy": LABELS["acc"],
                                  "minority F1": LABELS["rec_minority_f1"]})
    table = table.replace("nan [nan, nan]", NA)
    keys = {"dataset": list(DATASETS), "protocol": list(PROTOCOLS), "method": list(BASELINES)}
    for col, values in keys.items():
        table[col] = pd.Categorical(table[col], values, ordered=True)
    table = table.sort_values(list(keys)).reset_index(drop=True)
    for col in keys:
        table[col] = table[col].astype(str)
    return table


def _gap(part: pd.DataFrame, a: str, b: str, metric: str) -> tuple[str, float, int]:
    """metric(a) - metric(b) seed by seed within one (dataset, protocol) part: its
    "mean [low, high]", the interval's low end and the number of seeds."""
    d = seed_gaps(part, [a], b, metric, by=())[metric].to_numpy()
    mean, lo, hi = mean_ci(d)
    return fmt_ci(mean, lo, hi), lo, len(d)


def paired_gaps(frame: pd.DataFrame, pairs: Sequence[tuple[str, str]],
                metric: str = "wga_ys") -> pd.DataFrame:
    """Per dataset and protocol, seed-by-seed metric(a) - metric(b) for each (a, b): mean
    [95% CI] over the seeds both have ("gap" is "a − b")."""
    rows = []
    for (dataset, protocol), part in frame.groupby(["dataset", "protocol"], sort=False):
        present = set(part["method"])
        for a, b in pairs:
            if a not in present or b not in present:
                continue
            text, _, n = _gap(part, a, b, metric)
            rows.append({"dataset": dataset, "protocol": protocol, "gap": f"{a}{GAP}{b}",
                         "test WGA(y,s)": text, "n_seeds": n})
    return pd.DataFrame(rows)


def first_ranked(frame: pd.DataFrame, metric: str = "wga_ys") -> pd.DataFrame:
    """Per dataset and protocol: the method with the highest mean test metric, the
    runner-up, and their paired gap over seeds (does the interval exclude 0?)."""
    rows = []
    for (dataset, protocol), part in frame.groupby(["dataset", "protocol"], sort=False):
        means = part.groupby("method")[metric].mean().sort_values(ascending=False, kind="stable")
        first, second = means.index[0], means.index[1]
        text, lo, _ = _gap(part, first, second, metric)
        rows.append({"dataset": dataset, "protocol": protocol, "first": first,
                     "first's mean": fmt_number(means.iloc[0], 3), "second": second,
                     "second's mean": fmt_number(means.iloc[1], 3),
                     "first − second": text, "separated": bool(lo > 0)})
    return pd.DataFrame(rows)


def chosen_points(frame: pd.DataFrame, records_by_dataset: dict[str, Sequence[dict]],
                  fields: Sequence[str] = ("train.lr", "train.weight_decay", "grouping.k",
                                           "objective.dro_eta", "objective.jtt_lambda_up",
                                           "train.warmup_epochs", "grouping.dbscan_eps",
                                           "objective.dfr_l1")) -> pd.DataFrame:
    """What each protocol chose, per dataset x protocol x method: the most frequent grid
    point's tuned values (only the fields its grid varies) and the median epoch."""
    grids = {dataset: {} for dataset in records_by_dataset}  # dataset -> (method, seed) -> grid
    for dataset, records in records_by_dataset.items():
        for r in records:  # in sweep order, as selection_rows indexes them
            grids[dataset].setdefault((method_of(r), r["seed"]), []).append(r)

    def value(cfg: dict, dotted: str):
        section, key = dotted.split(".")
        return cfg[section][key]

    rows = []
    for (dataset, protocol, method), part in frame.groupby(["dataset", "protocol", "method"],
                                                           sort=False):
        by_seed = {seed: grid for (m, seed), grid in grids[dataset].items() if m == method}
        grid = by_seed[part["seed"].iloc[0]]
        varied = [f for f in fields if len({repr(value(r["config"], f)) for r in grid}) > 1]
        picks = [", ".join(f"{f.split('.')[1]}={value(by_seed[s][i]['config'], f)}"
                           for f in varied) or "(one point)"
                 for s, i in zip(part["seed"], part["grid_index"])]
        top = pd.Series(picks).value_counts()
        rows.append({"dataset": dataset, "protocol": protocol, "method": method,
                     "most chosen point": top.index[0],
                     "chosen for": f"{top.iloc[0]} of {len(picks)} seeds",
                     "median epoch": float(np.median(part["epoch"]))})
    return pd.DataFrame(rows)
