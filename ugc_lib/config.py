"""Run configuration: frozen dataclasses, validation and the two paper presets.

Every default lives here and nowhere else. Each field's comment says where the
default comes from:
  [text]   the paper's text (Sec. 3-5, Table 1)
  [code]   the paper's experiment script (shared/paper/ORIGINAL_CODE_FACTS.md)
  [ours]   a choice the paper leaves open, made by this project
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields, replace
from types import SimpleNamespace
from typing import Any

from .data import dataset_module
from .data.colored_mnist import COLOR_WHERE, SIDES as MNIST_SIDES
from .gradients import SIGNATURE_WHERE
from .grouping import DBSCAN_NOISE, GROUPING_SCOPES, KMEANS_INITS, SOURCES
from .objectives import METHODS
from .validation import check_field_types
GROUPING_SOURCES = tuple(SOURCES)  # what is clustered after the warm-up (grouping.SOURCES)
MODEL_KINDS = ("mlp", "linear", "cnn")
OPTIMIZERS = ("adam", "sgd")
METHOD_NAMES = tuple(METHODS)  # the robust-phase objectives (objectives.METHODS)


def _fail(field_name: str, value: Any, allowed: str) -> None:
    raise ValueError(f"{field_name}={value!r} is invalid: allowed {allowed}")


@dataclass(frozen=True)
class DataConfig:
    n_samples: int = 2000  # [text][code] total samples before the split
    split_sizes: tuple[int, int, int] = (1000, 500, 500)  # [text][code] train/val/test
    core_dim: int = 5  # [code] the text does not give the core dimension
    core_shift: float = 2.0  # [text][code] core ~ N(core_shift * y, I)
    spurious_corr: float = 0.95  # [text][code] P(s = y) in train and val
    spurious_corr_test: float = 0.95  # [code] same as train; 0.5 gives a group-balanced test
    s_as_input: bool = True  # [code] s is the model's 6th input; the text says "hide s"
    normalize: bool = True  # [text][code] z-score the core features with train stats
    normalize_eps: float = 1e-6  # [code] added to the train std
    # [ours] which data (ugc_lib.data.DATASETS; each module's docstring says which fields it
    # reads: the image datasets use spurious_corr as P(colour = y) and no core_* / normalize*).
    dataset: str = "synthetic"
    # [ours] colored_digits only: P(label flipped), drawn before the colour as in
    # Colored-MNIST (Arjovsky et al., 2019, use 0.25), so shape alone predicts the label
    # less well than colour does in training.
    digits_label_noise: float = 0.25
    # [ours] colored_mnist only (ugc_lib/data/colored_mnist.py): the colour of s is added with
    # this strength in [0, 1] (0: grey digits alone, the ceiling), on the "background" or a
    # corner "patch"; images are averaged down to mnist_side pixels a side (IRM's 14);
    # train labels alone are flipped with train_label_noise (an ablation).
    color_strength: float = 1.0
    color_where: str = "background"
    mnist_side: int = 14
    train_label_noise: float = 0.0

    def __post_init__(self) -> None:
        check_field_types("data", self)
        dataset_module(self.dataset).check(self)  # unknown names list the valid ones
        for name, high in (("digits_label_noise", 0.5), ("train_label_noise", 0.5),
                           ("color_strength", 1.0)):
            if not 0.0 <= getattr(self, name) <= high:
                _fail(f"data.{name}", getattr(self, name), f"a number in [0, {high}]")
        if self.color_where not in COLOR_WHERE:
            _fail("data.color_where", self.color_where, f"one of {COLOR_WHERE}")
        if self.mnist_side not in MNIST_SIDES:
            _fail("data.mnist_side", self.mnist_side, f"one of {MNIST_SIDES}")
        if self.n_samples < 3:
            _fail("data.n_samples", self.n_samples, "an integer >= 3")
        if len(self.split_sizes) != 3 or any(int(n) < 1 for n in self.split_sizes):
            _fail("data.split_sizes", self.split_sizes, "three positive integers (train, val, test)")
        if sum(self.split_sizes) != self.n_samples:
            _fail("data.split_sizes", self.split_sizes,
                  f"sizes summing to data.n_samples={self.n_samples}")
        if self.core_dim < 1:
            _fail("data.core_dim", self.core_dim, "an integer >= 1")
        for name in ("spurious_corr", "spurious_corr_test"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                _fail(f"data.{name}", value, "a probability in [0, 1]")
        if self.normalize_eps < 0:
            _fail("data.normalize_eps", self.normalize_eps, "a number >= 0")

    @property
    def input_dim(self) -> int:
        return dataset_module(self.dataset).input_dim(self)


@dataclass(frozen=True)
class ModelConfig:
    kind: str = "mlp"  # [text] "two-layer MLP"; "linear" is the Fig. 4 linear probe
    hidden_dims: tuple[int, ...] = (32, 32)  # [code] two hidden layers of 32
    n_classes: int = 2  # [text] binary label, trained with cross-entropy [code]
    # [ours] kind="cnn" (the C12 "more complex model"): one 3x3 conv + ReLU per entry, a
    # 2x2 max-pool after the first, then flatten -> the final Linear.
    cnn_channels: tuple[int, ...] = (16, 32, 32)
    image_side: int = 8  # [ours] kind="cnn": flat input reshaped to (C, side, side); digits: 8

    def __post_init__(self) -> None:
        check_field_types("model", self)
        if self.kind not in MODEL_KINDS:
            _fail("model.kind", self.kind, f"one of {MODEL_KINDS}")
        if self.kind == "cnn" and (len(self.cnn_channels) == 0
                                   or any(int(c) < 1 for c in self.cnn_channels)):
            _fail("model.cnn_channels", self.cnn_channels, "one or more positive integers")
        if self.image_side < 2 or self.image_side % 2:
            _fail("model.image_side", self.image_side, "an even integer >= 2 (one 2x2 max-pool)")
        if any(int(h) < 1 for h in self.hidden_dims):
            _fail("model.hidden_dims", self.hidden_dims, "positive integers")
        if self.kind == "mlp" and len(self.hidden_dims) == 0:
            _fail("model.hidden_dims", self.hidden_dims, "at least one hidden layer for kind='mlp'")
        if self.n_classes < 2:
            _fail("model.n_classes", self.n_classes, "an integer >= 2")


@dataclass(frozen=True)
class TrainConfig:
    optimizer: str = "adam"  # [text][code] Adam, default betas
    lr: float = 1e-2  # [ours] the best LR of the sweep {1e-4, 1e-3, 1e-2}; Figs. 2-3 use it
    weight_decay: float = 0.0  # [code] none; Fig. 6 varies it
    batch_size: int = 64  # [text][code]
    warmup_epochs: int = 1  # [text][code] ERM epochs before the gradients are taken
    robust_epochs: int = 5  # [text][code] epochs after clustering
    reset_optimizer: bool = False  # [ours] keep Adam's state across warm-up -> robust phase
    threads: int = 1  # [ours] fixed torch thread count, for determinism and parallel sweeps
    device: str = "cpu"  # [ours] "cpu", "cuda" or "auto" (cuda when present)

    def __post_init__(self) -> None:
        check_field_types("train", self)
        if self.optimizer not in OPTIMIZERS:
            _fail("train.optimizer", self.optimizer, f"one of {OPTIMIZERS}")
        if not self.lr > 0:
            _fail("train.lr", self.lr, "a number > 0")
        if self.weight_decay < 0:
            _fail("train.weight_decay", self.weight_decay, "a number >= 0")
        if self.batch_size < 1:
            _fail("train.batch_size", self.batch_size, "an integer >= 1")
        if self.warmup_epochs < 0:
            _fail("train.warmup_epochs", self.warmup_epochs, "an integer >= 0")
        if self.robust_epochs < 0:
            _fail("train.robust_epochs", self.robust_epochs, "an integer >= 0")
        if self.threads < 1:
            _fail("train.threads", self.threads, "an integer >= 1")
        if self.device not in ("cpu", "cuda", "auto"):
            _fail("train.device", self.device, "'cpu', 'cuda' or 'auto'")

    @property
    def total_epochs(self) -> int:
        return self.warmup_epochs + self.robust_epochs


@dataclass(frozen=True)
class GroupingConfig:
    where: str = "fc"  # [text] "final fully-connected layer"; [code] uses "fc_weight"
    pca_dim: int | None = 10  # [text] PCA to 10 dims; [code] None (no PCA)
    k: int = 2  # [text][code]
    scope: str = "global"  # [text][code] one k-means over all samples; "per_class" as GRASP
    kmeans_init: str = "k-means++"  # [ours] for the text; [code] "random" training points
    kmeans_n_init: int = 10  # [ours] for the text; [code] 1
    kmeans_max_iter: int = 300  # [ours] for the text; [code] 10 Lloyd iterations
    source: str = "gradients"  # [ours] the paper's; baselines: see GROUPING_SOURCES
    # [ours] scaling (gradients.signatures, grouping.GradientClustering); defaults keep the
    # paper's pipeline: a seeded Gaussian (JL) projection of each signature to this many
    # dims, None = none; sklearn's MiniBatchKMeans when N exceeds this (0: always),
    # None = never.
    projection_dim: int | None = None
    minibatch_kmeans_above: int | None = None
    # source="grasp" (grasp.py): DBSCAN's cosine radius, None = GRASP's label-free rule (eps
    # and min_samples by silhouette); min_samples with a fixed eps [ours]; noise points
    # "drop"ped from the robust phase (GRASP's code) or one extra "group" per class.
    dbscan_eps: float | None = None
    dbscan_min_samples: int = 10
    dbscan_noise: str = "drop"

    def __post_init__(self) -> None:
        check_field_types("grouping", self)
        if self.dbscan_eps is not None and not 0 < self.dbscan_eps <= 2:
            _fail("grouping.dbscan_eps", self.dbscan_eps, "None or a number in (0, 2] (cosine)")
        if self.dbscan_min_samples < 1:
            _fail("grouping.dbscan_min_samples", self.dbscan_min_samples, "an integer >= 1")
        if self.dbscan_noise not in DBSCAN_NOISE:
            _fail("grouping.dbscan_noise", self.dbscan_noise, f"one of {DBSCAN_NOISE}")
        for name, low in (("projection_dim", 1), ("minibatch_kmeans_above", 0)):
            if getattr(self, name) is not None and getattr(self, name) < low:
                _fail(f"grouping.{name}", getattr(self, name), f"None or an integer >= {low}")
        if self.source not in GROUPING_SOURCES:
            _fail("grouping.source", self.source, f"one of {GROUPING_SOURCES}")
        if self.where not in SIGNATURE_WHERE:
            _fail("grouping.where", self.where, f"one of {SIGNATURE_WHERE}")
        if self.pca_dim is not None and self.pca_dim < 1:
            _fail("grouping.pca_dim", self.pca_dim, "None (no PCA) or an integer >= 1")
        if self.k < 1:
            _fail("grouping.k", self.k, "an integer >= 1")
        if self.scope not in GROUPING_SCOPES:
            _fail("grouping.scope", self.scope, f"one of {GROUPING_SCOPES}")
        if self.kmeans_init not in KMEANS_INITS:
            _fail("grouping.kmeans_init", self.kmeans_init, f"one of {KMEANS_INITS}")
        if self.kmeans_n_init < 1:
            _fail("grouping.kmeans_n_init", self.kmeans_n_init, "an integer >= 1")
        if self.kmeans_max_iter < 1:
            _fail("grouping.kmeans_max_iter", self.kmeans_max_iter, "an integer >= 1")


@dataclass(frozen=True)
class ObjectiveConfig:
    method: str = "group_dro"  # [text] min-max Group DRO over clusters; [code] "inverse_freq"
    dro_eta: float = 0.01  # [ours] Group DRO step size, Sagawa et al.'s reference default
    normalize_weights: bool = True  # [ours] static weights averaging 1; [code] False (1/|cluster|)
    feature_weight_power: float = 1.0  # [ours] feature_weight: cluster weight = magnitude ** power
    # [ours] JTT (Liu et al., 2021): weight ("jtt") or repeat count ("jtt_retrain") of the
    # warm-up model's training errors; T, the ERM epochs before the error set is taken, is
    # train.warmup_epochs. 20 is inside Liu et al.'s range (6 to 100); tuning.py tunes both.
    jtt_lambda_up: float = 20.0
    dfr_l1: float = 0.0  # [ours] DFR's l1 strength on the retrained final layer's weight

    def __post_init__(self) -> None:
        check_field_types("objective", self)
        if self.dfr_l1 < 0:
            _fail("objective.dfr_l1", self.dfr_l1, "a number >= 0")
        if self.method == "jtt_retrain" and self.jtt_lambda_up % 1:  # rows repeat whole times
            _fail("objective.jtt_lambda_up", self.jtt_lambda_up, "a whole number for 'jtt_retrain'")
        if self.method not in METHOD_NAMES:
            _fail("objective.method", self.method, f"one of {METHOD_NAMES}")
        if not self.dro_eta > 0:
            _fail("objective.dro_eta", self.dro_eta, "a number > 0")
        if not self.jtt_lambda_up > 0:
            _fail("objective.jtt_lambda_up", self.jtt_lambda_up, "a number > 0")


@dataclass(frozen=True)
class RunConfig:
    name: str = "custom"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    grouping: GroupingConfig = field(default_factory=GroupingConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)

    def __post_init__(self) -> None:
        n_train = self.data.split_sizes[0]
        if self.grouping.k > n_train:
            _fail("grouping.k", self.grouping.k, f"an integer <= the training size {n_train}")
        if self.grouping.pca_dim is not None and self.grouping.source not in ("errors", "labels"):
            sig_dim = grouping_input_dim(self)
            limit = min(sig_dim, n_train)
            if self.grouping.pca_dim > limit:
                _fail("grouping.pca_dim", self.grouping.pca_dim,
                      f"None or an integer <= {limit} (signature dim {sig_dim}, "
                      f"training size {n_train})")
        jtts = tuple(name for name, cls in METHODS.items() if cls.uses_error_set)
        if (self.objective.method in jtts) != (self.grouping.source == "errors"):
            raise ValueError(f"objective.method={self.objective.method!r} with grouping.source="
                             f"{self.grouping.source!r} is invalid: JTT trains on the error set, "
                             f"so objective.method in {jtts} goes with grouping.source='errors' "
                             f"and only with it")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def with_updates(self, **dotted: Any) -> "RunConfig":
        """Copy with fields replaced by dotted name, e.g. with_updates(**{"train.lr": 1e-3})."""
        return override(self, dotted)


def signature_dim(cfg: RunConfig) -> int:
    """Length of one per-sample gradient signature for this config (before any projection)."""
    if cfg.model.kind == "cnn":
        return _cnn_signature_dim(cfg.model, cfg.data.input_dim, cfg.grouping.where)
    widths = [cfg.data.input_dim]
    if cfg.model.kind == "mlp":
        widths += list(cfg.model.hidden_dims)
    widths.append(cfg.model.n_classes)
    last_w = widths[-2] * widths[-1]
    if cfg.grouping.where == "fc_weight":
        return last_w
    if cfg.grouping.where == "fc":
        return last_w + widths[-1]
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))


def cnn_feature_dim(model: ModelConfig) -> int:
    """Width of the CNN's final-layer input: last channels x (side / 2)^2 (one max-pool)."""
    return int(model.cnn_channels[-1]) * (model.image_side // 2) ** 2


def _cnn_signature_dim(model: ModelConfig, input_dim: int, where: str) -> int:
    feat, c = cnn_feature_dim(model), model.n_classes
    if where == "fc_weight":
        return feat * c
    if where == "fc":
        return feat * c + c
    channels = [input_dim // model.image_side ** 2, *map(int, model.cnn_channels)]
    convs = sum(a * b * 9 + b for a, b in zip(channels[:-1], channels[1:]))  # 3x3 kernels
    return convs + feat * c + c


def grouping_input_dim(cfg: RunConfig) -> int:
    """Columns of the matrix that grouping.source clusters (before PCA)."""
    source = cfg.grouping.source
    if source == "features":  # the final layer's input: its weight is (n_classes, features)
        # (a namespace, not a RunConfig: building one would run this validation again)
        weight_only = SimpleNamespace(data=cfg.data, model=cfg.model,
                                      grouping=replace(cfg.grouping, where="fc_weight"))
        return signature_dim(weight_only) // cfg.model.n_classes
    if source in ("outputs", "errors", "labels"):
        return cfg.model.n_classes  # softmax probabilities; one-hot labels
    if source == "inputs":
        return cfg.data.input_dim
    # gradients, random (a permutation of their clusters), grasp; projected if asked
    return cfg.grouping.projection_dim or signature_dim(cfg)


def override(cfg: RunConfig, updates: dict[str, Any]) -> RunConfig:
    """Return cfg with "section.field" (or top-level "name") values replaced.

    Unknown sections or fields raise ValueError naming them and the allowed ones.
    """
    sections: dict[str, dict[str, Any]] = {}
    top: dict[str, Any] = {}
    for key, value in updates.items():
        if "." in key:
            section, name = key.split(".", 1)
            sections.setdefault(section, {})[name] = value
        else:
            top[key] = value
    section_names = [f.name for f in fields(RunConfig) if f.name != "name"]
    for key in top:
        if key != "name":
            raise ValueError(f"unknown config key {key!r}: allowed 'name' or "
                             f"'section.field' with section in {section_names}")
    new_sections = {}
    for section, values in sections.items():
        if section not in section_names:
            raise ValueError(f"unknown config section {section!r}: allowed {section_names}")
        current = getattr(cfg, section)
        allowed = [f.name for f in fields(current)]
        for name in values:
            if name not in allowed:
                raise ValueError(f"unknown config field {section}.{name}: allowed {allowed}")
        coerced = {n: tuple(v) if isinstance(v, list) else v for n, v in values.items()}
        new_sections[section] = replace(current, **coerced)
    return replace(cfg, **top, **new_sections)


def from_dict(d: dict[str, Any]) -> RunConfig:
    """Inverse of RunConfig.to_dict (lists become tuples). A missing or unknown section or
    field raises ValueError naming it and the allowed ones."""
    sections = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig,
                "grouping": GroupingConfig, "objective": ObjectiveConfig}
    if not isinstance(d, dict):
        raise ValueError(f"config={d!r} is invalid: allowed a dict with keys 'name' and "
                         f"{sorted(sections)}")
    unknown = sorted(set(d) - set(sections) - {"name"})
    missing = sorted(set(sections) - set(d))
    if unknown or missing:
        raise ValueError(f"config sections {unknown or missing} are "
                         f"{'unknown' if unknown else 'missing'}: allowed and required "
                         f"{sorted(sections)} (plus 'name')")

    def build(cls, values):
        if not isinstance(values, dict):
            raise ValueError(f"config section for {cls.__name__}={values!r} is invalid: "
                             f"allowed a dict of its fields")
        allowed = [f.name for f in fields(cls)]
        extra = sorted(set(values) - set(allowed))
        if extra:
            raise ValueError(f"unknown config fields {extra} for {cls.__name__}: allowed {allowed}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})
    return RunConfig(
        name=d.get("name", "custom"),
        data=build(DataConfig, d["data"]),
        model=build(ModelConfig, d["model"]),
        train=build(TrainConfig, d["train"]),
        grouping=build(GroupingConfig, d["grouping"]),
        objective=build(ObjectiveConfig, d["objective"]),
    )


# What the paper's text says (Sec. 3-4, Table 1).
PAPER_TEXT = RunConfig(name="paper_text")

# What the paper's experiment script does (ORIGINAL_CODE_FACTS.md).
PAPER_CODE = RunConfig(
    name="paper_code",
    grouping=GroupingConfig(where="fc_weight", pca_dim=None, k=2, scope="global",
                            kmeans_init="random", kmeans_n_init=1, kmeans_max_iter=10),
    objective=ObjectiveConfig(method="inverse_freq", normalize_weights=False),
)

PRESETS: dict[str, RunConfig] = {"paper_text": PAPER_TEXT, "paper_code": PAPER_CODE}


def get_preset(name: str) -> RunConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}: allowed {sorted(PRESETS)}")
    return PRESETS[name]

