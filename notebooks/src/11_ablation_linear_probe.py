# %% [markdown]
# # 11 · Linear probe vs UGC (paper Fig. 4)
#
# **Claim tested.** **C8**: "UGC significantly outperforms a linear classifier" on
# worst-group accuracy and loss.
#
# **What we run.** The paper does not define its linear classifier. We run three variants
# under each preset, same seeds and epochs: UGC on the paper's MLP; a linear model on the
# raw 6-d input trained by ERM (the "linear probe" as a baseline, used by the verdict); and
# UGC applied to that linear model (its final layer is the whole model).

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
configs = [c for p in ("paper_text", "paper_code") for c in studies.study_configs("linear_probe", p)]
df = studies.add_variant(runner.to_frame(runner.sweep(configs, seeds, jobs=jobs)), "linear_probe")

# %%
fig = figures.fig4_linear_probe(df)
_ = figures.save_figure(fig, "fig4_linear_probe", figures_dir)

# %% [markdown]
# ## Last epoch, validation and test

# %%
final = tables.at_epoch(df)
table = tables.summarize(final[final["split"].isin(["val", "test"])], ["preset", "variant", "split"],
                          ["acc", "wga_s", "wga_ys", "loss"])
display(table)

# %% [markdown]
# ## Verdicts

# %%
verdicts = [claims.verdict_c8(df, p, d) for p in ("paper_text", "paper_code") for d in ("s", "ys")]
display(claims.verdict_table(verdicts))
print("-", claims.RULE_C8)

# %%
_ = report.save_results(results_dir, "11_ablation_linear_probe",
                        tables={"Last epoch": table}, verdicts=verdicts,
                        figures=["fig4_linear_probe"])

# %% [markdown]
# ## Reading

# %%
d = {(p, m): readings.mean_at(df, m, "val", preset=p, variant="UGC (MLP)")
     - readings.mean_at(df, m, "val", preset=p, variant="linear probe (ERM)")
     for p in ("paper_text", "paper_code") for m in ("wga_s", "wga_ys", "loss")}
display(Markdown("\n".join([
    readings.verdict_bullets(verdicts),
    "- UGC on the MLP minus the linear probe trained by ERM, validation, last epoch (means over "
    "seeds): " + "; ".join(f"{p} {m} {readings.num(v)}" for (p, m), v in d.items()) + ".",
    "- On this data the classes are Gaussians with equal covariance in the core features, for "
    "which the Bayes-optimal rule is linear: a linear model is the right model here, not a "
    "weak baseline."])))
