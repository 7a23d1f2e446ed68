# %% [markdown]
# # 09 · Input normalisation across learning rates (paper Fig. 5)
#
# **Claim tested.** **C9**: input-feature normalisation "greatly improves performance at
# low to medium LRs" (validation WGA).
#
# **What we run.** UGC under each preset at LR 1e-4, 1e-3, 1e-2, with the core features
# z-scored with the training statistics (the default) or left raw (mean 2y, unit variance;
# s is 0/1 either way). Same seeds, so the comparison is paired.

# %% tags=["parameters"]
n_seeds = 100  # at least claims.MIN_SEEDS; the same seeds as notebook 12, so runs are shared
jobs = 1
figures_dir = "../reports/figures"
results_dir = "../reports/results"

# %%
import pandas as pd
from IPython.display import Markdown, display

from ugc_lib import claims, figures, readings, report, runner, studies, tables

seeds = list(range(n_seeds))

pd.set_option("display.width", 160)
configs = [c for p in ("paper_text", "paper_code") for c in studies.study_configs("normalization", p)]
df = runner.to_frame(runner.sweep(configs, seeds, jobs=jobs))

# %%
fig = figures.fig5_normalization(df)
_ = figures.save_figure(fig, "fig5_normalization", figures_dir)

# %% [markdown]
# ## Validation WGA at the last epoch

# %%
table = tables.summarize(tables.at_epoch(df, split="val"), ["preset", "train.lr", "data.normalize"],
                          ["acc", "wga_s", "wga_ys"])
display(table)

# %% [markdown]
# ## Verdicts

# %%
verdicts = [claims.verdict_c9(df, p, d) for p in ("paper_text", "paper_code") for d in ("s", "ys")]
display(claims.verdict_table(verdicts))
print("-", claims.RULE_C9)

# %%
_ = report.save_results(results_dir, "09_ablation_normalization",
                        tables={"Validation, last epoch": table}, verdicts=verdicts,
                        figures=["fig5_normalization"])

# %% [markdown]
# ## Reading

# %%
gain = {(p, lr, m): readings.mean_at(df, m, "val", preset=p, train__lr=lr, data__normalize=True)
        - readings.mean_at(df, m, "val", preset=p, train__lr=lr, data__normalize=False)
        for p in ("paper_text", "paper_code") for lr in studies.LRS for m in ("wga_s", "wga_ys")}
display(Markdown("\n".join([
    readings.verdict_bullets(verdicts),
    "- Validation WGA at the last epoch, normalised minus raw (means over seeds): "
    + "; ".join(f"{p} LR {lr:g} {'WGA(s)' if m == 'wga_s' else 'WGA(y,s)'} {readings.num(v)}"
                for (p, lr, m), v in gain.items()) + ".",
    "- Raw core features have class means 0 and the core shift, a larger signal per unit of "
    "weight than z-scored ones, which matters most when the weights barely move (low LR)."])))
