# %% [markdown]
# # 05 · UGC vs oracle Group DRO vs ERM: the headline comparison
#
# **Claims tested.**
# - **C2**: UGC "matches oracle-DRO worst-group accuracy (99.4%)" without group IDs.
# - **C3**: "Across three independent seeds, UGC achieves 99.6% ± 0.1% test accuracy."
# - **C1** (cluster side): "the gradient clusters match the latent spurious groups",
#   measured here on the very runs that produce C2 and C3.
#
# **What we run.** For each preset, three methods on the same data, initialisation and
# seeds: ERM; UGC (the preset's own objective: online Group DRO over the clusters for
# `paper_text`, static inverse-cluster-size weights for `paper_code`); oracle Group DRO
# on the true (y, s) groups. LR 1e-2, 1 warm-up + 5 robust epochs, the last epoch is
# reported (no model selection). Worst-group accuracy is reported both ways: WGA(s) over
# the two values of s (the paper's script) and WGA(y,s) over the four groups (Group DRO's
# definition). Intervals are 95% bootstrap intervals of the mean over seeds.
#
# The verdict rules are fixed in `ugc_lib/claims.py` and printed with each verdict.

# %% tags=["parameters"]
n_seeds = 100  # at least claims.MIN_SEEDS; the same seeds as notebook 12, so runs are shared
paper_seeds = [0, 1, 2]
jobs = 1
figures_dir = "../reports/figures"
results_dir = "../reports/results"

# %%
import pandas as pd
from IPython.display import Markdown, display
from scipy.stats import norm

from ugc_lib import claims, readings, report, runner, studies, tables

seeds = list(range(n_seeds))

pd.set_option("display.width", 160)
records = runner.sweep([c for p in ("paper_text", "paper_code")
                        for c in studies.study_configs("headline", p)], seeds, jobs=jobs)
df = runner.to_frame(records)
final = tables.at_epoch(df)

# %% [markdown]
# ## The paper's Table 1, regenerated from the two presets
# The paper's Table 1 lists the values below without their names (the names are lost in
# its text); the `paper note` column is its Notes column. Both presets share every value
# but the PCA dimension, which the script does not use.

# %%
table1 = tables.table1()
display(table1)

# %% [markdown]
# ## Test accuracy and worst-group accuracy, last epoch

# %%
test_table = tables.summarize(final[final["split"] == "test"], ["preset", "objective.method"],
                               ["acc", "wga_s", "wga_ys"])
display(test_table)

# %% [markdown]
# ## What the clusters are (UGC runs only)
# ARI against s, y and the four (y, s) groups, and the best cluster's match to the
# minority samples (s ≠ y). With k = 2, a clustering that only splits by label already
# scores a high ARI against (y, s), so the four numbers must be read together. The second
# table gives the share of the smallest cluster and how much longer its gradient
# signatures are than the rest's.

# %%
ugc_rows = final[(final["split"] == "train") & (final["objective.method"].isin(["group_dro", "inverse_freq"]))]
recovery_table = tables.summarize(ugc_rows, ["preset"], ["rec_ari_s", "rec_ari_y", "rec_ari_ys",
                                                          "rec_minority_f1"])
display(recovery_table)
shape_table = tables.summarize(ugc_rows, ["preset"], ["rec_smallest_cluster_frac",
                                                       "rec_grad_norm_ratio_smallest"])
display(shape_table)

# %% [markdown]
# ## Per-group test accuracy
# The four (y, s) groups; the minority groups are y0s1 and y1s0.

# %%
group_cols = ["acc_y0s0", "acc_y0s1", "acc_y1s0", "acc_y1s1"]
group_table = tables.summarize(final[final["split"] == "test"], ["preset", "objective.method"],
                                group_cols)
display(group_table)

# %% [markdown]
# ## Verdicts

# %%
verdicts = []
for preset, method in studies.UGC_METHOD.items():
    verdicts.append(claims.verdict_c1(df, preset, method))
    for definition in ("s", "ys"):
        verdicts.append(claims.verdict_c2(df, preset, definition, method))
    verdicts.append(claims.verdict_c3(df, preset, method))
    three = claims.verdict_c3(df, preset, method, seeds=tuple(paper_seeds))
    three.statistic += f" (seeds {paper_seeds})"
    verdicts.append(three)
display(claims.verdict_table(verdicts))
for rule in (claims.RULE_C1, claims.RULE_C2, claims.RULE_C3):
    print("-", rule)

# %%
_ = report.save_results(results_dir, "05_dro_training",
                    tables={"Table 1 (hyperparameters, from the presets)": table1,
                            "Test metrics (last epoch)": test_table,
                            "Cluster recovery (UGC, train)": recovery_table,
                            "Cluster shape (UGC, train)": shape_table,
                            "Per-group test accuracy": group_table},
                    verdicts=verdicts)

# %% [markdown]
# ## Reading
# The tables above are the evidence; the verdicts apply the fixed rules.

# %%
data = studies.study_configs("headline", "paper_text")[0].data
bayes = norm.cdf(-data.core_shift * data.core_dim ** 0.5 / 2)
erm = {p: readings.mean_at(df, "acc", "test", preset=p, objective__method="erm") for p in studies.UGC_METHOD}
ari = {p: readings.mean_at(df, "rec_ari_s", "train", preset=p, objective__method=m)
       for p, m in studies.UGC_METHOD.items()}
display(Markdown("\n".join([
    readings.verdict_bullets(verdicts),
    f"- **Accuracy is high for every method, ERM included** (ERM test accuracy "
    f"{', '.join(f'{p} {readings.num(a)}' for p, a in erm.items())}): the {data.core_dim} core features "
    f"shift by {data.core_shift:g} per dimension, so the core alone separates the classes with a "
    f"Bayes error of Φ(−{data.core_shift:g}·√{data.core_dim}/2) = {readings.num(bayes)}. A task that ERM "
    f"nearly solves cannot show that group inference is what makes a method robust.",
    "- **The two WGA definitions tell different stories.** WGA(s) pools the majority and minority "
    "of each s value, so it stays close to average accuracy; WGA(y,s) isolates a small minority "
    "group and is lower and noisier.",
    f"- **The clusters are not the spurious groups**: mean ARI(clusters, s) "
    f"{', '.join(f'{p} {readings.num(a)}' for p, a in ari.items())}; the shape table shows a small "
    f"cluster of samples with much longer gradients split off instead."])))
