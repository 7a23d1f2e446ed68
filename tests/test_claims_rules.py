"""Rules v2, table-driven: every part kind just below, at and just above its threshold or
margin, the ways parts combine, and each claim C1-C14 reproduced, contradicted and
inconclusive on hand-built per-seed statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ugc_lib import claims
from ugc_lib.claims import (CONTRADICTED, HOLDS, INCONCLUSIVE, NOT_REPRODUCED, NOT_TESTABLE,
                            PARTLY, REPRODUCED, UNDECIDED, above, below, combine, either,
                            equivalence)

N = 12  # seeds in every fixture
EPS = 1e-3
NOISE = np.array([-1.0, 1.0] * (N // 2))  # zero-mean spread: makes a wide interval


# ---------------------------------------------------------------- parts and combination

@pytest.mark.parametrize("value, outcome", [
    (0.40 - 0.10 - EPS, CONTRADICTED),  # just outside the margin
    (0.40 - 0.10, HOLDS),  # exactly at the margin: inside [-margin, +margin]
    (0.40 - 0.10 + EPS, HOLDS),
    (0.40, HOLDS),
    (0.40 + 0.10, HOLDS),
    (0.40 + 0.10 + EPS, CONTRADICTED),
])
def test_equivalence_at_the_margin(value, outcome):
    assert equivalence("x", [value] * N, 0.40, 0.10)["outcome"] == outcome


def test_equivalence_wide_interval_is_undecided_not_a_pass():
    assert equivalence("x", 0.40 + 0.3 * NOISE, 0.40, 0.10)["outcome"] == UNDECIDED


@pytest.mark.parametrize("kind, value, outcome", [
    ("above", 0.5 - EPS, CONTRADICTED), ("above", 0.5, CONTRADICTED),
    ("above", 0.5 + EPS, HOLDS),
    ("below", 0.5 - EPS, HOLDS), ("below", 0.5, CONTRADICTED),
    ("below", 0.5 + EPS, CONTRADICTED),
])
def test_directions_at_the_threshold(kind, value, outcome):
    part = (above if kind == "above" else below)("x", [value] * N, 0.5)
    assert part["outcome"] == outcome


@pytest.mark.parametrize("kind", ["above", "below"])
def test_direction_straddling_the_threshold_is_undecided(kind):
    part = (above if kind == "above" else below)("x", 0.5 + 0.2 * NOISE, 0.5)
    assert part["outcome"] == UNDECIDED


@pytest.mark.parametrize("outcomes, verdict", [
    ([HOLDS], REPRODUCED), ([HOLDS, HOLDS], REPRODUCED),
    ([HOLDS, UNDECIDED], PARTLY),
    ([HOLDS, CONTRADICTED], NOT_REPRODUCED),  # partly is not allowed when contradicted
    ([UNDECIDED, UNDECIDED], INCONCLUSIVE), ([UNDECIDED], INCONCLUSIVE),
    ([CONTRADICTED], NOT_REPRODUCED),
])
def test_combine(outcomes, verdict):
    assert combine([{"outcome": o} for o in outcomes]) == verdict


@pytest.mark.parametrize("a, b, verdict", [
    ([HOLDS], [CONTRADICTED], REPRODUCED), ([CONTRADICTED], [CONTRADICTED], NOT_REPRODUCED),
    ([HOLDS, UNDECIDED], [CONTRADICTED], PARTLY), ([UNDECIDED], [CONTRADICTED], INCONCLUSIVE),
])
def test_either_reading(a, b, verdict):
    assert either([[{"outcome": o} for o in a], [{"outcome": o} for o in b]]) == verdict


def test_every_margin_has_a_reason():
    for cid, (margin, reason) in claims.MARGINS.items():
        assert margin >= 0 and len(reason) > 20, cid


# ---------------------------------------------------------------- tidy-frame fixtures

def tidy(runs: list[dict], epochs: int = 6, preset: str = "paper_text") -> pd.DataFrame:
    """runs: config columns plus metric values; a value is a number, an (N,) array over
    seeds, or a callable (epoch, split) -> number or (N,) array."""
    rows = []
    for run_index, run in enumerate(runs):
        cfg = {k: v for k, v in run.items() if "." in k or k == "variant"}
        metrics = {k: v for k, v in run.items() if k not in cfg}
        for e in range(1, epochs + 1):
            for split in ("train", "val", "test"):
                vals = {k: (v(e, split) if callable(v) else v) for k, v in metrics.items()}
                for i in range(N):
                    rows.append({"run": run_index, "preset": preset, "seed": i, "epoch": e,
                                 "split": split, **cfg,
                                 **{k: float(np.broadcast_to(v, (N,))[i]) for k, v in vals.items()}})
    return pd.DataFrame(rows)


def headline(ugc: dict, oracle: dict | None = None) -> pd.DataFrame:
    base = {"rec_ari_s": 0.0, "rec_ari_y": 0.0, "rec_minority_f1": 0.0, "acc": 0.99,
            "wga_s": 0.99, "wga_ys": 0.99}
    return tidy([{"objective.method": "group_dro", **base, **ugc},
                 {"objective.method": "oracle_dro", **base, **(oracle or {})}])


@pytest.mark.parametrize("stats, verdict", [
    ({"rec_ari_s": 0.6, "rec_ari_y": 0.1}, REPRODUCED),
    ({"rec_ari_s": 0.5, "rec_ari_y": 0.1}, NOT_REPRODUCED),  # at the threshold: not above it
    ({"rec_ari_s": 0.5 + EPS, "rec_ari_y": 0.1}, REPRODUCED),
    ({"rec_ari_s": 0.6, "rec_ari_y": 0.8}, NOT_REPRODUCED),  # a split by label does not pass
    ({"rec_minority_f1": 0.5 + EPS}, REPRODUCED),
    ({"rec_minority_f1": 0.5 - EPS}, NOT_REPRODUCED),
    ({"rec_minority_f1": 0.5 + 0.3 * NOISE}, INCONCLUSIVE),
    ({"rec_ari_s": 0.5 + 0.3 * NOISE, "rec_ari_y": 0.1}, PARTLY),
])
def test_c1(stats, verdict):
    assert claims.verdict_c1(headline(stats), "paper_text", "group_dro").verdict == verdict


@pytest.mark.parametrize("ugc, oracle, verdict", [
    (0.994, 0.994, REPRODUCED),
    (0.994 + 0.01, 0.994 + 0.01, REPRODUCED),  # at the margin from the paper's value
    (0.994 + 0.01 + EPS, 0.994 + 0.01 + EPS, NOT_REPRODUCED),
    (0.90, 0.90, NOT_REPRODUCED),  # matches the oracle, not the paper's value
    (0.994, 0.994 + 0.02, NOT_REPRODUCED),  # below the oracle by more than the margin
    (0.994 + 0.05 * NOISE, 0.994, INCONCLUSIVE),
])
def test_c2(ugc, oracle, verdict):
    df = headline({"wga_ys": ugc}, {"wga_ys": oracle})
    assert claims.verdict_c2(df, "paper_text", "ys", "group_dro").verdict == verdict


@pytest.mark.parametrize("acc, verdict", [
    (0.996 - 0.005 - EPS, NOT_REPRODUCED), (0.996 - 0.005, REPRODUCED), (0.996, REPRODUCED),
    (0.996 + 0.005 + EPS, NOT_REPRODUCED), (0.990 + 0.02 * NOISE, INCONCLUSIVE),
])
def test_c3(acc, verdict):
    assert claims.verdict_c3(headline({"acc": acc}), "paper_text", "group_dro").verdict == verdict


def lr_frame(slow, mid, fast) -> pd.DataFrame:
    return tidy([{"train.lr": 1e-4, "wga_s": slow}, {"train.lr": 1e-3, "wga_s": mid},
                 {"train.lr": 1e-2, "wga_s": fast}])


@pytest.mark.parametrize("slow, verdict", [
    (0.35, REPRODUCED), (0.25, REPRODUCED), (0.25 - EPS, NOT_REPRODUCED),
    (0.45 + EPS, NOT_REPRODUCED), (0.35 + 0.3 * NOISE, INCONCLUSIVE),
])
def test_c5a(slow, verdict):
    assert claims.verdict_c5a(lr_frame(slow, 0.9, 1.0), "paper_text", "s").verdict == verdict


@pytest.mark.parametrize("mid, verdict", [
    (0.85 + EPS, REPRODUCED), (0.85, NOT_REPRODUCED), (0.85 - EPS, NOT_REPRODUCED),
    (0.85 + 0.1 * NOISE, INCONCLUSIVE),
])
def test_c5b(mid, verdict):
    assert claims.verdict_c5b(lr_frame(0.35, mid, 1.0), "paper_text", "s").verdict == verdict


@pytest.mark.parametrize("fast, verdict", [
    (lambda e, s: 1.0, REPRODUCED),
    (lambda e, s: 0.95 if e == 1 else 1.0, NOT_REPRODUCED),  # epoch 1 exactly at 0.95
    (lambda e, s: 0.96 if e == 1 else 1.0, REPRODUCED),  # rising is not a drop
    (lambda e, s: 1.0 if e != 3 else 0.97, NOT_REPRODUCED),  # a drop of 0.03 between epochs
    (lambda e, s: 1.0 if e != 6 else 0.97, NOT_REPRODUCED),  # last epoch below 0.98
    (lambda e, s: 1.0 if e != 3 else 1.0 - np.clip(0.02 + 0.03 * NOISE, 0, None), PARTLY),  # drops straddle 0.02
])
def test_c5c(fast, verdict):
    assert claims.verdict_c5c(lr_frame(0.35, 0.9, fast), "paper_text", "s").verdict == verdict


def k_frame(acc, wga_by_k) -> pd.DataFrame:
    return tidy([{"grouping.k": k, "acc": acc.get(k, 0.996), "wga_s": wga_by_k[k]}
                 for k in (2, 4, 8)])


@pytest.mark.parametrize("acc, verdict", [
    ({}, REPRODUCED), ({8: 0.991}, REPRODUCED), ({8: 0.991 - EPS}, NOT_REPRODUCED),
    ({4: 0.99 + 0.02 * NOISE}, PARTLY),
])
def test_c6a(acc, verdict):
    df = k_frame(acc, {2: 0.9, 4: 0.9, 8: 0.9})
    assert claims.verdict_c6a(df, "paper_text").verdict == verdict


@pytest.mark.parametrize("wga, verdict", [
    ({2: 0.9, 4: 0.9 + EPS, 8: 0.9 + EPS}, REPRODUCED),
    ({2: 0.9, 4: 0.9, 8: 0.9 + EPS}, NOT_REPRODUCED),  # k = 4 exactly equal: not faster
    ({2: 0.9, 4: 0.9 + EPS, 8: 0.9 + 0.05 * NOISE}, PARTLY),
    ({2: 0.9, 4: 0.9 + 0.05 * NOISE, 8: 0.9 + 0.05 * NOISE}, INCONCLUSIVE),
])
def test_c6b(wga, verdict):
    assert claims.verdict_c6b(k_frame({}, wga), "paper_text", "s").verdict == verdict


def dip(low, last=0.9, k2_last=0.8):
    return lambda e, s: 0.9 if e == 1 else (low if e in (2, 3) else last)


@pytest.mark.parametrize("k8, k2, verdict", [
    (dip(0.8, 0.9), 0.8, REPRODUCED),  # drops, recovers, ends above k = 2
    (dip(0.9, 0.9), 0.8, NOT_REPRODUCED),  # no drop
    (dip(0.8, 0.9), 0.9, NOT_REPRODUCED),  # ends level with k = 2
    (dip(0.8, 0.9), lambda e, s: 0.9 + 0.2 * NOISE, PARTLY),
])
def test_c6c(k8, k2, verdict):
    df = tidy([{"grouping.k": 2, "acc": 0.99, "wga_s": k2}, {"grouping.k": 4, "acc": 0.99, "wga_s": 0.9},
               {"grouping.k": 8, "acc": 0.99, "wga_s": k8}])
    assert claims.verdict_c6c(df, "paper_text", "s").verdict == verdict


def reweight_frame(fw, inv) -> pd.DataFrame:
    return tidy([{"objective.method": "feature_weight", "wga_s": fw},
                 {"objective.method": "inverse_freq", "wga_s": inv}])


@pytest.mark.parametrize("fw, verdict", [
    (lambda e, s: 0.9, REPRODUCED), (lambda e, s: 0.92, REPRODUCED),  # at the margin
    (lambda e, s: 0.92 + EPS, NOT_REPRODUCED),
    (lambda e, s: 0.9 if e < 2 else 0.95, NOT_REPRODUCED),  # not identical after epoch 1
    (lambda e, s: 0.9 + 0.1 * NOISE, PARTLY),  # level curves plateau; the gap is undecided
])
def test_c7(fw, verdict):
    assert claims.verdict_c7(reweight_frame(fw, lambda e, s: 0.9), "paper_text", "s").verdict == verdict


def test_c7_no_plateau_by_epoch_2_is_contradicted():
    climb = lambda e, s: 0.5 + 0.1 * e  # noqa: E731
    assert claims.verdict_c7(reweight_frame(climb, climb), "paper_text", "s").verdict == NOT_REPRODUCED


@pytest.mark.parametrize("ugc, probe_loss, verdict", [
    (0.9 + EPS, 0.3, REPRODUCED), (0.9, 0.3, NOT_REPRODUCED), (0.9 + EPS, 0.2, NOT_REPRODUCED),
    (0.9 + 0.2 * NOISE, 0.3, PARTLY),
])
def test_c8(ugc, probe_loss, verdict):
    df = tidy([{"variant": "UGC (MLP)", "wga_s": ugc, "loss": 0.2},
               {"variant": "linear probe (ERM)", "wga_s": 0.9, "loss": probe_loss}])
    assert claims.verdict_c8(df, "paper_text", "s").verdict == verdict


@pytest.mark.parametrize("gain, verdict", [
    (0.05 + EPS, REPRODUCED), (0.05, NOT_REPRODUCED), (0.05 - EPS, NOT_REPRODUCED),
    (0.05 + 0.2 * NOISE, INCONCLUSIVE),
])
def test_c9(gain, verdict):
    runs = [{"train.lr": lr, "data.normalize": norm, "wga_s": 0.5 + (gain if norm else 0.0)}
            for lr in (1e-4, 1e-3) for norm in (True, False)]
    assert claims.verdict_c9(tidy(runs), "paper_text", "s").verdict == verdict


@pytest.mark.parametrize("moderate, largest, verdict", [
    (0.9 + EPS, 0.5, REPRODUCED), (0.9, 0.5, NOT_REPRODUCED),  # no gain at all
    (0.9 + EPS, 0.9, NOT_REPRODUCED), (0.9 + 0.2 * NOISE, 0.5, PARTLY),
])
def test_c10(moderate, largest, verdict):
    runs = [{"train.weight_decay": wd, "wga_s": v}
            for wd, v in ((0.0, 0.9), (1e-4, moderate), (1e-1, largest))]
    assert claims.verdict_c10(tidy(runs), "paper_text", "s").verdict == verdict


@pytest.mark.parametrize("cos, f1, verdict", [
    (0.96, 0.6, REPRODUCED), (0.96, 0.5, NOT_REPRODUCED), (0.95, 0.6, NOT_REPRODUCED),
    (0.95 + 0.1 * NOISE, 0.6, PARTLY),
])
def test_c4(cos, f1, verdict):
    v = claims.verdict_c4(np.broadcast_to(cos, (N,)), np.broadcast_to(f1, (N,)), "both")
    assert v.verdict == verdict


def bench_with(mlp, cnn) -> dict:
    rec = lambda m, r: {"model": m, "preset": "paper_text", "repeats": len(r),  # noqa: E731
                        "per_repeat_step_over_epoch": list(r), "step_over_epoch": float(np.median(r)),
                        "step_over_training": float(np.median(r)) / 6}
    return {"overhead": [rec("mlp", mlp), rec("cnn", cnn)]}


@pytest.mark.parametrize("mlp, cnn, verdict", [
    ([0.9] * 5, [0.8] * 5, REPRODUCED), ([1.0] * 5, [0.8] * 5, NOT_REPRODUCED),
    ([1.1] * 5, [0.8] * 5, NOT_REPRODUCED), ([0.5, 1.5, 0.5, 1.5, 1.0], [0.8] * 5, PARTLY),
])
def test_c11_over_timing_repeats(mlp, cnn, verdict):
    v = claims.verdict_c11(bench_with(mlp, cnn), "paper_text")
    assert v.verdict == verdict and v.n_seeds == 5


def digits_frame(erm, ugc, oracle, f1) -> pd.DataFrame:
    return tidy([{"variant": "ERM", "wga_ys": erm, "rec_minority_f1": 0.0},
                 {"variant": "UGC (global)", "wga_ys": ugc, "rec_minority_f1": f1},
                 {"variant": "oracle DRO", "wga_ys": oracle, "rec_minority_f1": 0.0}])


@pytest.mark.parametrize("ugc, oracle, f1, verdict", [
    (0.5, 0.6, 0.6, REPRODUCED), (0.4, 0.6, 0.6, NOT_REPRODUCED),
    (0.5, 0.6, 0.5, NOT_REPRODUCED), (0.4 + 0.3 * NOISE, 0.6, 0.6, PARTLY),
    (0.5, 0.4, 0.6, NOT_TESTABLE),  # no shortcut: the oracle does not beat ERM
    (0.5, 0.4 + 0.3 * NOISE, 0.6, NOT_TESTABLE),
])
def test_c12(ugc, oracle, f1, verdict):
    v = claims.verdict_c12(digits_frame(0.4, ugc, oracle, f1), "paper_text", "ys")
    assert v.verdict == verdict


def test_c13_is_a_literature_check():
    assert {v.verdict for v in claims.verdict_c13(["paper_text", "paper_code"])} == {NOT_REPRODUCED}


@pytest.mark.parametrize("identical, verdict", [([True] * 4, REPRODUCED),
                                                ([True, True, False, True], NOT_REPRODUCED)])
def test_c14(identical, verdict):
    checks = pd.DataFrame({"preset": ["paper_text"] * 4, "seed": range(4),
                           "clusters_identical": identical, "weights_identical": identical,
                           "predictions_identical": identical})
    assert claims.verdict_c14(checks).verdict == verdict


def test_verdict_records_margin_method_and_parts():
    v = claims.verdict_c2(headline({"wga_ys": 0.994}), "paper_text", "ys", "group_dro")
    assert v.margin == claims.MARGINS["C2"][0] and "BCa" in v.ci_method
    assert [p["kind"] for p in v.parts] == ["equivalence", "equivalence"]
    assert v.n_seeds == N


def test_inconclusive_where_every_part_straddles():
    """Each multi-part rule gives "inconclusive" when no part is decided either way."""
    wide = lambda center: center + 0.3 * NOISE  # noqa: E731
    flip = lambda e, s: 0.9 + 0.1 * NOISE * (1 if e == 2 else -1)  # noqa: E731
    flop = lambda e, s: 0.9 + 0.1 * NOISE * (-1 if e == 2 else 1)  # noqa: E731
    assert claims.verdict_c7(reweight_frame(flip, flop), "paper_text", "s").verdict == INCONCLUSIVE
    lp = tidy([{"variant": "UGC (MLP)", "wga_s": wide(0.6), "loss": wide(0.3)},
               {"variant": "linear probe (ERM)", "wga_s": 0.6, "loss": 0.3}])
    assert claims.verdict_c8(lp, "paper_text", "s").verdict == INCONCLUSIVE
    wd = tidy([{"train.weight_decay": w, "wga_s": v}
               for w, v in ((0.0, 0.5), (1e-4, wide(0.5)), (1e-1, wide(0.5)))])
    assert claims.verdict_c10(wd, "paper_text", "s").verdict == INCONCLUSIVE
    ks = k_frame({2: wide(0.99), 4: wide(0.99), 8: wide(0.99)}, {2: 0.9, 4: 0.9, 8: 0.9})
    assert claims.verdict_c6a(ks, "paper_text").verdict == INCONCLUSIVE
    assert claims.verdict_c4(wide(0.95), wide(0.5), "both").verdict == INCONCLUSIVE
    assert claims.verdict_c11(bench_with([0.5, 1.5] * 2 + [1.0], [0.5, 1.5] * 2 + [1.0]),
                              "paper_text").verdict == INCONCLUSIVE
    d = digits_frame(0.4, wide(0.4), 0.6, wide(0.5))
    assert claims.verdict_c12(d, "paper_text", "ys").verdict == INCONCLUSIVE
    c6c = tidy([{"grouping.k": 2, "acc": 0.99, "wga_s": wide(0.9)},
                {"grouping.k": 4, "acc": 0.99, "wga_s": 0.9},
                {"grouping.k": 8, "acc": 0.99,
                 "wga_s": lambda e, s: 0.9 + (0.3 * NOISE if e in (2, 3) else 0.0)}])
    assert claims.verdict_c6c(c6c, "paper_text", "s").verdict == INCONCLUSIVE
