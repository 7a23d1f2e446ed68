# %% [markdown]
# # 02 · The one-epoch ERM warm-up: what has the model learned when UGC takes its gradients?
#
# **Question.** UGC takes its gradient signatures after one warm-up epoch of plain ERM
# (Adam, batch 64). How accurate is the model at that point, on which groups does it
# fail, and how much does it rely on the spurious attribute s (which is the 6th input)?
# **Claims:** none tested directly; this is the state the clustering of C1 and C4
# (notebooks 03, 04) starts from, and the starting point of every UGC curve (C5, C6).
#
# **What we run.** Each preset with `train.robust_epochs = 0` and `objective.method = erm`
# (the warm-up alone), at the paper's three learning rates {1e-4, 1e-3, 1e-2}, over the seeds
# of the parameter cell, with `train.fit`. The warm-up does not depend on the grouping settings, so the two
# presets train the *same* model for the same seed and LR (checked below); both are shown.
#
# **Measures.** Accuracy, WGA(s) (worst over the two values of s), WGA(y,s) (worst over the
# four groups), per-group accuracy; and reliance on s: the *flip rate* (share of samples
# whose predicted class changes when the input s is replaced by 1 − s) and the *s effect*
# (mean change of the logit margin, class 1 minus class 0, when s goes from 0 to 1).
# Mean [95% bootstrap CI] over seeds.

# %% tags=["parameters"]
seeds = [0, 1, 2, 3, 4]
jobs = 1
figures_dir = "../reports/figures"
results_dir = "../reports/results"

# %%
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from ugc_lib import config, diagnostics, figures, readings as R, report, studies, tables

%matplotlib inline

pd.set_option("display.width", 170)
pd.set_option("display.max_columns", 20)
presets = ["paper_text", "paper_code"]
configs = [studies.warmup_config(config.get_preset(p), lr) for p in presets for lr in studies.LRS]
print("epochs per run:", sorted({c.train.total_epochs for c in configs}),
      "| methods:", sorted({c.objective.method for c in configs}))
df = diagnostics.warmup_frame(configs, seeds)
metric_cols = [c for c in df.columns if c not in ("preset", "train.lr", "seed", "split")]
a = df[df["preset"] == "paper_text"][metric_cols].reset_index(drop=True)
b = df[df["preset"] == "paper_code"][metric_cols].reset_index(drop=True)
same_warmup = a.equals(b)
print("paper_text and paper_code warm-up metrics identical:", same_warmup)

# %% [markdown]
# ## Accuracy and worst-group accuracy after the warm-up, per split

# %%
acc_table = tables.summarize(df, ["preset", "train.lr", "split"], ["acc", "wga_s", "wga_ys", "loss"])
display(acc_table)

# %% [markdown]
# ## Per-group accuracy after the warm-up (test split)
# The minority groups are `y0s1` and `y1s0` (group sizes in notebook 01).

# %%
group_table = tables.summarize(df[df["split"] == "test"], ["preset", "train.lr"],
                                ["acc_y0s0", "acc_y0s1", "acc_y1s0", "acc_y1s1"])
display(group_table)

# %% [markdown]
# ## What does the warm-up model rely on?
# Minority vs majority accuracy, flip rate and s effect, on the training split (the split
# whose gradients UGC clusters) and the test split. `margin_abs` is the mean absolute
# logit margin, the scale against which the s effect is to be read; the Bayes-optimal
# rule (notebook 01) would move the margin by 2·log(ρ / (1 − ρ)) when s flips (ρ = P(s = y),
# printed below).

# %%
reliance_table = tables.summarize(df[df["split"].isin(["train", "test"])], ["preset", "train.lr", "split"],
                                   ["acc_minority", "acc_majority", "flip_rate", "s_effect", "margin_abs"])
display(reliance_table)
rho = config.PAPER_TEXT.data.spurious_corr
bayes_effect = 2 * np.log(rho / (1 - rho))
print(f"for scale: the Bayes-optimal s effect is 2 * log({rho} / {1 - rho:.2f}) = {bayes_effect:.3f}")

# %% [markdown]
# ## The decision function after the warm-up
# Test split of seed 0, one panel per LR: the predicted P(y = 1) against the mean
# z-scored core feature, coloured by s. If the model relied on s, the two colours would
# form two shifted curves; if it relied on the core only, one curve. (The two presets'
# warm-up models are identical, so one set of panels serves both.)

# %%
points = {f"LR {lr:g}": diagnostics.reliance_points(studies.warmup_config(config.PAPER_TEXT, lr), seeds[0])
          for lr in studies.LRS}
fig = figures.nb02_warmup_decision(points, f"Warm-up (1 ERM epoch) decision function, test split, seed {seeds[0]} "
                                      "(both presets)")
_ = figures.save_figure(fig, "nb02_warmup_decision", figures_dir)

# %%
_ = report.save_results(results_dir, "02_warmup",
                        tables={"Warm-up accuracy and WGA by split": acc_table,
                                "Warm-up per-group test accuracy": group_table,
                                "Warm-up reliance on s": reliance_table},
                        verdicts=[])

# %% [markdown]
# ## Reading

# %%
lo_lr, mid_lr, hi_lr = studies.LRS
P = "paper_text"  # the two presets' warm-ups are identical (checked above); their rows are read once


def acc(metric, lr, split="test"):
    return R.cell(acc_table, metric, preset=P, train__lr=lr, split=split)


def grp(group, lr):
    return R.cell(group_table, f"acc_{group}", preset=P, train__lr=lr)


def rel(metric, lr, split):
    return R.cell(reliance_table, metric, preset=P, train__lr=lr, split=split)


log2 = float(np.log(2))
loss_lo = acc("loss", lo_lr)
at_init = abs(loss_lo.mean - log2) < 0.05  # within 0.05 of a constant prediction's loss
y0 = [grp("y0s0", lo_lr), grp("y0s1", lo_lr)]
y1 = [grp("y1s0", lo_lr), grp("y1s1", lo_lr)]
one_class = (min(e.mean for e in y0) > 0.5 > max(e.mean for e in y1)
             or min(e.mean for e in y1) > 0.5 > max(e.mean for e in y0))
mid_acc = acc("accuracy", mid_lr)
hi_acc, hi_train = acc("accuracy", hi_lr), acc("accuracy", hi_lr, "train")
full_bayes_wga = diagnostics.bayes_table(config.PAPER_TEXT.data).set_index("rule")["WGA(y,s)"].iloc[1]
effect, margin = rel("s_effect", hi_lr, "train"), rel("margin_abs", hi_lr, "train")
minority_hi = [rel("acc_minority", hi_lr, sp) for sp in ("train", "test")]
low_effects = [rel("s_effect", lr, sp) for lr in (lo_lr, mid_lr) for sp in ("train", "test")]
low_margins = [rel("margin_abs", lr, sp) for lr in (lo_lr, mid_lr) for sp in ("train", "test")]
core_classifier = effect.mean < margin.mean / 2 and effect.mean < bayes_effect / 2
display(Markdown(f"""
- **{"Both presets give the same warm-up model" if same_warmup else "The presets give different warm-up models"}**
  (printed `{same_warmup}`){": their rows are identical, and everything below holds for both (the rows of `paper_text` are quoted)" if same_warmup else ""}.
- **LR {R.sci(lo_lr)}: {"after one epoch the model is still near its random initialisation" if at_init else "one epoch moves the model away from its initialisation"}.**
  Test accuracy is {acc("accuracy", lo_lr).ci(2)}, the loss {loss_lo.m(2)} (log 2 = {R.num(log2, 2)}, the loss of a constant
  prediction). WGA(s) is {acc("WGA(s)", lo_lr).m(2)} and WGA(y,s) {R.span([acc("WGA(y,s)", lo_lr, sp).mean for sp in ("train", "val", "test")], 2)}
  over the three splits{", because the model mostly predicts one class" if one_class else ""} (test accuracy {y0[0].m(2)} and {y0[1].m(2)}
  on the y = 0 groups, {y1[0].m(2)} and {y1[1].m(2)} on the y = 1 groups).
- **LR {R.sci(mid_lr)}: {"partly trained" if mid_acc.mean < hi_acc.mean else "trained"}, {"with large differences between seeds" if mid_acc.hi - mid_acc.lo > 0.1 else "consistently over seeds"}.**
  Test accuracy is {mid_acc.ci(2)} and WGA(y,s) {acc("WGA(y,s)", mid_lr).ci(2)}.
- **LR {R.sci(hi_lr)}: {"one epoch nearly solves the task" if hi_acc.mean >= 0.98 else "one epoch does not solve the task"}.** Test accuracy is
  {hi_acc.m()}, WGA(s) {acc("WGA(s)", hi_lr).m()} and WGA(y,s) {acc("WGA(y,s)", hi_lr).ci()}. The minority groups reach
  {grp("y0s1", hi_lr).m()} (`y0s1`) and {grp("y1s0", hi_lr).m()} (`y1s0`) on test, and {minority_hi[0].m()} of the minority
  training samples are already classified correctly.
- **Reliance on s after the warm-up at LR {R.sci(hi_lr)}{" is real but small" if effect.lo > 0 and core_classifier else " is real" if effect.lo > 0 else ""}.**
  Flipping s changes {R.pct(rel("flip_rate", hi_lr, "train").mean)} of the training predictions ({R.pct(rel("flip_rate", hi_lr, "test").mean)} on test).
  It moves the logit margin by {effect.m(2)} on average, against a mean absolute margin of {margin.m(1)}, and against the
  {R.num(bayes_effect, 2)} of the Bayes-optimal rule that uses s fully (notebook 01).
  {"The warm-up model is mostly a core-feature classifier. " if core_classifier else ""}Its minority accuracy
  ({R.span([e.mean for e in minority_hi], 2, " and ")} on train and test) is {R.compare(min(e.mean for e in minority_hi), full_bayes_wga)}
  the {R.num(full_bayes_wga)} of that Bayes rule. At {R.sci(lo_lr)} and {R.sci(mid_lr)} the s effect is only
  {R.span([e.mean for e in low_effects], 2)}, and the margins ({R.span([e.mean for e in low_margins], 2)}) show that little of either
  feature has been learned yet.

**What this means for UGC.** At the paper's best LR ({R.sci(hi_lr)}), gradients are taken from a model
that {"already fits almost every training sample" if hi_train.mean >= 0.98 else "still misclassifies many training samples"}
(training accuracy {hi_train.m()}){", the minority included (" + minority_hi[0].m() + ")" if minority_hi[0].mean >= 0.9 else ""}.
Most per-sample gradients are therefore near zero, and the large ones can only come from the few
poorly fitted samples; notebook 04 shows that k-means isolates such samples rather than a spurious group.
At {R.sci(lo_lr)} the model has {"barely moved from its initialisation" if at_init else "moved from its initialisation"}, so its
gradients say little about what the features mean.
"""))
