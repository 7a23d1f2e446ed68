# %% [markdown]
# # 06 · Learning-rate sweep (paper Fig. 1)
#
# **Claims tested.**
# - **C5a**: LR 1e-4 "learns slowly (35% by epoch 6)".
# - **C5b**: LR 1e-3 "reaches 90% by epoch 2".
# - **C5c**: LR 1e-2 "converges near-instantly to 100% worst-group accuracy without visible
#   instability".
#
# **What we run.** UGC under each preset at LR 1e-4, 1e-3 and 1e-2 (the paper's sweep),
# 1 warm-up + 5 robust epochs, train and validation WGA (both definitions) and mean
# cross-entropy after every epoch. The paper's script runs the three LRs one after another
# from one random stream seeded once; we seed every run on its own (deviation log, notebook 12).
# The paper does not say whether "35%" and "90%" are train or validation WGA; the rules
# (`ugc_lib/claims.py`, printed below) use the training curves, Fig. 1 (a).

# %% tags=["parameters"]
n_seeds = 50  # at least claims.MIN_SEEDS; the same seeds as notebook 12, so runs are shared
jobs = 1
figures_dir = "../reports/figures"
results_dir = "../reports/results"

# %%
import pandas as pd
from IPython.display import display

from ugc_lib import claims, figures, report, runner, studies, tables

seeds = list(range(n_seeds))

pd.set_option("display.width", 160)
configs = [c for p in ("paper_text", "paper_code") for c in studies.study_configs("lr", p)]
records = runner.sweep(configs, seeds, jobs=jobs)
df = runner.to_frame(records)

# %%
fig = figures.fig1_lr_sweep(df)
_ = figures.save_figure(fig, "fig1_lr_sweep", figures_dir)

# %% [markdown]
# ## Worst-group accuracy by epoch (train), mean [95% CI] over seeds

# %%
train = df[df["split"] == "train"]
by_epoch = tables.summarize(train[train["epoch"].isin([1, 2, 6])], ["preset", "train.lr", "epoch"],
                             ["wga_s", "wga_ys", "loss"])
display(by_epoch)

# %% [markdown]
# ## Last epoch, validation

# %%
val_final = tables.summarize(tables.at_epoch(df, split="val"), ["preset", "train.lr"],
                              ["acc", "wga_s", "wga_ys", "loss"])
display(val_final)

# %% [markdown]
# ## Why `paper_code` stalls after the warm-up
# The script's loss is mean(w_i · loss_i) with w_i = 1/|cluster|; the mean weight is k/N = 0.002, so the loss is about 500× smaller than
# the warm-up loss, while one Adam optimizer runs through both phases. Its second-moment
# estimate still holds the warm-up's gradient scale (β₂ = 0.999 decays it by only ~8% over
# the 80 robust steps), so the robust updates shrink by about the same factor. The paper
# does not say whether the optimizer is rebuilt after clustering; rebuilding it
# (`train.reset_optimizer=True`) shows what the robust phase does when it can move:

# %%
reset = runner.sweep(studies.study_configs("lr", "paper_code", **{"train.reset_optimizer": True}),
                     seeds, jobs=jobs)
both = runner.to_frame([r for r in records if r["config"]["name"] == "paper_code"] + reset)
reset_table = tables.summarize(tables.at_epoch(both, split="val"),
                                ["train.lr", "train.reset_optimizer"], ["acc", "wga_s", "wga_ys"])
display(reset_table)

# %% [markdown]
# ## Verdicts

# %%
verdicts = [rule(df, p, d) for p in ("paper_text", "paper_code") for d in ("s", "ys")
            for rule in (claims.verdict_c5a, claims.verdict_c5b, claims.verdict_c5c)]
display(claims.verdict_table(verdicts))
for rule in (claims.RULE_C5A, claims.RULE_C5B, claims.RULE_C5C):
    print("-", rule)

# %%
_ = report.save_results(results_dir, "06_ablation_lr",
                        tables={"Train WGA and loss at epochs 1, 2, 6": by_epoch,
                                "Validation, last epoch": val_final,
                                "paper_code, optimizer kept vs reset (val, last epoch)": reset_table},
                        verdicts=verdicts, figures=["fig1_lr_sweep"])

# %% [markdown]
# ## Reading
#
# - **`paper_text`** follows the paper's description at the two lower rates: LR 1e-4 learns
#   slowly (train WGA(s) about a third at epoch 6, with a wide interval), LR 1e-3 is above
#   0.9 WGA(s) by epoch 2. At LR 1e-2 the model is already at ~0.99 WGA(s) after the
#   warm-up epoch, but the first Group DRO epoch knocks it down (epoch 2) before it
#   recovers, so "without visible instability" does not hold, and WGA(y,s) never gets near
#   100%.
# - **`paper_code`** barely trains after the warm-up: its curves are flat from epoch 2 on.
#   The table above shows why: with the optimizer rebuilt after clustering, the same
#   weights train normally. So the script's numbers at LR 1e-4 and 1e-3 are mostly the
#   warm-up epoch's numbers, and the "35% by epoch 6" is not what the script produces.
# - Under WGA(y,s) every rate ends well below the paper's 100%: the minority groups hold
#   about 25 training samples each, and one or two errors there move the metric by
#   several points.
