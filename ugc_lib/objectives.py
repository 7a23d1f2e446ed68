"""Robust-phase objectives. Each one only turns per-sample losses into a batch loss.

All share one interface:
    obj = OBJECTIVE(group_of_train, train_features, cfg, seed=seed)
    loss = obj.batch_loss(per_sample_losses, batch_index)
where batch_index are the training-set indices of the batch. Group ids come from
the pseudo-groups (clusters) or, for the oracles only, from the true (y, s) groups.
A method that changes the data rather than the loss says so with obj.rows() (the
training-set indices one robust epoch runs over, with repeats: JTT's upsampling,
subsampling); retrains_model (JTT: a fresh model after the identification phase) and
last_layer_only (DFR) tell train.fit how to set up the robust phase.
"""

from __future__ import annotations

import warnings

from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:  # annotations only: config imports this module for METHODS
    from .config import ObjectiveConfig


class Objective:
    needs_clusters = False  # does the method need the UGC pseudo-groups?
    uses_true_groups = False  # does it read the true (y, s) groups? (the oracles)
    uses_error_set = False  # does it train on grouping.source="errors" (JTT)?
    resamples = False  # does rows() change the epoch's rows (then no seed stacking)?
    retrains_model = False  # robust phase from a fresh initialisation (faithful JTT)?
    last_layer_only = False  # robust phase: the final layer alone, on held-out data (DFR)?

    def __init__(self, groups: np.ndarray, features: np.ndarray, cfg: ObjectiveConfig,
                 seed: int = 0):
        self.groups = torch.as_tensor(np.asarray(groups, dtype=np.int64))  # (N_train,)
        self.n_groups = int(self.groups.max()) + 1 if len(self.groups) else 0
        self.cfg = cfg
        self.seed = int(seed)  # draws of rows() only (a NumPy generator: torch's RNG untouched)

    def rows(self) -> np.ndarray | None:
        """Training-set indices of one robust epoch (repeats allowed); None: each row once."""
        return None

    def batch_loss(self, losses: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def state(self) -> dict:
        return {}


class ERM(Objective):
    def batch_loss(self, losses, index):
        return losses.mean()


class StaticWeights(Objective):
    """Fixed per-sample weights; batch loss = mean(weight_i * loss_i) (the paper's script)."""

    def sample_weights(self, groups: np.ndarray, features: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __init__(self, groups, features, cfg, seed=0):
        super().__init__(groups, features, cfg, seed)
        w = self.sample_weights(np.asarray(groups), np.asarray(features))
        if cfg.normalize_weights:
            w = w / w.mean()  # mean weight 1 over the training set
        self.weights = torch.as_tensor(w, dtype=torch.float32)  # (N_train,)

    def batch_loss(self, losses, index):
        return (self.weights[index] * losses).mean()


class InverseFrequency(StaticWeights):
    """weight_i = 1 / |cluster(i)|: every cluster gets the same total weight."""
    needs_clusters = True

    def sample_weights(self, groups, features):
        counts = np.bincount(groups)
        return 1.0 / counts[groups]


class FeatureMagnitude(StaticWeights):
    """Fig. 3's "input-feature cluster reweighting (weight by mean feature magnitude)".

    Our reading: each cluster's weight is the mean over its members of the mean
    absolute input feature, m_g = mean_{i in g} mean_j |x_ij|, raised to
    cfg.feature_weight_power (1 by default; -1 is the inverse reading); every sample
    gets its cluster's weight.
    """
    needs_clusters = True

    def sample_weights(self, groups, features):
        magnitude = np.abs(features).mean(axis=1)  # (N,)
        per_group = np.bincount(groups, weights=magnitude) / np.bincount(groups)
        return per_group[groups] ** self.cfg.feature_weight_power


class GroupDRO(Objective):
    """Online Group DRO (Sagawa et al., 2020): exponentiated-gradient weights q over groups.

    Per batch: mean loss per group present (absent groups count as loss 0, so they
    keep their weight), q <- q * exp(eta * group_loss), renormalised, then
    loss = sum_g q_g * group_loss_g.
    """
    needs_clusters = True

    def __init__(self, groups, features, cfg, seed=0):
        super().__init__(groups, features, cfg, seed)
        self.q = torch.full((self.n_groups,), 1.0 / self.n_groups)  # (G,) on the simplex

    def group_losses(self, losses: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        g = self.groups[index]
        sums = torch.zeros(self.n_groups, dtype=losses.dtype).index_add(0, g, losses)
        counts = torch.bincount(g, minlength=self.n_groups).to(losses.dtype)
        return sums / counts.clamp(min=1)  # (G,); 0 for groups absent from the batch

    def batch_loss(self, losses, index):
        group_loss = self.group_losses(losses, index)
        with torch.no_grad():
            q = self.q * torch.exp(self.cfg.dro_eta * group_loss.detach())
            self.q = q / q.sum()
        return (self.q * group_loss).sum()

    def state(self):
        return {"q": [round(float(v), 6) for v in self.q]}


class OracleGroupDRO(GroupDRO):
    """Group DRO on the true (y, s) groups: the upper reference; reads group labels."""
    needs_clusters = False
    uses_true_groups = True


def _warn_empty(n_errors: int) -> None:
    if n_errors == 0:
        warnings.warn("JTT: the warm-up model makes no training error, so the error set is "
                      "empty and JTT trains as ERM", RuntimeWarning, stacklevel=3)


class JTT(StaticWeights):
    """An ablation of JTT: the error set upweighted in the loss, training continued.

    groups is the error set from grouping.source="errors" (1 = misclassified after the
    warm-up, 0 = correct): weight_i = cfg.jtt_lambda_up on errors, 1 elsewhere (then
    normalised like every static weight). Unlike Liu et al. (2021; JTTRetrain is theirs),
    training continues from the warm-up model and the loss is reweighted instead of the
    data upsampled. An empty error set leaves all weights at 1, i.e. ERM; that is warned
    about and recorded in state().
    """
    needs_clusters = True
    uses_error_set = True

    def sample_weights(self, groups, features):
        errors = groups == 1
        self.n_errors = int(errors.sum())
        _warn_empty(self.n_errors)
        return np.where(errors, self.cfg.jtt_lambda_up, 1.0)

    def state(self):
        out = {"n_errors": self.n_errors}
        if self.n_errors == 0:
            out["warning"] = "empty error set: JTT fell back to ERM (all weights 1)"
        return out


class JTTRetrain(ERM):
    """Just Train Twice as Liu et al. (2021) define it.

    The identification model is the warm-up (ERM for T = train.warmup_epochs epochs); its
    training errors (grouping.source="errors") are the error set. The final model is
    trained from a fresh initialisation (drawn from the run's seed, as the warm-up's was;
    train.fit) with plain ERM on the training set in which every error row appears
    lambda_up times: the data are upsampled, not the loss reweighted. lambda_up must be a
    whole number. An empty error set leaves plain ERM from scratch (warned, recorded).
    """
    needs_clusters = True
    uses_error_set = True
    resamples = True
    retrains_model = True

    def __init__(self, groups, features, cfg, seed=0):
        super().__init__(groups, features, cfg, seed)
        self.errors = np.flatnonzero(np.asarray(groups) == 1)  # (|E|,) training indices
        _warn_empty(len(self.errors))

    def rows(self):
        extra = np.repeat(self.errors, int(self.cfg.jtt_lambda_up) - 1)  # (|E| (lambda - 1),)
        return np.concatenate([np.arange(len(self.groups)), extra])

    def state(self):
        out = {"n_errors": int(len(self.errors)), "n_rows": int(len(self.rows()))}
        if len(self.errors) == 0:
            out["warning"] = "empty error set: JTT fell back to ERM (all weights 1)"
        return out


def balanced_subsample(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of a subsample holding min_g |g| rows of every group present, drawn
    without replacement (Idrissi et al., 2022's SUBG / SUBY)."""
    groups = np.asarray(groups)
    present, counts = np.unique(groups, return_counts=True)
    size = int(counts.min())
    picked = [rng.choice(np.flatnonzero(groups == g), size, replace=False) for g in present]
    return np.sort(np.concatenate(picked))


class Subsample(ERM):
    """ERM on a group-balanced subsample of the training set, drawn once from the seed.

    Over grouping.source="labels" (groups = classes) this is class-balanced subsampling
    (SUBY, no group labels); OracleSubsample is SUBG (true groups). [ours] The subsample is
    repeated within an epoch up to at least epoch_size rows (default: the set it is drawn
    from; DFR: the training set, train.fit), so that every method takes about as many
    optimiser steps per epoch as ERM does.
    """
    needs_clusters = True
    resamples = True
    epoch_size: int | None = None

    def __init__(self, groups, features, cfg, seed=0):
        super().__init__(groups, features, cfg, seed)
        self.subsample = balanced_subsample(np.asarray(groups), np.random.default_rng(self.seed))

    @property
    def repeats(self) -> int:
        return -(-(self.epoch_size or len(self.groups)) // len(self.subsample))  # ceil

    def rows(self):
        return np.tile(self.subsample, self.repeats)

    def state(self):
        return {"n_subsample": int(len(self.subsample)), "repeats": int(self.repeats)}


class OracleSubsample(Subsample):
    """Group-balanced subsampling on the true (y, s) groups (SUBG): reads group labels."""
    needs_clusters = False
    uses_true_groups = True


class DFR(Subsample):
    """Deep Feature Reweighting (Kirichenko et al., 2023): the upper reference.

    READS VALIDATION GROUP LABELS. The warm-up is the ERM base model; the robust phase
    (train.fit) retrains its final layer alone, from a fresh initialisation, on a
    group-balanced subsample of one half of the validation set, with an l1 penalty
    cfg.dfr_l1 * sum|W| on its weight (their l1-regularised logistic regression). groups
    and features here are that half's true (y, s) groups and inputs; the other half
    stays for model selection (train.run_experiment reports it as "val").
    """
    needs_clusters = False
    uses_true_groups = True
    last_layer_only = True

    def penalty(self, model) -> torch.Tensor:
        return self.cfg.dfr_l1 * model.final.weight.abs().sum()


METHODS: dict[str, type[Objective]] = {
    "erm": ERM,
    "group_dro": GroupDRO,
    "inverse_freq": InverseFrequency,
    "feature_weight": FeatureMagnitude,
    "oracle_dro": OracleGroupDRO,
    "jtt": JTT,
    "jtt_retrain": JTTRetrain,
    "subsample": Subsample,
    "oracle_subsample": OracleSubsample,
    "dfr": DFR,
}


def get_method(name: str) -> type[Objective]:
    if name not in METHODS:
        raise ValueError(f"objective.method={name!r} is invalid: allowed {sorted(METHODS)}")
    return METHODS[name]
