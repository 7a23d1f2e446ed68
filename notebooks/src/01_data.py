# %% [markdown]
# # 01 · The synthetic spurious-correlation data
#
# **Question.** What exactly are the data every other notebook trains on, and how hard is
# the task without the spurious attribute? **Claims tested:** none directly. This notebook
# documents the data fixed by `shared/paper/ORIGINAL_CODE_FACTS.md` and Sec. 4 of the
# paper ("label y ~ Bern(0.5), core feature ~ N(2y, I), binary spurious s correlated with y
# at 95%", a 1 000/500/500 train/val/test split); the values this project uses are those of
# `config.PAPER_TEXT.data`, printed below. Both presets (`paper_text`, `paper_code`) use the
# same `DataConfig`, so the same seed gives the same arrays under both.
#
# The four (y, s) groups are named `y0s0`, `y0s1`, `y1s0`, `y1s1`; the **minority** groups
# (s ≠ y) are `y0s1` and `y1s0`.

# %% tags=["parameters"]
seeds = [0, 1, 2, 3, 4]
jobs = 1
figures_dir = "../reports/figures"
results_dir = "../reports/results"

# %%
import dataclasses

import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from scipy.stats import norm

from ugc_lib import config, data, diagnostics, figures, readings as R, report, tables

%matplotlib inline

pd.set_option("display.width", 160)
pd.set_option("display.precision", 3)
data_cfg = config.PAPER_TEXT.data
same_data = config.PAPER_TEXT.data == config.PAPER_CODE.data
print("paper_text and paper_code share one DataConfig:", same_data)
display(pd.DataFrame({"value": {k: str(v) for k, v in dataclasses.asdict(data_cfg).items()}}))
n_train, n_val, n_test = data_cfg.split_sizes
rho = data_cfg.spurious_corr
display(Markdown(
    f"In words: y is balanced; {data_cfg.core_dim} core features ~ N({data_cfg.core_shift:g}·y, I); "
    f"s = y with probability {rho:g} in train and validation and {data_cfg.spurious_corr_test:g} "
    f"in test; the input is [{data_cfg.core_dim} z-scored core features, s]; a random "
    f"{n_train}/{n_val}/{n_test} train/val/test split."))

# %% [markdown]
# ## Group counts per split
# The first seed in full, then the mean [95% CI] over the seeds.

# %%
rho_by_split = {"train": rho, "val": rho, "test": data_cfg.spurious_corr_test}
expected = {name: n * (1 - rho_by_split[name]) / 2
            for name, n in zip(("train", "val", "test"), data_cfg.split_sizes)}
display(Markdown(
    f"Expected size of each minority group (P(s = y) = {rho:g}, test {data_cfg.spurious_corr_test:g}): "
    f"{expected['train']:.1f} in the {n_train}-sample training split, {expected['val']:.1f} and "
    f"{expected['test']:.1f} in the {n_val}- and {n_test}-sample validation and test splits."))
counts = diagnostics.group_count_frame(data_cfg, seeds)
display(counts[counts["seed"] == seeds[0]].drop(columns="seed").set_index("split"))
count_table = tables.summarize(counts, ["split"], ["y0s0", "y0s1", "y1s0", "y1s1", "p_s_eq_y", "p_y1"],
                                decimals=3)
display(count_table)

# %% [markdown]
# ## The (y, s) contingency table
# Training split of seed 0, with margins; then the share of s = y in each split, pooled
# over the seeds.

# %%
ds0 = data.make_synthetic(data_cfg, seeds[0])
contingency = pd.crosstab(pd.Series(ds0.train.y, name="y"), pd.Series(ds0.train.s, name="s"),
                          margins=True)
display(contingency)
pooled = counts.groupby("split")[["y0s0", "y0s1", "y1s0", "y1s1"]].sum()
pooled["P(s = y), pooled"] = ((pooled["y0s0"] + pooled["y1s1"]) / pooled.sum(axis=1)).round(4)
display(pooled)

# %% [markdown]
# ## Feature distributions by (y, s) group
# Training split of seed 0. The core features depend on y only: within a label, the
# minority and majority groups overlap; s is the 6th input column and equals 0 or 1.

# %%
long = diagnostics.feature_frame(ds0, "train")
fig = figures.nb01_feature_distributions(long, f"Training inputs by (y, s) group (seed {seeds[0]})")
_ = figures.save_figure(fig, "nb01_feature_distributions", figures_dir)

# %%
core_by_group = (long[long["feature"].isin(["core0", "core mean", "s"])]
                 .groupby(["feature", "group"], observed=True)["value"].agg(["mean", "std", "count"])
                 .round(3))
display(core_by_group)

# %% [markdown]
# ## How hard is the task? Analytic error rates
# For context, computed from the data parameters (not typed in). The core-only Bayes
# error is Φ(−core_shift·√core_dim / 2). The full Bayes rule also uses s, and then errs
# more often on the minority; "s only" predicts y = s.

# %%
core_only_bayes = float(norm.cdf(-data_cfg.core_shift * np.sqrt(data_cfg.core_dim) / 2))
print(f"core-only Bayes error = Phi(-{data_cfg.core_shift:g} * sqrt({data_cfg.core_dim}) / 2) "
      f"= {core_only_bayes:.4f} ({100 * core_only_bayes:.2f}%)")
bayes = diagnostics.bayes_table(data_cfg).round(3)
display(bayes)

# %% [markdown]
# And the same two simple rules measured on the test split (mean [95% CI] over seeds):
# "core midpoint" predicts y = 1 when the mean z-scored core feature is positive (close to
# the core-only Bayes rule), "s only" predicts y = s.

# %%
rules = diagnostics.simple_rule_frame(data_cfg, seeds, "test")
rule_table = tables.summarize(rules, ["rule"], ["acc", "wga_s", "wga_ys", "acc_y0s1", "acc_y1s0"])
display(rule_table)

# %%
_ = report.save_results(results_dir, "01_data",
                        tables={"Group counts per split (mean over seeds)": count_table,
                                "Analytic error rates": bayes,
                                "Simple rules on test": rule_table},
                        verdicts=[], notes={"core_only_bayes_error": core_only_bayes})

# %% [markdown]
# ## Reading

# %%
minority = counts.groupby("split")[["y0s1", "y1s0"]].mean()  # mean minority group sizes over seeds
small_splits = minority.loc[["val", "test"]].to_numpy()
p_pooled = pooled["P(s = y), pooled"]
cm = core_by_group.loc["core mean", "mean"]  # mean z-scored core feature by group, seed 0
cm_n = core_by_group.loc["core mean", "count"]
core_gap = min(abs(core_by_group.loc[f, "mean"].loc[["y1s0", "y1s1"]].mean()
                   - core_by_group.loc[f, "mean"].loc[["y0s0", "y0s1"]].mean()) for f in ["core0", "core mean"])
core_sd = core_by_group.loc["core0", "std"].max()
b = bayes.set_index("rule")
core_rule, full_rule, s_rule = (b.loc[r] for r in b.index)  # core only, core + s, s only
midpoint = {m: R.cell(rule_table, m, rule="core midpoint") for m in ("accuracy", "WGA(s)", "WGA(y,s)")}
analytic = {"accuracy": 1 - core_rule["err_overall"], "WGA(s)": core_rule["WGA(s)"],
            "WGA(y,s)": core_rule["WGA(y,s)"]}
matches = {m: midpoint[m].lo <= analytic[m] <= midpoint[m].hi for m in ("accuracy", "WGA(s)")}
wga_s_is_acc = all(np.isclose(b["WGA(s)"], 1 - b["err_overall"]))
display(Markdown(f"""
- **{"Both presets train on the same arrays" if same_data else "The presets train on different arrays"}**
  (the `DataConfig` check prints `{same_data}`){", so every difference between `paper_text` and `paper_code` elsewhere comes from the method, never the data" if same_data else ""}.
- **The minority groups are small.** Over {len(seeds)} seeds the training split holds
  {R.num(minority.loc["train", "y0s1"], 1)} samples in `y0s1` and {R.num(minority.loc["train", "y1s0"], 1)} in `y1s0`
  (means over seeds), validation and test {R.span(small_splits.ravel(), 1)}. P(s = y) pooled over seeds is
  {R.num(p_pooled["train"])} in train, {R.num(p_pooled["val"])} in validation and {R.num(p_pooled["test"])} in test.
  A worst-group accuracy over the four (y, s) groups on val or test therefore rests on
  {R.span(small_splits.ravel(), 0)} samples: one error moves it by up to {R.num(1 / small_splits.min(), 2)}.
- **The core features depend on y only.** The generator draws s independently of the core given y;
  the two values of y are {"well apart (further apart than one within-group standard deviation)" if core_gap > core_sd else "not further apart than one within-group standard deviation"}
  on the core features shown (gap {R.num(core_gap, 2)}, standard deviation up to {R.num(core_sd, 2)}).
  The small gaps between the minority and majority means in seed {seeds[0]} (mean core feature
  {R.num(cm["y0s1"])} vs {R.num(cm["y0s0"])} for y = 0, {R.num(cm["y1s0"])} vs {R.num(cm["y1s1"])} for y = 1) come from
  minority groups of {int(cm_n["y0s1"])} and {int(cm_n["y1s0"])} samples.
- **{"The core is the stronger feature" if core_rule["err_overall"] < s_rule["err_overall"] else "s is the stronger feature"}.**
  The core-only Bayes error is Φ(−{data_cfg.core_shift:g}·√{data_cfg.core_dim}/2) = {R.pct(core_only_bayes, 2)}
  {"in *every* group" if np.isclose(core_rule["err_majority"], core_rule["err_minority"]) else "on average"},
  while predicting y = s errs on {R.pct(s_rule["err_overall"], 0)} of samples (all of the minority).
  The full Bayes rule that also uses s errs on {R.pct(full_rule["err_overall"])} of all samples
  ({R.compare(full_rule["err_overall"], core_rule["err_overall"])} the core-only rule's {R.pct(core_rule["err_overall"])}) and on {R.pct(full_rule["err_minority"])}
  of the minority, so its WGA(y,s) is {R.num(full_rule["WGA(y,s)"])} against the core-only rule's
  {R.num(core_rule["WGA(y,s)"])}{": using s is optimal on average and costs the minority" if full_rule["err_overall"] < core_rule["err_overall"] and full_rule["err_minority"] > core_rule["err_minority"] else ""}.
  {"WGA(s) equals overall accuracy here for each of these symmetric rules" if wga_s_is_acc else "WGA(s) differs from overall accuracy here"}
  (each value of s holds a share {rho:g} of majority samples), so it is blind to that trade-off:
  {R.num(full_rule["WGA(s)"])} for the full Bayes rule against {R.num(core_rule["WGA(s)"])} for the core only.
- **Measured on the test split**, the simple core-midpoint rule {"matches" if all(matches.values()) else "does not match"}
  the analytic core-only numbers (accuracy {midpoint["accuracy"].ci()} against {R.num(analytic["accuracy"])},
  WGA(s) {midpoint["WGA(s)"].ci()} against {R.num(analytic["WGA(s)"])}), with a noisier WGA(y,s) of
  {midpoint["WGA(y,s)"].ci()} from the small groups (analytic {R.num(analytic["WGA(y,s)"])}).
"""))
