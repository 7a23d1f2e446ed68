"""Colored-Digits: scikit-learn's bundled 8x8 digits with a colour shortcut (data only).

Built from sklearn.datasets.load_digits (1,797 real 8x8 grey-level images, shipped
inside the package; nothing is downloaded), following Colored-MNIST (Arjovsky et al., 2019):
  label     y = 1 if the digit is < 5, else 0; then flipped with probability
            data.digits_label_noise (every split), so shape predicts y at most 75% of
            the time with the default 0.25;
  colour    s = y with probability data.spurious_corr (train, val) or
            data.spurious_corr_test (test), else 1 - y: the spurious attribute;
  input     the image (pixels / 16, in [0, 1]) in channel s of a two-channel 8x8 image,
            the other channel zero, flattened to (n, 2 * 64) float32 channel-major;
  core      the colour-free grey image, (n, 64).
The split is a seeded permutation of the images (data.split_sizes). The benchmark's
settings are studies.COLORED_DIGITS_UPDATES.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .base import Dataset, Split

if TYPE_CHECKING:  # annotations only: config imports this package, not the reverse
    from ..config import DataConfig

N_IMAGES = 1797  # images in sklearn.datasets.load_digits (bundled, no download)
PIXELS = 64  # 8 x 8 grey levels per image


def input_dim(cfg: DataConfig) -> int:
    """Two colour channels of 8 x 8."""
    return 2 * PIXELS


def check(cfg: DataConfig) -> None:
    """Raise ValueError naming the field when cfg cannot describe Colored-Digits."""
    if cfg.n_samples > N_IMAGES:
        raise ValueError(f"data.n_samples={cfg.n_samples!r} is invalid: allowed an integer <= "
                         f"{N_IMAGES} (the digits images) for dataset='colored_digits'")
    if not cfg.s_as_input:
        raise ValueError(f"data.s_as_input={cfg.s_as_input!r} is invalid: allowed True for "
                         f"dataset='colored_digits' (the colour is part of the image)")


def load_digit_images() -> tuple[np.ndarray, np.ndarray]:
    """(images (1797, 64) float64 in [0, 1], digits (1797,) int64) from scikit-learn's copy."""
    try:
        from sklearn.datasets import load_digits

        bunch = load_digits()  # reads the csv.gz inside the sklearn package; no network
    except (ImportError, OSError) as err:
        raise RuntimeError("Colored-Digits needs scikit-learn's bundled digits data "
                           "(sklearn/datasets/data/digits.csv.gz), which could not be read; "
                           "reinstall scikit-learn. Nothing is downloaded.") from err
    images = np.asarray(bunch.data, dtype=np.float64) / 16.0
    if images.shape != (N_IMAGES, PIXELS):
        raise RuntimeError(f"unexpected digits data of shape {images.shape}: expected "
                           f"({N_IMAGES}, {PIXELS})")
    return images, np.asarray(bunch.target, dtype=np.int64)


def colorize(images: np.ndarray, s: np.ndarray) -> np.ndarray:
    """(n, 2 * 64) float32: each image in channel s_i, the other channel zero."""
    out = np.zeros((len(images), 2, PIXELS), dtype=np.float32)
    out[np.arange(len(images)), np.asarray(s, dtype=np.int64)] = images
    return out.reshape(len(images), 2 * PIXELS)


def make_colored_digits(cfg: DataConfig, seed: int) -> Dataset:
    """The Colored-Digits splits for one seed. Same (cfg, seed) gives the same arrays."""
    if cfg.dataset != "colored_digits":
        raise ValueError(f"data.dataset={cfg.dataset!r}: make_colored_digits needs "
                         f"'colored_digits'")
    images, digit = load_digit_images()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))[:cfg.n_samples]
    y = (digit[order] < 5).astype(np.int64)
    flip = rng.random(len(order)) < cfg.digits_label_noise
    y = np.where(flip, 1 - y, y)
    n_train, n_val, _ = cfg.split_sizes
    index = {"train": np.arange(n_train), "val": np.arange(n_train, n_train + n_val),
             "test": np.arange(n_train + n_val, len(order))}
    s = np.empty(len(order), dtype=np.int64)
    for name, idx in index.items():
        rho = cfg.spurious_corr_test if name == "test" else cfg.spurious_corr
        agree = rng.random(len(idx)) < rho
        s[idx] = np.where(agree, y[idx], 1 - y[idx])
    grey = images[order].astype(np.float32)

    def build(idx: np.ndarray) -> Split:
        return Split(X=colorize(grey[idx], s[idx]), y=y[idx].copy(), s=s[idx].copy(),
                     core=grey[idx].copy())

    return Dataset(**{name: build(idx) for name, idx in index.items()})


make = make_colored_digits
