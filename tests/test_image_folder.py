"""The local image-folder loader, on a tiny Waterbirds-style folder the test writes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from ugc_lib import GradientGroups, UGCClassifier
from ugc_lib.data.image_folder import load_image_folder
from ugc_lib.models import SmallCNN

SIDE = 8


def picture(y: int, place: int) -> np.ndarray:
    """(SIDE, SIDE, 3) uint8: the background colour is the place, a bright bar the label."""
    img = np.zeros((SIDE, SIDE, 3), dtype=np.uint8)
    img[:, :, 1 if place else 2] = 120  # green or blue background
    if y:
        img[2:6, 3:5, 0] = 250  # a red vertical bar
    else:
        img[3:5, 2:6, 0] = 250  # a red horizontal bar
    return img


@pytest.fixture
def waterbirds_like(tmp_path):
    """root/metadata.csv in Waterbirds' columns, images in per-class subfolders."""
    rng = np.random.default_rng(0)
    rows, pixels = [], {}
    for i in range(24):
        y = i % 2
        place = y if rng.random() < 0.8 else 1 - y
        rel = f"{'001.Landbird' if y == 0 else '002.Waterbird'}/img_{i:03d}.png"
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        img = picture(y, place)
        Image.fromarray(img).save(tmp_path / rel)
        pixels[rel] = img
        rows.append({"img_id": i, "img_filename": rel, "y": y, "split": [0, 0, 0, 1, 2, 0][i % 6],
                     "place": place, "place_filename": "unused"})
    pd.DataFrame(rows).to_csv(tmp_path / "metadata.csv", index=False)
    return tmp_path, pd.DataFrame(rows), pixels


def test_loads_every_split_with_pixels_labels_and_places(waterbirds_like):
    root, meta, pixels = waterbirds_like
    folder = load_image_folder(root, size=(SIDE, SIDE))
    assert folder.image_shape == (3, SIDE, SIDE)
    assert list(folder.splits) == ["train", "val", "test"]
    train = folder["train"]
    expected = meta[meta["split"] == 0]
    assert train.filenames == list(expected["img_filename"])
    assert np.array_equal(train.y, expected["y"]) and np.array_equal(train.s, expected["place"])
    first = pixels[train.filenames[0]].astype(np.float32) / 255  # (H, W, C)
    assert np.allclose(train.X[0], first.transpose(2, 0, 1).reshape(-1))  # channel-first
    assert train.X.dtype == np.float32 and train.X.shape == (len(expected), 3 * SIDE * SIDE)
    assert len(folder["val"]) == 4 and len(folder["test"]) == 4


def test_resize_grey_and_limit(waterbirds_like):
    root, _, _ = waterbirds_like
    folder = load_image_folder(root, size=(4, 4), mode="L", max_per_split=3)
    assert folder.image_shape == (1, 4, 4)
    assert {n: len(s) for n, s in folder.splits.items()} == {"train": 3, "val": 3, "test": 3}
    assert folder["train"].X.shape == (3, 16) and 0 <= folder["train"].X.min() <= folder["train"].X.max() <= 1


def test_errors_name_the_column_or_file(waterbirds_like):
    root, meta, _ = waterbirds_like
    with pytest.raises(ValueError, match=r"spurious='background' is not a column of metadata.csv"):
        load_image_folder(root, spurious="background")
    meta.loc[5, "img_filename"] = "002.Waterbird/missing.png"
    meta.to_csv(root / "metadata.csv", index=False)
    with pytest.raises(FileNotFoundError, match=r"names '002.Waterbird/missing.png'"):
        load_image_folder(root)
    meta.loc[5, "split"] = 7
    meta.to_csv(root / "metadata.csv", index=False)
    with pytest.raises(ValueError, match=r"split column 'split' has value 7"):
        load_image_folder(root)
    with pytest.raises(FileNotFoundError, match=r"metadata='meta.csv'"):
        load_image_folder(root, metadata="meta.csv")


def test_split_names_and_celeba_style_columns(tmp_path):
    Image.fromarray(picture(1, 0)).save(tmp_path / "000001.jpg")
    Image.fromarray(picture(0, 1)).save(tmp_path / "000002.jpg")
    pd.DataFrame({"image_id": ["000001.jpg", "000002.jpg"], "Blond_Hair": [1, -1],
                  "Male": [-1, 1], "partition": ["train", "test"]}).to_csv(
        tmp_path / "metadata.csv", index=False)
    folder = load_image_folder(tmp_path, filename="image_id", label="Blond_Hair",
                               spurious="Male", split="partition", size=(SIDE, SIDE))
    assert list(folder.splits) == ["train", "test"] and folder["test"].y.tolist() == [-1]


def test_the_estimators_take_the_images_with_a_cnn(waterbirds_like):
    root, _, _ = waterbirds_like
    train = load_image_folder(root, size=(SIDE, SIDE))["train"]
    cnn = dict(model=lambda d, c: SmallCNN(d, (4,), c, side=SIDE), hidden_dims=(),
               batch_size=8, kmeans_n_init=1, pca_dim=None, random_state=0)
    groups = GradientGroups(scope="per_class", **cnn).fit(train.X, train.y)
    assert groups.signature_parameters_ == ["final.weight", "final.bias"]
    assert len(groups.labels_) == len(train)
    clf = UGCClassifier(robust_epochs=1, **cnn).fit(train.X, train.y, groups=train.s)
    assert clf.predict(train.X).shape == (len(train),)
