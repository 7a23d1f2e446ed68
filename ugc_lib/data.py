"""The paper's synthetic spurious-correlation data (Sec. 4; ORIGINAL_CODE_FACTS.md).

y ~ Bernoulli(0.5); core ~ N(core_shift * y, I) in core_dim dimensions;
s = y with probability rho (else 1 - y), with rho per split; the model input is
[core, s] (or core alone when s is hidden). Core features are z-scored with the
training mean and std.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import DataConfig

SPLITS = ("train", "val", "test")


def group_id(y: np.ndarray, s: np.ndarray) -> np.ndarray:
    """(y, s) group index in {0, 1, 2, 3} = 2 * y + s."""
    return 2 * np.asarray(y, dtype=np.int64) + np.asarray(s, dtype=np.int64)


GROUP_NAMES = {0: "y0s0", 1: "y0s1", 2: "y1s0", 3: "y1s1"}


@dataclass
class Split:
    X: np.ndarray  # (n, input_dim) float32 model input
    y: np.ndarray  # (n,) int64 label
    s: np.ndarray  # (n,) int64 spurious attribute
    core: np.ndarray  # (n, core_dim) float32 core features after normalisation

    @property
    def groups(self) -> np.ndarray:
        return group_id(self.y, self.s)

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class Dataset:
    train: Split
    val: Split
    test: Split

    def __getitem__(self, name: str) -> Split:
        if name not in SPLITS:
            raise KeyError(f"unknown split {name!r}: allowed {SPLITS}")
        return getattr(self, name)


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


def make_dataset(cfg: DataConfig, seed: int) -> Dataset:
    """The dataset cfg.dataset names, for one seed: the one entry point runs use.

    "synthetic" is make_synthetic (unchanged); "colored_digits" is
    ugc_lib.digits.make_colored_digits (bundled scikit-learn images, never downloaded).
    """
    if cfg.dataset == "synthetic":
        return make_synthetic(cfg, seed)
    if cfg.dataset == "colored_digits":
        from .digits import make_colored_digits  # digits imports this module

        return make_colored_digits(cfg, seed)
    raise ValueError(f"data.dataset={cfg.dataset!r} is invalid: allowed 'synthetic', "
                     f"'colored_digits'")


def group_counts(ds: Dataset) -> dict[str, dict[str, int]]:
    """Count of each (y, s) group per split."""
    out = {}
    for name in SPLITS:
        g = ds[name].groups
        out[name] = {GROUP_NAMES[k]: int((g == k).sum()) for k in range(4)}
    return out
