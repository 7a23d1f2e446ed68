# %% [markdown]
# # 15 · Colored-Digits: UGC on real images with a CNN
#
# **Claim tested.** **C12**: UGC "scales to complex models" (abstract; Sec. 1). The paper
# runs only its synthetic 6-feature task with a small MLP, so this is our test: real
# images, a convolutional network, a colour shortcut.
#
# **The benchmark (ours, `ugc_lib/data/colored_digits.py`, settings in `ugc_lib/studies.py`).** Colored-Digits follows Colored-MNIST
# (Arjovsky et al., 2019) on scikit-learn's bundled 8×8 digits (1,797 real images, no
# download): label y = 1 for digits 0–4, flipped for 25% of the images (label noise,
# so shape predicts y at most 75% of the time); the image is drawn in one of two colour
# channels, s, which equals y for 90% of the training and validation images and is
# independent of y in the test set (about 125 test images per (y, colour) group). Colour
# is thus the easier and, in training, the more predictive feature; a model that uses it
# fails on the groups where colour and label disagree.
#
# **What we run.** A small CNN (3×3 convolutions with 16, 32, 32 channels, one max-pool,
# about 15k parameters) with the paper's recipe unchanged: Adam, LR 1e-2, batch 64, one
# ERM warm-up epoch, five robust epochs, final-layer gradient signatures, k = 2. On the same
# splits and seeds: ERM; UGC as the paper runs it (k-means over all training samples);
# UGC per class (GRASP-style, k = 2 within each class); JTT (upweight the warm-up model's
# training errors ×20); oracle Group DRO on the true (y, colour) groups. Both presets: the
# text's (online Group DRO over clusters, PCA 10) and the script's (inverse-cluster-size
# weights, no PCA). Last epoch, no model selection. WGA is reported both ways: WGA(s) over
# the two colours and WGA(y,s) over the four (label, colour) groups.
#
# The verdict rule was fixed in `ugc_lib/claims.py` (`RULE_C12`) before this sweep was
# first run, and is printed with the verdict.

# %% tags=["parameters"]
seeds = [0, 1, 2, 3, 4]
sensitivity_seeds = [0, 1, 2]
jobs = 1
figures_dir = "../reports/figures"
results_dir = "../reports/results"

# %%
import pandas as pd
from IPython.display import display

from ugc_lib import claims, data, figures, report, runner, studies, tables

pd.set_option("display.width", 160)
configs = [c for p in ("paper_text", "paper_code") for c in studies.study_configs("colored_digits", p)]
df = studies.add_variant(runner.to_frame(runner.sweep(configs, seeds, jobs=jobs)), "colored_digits")
final = tables.at_epoch(df)
ds0 = data.make_dataset(configs[0].data, seeds[0])

# %% [markdown]
# ## The data: (label, colour) group sizes per split (seed 0) and example images
# y0s1 and y1s0 are the training minority: colour disagrees with the label.

# %%
display(pd.DataFrame(data.group_counts(ds0)).T)
fig = figures.nb15_examples(ds0)
_ = figures.save_figure(fig, "nb15_examples", figures_dir)

# %% [markdown]
# ## Test accuracy and worst-group accuracy, last epoch

# %%
test_table = tables.summarize(final[final["split"] == "test"], ["preset", "variant"],
                               ["acc", "wga_s", "wga_ys"])
display(test_table)
fig = figures.nb15_colored_digits(df)
_ = figures.save_figure(fig, "nb15_colored_digits", figures_dir)

# %% [markdown]
# ## Per-group test accuracy
# Groups y0s1 and y1s0 are the ones where colour points to the wrong label.

# %%
group_table = tables.summarize(final[final["split"] == "test"], ["preset", "variant"],
                                ["acc_y0s0", "acc_y0s1", "acc_y1s0", "acc_y1s1"])
display(group_table)

# %% [markdown]
# ## What the pseudo-groups are (training set)
# For the UGC variants, the k-means clusters; for JTT, its error set (1 = misclassified after
# the warm-up). ARI against colour and against the four groups, and the precision, recall
# and F1 of the single group that best matches the minority (colour ≠ label). With per-class clusters the minority is split
# over two groups, so the best single group can cover at most about half of it.

# %%
inferred = final[(final["split"] == "train")
                 & final["variant"].isin(["UGC (global)", "UGC (per class)", "JTT"])]
recovery_table = tables.summarize(inferred, ["preset", "variant"],
                                   ["rec_ari_s", "rec_ari_ys", "rec_minority_precision",
                                    "rec_minority_recall", "rec_minority_f1",
                                    "rec_smallest_cluster_frac"])
recovery_table = recovery_table.rename(columns={"rec_minority_precision": "minority precision",
                                                "rec_minority_recall": "minority recall"})
display(recovery_table)

# %% [markdown]
# ## Verdict (C12)

# %%
verdicts = [claims.verdict_c12(df, p, d) for p in ("paper_text", "paper_code") for d in ("s", "ys")]
verdict_table = tables.c12_table(verdicts)
display(verdict_table)
print("-", claims.RULE_C12)

# %% [markdown]
# ## Sensitivity (exploratory, not read by the verdict): a longer robust phase
# The same benchmark with 20 robust epochs instead of 5 (paper-text preset; ERM, UGC
# global, UGC per class, oracle Group DRO), on fewer seeds to keep the notebook fast. It
# asks whether the robust phase is too short for any grouping to pay off, and whether
# the clusters UGC finds pay off once it is long enough.

# %%
long_configs = studies.study_configs("colored_digits_long", "paper_text")
long_df = studies.add_variant(runner.to_frame(runner.sweep(long_configs, sensitivity_seeds, jobs=jobs)),
                              "colored_digits_long")
long_final = tables.at_epoch(long_df)
long_table = tables.summarize(long_final[long_final["split"] == "test"], ["variant"],
                               ["acc", "wga_s", "wga_ys"])
display(long_table)

# %%
_ = report.save_results(results_dir, "15_colored_digits",
                        tables={"Colored-Digits test metrics (last epoch)": test_table,
                                "Colored-Digits per-group test accuracy": group_table,
                                "Colored-Digits pseudo-groups (train)": recovery_table,
                                "C12 verdicts": verdict_table,
                                "Sensitivity: 20 robust epochs (exploratory)": long_table},
                        verdicts=verdicts, figures=["nb15_examples", "nb15_colored_digits"])

# %% [markdown]
# ## Reading
#
# 1. **The benchmark has a shortcut failure, and ERM falls into it.** ERM classifies every
#    test image by its colour: 1.000 on the two groups where colour agrees with the label,
#    0.006 and 0.000 where it disagrees, so WGA(y,s) is 0 in every seed and average
#    accuracy on the colour-balanced test set is 0.497.
# 2. **The paper's UGC (k-means over all samples) does not fix it.** Its test WGA(y,s) is
#    0.000 in every seed under the text's preset (0.026 under the script's, above ERM in
#    1 of 5 seeds). Its clusters are not the colours (ARI against colour 0.011): k-means
#    splits off a small cluster (4.7% of the training set) that holds no majority image
#    (precision 1.000) and about half of the minority (recall 0.475); Group DRO upweights
#    that cluster, and the rest of the minority stays pooled with the majority.
# 3. **Per class, the CNN's gradients recover the groups exactly.** k-means within each
#    class reproduces the four (label, colour) groups (ARI 1.000 in every seed, both
#    presets), and Group DRO on those clusters gives the oracle's numbers to the last
#    digit. The group structure is in the gradient signatures; the paper's global k = 2
#    clustering does not extract it.
# 4. **Even perfect groups buy little in five robust epochs.** The oracle lifts WGA(y,s)
#    from 0 to 0.138 and accuracy to 0.557; on WGA(s) its gain (0.049) is not significant,
#    hence "not testable" under that definition. With 20 robust epochs (the exploratory
#    table, 3 seeds) the oracle and per-class UGC reach 0.419 while the paper's global UGC
#    stays at 0.073 against ERM's 0.047: the training budget limits every method, but the
#    global clusters do not pay off even when the budget is there.
# 5. **JTT's error set is exactly the minority** (precision and recall 1.000), but
#    upweighting it ×20 makes it outweigh the majority and flips the model to the opposite
#    colour rule (near 1.0 on the minority groups, near 0 on the majority ones).
#
# **C12.** Under the rule fixed beforehand: partly reproduced for the text's preset on
# WGA(y,s) (the minority-F1 condition holds, the WGA gain does not), not reproduced for the
# script's preset, not testable on WGA(s). "UGC scales to complex models" is not supported
# for UGC as the paper runs it; clustering per class, as GRASP does, does carry over.
