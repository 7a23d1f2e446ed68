# %% [markdown]
# # 04 · Do the gradient clusters recover the spurious groups, and does anything read s?
#
# **Claims tested.**
# - **C1** (Abstract; Sec. 5): UGC "recovers group structure": the gradient clusters match the
#   latent spurious groups.
# - **C14** (Abstract; Sec. 5): the results are obtained "without any group labels": no step of
#   training or model selection reads s or the groups.
#
# **What we run.** Each preset's own UGC pipeline up to the clustering: one ERM warm-up epoch
# (Adam, LR 1e-2, batch 64), then per-sample gradient signatures on the training set
# (`gradients.signatures`) and k-means: `paper_text` takes the final layer's weight and bias
# (66 numbers), PCA to 10 and k-means++ with 10 restarts; `paper_code` takes the final
# weight only (64 numbers), no PCA, and one random start with 10 Lloyd steps. The clusters
# are those of the full UGC run (the robust phase comes after them), so the runs stop there
# (`train.robust_epochs = 0`). k ∈ {2, 4, 8} (the paper's Fig. 2), over the seeds of the
# parameter cell. Agreement with the true groups is
# measured by ARI and NMI against the four (y, s) groups, against s and against y, and by
# the F1 of the cluster that best matches the minority (s ≠ y).
#
# **C14 check.** s is an input feature here (the 6th column of X, as in the paper's script),
# so "without group labels" means the *label array* s (and the groups built from it) is
# never read. We train the full UGC pipeline twice per seed, handing `train.fit` the true
# groups built from the real s and then from random garbage s (X and y unchanged), and
# compare clusters, signatures, final weights and predictions. There is no model selection
# step: every notebook reports the last epoch. As a positive control, the same comparison is
# run on oracle Group DRO, which does read the groups and must come out different.
#
# Verdict rules: C1 uses `claims.verdict_c1` (as in notebook 05, shown here as a cross-check
# on the same clusters), C14 `claims.verdict_c14`; each rule's text (`claims.RULE_C1`,
# `claims.RULE_C14`) is printed with its verdict.

# %% tags=["parameters"]
seeds = [0, 1, 2, 3, 4]
jobs = 1
figures_dir = "../reports/figures"
results_dir = "../reports/results"

# %%
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from ugc_lib import claims, config, data, diagnostics, figures, metrics, readings as R, report, runner, studies, tables

%matplotlib inline

pd.set_option("display.width", 170)
pd.set_option("display.max_columns", 20)
presets = ["paper_text", "paper_code"]
configs = [studies.ugc_warmup_config(p, **{"grouping.k": k}) for p in presets for k in studies.KS]
records = runner.sweep(configs, seeds, jobs=jobs)
df = runner.to_frame(records)
train = tables.at_epoch(df, split="train")
train = train.rename(columns={"rec_nmi_s": "NMI vs s", "rec_nmi_y": "NMI vs y"})
print("runs:", len(records), "| epochs per run:", sorted(int(e) for e in train["epoch"].unique()))

# %% [markdown]
# ## Recovery of the groups, by k (training set, mean [95% CI] over seeds)
# First, for scale, what ideal partitions would score on the training set of the first seed:
# clusters = y, clusters = s, clusters = minority indicator (s ≠ y), clusters = the four
# groups, and a single cluster.

# %%
tr0 = data.make_synthetic(config.PAPER_TEXT.data, seeds[0]).train
ideal = {"clusters = y": tr0.y, "clusters = s": tr0.s, "clusters = minority": (tr0.s != tr0.y).astype(int),
         "clusters = (y,s) groups": tr0.groups, "one cluster": np.zeros(len(tr0.y), dtype=int)}
reference = pd.DataFrame({name: metrics.recovery(c, tr0.y, tr0.s) for name, c in ideal.items()}).T
display(reference[["ari_ys", "ari_s", "ari_y", "nmi_ys", "minority_f1"]].astype(float).round(3))

# %%
ari_table = tables.summarize(train, ["preset", "grouping.k"], ["rec_ari_ys", "rec_ari_s", "rec_ari_y",
                                                              "rec_minority_f1"])
display(ari_table)
nmi_table = tables.summarize(train, ["preset", "grouping.k"], ["rec_nmi_ys", "NMI vs s", "NMI vs y"])
display(nmi_table)
sizes = diagnostics.cluster_size_frame(records)
size_table = tables.summarize(sizes, ["preset", "grouping.k"], ["smallest_cluster_share"])
display(size_table)

# %% [markdown]
# ## One seed in detail (k = 2)
# Seed 0: the signatures' first two principal components, coloured by k-means cluster and
# marked by the true (y, s) group; the cluster × group table; and each cluster's profile
# (size, mean signature norm, and its shares of y = 1, s = 1, minority samples and samples
# the warm-up model misclassifies).

# %%
detail = {p: diagnostics.warmup_signatures(studies.ugc_warmup_config(p), seeds[0]) for p in presets}
same = {p: detail[p]["clusters"].tolist() == next(r["clusters"] for r in records
                                                   if r["config"]["name"] == p and r["seed"] == seeds[0]
                                                   and r["config"]["grouping"]["k"] == 2) for p in presets}
print("train.fit clusters equal the runner's (seed 0, k = 2):", same)
fig = figures.nb04_cluster_scatter({f"{p}: signature PCs (dim {detail[p]['signatures'].shape[1]})": detail[p]
                               for p in presets}, f"Gradient signatures after warm-up, seed {seeds[0]}, k = 2")
_ = figures.save_figure(fig, "nb04_cluster_scatter", figures_dir)

# %%
crosstabs, profiles = {}, {}
for p in presets:
    tr = detail[p]["dataset"].train
    crosstabs[p] = diagnostics.cluster_crosstab(detail[p]["clusters"], tr.groups)
    profiles[p] = diagnostics.cluster_profile(detail[p]["signatures"], detail[p]["clusters"], tr.y, tr.s,
                                          detail[p]["pred"])
    print(f"{p}: cluster x (y, s) group, seed {seeds[0]}")
    display(crosstabs[p])
    display(profiles[p])

# %% [markdown]
# ## C1 cross-check: `claims.verdict_c1` on these clusters (k = 2)
# The same rule and the same clusters as notebook 05 (which records the C1 verdicts for the
# ledger); shown here as a table only.

# %%
k2 = df[df["grouping.k"] == 2]
c1_verdicts = [claims.verdict_c1(k2, p, studies.UGC_METHOD[p]) for p in presets]
c1 = claims.verdict_table(c1_verdicts)
display(c1)
print("-", claims.RULE_C1)

# %% [markdown]
# ## C14: does anything read s? Real vs garbage s, full UGC pipeline (6 epochs)
# `s_changed`: share of training s labels the garbage changed; the other columns say whether
# the two trainings gave bit-identical results.

# %%
checks = diagnostics.c14_checks(presets, seeds)
display(checks.round(3))
print("clusters identical in every run:", bool(checks["clusters_identical"].all()))
control = diagnostics.c14_checks(presets, seeds, **{"objective.method": "oracle_dro"})
control_same = int(control["weights_identical"].sum())
print("positive control (oracle Group DRO reads the groups): final weights identical in",
      control_same, "of", len(control), "runs")

# %%
verdicts = [claims.verdict_c14(checks)]
display(claims.verdict_table(verdicts))
print("-", claims.RULE_C14)

# %%
_ = report.save_results(results_dir, "04_clustering",
                        tables={"Cluster recovery by k (train): ARI, minority F1": ari_table,
                                "Cluster recovery by k (train): NMI": nmi_table,
                                "Smallest cluster share": size_table,
                                "C1 cross-check (same rule and clusters as notebook 05)": c1,
                                "C14 check: real vs garbage s": checks.round(3)},
                        verdicts=verdicts)

# %% [markdown]
# ## Reading

# %%
k_small, k_large = min(studies.KS), max(studies.KS)
ref = reference.astype(float)


def ari(col, p, k):
    return R.cell(ari_table, col, preset=p, grouping__k=k)


def smaller_cluster(p):
    prof = profiles[p]
    small = prof["size"].idxmin()
    return prof.loc[small], prof.drop(index=small)


floor = ref.loc["one cluster", "minority_f1"]
k2 = {p: {c: ari(c, p, k_small) for c in ("ARI vs (y,s)", "ARI vs s", "ARI vs y", "minority F1")} for p in presets}
unrelated = all(abs(k2[p][c].mean) < R.FLOOR_MARGIN for p in presets for c in ("ARI vs (y,s)", "ARI vs s", "ARI vs y"))
f1_floor = all(abs(k2[p]["minority F1"].mean - floor) <= R.FLOOR_MARGIN for p in presets)
share_small = {p: R.cell(size_table, "smallest_cluster_share", preset=p, grouping__k=k_small) for p in presets}
small = {p: smaller_cluster(p) for p in presets}
n_minority = int((tr0.s != tr0.y).sum())
n_small = {p: int(small[p][0]["size"]) for p in presets}
n_wrong = {p: int(round(small[p][0]["size"] * small[p][0]["share_misclassified"])) for p in presets}
n_min_small = {p: int(round(small[p][0]["size"] * small[p][0]["share_minority"])) for p in presets}
ratio = [small[p][0]["mean_grad_norm"] / small[p][1]["mean_grad_norm"].mean() for p in presets]
mostly_wrong = all(n_wrong[p] >= n_small[p] / 2 for p in presets)
top = max(presets, key=lambda p: ari("ARI vs (y,s)", p, k_large).mean)
other = [p for p in presets if p != top][0]
by_label = all(ari("ARI vs y", p, k_large).mean >= ari("ARI vs s", p, k_large).mean for p in presets)
f1_max = max(e.mean for e in R.column(ari_table, "minority F1"))
larger_k = [k for k in studies.KS if k != k_small]
small_shares = [R.cell(size_table, "smallest_cluster_share", preset=p, grouping__k=k).mean for p in presets for k in larger_k]
c1_words = {v.verdict for v in c1_verdicts}
c1_f1 = [v.parts[2]["mean"] for v in c1_verdicts]  # the minority-F1 part
runs = len(checks)
all_same = {c: bool(checks[c].all()) for c in ("clusters_identical", "signatures_identical",
                                               "weights_identical", "predictions_identical")}
c14 = verdicts[0]
display(Markdown(f"""
- **With the paper's k = {k_small} the clusters are {"unrelated to the groups" if unrelated and f1_floor else "related to the groups"}.** ARI against (y, s) is
  {k2[presets[0]]["ARI vs (y,s)"].m()} (`{presets[0]}`) and {k2[presets[1]]["ARI vs (y,s)"].m()} (`{presets[1]}`), against s
  {R.span([k2[p]["ARI vs s"].mean for p in presets], 3, " and ")} and against y {R.span([k2[p]["ARI vs y"].mean for p in presets], 3, " and ")}, and the minority F1
  {k2[presets[0]]["minority F1"].m()} and {k2[presets[1]]["minority F1"].m()}. {"That is the level of" if f1_floor else "Compare"} a single cluster holding
  everything ({R.num(floor)} for seed {seeds[0]}), far from the {R.num(ref.loc["clusters = y", "ari_ys"])} ARI of a split by label or the
  {R.num(ref.loc["clusters = minority", "minority_f1"])} minority F1 of a split by minority (reference table).
- **What k-means does find is {"a handful of poorly fitted samples" if mostly_wrong and max(share_small[p].mean for p in presets) < 0.05 else "a small cluster"}.** The smaller cluster holds
  {R.pct(share_small[presets[0]].mean)} (`{presets[0]}`) and {R.pct(share_small[presets[1]].mean)} (`{presets[1]}`) of the training set on average.
  In seed {seeds[0]} it holds {R.words([f"{n_small[p]} samples (`{p}`)" for p in presets])}, whose gradients are
  {R.span(ratio, 0)} times larger than the rest (mean norm {R.words([R.num(small[p][0]["mean_grad_norm"]) for p in presets])}, against
  {R.words([R.num(small[p][1]["mean_grad_norm"].mean()) for p in presets])}). The warm-up model misclassifies
  {R.words([f"{n_wrong[p]} of {n_small[p]} (`{p}`)" for p in presets])}, and {R.words([f"{n_min_small[p]} (`{p}`)" for p in presets])} of them
  belong to the {n_minority} minority samples. The PCA scatter shows this: a dense blob near 0 and a few far outliers.
  After the warm-up at LR {R.sci(config.PAPER_TEXT.train.lr)} nearly every sample is fitted (notebook 02), so the gradient norm, not the group,
  dominates the Euclidean geometry k-means works in.
- **More clusters {"do not reach the spurious groups" if f1_max - floor <= R.FLOOR_MARGIN else "reach part of the minority"}.** At k = {k_large} the ARI against (y, s) {"rises to" if ari("ARI vs (y,s)", top, k_large).mean > k2[top]["ARI vs (y,s)"].mean else "is"}
  {ari("ARI vs (y,s)", top, k_large).ci()} for `{top}` and {ari("ARI vs (y,s)", other, k_large).m()} for `{other}`.
  {"It moves with" if by_label else "It does not move with"} the ARI against y ({ari("ARI vs y", top, k_large).m()} and {ari("ARI vs y", other, k_large).m()}, against s
  {ari("ARI vs s", top, k_large).m()} and {ari("ARI vs s", other, k_large).m()}){", so the extra clusters begin to split by label, not by s" if by_label else ""},
  and the minority F1 stays at or below {R.num(f1_max)}. At k = {R.words([str(k) for k in larger_k])} the smallest cluster
  holds only {R.span([100 * x for x in small_shares], 1)}% of the samples.
- **C1 (cross-check): {R.by_preset({v.preset: v.verdict for v in c1_verdicts})}**, by the rule printed above
  (`claims.RULE_C1`) and on the same clusters as notebook 05: ARI against s {R.span([v.mean for v in c1_verdicts], 3, " and ")},
  minority F1 {R.span(c1_f1, 3, " and ")}. The rule has a branch for each reading of the groups: an ideal split by
  minority scores ARI against s {R.num(ref.loc["clusters = minority", "ari_s"])} but minority F1
  {R.num(ref.loc["clusters = minority", "minority_f1"])} (reference table), so only the minority-F1 branch could credit it.
- **C14: {c14.verdict}.** In {R.count_of(int(checks["clusters_identical"].sum()), runs)} runs ({len(seeds)} seeds × {len(presets)} presets) the clusters were
  identical; the garbage changed {R.pct_span(checks["s_changed"])} of the training s labels, and the signatures were
  {"identical" if all_same["signatures_identical"] else "not always identical"}, the final weights {"identical" if all_same["weights_identical"] else "not always identical"}
  and the predictions {"identical" if all_same["predictions_identical"] else "not always identical"} in every run.
  The positive control is {"informative" if control_same < len(control) else "not informative"}: oracle Group DRO, which does read the groups,
  ended with different weights in {len(control) - control_same} of {len(control)} runs{", so the comparison can detect a method that reads s" if control_same == 0 else ""}.
  No step selects a model on s either: every notebook reports the last epoch. One qualification: "without group
  labels" holds in the sense of labels only. As in the paper's script, s is the model's *input* feature (the
  text says s is hidden), and notebook 02 shows the warm-up model uses it, if weakly.
"""))
