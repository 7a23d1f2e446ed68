"""Robust-phase objectives. Each one only turns per-sample losses into a batch loss.

All share one interface:
    obj = OBJECTIVE(n_groups, group_of_train, train_features, cfg)
    loss = obj.batch_loss(per_sample_losses, batch_index)
where batch_index are the training-set indices of the batch. Group ids come from
the pseudo-groups (clusters) or, for the oracle only, from the true (y, s) groups.
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
    uses_true_groups = False  # does it read the true (y, s) groups? (oracle only)

    def __init__(self, groups: np.ndarray, features: np.ndarray, cfg: ObjectiveConfig):
        self.groups = torch.as_tensor(np.asarray(groups, dtype=np.int64))  # (N_train,)
        self.n_groups = int(self.groups.max()) + 1 if len(self.groups) else 0
        self.cfg = cfg

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

    def __init__(self, groups, features, cfg):
        super().__init__(groups, features, cfg)
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

    def __init__(self, groups, features, cfg):
        super().__init__(groups, features, cfg)
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


class JTT(StaticWeights):
    """Just Train Twice (Liu et al., 2021): upweight the warm-up model's training errors.

    groups is the error set from grouping.source="errors" (1 = misclassified after the
    warm-up, 0 = correct): weight_i = cfg.jtt_lambda_up on errors, 1 elsewhere (then
    normalised like every static weight). Unlike Liu et al., training continues from the
    warm-up model rather than restarting, as every method here does. An empty error set
    leaves all weights at 1, i.e. ERM; that is warned about and recorded in state().
    """
    needs_clusters = True

    def sample_weights(self, groups, features):
        errors = groups == 1
        self.n_errors = int(errors.sum())
        if self.n_errors == 0:
            warnings.warn("JTT: the warm-up model makes no training error, so the error set is "
                          "empty and JTT trains as ERM", RuntimeWarning, stacklevel=2)
        return np.where(errors, self.cfg.jtt_lambda_up, 1.0)

    def state(self):
        out = {"n_errors": self.n_errors}
        if self.n_errors == 0:
            out["warning"] = "empty error set: JTT fell back to ERM (all weights 1)"
        return out


METHODS: dict[str, type[Objective]] = {
    "erm": ERM,
    "group_dro": GroupDRO,
    "inverse_freq": InverseFrequency,
    "feature_weight": FeatureMagnitude,
    "oracle_dro": OracleGroupDRO,
    "jtt": JTT,
}


def get_method(name: str) -> type[Objective]:
    if name not in METHODS:
        raise ValueError(f"objective.method={name!r} is invalid: allowed {sorted(METHODS)}")
    return METHODS[name]
