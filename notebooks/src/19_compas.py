# %% [markdown]
# # 19 · COMPAS: UGC on real tabular data with the paper's MLP
#
# **Question.** Beyond the paper: on real data with a real minority group, does UGC find the
# groups, and does training on them raise worst-group accuracy? No claim of the paper is
# judged here (C12 is judged on Colored MNIST, notebook 17); this is evidence beside it.
#
# **The data (`ugc_lib/data/compas.py`, whose docstring lists every preprocessing step).**
# ProPublica's two-year COMPAS file after its standard filter, African-American and
# Caucasian defendants only: y = two-year recidivism, s = race (1 African-American, 0
# Caucasian). The inputs are the record (age, sex, charge degree, juvenile and prior counts),
# never the COMPAS scores. One seeded permutation gives train, validation and test (the file
# has no test split of its own); numeric columns are z-scored with the training statistics.
# Whether s is an input is an open choice, so both are run.
#
# **What we ran.** The paper's MLP (two hidden layers of 32) and recipe (Adam, LR 1e-2, batch
# 64, one ERM warm-up epoch, final-layer gradient signatures, k = 2), for the epoch count
# chosen on validation for ERM by a committed rule (`benchmarks/design_tabular.py`; ERM and
# the oracle alone), one count for each choice of s as input. On the same splits,
# initialisations and warm-ups: ERM; UGC as the paper runs it (k-means over all training
# rows); UGC per class; k-means on the raw inputs per class; random groups of UGC's cluster
# sizes; oracle Group DRO. Both presets. Last epoch, no model selection; WGA both ways.

# %% tags=["parameters"]
n_seeds = 20  # the minimum of the issue
presets = ["paper_text", "paper_code"]
jobs = 2  # worker processes for runs the store does not hold (recomputation)
figures_dir = "../reports/figures"
results_dir = "../reports/results"

# %%
import pandas as pd
from IPython.display import Markdown, display

from ugc_lib import data, readings as R, real_report as RR, report, runner, studies, tables

DATASET, TITLE, NOTEBOOK = "compas", "COMPAS", "19_compas"
pd.set_option("display.width", 200)
seeds = list(range(n_seeds))
configs = [c for p in presets for c in studies.study_configs(DATASET, p)]
df = studies.add_variant(runner.to_frame(runner.sweep(configs, seeds, jobs=jobs)), DATASET)
final = tables.at_epoch(df)
BY = ["preset", "data.s_as_input"]
epochs = {c.data.s_as_input: c.train.total_epochs for c in configs}
dcfg = configs[0].data
display(Markdown(
    f"Settings: split {'/'.join(f'{n:,}' for n in dcfg.split_sizes)} (train/val/test) rows; "
    + R.words([f"{epochs[s]} epochs with s {'as an input' if s else 'hidden'}" for s in (True, False)])
    + f" (one warm-up epoch); {len(seeds)} seeds per method, preset and choice of s."))

# %% [markdown]
# ## The data: (label, s) group sizes per split (seed 0)
# The recovery scores below call s ≠ y the minority, as everywhere in this suite; the counts
# show how large each of its two groups is.

# %%
counts = RR.counts_table({TITLE: data.make_dataset(dcfg, seeds[0])})
display(counts)

# %% [markdown]
# ## Test accuracy and worst-group accuracy, last epoch

# %%
test_table = RR.test_table(final, BY)
display(test_table)

# %% [markdown]
# ## Paired gaps: each method against ERM and against the oracle (test, seed by seed)

# %%
gap_table = RR.gap_table(final, BY)
display(gap_table)

# %% [markdown]
# ## Per-group test accuracy

# %%
group_table = RR.group_table(final, BY)
display(group_table)

# %% [markdown]
# ## What the pseudo-groups are (training set)
# ARI against s and against the four groups; precision, recall and F1 of the single group
# that best matches the minority (s ≠ y).

# %%
recovery_table = RR.recovery_table(final, BY)
display(recovery_table)

# %% [markdown]
# ## Reading

# %%
lines = []
for p in presets:
    for s_in in (True, False):
        where = {"preset": p, "data__s_as_input": s_in}
        lines.append(f"**Preset `{p}`, s {'as an input' if s_in else 'hidden'}** "
                     f"({R.OBJECTIVE_WORDS[studies.UGC_METHOD[p]]} over the clusters). "
                     + RR.shortcut_words(test_table, gap_table, **where) + "; "
                     + RR.structure_words(recovery_table, **where) + ".")
        lines += RR.method_lines(test_table, gap_table, recovery_table, **where)
        lines.append("")
display(Markdown("\n".join(lines)))

# %%
headline = pd.concat([RR.headline(test_table, TITLE, preset=p, data__s_as_input=s).assign(
    preset=p, s_as_input=s) for p in presets for s in (True, False)], ignore_index=True)
_ = report.save_results(results_dir, NOTEBOOK,
                        tables={f"{TITLE} group counts (seed 0)": counts,
                                f"{TITLE} test metrics (last epoch)": test_table,
                                f"{TITLE} paired gaps (test)": gap_table,
                                f"{TITLE} per-group test accuracy": group_table,
                                f"{TITLE} pseudo-groups (train)": recovery_table},
                        notes={"headline": headline.to_dict("records")})
