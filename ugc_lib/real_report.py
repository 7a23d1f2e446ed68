"""Tables and readings of the real-data notebooks 17-19 (Colored MNIST, Adult, COMPAS).

Every table is mean [95% BCa interval] over seeds (tables.summarize), by preset (and by
whether s is an input, for the tabular data) and method ("variant": real_studies.REAL_METHODS
names). Paired gaps are seed-by-seed differences on the same splits, initialisation and
warm-up. The reading is rendered from those tables, so it quotes what they print.
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from .data.base import Dataset, group_counts
from .readings import Estimate, cell, num, words
from .real_studies import INFERRED
from .tables import summarize

TEST_METRICS = ("acc", "wga_s", "wga_ys")
GROUPS = ("y0s0", "y0s1", "y1s0", "y1s1")
RECOVERY = ("rec_ari_s", "rec_ari_ys", "rec_minority_precision", "rec_minority_recall",
            "rec_minority_f1", "rec_smallest_cluster_frac")
RECOVERY_NAMES = {"rec_minority_precision": "minority precision",
                  "rec_minority_recall": "minority recall"}


def counts_table(datasets: dict[str, Dataset]) -> pd.DataFrame:
    """Rows (label, split), columns the four (y, s) groups: images or rows per group."""
    return pd.DataFrame([{"data": label, "split": split, **counts}
                         for label, ds in datasets.items()
                         for split, counts in group_counts(ds).items()])


def test_table(final: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Test accuracy, WGA(s), WGA(y,s) per `by` x variant, last epoch."""
    return summarize(final[final["split"] == "test"], [*by, "variant"], TEST_METRICS)


def group_table(final: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Test accuracy of each (y, s) group per `by` x variant, last epoch."""
    return summarize(final[final["split"] == "test"], [*by, "variant"],
                     [f"acc_{g}" for g in GROUPS])


def recovery_table(final: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """ARI of the pseudo-groups against s and (y, s), and the best group's precision,
    recall and F1 on the minority (s != y), on the training set, for the methods that
    infer groups (ERM's and the oracle's records hold clusters they never train on)."""
    part = final[(final["split"] == "train") & final["variant"].isin(INFERRED)]
    return summarize(part, [*by, "variant"], RECOVERY).rename(columns=RECOVERY_NAMES)


def gap_table(final: pd.DataFrame, by: Sequence[str], references: Sequence[str] = ("ERM", "oracle DRO"),
              metrics: Sequence[str] = ("wga_s", "wga_ys")) -> pd.DataFrame:
    """Paired test gaps "method − reference" per `by`, seed by seed (same data and init)."""
    test = final[final["split"] == "test"]
    parts = []
    for ref in references:
        base = test[test["variant"] == ref].set_index([*by, "seed"])[list(metrics)]
        for name in test["variant"].unique():
            if name == ref:
                continue
            own = test[test["variant"] == name].set_index([*by, "seed"])[list(metrics)]
            parts.append((own - base).dropna().reset_index().assign(gap=f"{name} − {ref}"))
    return summarize(pd.concat(parts, ignore_index=True), [*by, "gap"], metrics)


def map_table(final: pd.DataFrame, metric: str = "wga_ys") -> pd.DataFrame:
    """Mean test metric per (variant, rho) x colour strength: the sensitivity map."""
    test = final[final["split"] == "test"]
    out = test.pivot_table(index=["variant", "data.spurious_corr"], columns="data.color_strength",
                           values=metric, aggfunc="mean", observed=True).round(3) + 0.0
    out.columns = [f"strength {c:g}" for c in out.columns]
    return out.reset_index().rename(columns={"data.spurious_corr": "rho"})


def headline(test: pd.DataFrame, dataset: str, **where) -> pd.DataFrame:
    """One row per variant: the dataset and its test WGA(y,s) mean [CI] (the closing table)."""
    part = test
    for col, value in where.items():
        part = part[part[col.replace("__", ".")] == value]
    return pd.DataFrame({"dataset": dataset, "method": part["variant"].astype(str),
                         "test WGA(y,s)": part["WGA(y,s)"]}).reset_index(drop=True)


# ---------------------------------------------------------------- readings

def side_words(gap: Estimate, positive: str, negative: str, neither: str) -> str:
    """positive / negative / neither as the paired gap's interval lies above / below / on 0."""
    return {"above": positive, "below": negative, "includes": neither}[gap.side()]


def method_lines(test: pd.DataFrame, gaps: pd.DataFrame, rec: pd.DataFrame, **where) -> list[str]:
    """One Markdown bullet per inferred-group method: WGA(y,s), its paired gaps to ERM and
    to the oracle, and what its groups are (ARI vs (y,s), minority F1)."""
    lines = []
    for name in INFERRED:
        wga = cell(test, "WGA(y,s)", variant=name, **where)
        to_erm = cell(gaps, "WGA(y,s)", gap=f"{name} − ERM", **where)
        to_oracle = cell(gaps, "WGA(y,s)", gap=f"{name} − oracle DRO", **where)
        ari = cell(rec, "ARI vs (y,s)", variant=name, **where)
        f1 = cell(rec, "minority F1", variant=name, **where)
        lines.append(
            f"- **{name}**: test WGA(y,s) {wga.ci()}; "
            + side_words(to_erm, "above ERM", "below ERM", "not distinguishable from ERM")
            + f" ({to_erm.ci()}), "
            + side_words(to_oracle, "above the oracle", "below the oracle", "not distinguishable from the oracle")
            + f" ({to_oracle.ci()}); its groups: ARI vs (y,s) {ari.m()}, minority F1 {f1.m()}.")
    return lines


def structure_words(rec: pd.DataFrame, **where) -> str:
    """Whether the (y, s) structure shows in the gradients, in the raw inputs, both or neither
    (per-class k-means ARI vs (y,s) above 0.5 by its interval)."""
    grad = cell(rec, "ARI vs (y,s)", variant="UGC (per class)", **where)
    raw = cell(rec, "ARI vs (y,s)", variant="input k-means (per class)", **where)
    found = [name for name, e in (("the gradients", grad), ("the raw inputs", raw)) if e.lo > 0.5]
    tail = (f" (per-class k-means: ARI vs (y,s) {grad.ci()} on the model's gradients, "
            f"{raw.ci()} on the raw inputs)")
    if not found:
        return "per-class k-means finds the (y, s) groups neither in the gradients nor in the raw inputs" + tail
    return f"per-class k-means finds the (y, s) groups in {words(found)}" + tail


def shortcut_words(test: pd.DataFrame, gaps: pd.DataFrame, **where) -> str:
    """ERM against the oracle: the paired WGA(y,s) gap and whether it reaches 0.2."""
    erm = cell(test, "WGA(y,s)", variant="ERM", **where)
    oracle = cell(test, "WGA(y,s)", variant="oracle DRO", **where)
    d = cell(gaps, "WGA(y,s)", gap="ERM − oracle DRO", **where)
    size = ("at least " + num(0.2, 1) + " below the oracle's, with its interval below 0"
            if d.mean <= -0.2 and d.hi < 0 else
            "below the oracle's, by less than " + num(0.2, 1) if d.hi < 0 else
            "not distinguishable from the oracle's")
    return (f"ERM's test WGA(y,s) is {erm.ci()} against the oracle's {oracle.ci()}: {size} "
            f"(paired ERM − oracle {d.ci()})")
