"""scikit-learn estimators over the UGC pipeline: GradientGroups and UGCClassifier.

Both estimators run the project's own pipeline (train.fit: ERM warm-up ->
gradients.signatures -> grouping.GradientClustering -> an objectives.* robust phase),
so with the default model they give exactly what train.fit gives for the same
settings and seed. Conventions: __init__ only stores its arguments; fit validates
(ugc_lib.validation), sets attributes ending in "_" and returns self; randomness comes
only from random_state. fit seeds torch, NumPy and Python through repro.seed_everything
and restores the caller's random states and thread settings afterwards.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted
from torch import nn

from . import train
from .config import GROUPING_SCOPES, GroupingConfig, ModelConfig, ObjectiveConfig, TrainConfig
from .gradients import signatures
from .grouping import GradientClustering
from .repro import resolve_device, seed_everything
from .user_models import layer_parameters, _check_model_param, _module_device, _check_output_width, _factory
from .global_state import _seed, preserve_global_state
from .validation import (check_cluster_count, check_same_length, encode_pairs,
                         validate_fit_input, validate_predict_input)

# Robust-phase objectives a user may pick (objectives.METHODS minus the oracle, which
# fit(X, y, groups=...) selects, and JTT, which needs the error set instead of clusters).
CLASSIFIER_METHODS = ("group_dro", "inverse_freq", "feature_weight", "erm")
PREDICT_BATCH = 4096  # rows per forward pass in predict_proba


# ---------------------------------------------------------------- shared settings

class _GradientBase(BaseEstimator):
    """Settings shared by both estimators: configs for train.fit and the group function."""

    def _configs(self, n_classes: int, robust_epochs: int, method: str) -> SimpleNamespace:
        """The run's settings as the project's config sections (their checks name the
        field: train.lr, grouping.pca_dim, ...). A namespace, not a RunConfig: RunConfig's
        data section describes the synthetic data, and these arrays are the user's."""
        hidden = tuple(int(h) for h in self.hidden_dims)
        return SimpleNamespace(
            name=type(self).__name__,
            model=ModelConfig(kind="mlp" if hidden else "linear", hidden_dims=hidden,
                              n_classes=n_classes),
            train=TrainConfig(optimizer=self.optimizer, lr=self.lr,
                              weight_decay=self.weight_decay, batch_size=self.batch_size,
                              warmup_epochs=self.warmup_epochs, robust_epochs=robust_epochs,
                              reset_optimizer=getattr(self, "reset_optimizer", False),
                              threads=self.threads, device=self.device),
            grouping=GroupingConfig(where="fc", pca_dim=self.pca_dim, k=self.n_clusters,
                                    scope=self.scope, kmeans_init=self.kmeans_init,
                                    kmeans_n_init=self.kmeans_n_init,
                                    kmeans_max_iter=self.kmeans_max_iter,
                                    projection_dim=self.projection_dim),
            objective=ObjectiveConfig(method=method, dro_eta=getattr(self, "dro_eta", 0.01)),
        )

    def _check_common(self, y: np.ndarray) -> None:
        if self.scope not in GROUPING_SCOPES:
            raise ValueError(f"scope={self.scope!r} is invalid: allowed {GROUPING_SCOPES}")
        _check_model_param(self.model)
        check_cluster_count(self.n_clusters, self.scope, y, self.classes_)

    def _group_fn(self, cfg: SimpleNamespace, found: dict) -> Callable:
        """train.fit's group_fn: signatures over the chosen layer, then PCA + k-means.
        What it used is left in `found` (parameter names, the clustering)."""
        def group(model: nn.Module, X: np.ndarray, y: np.ndarray, seed: int, device):
            names = layer_parameters(model, self.layer, X.shape[1], device)
            t0 = time.perf_counter()
            G = signatures(model, X, y, where=names, device=device,  # (N, P or projection_dim)
                           projection_dim=cfg.grouping.projection_dim, projection_seed=seed)
            t1 = time.perf_counter()
            clustering = GradientClustering.from_config(cfg.grouping, random_state=seed).fit(G, y)
            found.update(names=names, clustering=clustering)
            return G, clustering.labels_, {"signatures": t1 - t0,
                                           "clustering": time.perf_counter() - t1}
        return group

    def _record(self, cfg: SimpleNamespace, X: np.ndarray, names: list[str], seed: int,
                n_groups: int | None, trained: bool = True) -> dict:
        """The run's config as a JSON-able dict; its data section comes from the arrays.
        trained=False: a user's trained model was used as it is (no train section)."""
        feature_names = getattr(self, "feature_names_in_", None)
        model = ({"kind": cfg.model.kind, "hidden_dims": list(cfg.model.hidden_dims)}
                 if self.model is None else {"kind": "custom", "model": repr(self.model)})
        return {
            "name": cfg.name,
            "seed": seed,
            "data": {"dataset": "arrays", "n_samples": int(X.shape[0]),
                     "input_dim": int(X.shape[1]), "n_classes": int(len(self.classes_)),
                     "classes": [_json_scalar(c) for c in self.classes_],
                     "feature_names": None if feature_names is None else list(feature_names),
                     "n_true_groups": n_groups},
            "model": {**model, "n_classes": int(len(self.classes_)), "signature_parameters": names},
            "train": asdict(cfg.train) if trained else None,
            "grouping": {**asdict(cfg.grouping), "where": names},
            "objective": asdict(cfg.objective),
        }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


def _json_scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# ---------------------------------------------------------------- GradientGroups

class GradientGroups(_GradientBase):
    """Pseudo-groups from per-sample gradients: UGC's group-inference step on its own.

    fit(X, y) trains an ERM warm-up (warmup_epochs epochs of the default MLP, or of
    model(n_features, n_classes) for a factory), takes the per-sample cross-entropy
    gradients of `layer` (None: the final nn.Linear's weight and bias) and clusters
    them (PCA to pca_dim, then k-means with n_clusters) over all samples
    (scope="global", the paper's) or within each class (scope="per_class"; labels are
    class_index * n_clusters + cluster). model may also be an already trained
    nn.Module: then no warm-up runs and its gradients are taken where it lives (its
    device; `device` is not used), without changing it; its output i must be the i-th
    class of sorted(unique(y)).

    Fitted attributes: labels_ (N,), signatures_ (N, P), embedding_ (N, pca_dim),
    model_, classes_, signature_parameters_, n_features_in_, config_.
    """

    def __init__(self, n_clusters: int = 2, scope: str = "global", pca_dim: int | None = 10,
                 model: Any = None, layer: str | None = None, hidden_dims: tuple = (32, 32),
                 warmup_epochs: int = 1, lr: float = 1e-2, batch_size: int = 64,
                 optimizer: str = "adam", weight_decay: float = 0.0,
                 kmeans_init: str = "k-means++", kmeans_n_init: int = 10,
                 kmeans_max_iter: int = 300, projection_dim: int | None = None,
                 device: str = "cpu", threads: int = 1, verbose: bool = False,
                 random_state: Any = None):
        self.n_clusters = n_clusters
        self.scope = scope
        self.pca_dim = pca_dim
        self.model = model
        self.layer = layer
        self.hidden_dims = hidden_dims
        self.warmup_epochs = warmup_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.kmeans_init = kmeans_init
        self.kmeans_n_init = kmeans_n_init
        self.kmeans_max_iter = kmeans_max_iter
        self.projection_dim = projection_dim
        self.device = device
        self.threads = threads
        self.verbose = verbose
        self.random_state = random_state

    def fit(self, X, y) -> "GradientGroups":
        X, y_enc, encoder = validate_fit_input(self, X, y)
        self.classes_ = encoder.classes_
        self._check_common(y_enc)
        seed = _seed(self.random_state)
        cfg = self._configs(len(self.classes_), robust_epochs=0, method="erm")
        found: dict = {}
        group = self._group_fn(cfg, found)
        with preserve_global_state():
            if trained := not isinstance(self.model, nn.Module):
                out = train.fit(cfg, X, y_enc, seed, progress=self.verbose,
                                make_model=_factory(self.model), group_fn=group)
                model, G, labels = out["model"].eval(), out["signatures"], out["clusters"]
            else:  # a trained model: no warm-up, and it is left as it is
                seed_everything(seed, cfg.train.threads)
                model = self.model
                _check_output_width(model, X.shape[1], len(self.classes_))
                G, labels, _ = group(model, X, y_enc, seed, _module_device(model))
        self.model_ = model
        self.labels_ = np.asarray(labels, dtype=np.int64)
        self.signatures_ = G
        self.embedding_ = found["clustering"].embedding_
        self.signature_parameters_ = found["names"]
        self.config_ = self._record(cfg, X, found["names"], seed, None, trained)
        return self

    def fit_predict(self, X, y) -> np.ndarray:
        """fit(X, y), then the pseudo-group of each sample (labels_)."""
        return self.fit(X, y).labels_


# ---------------------------------------------------------------- UGCClassifier

class UGCClassifier(ClassifierMixin, _GradientBase):
    """The whole UGC method as a classifier: warm-up, gradient clusters, robust training.

    fit(X, y) trains warmup_epochs of ERM, clusters the per-sample gradients of `layer`
    (as GradientGroups does) into n_clusters pseudo-groups (per class with
    scope="per_class"), then trains robust_epochs with `method` over them: "group_dro"
    (online Group DRO, the paper's text), "inverse_freq" (1/|cluster| weights, the
    paper's script), "feature_weight", or "erm" (the same budget with no reweighting,
    the baseline). fit(X, y, groups=s) is the oracle instead: Group DRO over the true
    groups, one per unique (y, s) pair (any hashable s); only method="group_dro" takes
    groups.

    model: None (an MLP with hidden_dims; () gives a linear model), a factory
    model(n_features, n_classes) -> nn.Module mapping float32 (B, n_features) to
    (B, n_classes) logits, or an nn.Module to start from (copied, never modified).

    Fitted attributes: classes_, model_, groups_ (N,) the groups the robust phase used,
    group_keys_ (the (y, s) pair of each true group id, or None), clusters_ (N,) the
    gradient clusters (computed for every method), history_ (per-epoch training loss,
    accuracy and, with groups, worst-group accuracy), signature_parameters_,
    objective_state_, timings_, n_features_in_, config_.
    """

    def __init__(self, method: str = "group_dro", n_clusters: int = 2, scope: str = "global",
                 pca_dim: int | None = 10, model: Any = None, layer: str | None = None,
                 hidden_dims: tuple = (32, 32), warmup_epochs: int = 1,
                 robust_epochs: int = 5, lr: float = 1e-2, batch_size: int = 64,
                 optimizer: str = "adam", weight_decay: float = 0.0, dro_eta: float = 0.01,
                 reset_optimizer: bool = False, kmeans_init: str = "k-means++",
                 kmeans_n_init: int = 10, kmeans_max_iter: int = 300,
                 projection_dim: int | None = None, device: str = "cpu", threads: int = 1,
                 verbose: bool = False, random_state: Any = None):
        self.method = method
        self.n_clusters = n_clusters
        self.scope = scope
        self.pca_dim = pca_dim
        self.model = model
        self.layer = layer
        self.hidden_dims = hidden_dims
        self.warmup_epochs = warmup_epochs
        self.robust_epochs = robust_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.dro_eta = dro_eta
        self.reset_optimizer = reset_optimizer
        self.kmeans_init = kmeans_init
        self.kmeans_n_init = kmeans_n_init
        self.kmeans_max_iter = kmeans_max_iter
        self.projection_dim = projection_dim
        self.device = device
        self.threads = threads
        self.verbose = verbose
        self.random_state = random_state

    def fit(self, X, y, groups=None) -> "UGCClassifier":
        X, y_enc, encoder = validate_fit_input(self, X, y)
        check_same_length("groups", groups, len(X))
        self.classes_ = encoder.classes_
        if self.method not in CLASSIFIER_METHODS:
            raise ValueError(f"method={self.method!r} is invalid: allowed {CLASSIFIER_METHODS}")
        self._check_common(y_enc)
        true_groups, keys = None, None
        if groups is not None:
            if self.method != "group_dro":
                raise ValueError(f"groups are used only by method='group_dro' (the oracle, "
                                 f"Group DRO over the true groups); got method={self.method!r}: "
                                 f"allowed groups=None")
            true_groups, keys = encode_pairs(self.classes_[y_enc], groups)
        method = "oracle_dro" if groups is not None else self.method
        seed = _seed(self.random_state)
        cfg = self._configs(len(self.classes_), self.robust_epochs, method)
        device = resolve_device(cfg.train.device)
        Xt = torch.as_tensor(X, device=device)
        yt = torch.as_tensor(y_enc, device=device)
        history: list[dict] = []

        def on_epoch(epoch: int, phase: str, model: nn.Module) -> None:
            with torch.no_grad():
                model.eval()
                logits = model(Xt)
                model.train()
            correct = (logits.argmax(1) == yt).cpu().numpy()
            row = {"epoch": epoch, "phase": phase,
                   "loss": float(F.cross_entropy(logits, yt)), "acc": float(correct.mean())}
            if true_groups is not None:
                row["worst_group_acc"] = float(min(correct[true_groups == g].mean()
                                                   for g in np.unique(true_groups)))
            history.append(row)

        found: dict = {}
        with preserve_global_state():
            out = train.fit(cfg, X, y_enc, seed, true_groups=true_groups, on_epoch=on_epoch,
                            progress=self.verbose, make_model=_factory(self.model),
                            group_fn=self._group_fn(cfg, found))
        self.model_ = out["model"].eval()
        self.device_ = device
        self.clusters_ = np.asarray(out["clusters"], dtype=np.int64)
        self.groups_ = true_groups if true_groups is not None else self.clusters_
        self.group_keys_ = keys
        self.history_ = history
        self.signature_parameters_ = found["names"]
        self.objective_state_ = out["objective_state"]
        self.timings_ = out["timings"]
        self.config_ = self._record(cfg, X, found["names"], seed,
                                    None if keys is None else len(keys))
        return self

    def predict_proba(self, X) -> np.ndarray:
        """(N, n_classes) softmax probabilities, columns in the order of classes_."""
        check_is_fitted(self, "model_")
        X = validate_predict_input(self, X)
        self.model_.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(X), PREDICT_BATCH):
                batch = torch.as_tensor(X[start:start + PREDICT_BATCH], device=self.device_)
                out.append(F.softmax(self.model_(batch), dim=1).double().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.classes_)))

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.classes_[self.predict_proba(X).argmax(1)]
