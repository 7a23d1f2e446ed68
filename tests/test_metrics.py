"""Worst-group accuracy (both definitions), cluster recovery, bootstrap intervals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ugc_lib.metrics import recovery, split_metrics, wga_s, wga_ys

#           idx: 0  1  2  3  4  5  6  7
Y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
S = np.array([0, 0, 0, 1, 1, 1, 1, 0])
PRED = np.array([0, 0, 1, 1, 1, 1, 0, 1])
# groups:   y0s0 = {0,1,2}: 2/3   y0s1 = {3}: 0/1   y1s1 = {4,5,6}: 2/3   y1s0 = {7}: 1/1
# by s:     s=0 = {0,1,2,7}: 3/4   s=1 = {3,4,5,6}: 2/4


def test_wga_hand_computed_definitions_differ():
    assert wga_s(PRED, Y, S) == pytest.approx(0.5)
    assert wga_ys(PRED, Y, S) == pytest.approx(0.0)


def test_wga_second_hand_example():
    pred = PRED.copy()
    pred[3] = 0  # y0s1 now correct
    # groups: 2/3, 1, 2/3, 1 -> 2/3 ; s=0: 3/4, s=1: 3/4 -> 3/4
    assert wga_ys(pred, Y, S) == pytest.approx(2 / 3)
    assert wga_s(pred, Y, S) == pytest.approx(0.75)


def test_split_metrics_row():
    row = split_metrics(PRED, Y, S, loss=0.25)
    assert row["acc"] == pytest.approx(5 / 8)
    assert row["loss"] == 0.25
    assert row["wga_s"] == pytest.approx(0.5)
    assert row["wga_ys"] == pytest.approx(0.0)
    assert row["acc_y0s0"] == pytest.approx(2 / 3)
    assert row["acc_y0s1"] == pytest.approx(0.0)
    assert row["acc_y1s0"] == pytest.approx(1.0)
    assert row["acc_y1s1"] == pytest.approx(2 / 3)
    assert row["acc_s0"] == pytest.approx(0.75)
    assert row["acc_s1"] == pytest.approx(0.5)


def test_absent_groups_are_skipped():
    y = np.array([0, 0, 1, 1])
    s = np.array([0, 0, 0, 0])  # groups y0s1 and y1s1 absent, s=1 absent
    pred = np.array([0, 1, 1, 1])
    assert wga_ys(pred, y, s) == pytest.approx(0.5)  # not 0 for the absent groups
    assert wga_s(pred, y, s) == pytest.approx(0.75)
    row = split_metrics(pred, y, s, loss=0.0)
    assert "acc_y0s1" not in row and "acc_y1s1" not in row and "acc_s1" not in row
    assert row["wga_ys"] == pytest.approx(0.5)
    # all present groups perfect: worst is 1, not dragged down by absent groups
    assert wga_ys(y, y, s) == 1.0


def test_recovery_ari_perfect_for_s_and_y():
    rec_s = recovery(S.copy(), Y, S)
    assert rec_s["ari_s"] == pytest.approx(1.0)
    assert rec_s["nmi_s"] == pytest.approx(1.0)
    assert rec_s["ari_y"] < 1.0
    rec_y = recovery(1 - Y, Y, S)  # label permutation does not matter
    assert rec_y["ari_y"] == pytest.approx(1.0)
    assert rec_y["ari_s"] < 1.0
    rec_ys = recovery(2 * Y + S, Y, S)
    assert rec_ys["ari_ys"] == pytest.approx(1.0)
    assert rec_ys["n_clusters"] == 4


def test_recovery_minority_precision_recall_hand_checked():
    # minority (s != y) = {3, 7}; cluster 1 = {3, 5, 7}: precision 2/3, recall 1
    clusters = np.array([0, 0, 0, 1, 0, 1, 0, 1])
    rec = recovery(clusters, Y, S)
    assert rec["minority_cluster"] == 1
    assert rec["minority_precision"] == pytest.approx(2 / 3)
    assert rec["minority_recall"] == pytest.approx(1.0)
    assert rec["minority_f1"] == pytest.approx(0.8)
    assert rec["n_clusters"] == 2


def test_recovery_minority_best_cluster_by_f1():
    # cluster 2 = {3}: p=1, r=1/2, f1=2/3 ; cluster 1 = {5, 7}: p=1/2, r=1/2, f1=1/2
    clusters = np.array([0, 0, 0, 2, 0, 1, 0, 1])
    rec = recovery(clusters, Y, S)
    assert rec["minority_cluster"] == 2
    assert rec["minority_precision"] == pytest.approx(1.0)
    assert rec["minority_recall"] == pytest.approx(0.5)


def test_recovery_without_minority_gives_none():
    rec = recovery(np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1]))
    assert rec["minority_precision"] is None and rec["minority_recall"] is None
    json.dumps(rec, allow_nan=False)  # strict JSON
