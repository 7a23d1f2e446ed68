"""Every printed table: summaries from the tidy frame (mean [95% bootstrap CI] over seeds),
the baseline and sensitivity tables of notebooks 13-14, the benchmark tables of notebook 16,
the C12 table and the paper's Table 1."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from .config import PRESETS, RunConfig
from .intervals import mean_ci as interval_of_mean
from .studies import BASELINES, CELL, GAP, NO_INFERRED_GROUPS, ORACLE, REFERENCES

METRIC_LABELS = {"acc": "accuracy", "wga_s": "WGA(s)", "wga_ys": "WGA(y,s)", "loss": "loss",
                 "wca": "worst-class accuracy",
                 "rec_ari_s": "ARI vs s", "rec_ari_y": "ARI vs y", "rec_ari_ys": "ARI vs (y,s)",
                 "rec_nmi_ys": "NMI vs (y,s)", "rec_minority_f1": "minority F1",
                 "rec_smallest_cluster_frac": "smallest cluster share",
                 "rec_grad_norm_ratio_smallest": "grad-norm ratio (smallest / rest)"}


def at_epoch(df: pd.DataFrame, epoch: int | None = None, split: str | None = None) -> pd.DataFrame:
    """Rows at one epoch (default: each run's last epoch), optionally one split."""
    if epoch is None:
        last = df.groupby("run")["epoch"].transform("max")
        out = df[df["epoch"] == last]
    else:
        out = df[df["epoch"] == epoch]
    if split is not None:
        out = out[out["split"] == split]
    return out.reset_index(drop=True)


def fmt_number(x: float, decimals: int) -> str:
    text = f"{x:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0.000"


def fmt_ci(mean: float, lo: float, hi: float, decimals: int = 3) -> str:
    """"mean [low, high]", as every table prints an interval."""
    return (f"{fmt_number(float(mean), decimals)} [{fmt_number(float(lo), decimals)}, "
            f"{fmt_number(float(hi), decimals)}]")


def summarize(df: pd.DataFrame, by: Sequence[str], metrics: Sequence[str],
              decimals: int = 3) -> pd.DataFrame:
    """One row per `by` group: for each metric "mean [low, high]" over seeds, and n."""
    rows = []
    for key, part in df.groupby(list(by), dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key))
        for m in metrics:
            mean, lo, hi = interval_of_mean(part[m].to_numpy())
            row[METRIC_LABELS.get(m, m)] = fmt_ci(mean, lo, hi, decimals)
        row["n_seeds"] = int(part["seed"].nunique())
        rows.append(row)
    return pd.DataFrame(rows)


# The paper's Table 1, mapped to config fields (regenerated as a table by table1).
# (setting, config field, the paper's value, the paper's note)
TABLE1_FIELDS: list[tuple[str, str, str, str]] = [
    ("Warm-up epochs", "train.warmup_epochs", "1", "extract gradients after epoch 1"),
    ("Post-clustering epochs", "train.robust_epochs", "5", "post-clustering"),
    ("Batch size", "train.batch_size", "64", "training"),
    ("k (clusters)", "grouping.k", "2", "binary spurious groups"),
    ("PCA dimension", "grouping.pca_dim", "10", "gradient reduction"),
    ("Optimizer", "train.optimizer", "Adam", "default betas"),
    ("Learning rate", "train.lr", "1e-4, 1e-3, 1e-2", "sweep (presets: the best, 1e-2)"),
    ("Weight decay", "train.weight_decay", "varied", "see Fig. 6 (presets: none)"),
]


def get_field(cfg: RunConfig, dotted: str) -> Any:
    section, name = dotted.split(".", 1)
    return getattr(getattr(cfg, section), name)


def table1() -> pd.DataFrame:
    """The paper's Table 1 regenerated from the presets."""
    rows = []
    for label, dotted, paper, note in TABLE1_FIELDS:
        row = {"setting": label, "field": dotted, "paper value": paper, "paper note": note}
        for name, cfg in PRESETS.items():
            row[name] = str(get_field(cfg, dotted))
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- notebooks 13-14: methods

RECOVERY = ("rec_ari_ys", "rec_nmi_ys", "rec_ari_s", "rec_minority_f1")
TEST = ("acc", "wga_s", "wga_ys")
NA = "n/a"


RULE_REGIME = (
    "per cell (core dimension x P(s=y)) and UGC variant, over seeds 0-4: C1 (recovers the "
    "groups) if the 95% CI of its clusters' minority F1 lies above 0.5 (claims.RULE_C1's "
    "minority reading; ARI vs s is left out because per-class clusters inherit it from the "
    "label split); C2 (matches the oracle) if the 95% CI of the paired gap to oracle Group "
    "DRO in test WGA(y,s) reaches 0 (claims.RULE_C2 (b)); +ERM / -ERM if the 95% CI of the "
    "paired gap to ERM in test WGA(y,s) lies above / below 0; none if no tag applies")


def blank_recovery(df: pd.DataFrame) -> pd.DataFrame:
    """Recovery columns set to NaN for the methods that infer no groups (ERM, oracle):
    their records hold the gradient clusters, which they never train on."""
    df = df.copy()
    cols = [c for c in df.columns if c.startswith("rec_")]
    df.loc[df["method"].isin(NO_INFERRED_GROUPS), cols] = np.nan
    return df


def method_table(final_test: pd.DataFrame, by: Sequence[str], metrics: Sequence[str],
                 reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mean [95% CI] over seeds per `by` x method; "n/a" where a method has no value.

    Rows follow the order of BASELINES within each `by` group; reference rows (same
    columns, e.g. reference_rows) are appended with NaN for missing metrics.
    """
    df = blank_recovery(final_test)
    if reference is not None:
        df = pd.concat([df, reference.assign(**{m: np.nan for m in metrics
                                                 if m not in reference})], ignore_index=True)
    table = summarize(df, [*by, "method"], metrics).replace("nan [nan, nan]", NA)
    order = {name: i for i, name in enumerate([*BASELINES, *REFERENCES])}
    table["_order"] = table["method"].map(order)
    return table.sort_values([*by, "_order"]).drop(columns="_order").reset_index(drop=True)


def baseline_table(final_test: pd.DataFrame, reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Notebook 13's table: recovery of each method's groups, then test metrics."""
    return method_table(final_test, ["preset"], [*RECOVERY, *TEST], reference)


def heatmap_means(final: pd.DataFrame, method: str, metric: str, decimals: int = 2,
                  index: str = "data.core_dim", columns: str = "data.spurious_corr") -> pd.DataFrame:
    """Mean over seeds of metric for one method on the index x columns grid, rounded."""
    part = final[final["method"] == method]
    means = part.pivot_table(index=index, columns=columns, values=metric, aggfunc="mean")
    return means.round(decimals) + 0.0  # + 0.0 turns -0.0 into 0.0


def paired_gaps(final_test: pd.DataFrame, methods: Sequence[str], reference: str,
                metric: str = "wga_ys", by: Sequence[str] = CELL) -> pd.DataFrame:
    """Seed-by-seed metric(method) - metric(reference) in each cell (same data, initialisation
    and warm-up), as rows whose method is "<method> − <reference>"."""
    ref = final_test[final_test["method"] == reference].set_index([*by, "seed"])[metric]
    parts = []
    for m in methods:
        own = final_test[final_test["method"] == m].set_index([*by, "seed"])[metric]
        parts.append((own - ref).dropna().rename(metric).reset_index().assign(
            method=f"{m}{GAP}{reference}"))
    return pd.concat(parts, ignore_index=True)


def gap_table(final_test: pd.DataFrame, methods: Sequence[str], references: Sequence[str],
              metrics: Sequence[str] = ("wga_s", "wga_ys"), by: Sequence[str] = ("preset",)
              ) -> pd.DataFrame:
    """Mean [95% CI] of the paired gaps method - reference, per `by` group."""
    gaps = pd.concat([paired_gaps(final_test, methods, ref, m, by) for ref in references
                      for m in metrics], ignore_index=True)
    return summarize(gaps, [*by, "method"], metrics)


def jtt_table(final: pd.DataFrame) -> pd.DataFrame:
    """The JTT sweep: error-set size and minority F1, validation and test metrics."""
    by = ["preset", "train.warmup_epochs", "objective.jtt_lambda_up"]
    test = summarize(final[final["split"] == "test"], by,
                     ["jtt_n_errors", "rec_minority_f1", "acc", "wga_s", "wga_ys"])
    val = summarize(final[final["split"] == "val"], by, ["wga_ys"]).drop(columns="n_seeds")
    test = test.rename(columns={"jtt_n_errors": "error-set size", "accuracy": "test accuracy",
                                "WGA(s)": "test WGA(s)", "WGA(y,s)": "test WGA(y,s)"})
    out = val.rename(columns={"WGA(y,s)": "val WGA(y,s)"}).merge(test, on=by)
    return out.rename(columns={"train.warmup_epochs": "T (warm-up epochs)",
                               "objective.jtt_lambda_up": "lambda_up"})


def _cell_ci(df: pd.DataFrame, metric: str, by: Sequence[str]) -> pd.Series:
    return df.groupby(list(by))[metric].apply(lambda v: interval_of_mean(v.to_numpy()))


def regime_table(final_test: pd.DataFrame, method: str, by: Sequence[str] = CELL) -> pd.DataFrame:
    """Which claims hold in each cell for one UGC variant (codes: see RULE_REGIME)."""
    f1 = _cell_ci(final_test[final_test["method"] == method], "rec_minority_f1", by)
    to_oracle = _cell_ci(paired_gaps(final_test, [method], ORACLE, by=by), "wga_ys", by)
    to_erm = _cell_ci(paired_gaps(final_test, [method], "ERM", by=by), "wga_ys", by)
    codes = {}
    for cell in f1.index:
        tags = ["C1"] if f1[cell][1] > 0.5 else []
        tags += ["C2"] if to_oracle[cell][2] >= 0 else []
        tags += ["+ERM"] if to_erm[cell][1] > 0 else ["-ERM"] if to_erm[cell][2] < 0 else []
        codes[cell] = " ".join(tags) or "none"
    return pd.Series(codes).rename_axis(list(by)).unstack(by[1])


def heatmap_table(final_test: pd.DataFrame, panels: Sequence[tuple[str, str]],
                  decimals: int = 2) -> pd.DataFrame:
    """The heatmaps' numbers as one wide table: (method, metric, core_dim) x spurious_corr."""
    parts = []
    for method, metric in panels:
        means = heatmap_means(final_test, method, metric, decimals)
        parts.append(means.assign(method=method, metric=METRIC_LABELS[metric]).reset_index())
    out = pd.concat(parts, ignore_index=True)
    cols = ["method", "metric", "data.core_dim"]
    out = out[cols + [c for c in out.columns if c not in cols]]
    out.columns.name = None
    return out.rename(columns={c: f"P(s=y)={c:g}" for c in out.columns if isinstance(c, float)})


# ---------------------------------------------------------------- notebook 15: C12


def c12_table(verdicts) -> pd.DataFrame:
    """One printable row per C12 verdict: the paired gain, its seeds, F1, oracle gap."""
    return pd.DataFrame([{"preset": v.preset, "WGA def": v.definition,
                          "UGC - ERM (95% CI)": f"{fmt_number(v.mean, 3)} [{fmt_number(v.ci_low, 3)}, "
                                                f"{fmt_number(v.ci_high, 3)}]",
                          "seeds UGC > ERM": f"{v.detail['ugc_beats_erm_frac']:.1f}",
                          "minority F1": fmt_number(v.detail["minority_f1"][0], 3),
                          "oracle - ERM": fmt_number(v.detail["oracle_minus_erm"][0], 3),
                          "verdict": v.verdict} for v in verdicts])


# ---------------------------------------------------------------- notebook 16: benchmarks

def speed_table(bench: dict) -> pd.DataFrame:
    """Speed-up over the per-sample loop at the paper's N (targets apply) and a larger N."""
    rows = []
    for key in ("signature_speed", "signature_speed_large_n"):
        s = bench[key]
        for m in ("torch_func", "closed_form"):
            speed = s["speedup_vs_loop"][m]
            target = s["targets"][m] if key == "signature_speed" else None
            rows.append({"N": s["n"], "method": m, "loop / method": f"{speed:,.0f}x",
                         "target": "" if target is None else f">= {target:,.0f}x",
                         "met": "" if target is None else ("yes" if speed >= target else "no"),
                         "max |diff| vs loop": f"{s['max_abs_diff_vs_loop'][m]:.0e}"})
    return pd.DataFrame(rows)


def overhead_table(bench: dict) -> pd.DataFrame:
    """The C11 records (BLAS as the pipeline runs it), then the 1-thread-BLAS diagnostic."""
    recs = bench["overhead"]
    return pd.DataFrame([{"model": r["model"], "preset": r["preset"],
                          "BLAS threads": r.get("blas_threads", "default"),
                          "UGC step / epoch": round(r["step_over_epoch"], 2),
                          "UGC step / 6 epochs": round(r["step_over_training"], 2),
                          "share of step in clustering":
                              round(r["median_seconds"]["clustering"] / r["median_seconds"]["step"], 2)}
                         for r in recs])


def exponent_table(bench: dict) -> pd.DataFrame:
    rows = []
    for name, e in bench["scaling"]["exponents"].items():
        ratios = e["peak_over_signature_matrix"]
        rows.append({"series": name, "x": e["x"], "time exponent": round(e["time"], 2),
                     "time exponent (top 3 points)": round(e["time_top"], 2),
                     "peak-memory exponent": round(e["peak_memory"], 2),
                     "peak-memory exponent (top 3)": round(e["peak_memory_top"], 2),
                     "peak / signature matrix (first, last)":
                         f"{ratios[0]:.1f}, {ratios[-1]:.1f}"})
    return pd.DataFrame(rows)


def batched_table(bench: dict) -> pd.DataFrame:
    """Batched seeds (benchmarks.json "batched_seeds"): runs per second one at a time and as
    one stack, their ratio in wall-clock and in CPU time, and whether the records were equal."""
    return pd.DataFrame([{"model": r["model"], "preset": r["preset"], "S": r["S"],
                          "one at a time, runs/s": round(r["single_runs_per_s"], 1),
                          "batched, runs/s": round(r["batched_runs_per_s"], 1),
                          "speed-up (wall)": round(r["speedup"], 1),
                          "speed-up (CPU)": round(r["speedup_cpu"], 1),
                          "records identical": r["identical"]}
                         for r in bench["batched_seeds"]["rows"]])


def distributed_table(bench: dict) -> pd.DataFrame:
    """The distributed sweep (benchmarks.json "distributed"): the local path, two joblib
    workers, and a LocalCluster of 1 and 2 workers over the same runs."""
    d = bench["distributed"]
    rows = [{"path": "local, one process", "seconds": d["local"]["seconds"], "speed-up": 1.0,
             "CPU overhead ms/run": 0.0, "records identical": True},
            {"path": "local, joblib 2 workers", "seconds": d["local_joblib_2"]["seconds"],
             "speed-up": d["local_joblib_2"]["speedup"],
             "CPU overhead ms/run": 1e3 * d["local_joblib_2"]["cpu_overhead_seconds_per_run"],
             "records identical": d["local_joblib_2"]["records_identical"]}]
    for w, c in d["local_cluster"].items():
        rows.append({"path": f"Dask LocalCluster, {w} worker(s)", "seconds": c["seconds"],
                     "speed-up": c["speedup"],
                     "CPU overhead ms/run": 1e3 * c.get("cpu_overhead_seconds_per_run", float("nan")),
                     "records identical": c["records_identical"]})
    out = pd.DataFrame(rows)
    return out.round({"seconds": 1, "speed-up": 2, "CPU overhead ms/run": 1})
