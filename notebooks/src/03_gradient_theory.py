# %% [markdown]
# # 03 · The gradient "theory": do per-sample gradients point along −y·x, and what do they cluster by?
#
# **Claim tested.**
# - **C4** (Sec. 3, Appendix A): for a linear model f(x) = θᵀx with small initialisation and
#   squared-error loss, ∇θℓ ≈ −y·x, "so gradient directions align with feature-label
#   correlations", and "clustering these gradients groups samples by dominant features
#   (core vs. spurious)".
#
# **Setting.** The project's data (notebook 01): input x = [5 z-scored core features, s ∈ {0, 1}],
# training split (1000 samples). For the theory, labels are recoded **y ∈ {−1, +1}**
# (y = 2·y01 − 1), the model has **no bias** (f(x) = θᵀx, as in the paper), the loss is
# ℓ = ½(θᵀx − y)², and θ₀ = scale · N(0, I). Its per-sample gradient is exactly
# g = (θᵀx − y)·x = −y·x + f(x)·x. Two consequences follow without any experiment:
#
# - cos(g, −y·x) = sign(1 − y·f(x)): each per-sample cosine is exactly +1 or −1, and it is
#   −1 once the sample is fitted past its target (margin y·f(x) > 1);
# - ‖g − (−y·x)‖ / ‖y·x‖ = |f(x)|: the gradient is close to −y·x in size only while |f(x)| ≪ 1.
#
# So "small initialisation" makes the approximation exact, and training erodes it. The
# notebook measures (1) the mean cosine against the init scale and over training,
# (2) what k-means (k = 2) on these gradients separates, and (3) the same for the gradients
# UGC actually clusters (the paper's MLP with cross-entropy, after one warm-up epoch, with
# each preset's signature, PCA and k-means settings).
#
# **Verdict rule (fixed before any number was seen, `ugc_lib/claims.py: RULE_C4`).**
# Reproduced if (a) the mean cosine between per-sample gradient and −y·x is ≥ 0.95 at
# initialisation scale 1e-3 before training, and (b) k-means (k = 2) on those gradients
# separates the minority (s ≠ y) from the majority: best-cluster minority F1 ≥ 0.5; partly
# if only (a); not reproduced if (a) fails. Means and 95% bootstrap intervals over 5 seeds;
# (b) uses each preset's k-means settings (without PCA: the linear gradients have only 6
# coordinates).

# %% tags=["parameters"]
seeds = [0, 1, 2, 3, 4]
jobs = 1
figures_dir = "../reports/figures"
results_dir = "../reports/results"

# %%
import numpy as np
import pandas as pd
from IPython.display import display

from ugc_lib import claims, config, data, figures, metrics, report, runner, studies, tables, theory

%matplotlib inline

pd.set_option("display.width", 170)
pd.set_option("display.max_columns", 20)
presets = ["paper_text", "paper_code"]
data_cfg = config.PAPER_TEXT.data  # shared by both presets
print("init scales:", theory.INIT_SCALES, "| training: lr", theory.TRAIN_LR, "batch", theory.TRAIN_BATCH,
      "epochs", theory.TRAIN_EPOCHS)

# %% [markdown]
# ## 1. The exact identity, checked numerically
# Every per-sample cosine is ±1 (seed 0, init scale 1, where both signs occur).

# %%
tr = data.make_synthetic(data_cfg, seeds[0]).train
y_pm = theory.pm_labels(tr.y)
theta = theory.init_theta(tr.X.shape[1], 1.0, seeds[0])
G = theory.squared_loss_grads(theta, tr.X, y_pm)
cos = theory.cosine_to_target(G, tr.X, y_pm)
margin = y_pm * (tr.X @ theta)
print("all |cos| = 1 (to 1e-12)      :", bool(np.nanmax(np.abs(np.abs(cos) - 1)) < 1e-12))
print("cos == sign(1 - y f) for all  :", bool(np.all(np.sign(cos) == np.sign(1 - margin))))
print("share with cos = -1 (y f > 1) :", f"{np.mean(cos < 0):.3f}")

# %% [markdown]
# ## 2. Alignment with −y·x against the init scale and during training
# `mean_cos`: mean per-sample cosine; `frac_aligned`: share of samples with cosine +1;
# `rel_dev`: mean ‖g + y·x‖ / ‖y·x‖ (= mean |f(x)|); `accuracy`: of sign(f) on the
# training split. Training: plain SGD and Adam, LR 1e-2, batch 64, from init 1e-3.

# %%
al = theory.alignment_frame(data_cfg, seeds)
cols = ["mean_cos", "frac_aligned", "rel_dev", "accuracy"]
init_table = tables.summarize(al[al["stage"] == "init"], ["init_scale"], cols)
display(init_table)
train_table = tables.summarize(al[al["stage"] == "train"], ["optimizer", "epoch"], cols)
display(train_table)

# %%
fig = figures.nb03_gradient_alignment(al, "Linear model, squared loss: cosine between per-sample gradient and -y x")
_ = figures.save_figure(fig, "nb03_gradient_alignment", figures_dir)

# %% [markdown]
# ## 3. What the gradients cluster by
# k-means (k = 2) over all training samples. Rows: the gradients of the linear squared-loss
# model (at init 1e-3, and after 5 epochs of SGD or Adam), clustered with each preset's
# k-means settings; and the gradients UGC actually clusters: the paper's MLP, cross-entropy,
# after the one-epoch ERM warm-up at LR 1e-2, with the preset's signature (`paper_text`:
# final layer weight + bias, PCA to 10, k-means++ ×10; `paper_code`: final weight only, no
# PCA, one random start, 10 Lloyd steps). One diagnostic row re-codes s to −1/+1 before
# taking the init gradients (not the paper's data; not used by the verdict).
#
# ARI/NMI against y, s and the four (y, s) groups, and the F1 of the cluster that best
# matches the minority (s ≠ y, about 5% of samples; a cluster holding every sample scores
# F1 ≈ 0.1).

# %%
linear = theory.linear_recovery_frame(data_cfg, seeds, {p: config.get_preset(p).grouping for p in presets})
linear = linear.rename(columns={"kmeans": "preset"})
mlp_records = runner.sweep([studies.ugc_warmup_config(p) for p in presets], seeds, jobs=jobs)
mlp = tables.at_epoch(runner.to_frame(mlp_records), split="train")
mlp = mlp.rename(columns=lambda c: c[4:] if c.startswith("rec_") else c)
mlp["gradients"] = "MLP CE, warm-up (UGC)"
rec_cols = ["ari_y", "ari_s", "ari_ys", "nmi_y", "nmi_s", "nmi_ys", "minority_f1"]
both = pd.concat([linear[["preset", "gradients", "seed"] + rec_cols],
                  mlp[["preset", "gradients", "seed"] + rec_cols]], ignore_index=True)
recovery_table = tables.summarize(both, ["preset", "gradients"], ["ari_y", "ari_s", "ari_ys", "minority_f1"])
display(recovery_table)
nmi_table = tables.summarize(both, ["preset", "gradients"], ["nmi_y", "nmi_s", "nmi_ys"])
display(nmi_table)
chance = metrics.minority_match(np.zeros(len(tr.y), dtype=int), tr.y, tr.s)["minority_f1"]
print(f"reference: minority F1 of one cluster holding every sample (seed {seeds[0]}) = {chance:.3f}")

# %% [markdown]
# ## 4. Why: the mean linear gradient of each (y, s) group
# Training split of seed 0 at init 1e-3 (where g = −y·x to three decimals). The last row is
# each coordinate's spread around its group mean.

# %%
group_means = theory.group_mean_gradients(data_cfg, seeds[0])
display(group_means)

# %% [markdown]
# ## Verdict (C4)

# %%
verdicts = claims.c4_verdicts(data_cfg, seeds, {p: config.get_preset(p).grouping for p in presets},
                              al=al, linear=linear.rename(columns={"preset": "kmeans"}))
display(claims.verdict_table(verdicts))
for v in verdicts:
    f1_mean, f1_lo, f1_hi = v.detail["minority_f1"]
    print(f"{v.preset}: (a) cosine ok: {v.detail['a_cosine_ok']}, (b) minority F1 ok: "
          f"{v.detail['b_minority_f1_ok']}, minority F1 = {f1_mean:.3f} [{f1_lo:.3f}, {f1_hi:.3f}]")
print("-", claims.RULE_C4)

# %%
_ = report.save_results(results_dir, "03_gradient_theory",
                        tables={"Alignment vs init scale (before training)": init_table,
                                "Alignment during training (init 1e-3)": train_table,
                                "What the gradients cluster by (k = 2, train): ARI, minority F1": recovery_table,
                                "What the gradients cluster by (k = 2, train): NMI": nmi_table,
                                "Mean linear gradient by (y,s) group (seed 0)": group_means.reset_index()},
                        verdicts=verdicts)

# %% [markdown]
# ## Reading
#
# - **The identity holds exactly.** Every per-sample cosine is ±1 (`True`), with sign
#   sign(1 − y·f(x)) (`True`). At init scale 1, 14.1% of the seed-0 samples already point
#   *against* −y·x.
# - **Small initialisation: aligned.** At init scales ≤ 0.1 the mean cosine is 1.000 for every
#   seed, and the gradient differs from −y·x by 0.000 to 0.144 of its length. At scale 1 the
#   mean cosine falls to 0.453 [0.201, 0.636], and at 3 to 0.110 [−0.167, 0.328]. Part (a) of
#   the rule holds: 1.000 [1.000, 1.000] at 1e-3.
# - **Training erodes the alignment as soon as the model fits.** With plain SGD the mean cosine
#   is still 0.952 after epoch 2 and 0.473 after epoch 5. With Adam it is 0.891 after epoch 1,
#   0.146 after epoch 2 and 0.348 after epoch 5, and by then about a third of the samples
#   (`frac_aligned` 0.674) have margin > 1 and gradients along +y·x. Training accuracy is 0.99
#   after the first epoch under both optimizers. So "∇ℓ ≈ −y·x" describes the gradients only
#   before the model has learned anything.
# - **The gradients do not cluster by group, even where ∇ℓ = −y·x exactly.** k-means (k = 2) on
#   the linear model's gradients at init 1e-3 gives ARI ≤ 0.003 against y, s and (y, s). Its
#   minority F1 is 0.100 (`paper_text` settings) and 0.103 (`paper_code`), the level of a single
#   cluster holding every sample (0.119 for seed 0, about 0.1 at a 5% minority share). After 5
#   epochs of training it is no better (ARI ≤ 0.028, F1 ≤ 0.112). Re-coding s to −1/+1 changes
#   nothing (F1 0.105 and 0.106), so the 0/1 coding is not the cause. The gradients UGC actually
#   clusters (the MLP's cross-entropy gradients after warm-up) behave the same: ARI ≤ 0.005
#   against y, s and (y, s), and minority F1 0.095 and 0.096.
# - **Why.** In −y·x the core coordinates are about −0.7 for *every* group: multiplying the
#   label-aligned core features by y gives one shared direction, not a group marker. The
#   minority groups differ from the majority by at most 0.33 in any core coordinate (seed 0),
#   less than the spread within a group (0.70 to 0.73). The s coordinate is −1 for `y1s1`, +1
#   for `y0s1` and 0 for both `y0s0` (majority) and `y1s0` (minority), so no cut along it
#   isolates the minority. The split k-means finds is unrelated to y, s and the groups.
#
# **Verdict on C4: partly reproduced, for both presets' k-means settings.** The first half of the
# claim (∇ℓ ≈ −y·x under small initialisation) is an exact algebraic fact in this setting, and
# holds before training (cosine 1.000). It stops holding once training fits the data. The second
# half, that clustering these gradients separates samples by their dominant feature, fails on
# the paper's own data: minority F1 is about 0.10, against the 0.5 the rule required.
