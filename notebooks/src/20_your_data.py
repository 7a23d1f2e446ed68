# %% [markdown]
# # 20 · Your data: does gradient clustering find the hidden groups?
#
# **Question.** In a table of your own, with a label and a column the model might use as
# a shortcut (the *spurious* attribute), do UGC's gradient clusters recover the (label,
# spurious) groups, and does training over them help the worst group as much as training
# over the true groups does?
#
# **Run it on your CSV** (one row per sample; numeric feature columns):
#
# ```bash
# python run_all.py --only 20 -p data=path/to/table.csv -p label=LABEL_COLUMN \
#     -p spurious=SPURIOUS_COLUMN --out DIR
# ```
#
# The report is `DIR/notebooks/20_your_data.ipynb` and `DIR/20_your_data.html`. Other
# parameters (the cell below): `features` (a list of input columns; default every other
# column), `split` (a column holding train/val/test or 0/1/2; without one, a random split
# stratified by group with `test_fraction` of each group held out), `spurious_as_input`
# (whether the spurious column is also a model input), `n_clusters`, `seeds`.
#
# **Without a CSV** (this committed copy) the table is built here from scikit-learn's
# bundled breast-cancer data with a planted spurious column (described below), written
# to a CSV and read back through the same path a user's file takes.
#
# **What runs** (`ugc_lib.your_data.compare`, on `UGCClassifier` with its defaults, the
# paper's recipe, printed below; last epoch reported, no model selection):
# - **ERM**: the same budget without reweighting;
# - **UGC (global)**: k-means with `n_clusters` over all training samples' final-layer
#   gradients after the warm-up (the paper's), then Group DRO over the clusters;
# - **UGC (per class)**: the same k-means within each class (GRASP-style);
# - **Oracle Group DRO**: Group DRO over the true (label, spurious) groups.
#
# Features are z-scored with the training rows' statistics. Accuracy and worst-group
# accuracy (WGA, the minimum over the (label, spurious) groups present) are the mean
# [95% bootstrap interval] over seeds; the seeds vary the model's initialisation, the
# batch order and k-means, not the split.

# %% tags=["parameters"]
data = None
label = "diagnosis"
spurious = "planted"
features = None
split = "split"
spurious_as_input = True
test_fraction = 0.3
n_clusters = 2
seeds = list(range(20))
results_dir = "../reports/results"

# %%
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from ugc_lib import GradientGroups, UGCClassifier, report, your_data
from ugc_lib.intervals import mean_ci

pd.set_option("display.width", 160)
PLANTED = {"agreement": 0.95, "test_agreement": 0.5, "test_fraction": 0.4, "seed": 0}

if data is None:
    workdir = tempfile.TemporaryDirectory()
    csv = your_data.write_planted_csv(Path(workdir.name) / "planted_breast_cancer.csv", **PLANTED)
    display(Markdown(
        f"**The planted table.** scikit-learn's breast-cancer data, with `{label}` the "
        f"diagnosis and `{spurious}` a planted column in {{-1, +1}}: +1 goes with 'benign' "
        f"in {PLANTED['agreement']:.0%} of the training rows and in {PLANTED['test_agreement']:.0%} "
        f"of the test rows (independent of the label), and it is also a model input. "
        f"{PLANTED['test_fraction']:.0%} of the rows, drawn at random, are the test split."))
else:
    csv = data
table = your_data.load_table(csv, label=label, spurious=spurious, features=features,
                             split=split, spurious_as_input=spurious_as_input,
                             test_fraction=test_fraction)
recipe = UGCClassifier().get_params()
display(Markdown(
    f"**Recipe.** An MLP with hidden layers {recipe['hidden_dims']}, {recipe['optimizer']} with "
    f"learning rate {recipe['lr']}, batch {recipe['batch_size']}, {recipe['warmup_epochs']} ERM "
    f"warm-up epoch(s), then {recipe['robust_epochs']} epochs of each method; signatures from "
    f"the final layer, PCA to {recipe['pca_dim']} dimensions, k-means with "
    f"{n_clusters} clusters."))
sizes = ", ".join(f"{len(table.y[n])} {n}" for n in table.splits)
source = "the planted table" if data is None else f"`{data}`"
display(Markdown(
    f"**Data.** {source}: {sum(len(v) for v in table.y.values())} rows ({sizes}), "
    f"{len(table.feature_names)} input columns, label `{table.label}`, spurious attribute "
    f"`{table.spurious}`; {len(seeds)} seeds."))

# %% [markdown]
# ## The groups: rows per (label, spurious) pair and split
# The small training groups are the ones a shortcut fails; WGA is computed over every
# group present in a split.

# %%
counts = your_data.group_counts(table)
display(counts)

# %% [markdown]
# ## Accuracy and worst-group accuracy, per method and split

# %%
df = your_data.compare(table, seeds, n_clusters=n_clusters)
by_split = df.assign(split=pd.Categorical(df["split"], table.splits)).sort_values("split",
                                                                                  kind="stable")
metrics_table = your_data.summarize(by_split, ["split", "method"], ["acc", "wga"])
display(metrics_table)

# %% [markdown]
# ## Each method against ERM on the evaluation split, seed by seed
# The difference in WGA (method − ERM) on the same seed, mean [95% bootstrap interval].

# %%
eval_split = "test" if "test" in table.splits else table.splits[-1]
ev = df[df["split"] == eval_split]
wga = ev.pivot(index="seed", columns="method", values="wga")
rows = []
for method in [m for m in your_data.METHODS if m != "ERM"]:
    mean, low, high = mean_ci(wga[method] - wga["ERM"])
    rows.append({"method": method, "WGA - ERM WGA": f"{mean:.3f} [{low:.3f}, {high:.3f}]",
                 "seeds better": int((wga[method] > wga["ERM"]).sum()),
                 "seeds worse": int((wga[method] < wga["ERM"]).sum()),
                 "_low": low, "_high": high})
gain = pd.DataFrame(rows)
display(gain.drop(columns=["_low", "_high"]))


def reading(row) -> str:
    if row["_low"] > 0:
        return "raises the worst group's accuracy above ERM's"
    if row["_high"] < 0:
        return "lowers the worst group's accuracy below ERM's"
    return "does not change the worst group's accuracy detectably (the interval includes 0)"


display(Markdown("\n".join(f"- **{r['method']}** {reading(r)}: {r['WGA - ERM WGA']}."
                           for _, r in gain.iterrows())))

# %% [markdown]
# ## Per-group accuracy on the evaluation split

# %%
group_cols = [c for c in df.columns if c.startswith("acc (")]
group_table = your_data.summarize(ev, ["method"], group_cols)
display(group_table)

# %% [markdown]
# ## Do the gradient clusters recover the groups? (training split)
# Adjusted Rand index (ARI) of the clusters against the label, the spurious attribute and
# the (label, spurious) groups, and NMI against the groups: 1 is the same partition, about
# 0 is unrelated. When the spurious attribute mostly follows the label, clusters that
# merely split the labels already score high against the groups, so the last column asks
# about each group itself: for every group, the F1 of the cluster that matches it best,
# then the smallest over the groups (1: each group is exactly one cluster; the small
# groups decide it). Per-class clusters can reproduce the groups exactly when
# `n_clusters` equals the number of spurious values.

# %%
recovery_cols = ["ari_y", "ari_s", "ari_ys", "nmi_ys", "worst_group_f1"]
train_rows = df[(df["split"] == "train") & df["method"].str.startswith("UGC")]
recovery_table = your_data.summarize(train_rows, ["method"], recovery_cols)
display(recovery_table)

# %% [markdown]
# Which training samples each cluster holds, for the first seed (`GradientGroups`, the
# grouping step on its own; the same warm-up and seed give UGC's clusters): rows are the
# (label, spurious) groups, columns the clusters.

# %%
for scope in ("global", "per_class"):
    grouper = GradientGroups(n_clusters=n_clusters, scope=scope, random_state=seeds[0])
    labels = grouper.fit_predict(table.X["train"], table.y["train"])
    pairs = pd.Series(your_data.pair_names(table.y["train"], table.s["train"]),
                      name=f"({table.label}, {table.spurious})")
    display(Markdown(f"**scope = {scope}**"))
    display(pd.crosstab(pairs, pd.Series(labels, name="cluster")))

# %% [markdown]
# ## Reading

# %%
mean_wga = ev.groupby("method", sort=False)["wga"].mean()
mean_acc = ev.groupby("method", sort=False)["acc"].mean()
recovered = train_rows.groupby("method", sort=False)[["ari_y", "ari_ys", "worst_group_f1"]].mean()
best = mean_wga.drop("Oracle Group DRO").idxmax()
display(Markdown("\n".join([
    f"1. **ERM** reaches accuracy {mean_acc['ERM']:.3f} and WGA {mean_wga['ERM']:.3f} on the "
    f"{eval_split} split; the oracle, which is given the groups, reaches WGA "
    f"{mean_wga['Oracle Group DRO']:.3f} (mean over {len(seeds)} seeds).",
    f"2. **UGC** reaches WGA {mean_wga['UGC (global)']:.3f} with global clusters and "
    f"{mean_wga['UGC (per class)']:.3f} with per-class clusters; the best method without "
    f"group labels is {best}.",
    f"3. **The clusters** (training split) reach ARI {recovered.loc['UGC (global)', 'ari_ys']:.3f} "
    f"(global) and {recovered.loc['UGC (per class)', 'ari_ys']:.3f} (per class) against the "
    f"(label, spurious) groups, and {recovered.loc['UGC (global)', 'ari_y']:.3f} and "
    f"{recovered.loc['UGC (per class)', 'ari_y']:.3f} against the label alone. The group "
    f"they match worst is matched with F1 {recovered.loc['UGC (global)', 'worst_group_f1']:.3f} "
    f"(global) and {recovered.loc['UGC (per class)', 'worst_group_f1']:.3f} (per class), "
    f"where 1 would be a cluster holding exactly that group.",
])))

# %%
_ = report.save_results(results_dir, "20_your_data",
                        tables={"Your data: group counts": counts.reset_index(),
                                "Your data: accuracy and WGA": metrics_table,
                                "Your data: WGA gain over ERM": gain.drop(columns=["_low", "_high"]),
                                "Your data: per-group accuracy": group_table,
                                "Your data: cluster recovery (train)": recovery_table})
