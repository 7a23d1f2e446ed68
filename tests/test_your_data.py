"""A user's CSV: loading, splitting, the comparison, and notebook 20 rendered from the CLI."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from ugc_lib import your_data

ROOT = Path(__file__).resolve().parents[1]


def user_table(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """Text labels and a text spurious column, no split column: what a user may have."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    s = np.where(rng.random(n) < 0.85, y, 1 - y)
    df = pd.DataFrame(y[:, None] + rng.normal(0, 1.0, (n, 3)), columns=["f1", "f2", "f3"])
    df["animal"] = np.array(["cat", "dog"])[y]
    df["place"] = np.array(["indoor", "outdoor"])[s]
    return df


def test_load_table_encodes_text_spurious_input_and_splits_by_group():
    table = your_data.load_table(user_table(), label="animal", spurious="place", test_fraction=0.25)
    assert table.splits == ["train", "test"]
    assert table.feature_names == ["f1", "f2", "f3", "place_indoor", "place_outdoor"]
    train = table.X["train"]
    assert np.allclose(train.mean(0), 0, atol=1e-5) and np.allclose(train.std(0), 1, atol=1e-4)
    counts = your_data.group_counts(table)
    assert list(counts.index) == ["('cat', 'indoor')", "('cat', 'outdoor')",
                                  "('dog', 'indoor')", "('dog', 'outdoor')"]
    # stratified: every group has rows in both splits, about a quarter of them in test
    assert (counts > 0).all().all()
    share = counts["test"] / counts.sum(axis=1)
    assert share.between(0.1, 0.4).all()


def test_load_table_without_spurious_input_and_with_a_split_column():
    df = user_table().assign(split=["train", "val", "test"] * 40)
    table = your_data.load_table(df, label="animal", spurious="place", spurious_as_input=False)
    assert table.feature_names == ["f1", "f2", "f3"]
    assert [len(table.y[n]) for n in table.splits] == [40, 40, 40]


@pytest.mark.parametrize("change, kwargs, message", [
    (None, dict(label="species"), r"label='species' is not a column of the table: allowed one of"),
    (None, dict(spurious="animal"), r"label and spurious name the same column 'animal'"),
    ("text", {}, r"feature column 'notes' has dtype"),
    ("missing", {}, r"column 'f2' has 1 missing value\(s\)"),
    ("tiny group", {}, r"too few samples for the split: group \(label, spurious\) = "
                       r"\('dog', 'indoor'\) has 1 row\(s\)"),
    ("bad split", {}, r"split column 'split' has value 'holdout'"),
])
def test_load_table_errors_name_the_column(change, kwargs, message):
    df = user_table()
    if change == "text":
        df["notes"] = "x"
    elif change == "missing":
        df.loc[3, "f2"] = np.nan
    elif change == "tiny group":
        dog_indoor = df.index[(df["animal"] == "dog") & (df["place"] == "indoor")]
        df = df.drop(index=dog_indoor[1:])
    elif change == "bad split":
        df["split"] = ["train", "holdout"] * 60
    args = {"label": "animal", "spurious": "place", **kwargs}
    with pytest.raises(ValueError, match=message):
        your_data.load_table(df, **args)


def test_planted_table_agrees_in_train_and_not_in_test():
    df = your_data.planted_breast_cancer()
    benign = df["diagnosis"] == "benign"
    agree = (df["planted"] == 1) == benign
    train, test = df["split"] == "train", df["split"] == "test"
    assert set(df["planted"]) == {-1, 1} and len(df) == 569
    assert agree[train].mean() > 0.9 and 0.35 < agree[test].mean() < 0.65


def test_compare_rows_and_summary():
    table = your_data.load_table(user_table(), label="animal", spurious="place")
    fast = dict(hidden_dims=(8,), kmeans_n_init=1, robust_epochs=1)
    df = your_data.compare(table, seeds=[0, 1], **fast)
    assert len(df) == 2 * len(your_data.METHODS) * 2  # seeds x methods x splits
    ugc = df[(df["method"] == "UGC (per class)") & (df["split"] == "train")]
    assert ugc["ari_ys"].notna().all()
    assert df[df["method"] == "ERM"]["ari_ys"].isna().all()  # ERM trains on no clusters
    assert "acc ('dog', 'indoor')" in df.columns
    table_ = your_data.summarize(df[df["split"] == "test"], ["method"], ["wga"])
    assert list(table_["method"]) == list(your_data.METHODS) and (table_["seeds"] == 2).all()
    wga = df[(df["split"] == "test") & (df["method"] == "ERM")]["wga"]
    mean = float(table_.loc[table_["method"] == "ERM", "wga"].iloc[0].split()[0])
    assert mean == pytest.approx(wga.mean(), abs=5e-4)


def _run_all():
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_notebook_20_renders_a_users_csv_from_the_cli(tmp_path, monkeypatch):
    user_table().to_csv(tmp_path / "pets.csv", index=False)
    monkeypatch.chdir(tmp_path)  # a relative path is read from the caller's directory
    code = _run_all().main(["--only", "20", "-p", "data=pets.csv", "-p", "label=animal",
                            "-p", "spurious=place", "-p", "seeds=[0]", "--out", "report"])
    assert code == 0
    nb = nbformat.read(tmp_path / "report" / "notebooks" / "20_your_data.ipynb", as_version=4)
    text = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert str(tmp_path / "pets.csv") in text and "('dog', 'outdoor')" in text
    assert "Traceback" not in text
    saved = json.loads((tmp_path / "report" / "results" / "20_your_data.json").read_text())
    methods = saved["tables"]["Your data: accuracy and WGA"]["data"]
    assert {row[1] for row in methods} == set(your_data.METHODS)
    assert (tmp_path / "report" / "20_your_data.html").is_file()
