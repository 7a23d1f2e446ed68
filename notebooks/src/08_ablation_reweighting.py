# %% [markdown]
# # 08 · Reweighting strategies (paper Fig. 3)
#
# **Claim tested.** **C7**: inverse-frequency reweighting and input-feature cluster
# reweighting ("weight by mean feature magnitude") give "nearly identical" train/val
# worst-group accuracy, "plateauing at epoch 2".
#
# **What we run.** k = 2, LR 1e-2, under each preset, three robust objectives over the same
# clusters: static inverse-cluster-size weights (`inverse_freq`), weights proportional to
# each cluster's mean absolute input feature (`feature_weight`, our reading of the paper's
# one-line description; see `ugc_lib/objectives.py`), and online Group DRO (`group_dro`),
# which the text names but the script does not run.

# %% tags=["parameters"]
n_seeds = 50  # at least claims.MIN_SEEDS; the same seeds as notebook 12, so runs are shared
jobs = 1
figures_dir = "../reports/figures"
results_dir = "../reports/results"

# %%
import pandas as pd
from IPython.display import display

from ugc_lib import claims, diagnostics, figures, report, runner, studies, tables

seeds = list(range(n_seeds))

pd.set_option("display.width", 160)
configs = [c for p in ("paper_text", "paper_code") for c in studies.study_configs("reweighting", p)]
df = runner.to_frame(runner.sweep(configs, seeds, jobs=jobs))

# %%
fig = figures.fig3_reweighting(df)
_ = figures.save_figure(fig, "fig3_reweighting", figures_dir)

# %% [markdown]
# ## WGA at epoch 2 and at the last epoch

# %%
rows = df[df["split"].isin(["train", "val"]) & df["epoch"].isin([2, 6])]
table = tables.summarize(rows, ["preset", "objective.method", "split", "epoch"], ["wga_s", "wga_ys"])
display(table)

# %% [markdown]
# ## How far from uniform are the input-feature weights?
# Smallest and largest normalised weight (mean 1) per run, over seeds.

# %%
spread = diagnostics.feature_weight_spread(configs, seeds)
display(tables.summarize(spread, ["preset"], ["w_min", "w_max"]))

# %% [markdown]
# ## Verdicts

# %%
verdicts = [claims.verdict_c7(df, p, d) for p in ("paper_text", "paper_code") for d in ("s", "ys")]
display(claims.verdict_table(verdicts))
print("-", claims.RULE_C7)

# %%
_ = report.save_results(results_dir, "08_ablation_reweighting",
                        tables={"WGA at epochs 2 and 6": table}, verdicts=verdicts,
                        figures=["fig3_reweighting"])

# %% [markdown]
# ## Reading
#
# - The two schemes are **not** nearly identical here. Input-feature weights track ERM
#   (the ERM rows above) within about a point at the last epoch: with k = 2, both clusters
#   have similar mean |x|, so the weights are close to uniform: the large cluster's
#   samples get weight ≈ 1 and the handful in the small cluster somewhat less (the spread
#   table), and the scheme is nearly ERM. It even down-weights the small cluster that
#   inverse frequency up-weights.
# - Inverse-frequency weights differ from ERM because the clusters are very unequal in
#   size (one small cluster of high-loss samples, see notebook 05); upweighting that small
#   cluster costs worst-group accuracy under `paper_text`, where the weights act on a
#   model that can still move. Under `paper_code` the robust phase hardly moves the model
#   (notebook 06), so the two static schemes stay close to ERM there.
# - Under `paper_text`, inverse-frequency weighting is still climbing after epoch 2, so the
#   "plateau at epoch 2" does not hold for it.
