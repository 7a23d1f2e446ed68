"""The paper's synthetic spurious-correlation data (Sec. 4; ORIGINAL_CODE_FACTS.md).

y ~ Bernoulli(0.5); core ~ N(core_shift * y, I) in core_dim dimensions;
s = y with probability rho (else 1 - y), with rho per split; the model input is
[core, s] (or core alone when s is hidden). Core features are z-scored with the
training mean and std.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .base import Dataset, Split

if TYPE_CHECKING:  # annotations only: config imports this package, not the reverse
    from ..config import DataConfig


def input_dim(cfg: DataConfig) -> int:
    """Model input width: the core features, plus s when it is an input."""
    return cfg.core_dim + int(cfg.s_as_input)


def check(cfg: DataConfig) -> None:
    """No constraint beyond DataConfig's own field checks."""


def make_synthetic(cfg: DataConfig, seed: int) -> Dataset:
    """Draw the dataset for one seed. Same (cfg, seed) gives the same arrays."""
    rng = np.random.default_rng(seed)
    n = cfg.n_samples
    y = rng.integers(0, 2, size=n)
    core = rng.standard_normal((n, cfg.core_dim)) + cfg.core_shift * y[:, None]
    order = rng.permutation(n)
    n_train, n_val, _ = cfg.split_sizes
    index = {"train": order[:n_train], "val": order[n_train:n_train + n_val],
             "test": order[n_train + n_val:]}
    # s is drawn per split so that train/val and test may differ in correlation.
    s = np.empty(n, dtype=np.int64)
    for name, idx in index.items():
        rho = cfg.spurious_corr_test if name == "test" else cfg.spurious_corr
        agree = rng.random(len(idx)) < rho
        s[idx] = np.where(agree, y[idx], 1 - y[idx])

    train_core = core[index["train"]]
    if cfg.normalize:
        mean = train_core.mean(axis=0)
        std = train_core.std(axis=0) + cfg.normalize_eps
    else:
        mean, std = np.zeros(cfg.core_dim), np.ones(cfg.core_dim)

    def build(idx: np.ndarray) -> Split:
        c = ((core[idx] - mean) / std).astype(np.float32)
        X = np.concatenate([c, s[idx, None].astype(np.float32)], axis=1) if cfg.s_as_input else c
        return Split(X=X, y=y[idx].astype(np.int64), s=s[idx].copy(), core=c)

    return Dataset(**{name: build(idx) for name, idx in index.items()})


make = make_synthetic
