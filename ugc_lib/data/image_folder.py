"""Images from a local folder in the Waterbirds/CelebA layout: metadata.csv plus the files.

Nothing is downloaded. The folder holds a metadata table with one row per image and
the image files at the paths the table names (relative to the folder), e.g. Waterbirds
(Sagawa et al., 2020):

    root/metadata.csv     img_id,img_filename,y,split,place,place_filename
    root/001.Black_footed_Albatross/Black_Footed_Albatross_0001_796111.jpg
    ...

split is 0/1/2 (train/val/test) or the names themselves. Each image is converted to
`mode` ("RGB" or "L"), resized to `size` and flattened channel-first into float32
pixels in [0, 1], the flat layout models.SmallCNN and the estimators take.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

SPLIT_NAMES = ("train", "val", "test")
# Waterbirds/CelebA metadata number their splits 0, 1, 2.
SPLIT_CODES = {0: "train", 1: "val", 2: "test", "0": "train", "1": "val", "2": "test"}
IMAGE_MODES = {"RGB": 3, "L": 1}  # PIL mode -> channels


def split_names(values: Sequence, column: str) -> np.ndarray:
    """Split names ("train", "val", "test") for split values given as names or 0/1/2."""
    out = []
    for v in values:
        name = v if v in SPLIT_NAMES else SPLIT_CODES.get(v.item() if hasattr(v, "item") else v)
        if name is None:
            raise ValueError(f"split column {column!r} has value {v!r}: allowed "
                             f"{SPLIT_NAMES} or 0, 1, 2 (Waterbirds/CelebA codes)")
        out.append(name)
    return np.array(out, dtype=object)


@dataclass
class ImageSplit:
    X: np.ndarray  # (n, C*H*W) float32 pixels in [0, 1], channel-first then row-major
    y: np.ndarray  # (n,) labels as in the metadata
    s: np.ndarray  # (n,) spurious attribute as in the metadata
    filenames: list[str]  # relative to the folder

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class ImageFolder:
    splits: dict[str, ImageSplit]
    image_shape: tuple[int, int, int]  # (C, H, W)
    root: Path

    def __getitem__(self, name: str) -> ImageSplit:
        if name not in self.splits:
            raise KeyError(f"split {name!r} is not in {self.root}: allowed {list(self.splits)}")
        return self.splits[name]


def load_image(path: Path, size: tuple[int, int], mode: str) -> np.ndarray:
    """(C*H*W,) float32 pixels in [0, 1] of one image file."""
    from PIL import Image

    with Image.open(path) as img:
        img = img.convert(mode)
        if img.size != tuple(size):
            img = img.resize(tuple(size), Image.Resampling.BILINEAR)  # size is (width, height)
        pixels = np.asarray(img, dtype=np.float32) / 255.0  # (H, W) or (H, W, C)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    return pixels.transpose(2, 0, 1).reshape(-1)


def load_image_folder(root: str | Path, metadata: str = "metadata.csv",
                      filename: str = "img_filename", label: str = "y",
                      spurious: str = "place", split: str = "split",
                      size: tuple[int, int] = (32, 32), mode: str = "RGB",
                      max_per_split: int | None = None) -> ImageFolder:
    """Load every image the metadata lists, per split.

    The column names default to Waterbirds'; for CelebA-style data pass e.g.
    filename="image_id", label="Blond_Hair", spurious="Male". size is (width, height);
    max_per_split keeps the first rows of each split (quick looks at large folders).
    """
    root = Path(root)
    table_path = root / metadata
    if not table_path.is_file():
        raise FileNotFoundError(f"metadata={metadata!r}: no file {table_path}")
    if mode not in IMAGE_MODES:
        raise ValueError(f"mode={mode!r} is invalid: allowed {list(IMAGE_MODES)}")
    if len(size) != 2 or any(int(v) < 1 for v in size):
        raise ValueError(f"size={size!r} is invalid: allowed (width, height), both >= 1")
    if max_per_split is not None and max_per_split < 1:
        raise ValueError(f"max_per_split={max_per_split!r} is invalid: allowed None or >= 1")
    table = pd.read_csv(table_path)
    for arg, column in (("filename", filename), ("label", label), ("spurious", spurious),
                        ("split", split)):
        if column not in table.columns:
            raise ValueError(f"{arg}={column!r} is not a column of {table_path.name}: allowed "
                             f"one of {list(table.columns)}")
        if table[column].isna().any():
            raise ValueError(f"column {column!r} of {table_path.name} has missing values: "
                             f"allowed none")
    where = split_names(table[split].tolist(), split)
    size = (int(size[0]), int(size[1]))
    shape = (IMAGE_MODES[mode], size[1], size[0])
    splits = {}
    for name in SPLIT_NAMES:
        rows = table[where == name]
        if max_per_split is not None:
            rows = rows.iloc[:max_per_split]
        if rows.empty:
            continue
        files = [str(f) for f in rows[filename]]
        X = np.empty((len(files), int(np.prod(shape))), dtype=np.float32)  # (n, C*H*W)
        for i, rel in enumerate(files):
            path = root / rel
            if not path.is_file():
                raise FileNotFoundError(f"{table_path.name} names {rel!r} (column {filename!r}), "
                                        f"but there is no file {path}")
            X[i] = load_image(path, size, mode)
        splits[name] = ImageSplit(X=X, y=rows[label].to_numpy(), s=rows[spurious].to_numpy(),
                                  filenames=files)
    if not splits:
        raise ValueError(f"{table_path.name} lists no images")
    return ImageFolder(splits=splits, image_shape=shape, root=root)
