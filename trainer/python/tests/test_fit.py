from __future__ import annotations

import json
from pathlib import Path

import lightgbm
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from searchop_trainer.config import parse_config, parse_cutoff
from searchop_trainer.dataset import read_training_file, time_split, with_relevance
from searchop_trainer.errors import ErrorCode, TrainerError
from searchop_trainer.fit import fit, run
from searchop_trainer.synthetic import SPEC_VERSION, feature_names, sessions_with_grades

from .conftest import run_module, typed_error_code


def _config(base: dict[str, object], **overrides: object):
    return parse_config({**base, **overrides})


def test_reads_groups_contiguously_in_time_order(synthetic_file: Path):
    data = read_training_file(synthetic_file)
    table = pq.read_table(synthetic_file)

    assert data.feature_names == tuple(feature_names(30))
    assert data.feature_spec_version == SPEC_VERSION
    assert data.features.shape == (table.num_rows, 30)
    assert int(data.group_sizes.sum()) == table.num_rows
    assert np.all(np.diff(data.group_time_ms) >= 0)
    assert len(set(data.group_keys.tolist())) == data.group_keys.size
    nulls = table.column("f04_missing").null_count
    assert nulls > 0 and int(np.isnan(data.features[:, 4]).sum()) == nulls


def test_split_is_by_time_and_never_cuts_a_group(synthetic_file: Path):
    data = read_training_file(synthetic_file)
    cutoff = int(data.group_time_ms[600])

    train, valid = time_split(data, cutoff)

    assert train.group_time_ms.max() < cutoff <= valid.group_time_ms.min()
    assert train.group_sizes.size + valid.group_sizes.size == data.group_sizes.size
    assert set(train.group_keys.tolist()).isdisjoint(valid.group_keys.tolist())
    assert train.label.size + valid.label.size == data.label.size


def test_a_cutoff_outside_the_data_leaves_a_side_empty(synthetic_file: Path):
    data = read_training_file(synthetic_file)

    for cutoff in (int(data.group_time_ms[0]), int(data.group_time_ms[-1]) + 1):
        with pytest.raises(TrainerError) as raised:
            time_split(data, cutoff)
        assert raised.value.code == ErrorCode.SPLIT_EMPTY


def test_early_stopping_keeps_the_best_validation_ndcg_at_10(
    synthetic_file: Path, base_config: dict[str, object], tmp_path: Path
):
    config_path = tmp_path / "config.json"
    config_path.write_text(
        json.dumps(
            {
                **base_config,
                "num_boost_round": 400,
                "early_stopping_rounds": 15,
                "early_stopping_min_rounds": 0,
                "lightgbm": {**base_config["lightgbm"], "learning_rate": 0.3},
            }
        )
    )

    report = run(synthetic_file, config_path, tmp_path / "out")

    curve = report["validation_ndcg_at_10_by_round"]
    assert report["early_stopped"] is True
    assert report["rounds"] == len(curve) < 400
    assert report["best_iteration"] == int(np.argmax(curve)) + 1 == report["rounds"] - 15
    assert report["validation_metrics"]["ndcg@10"] == max(curve)
    assert {"ndcg@1", "ndcg@5", "ndcg@10"} <= set(report["validation_metrics"])
    assert report["training"]["to"] < report["cutoff"] <= report["validation"]["from"]
    saved = lightgbm.Booster(model_file=str(tmp_path / "out" / "model.txt"))
    assert saved.num_trees() == report["best_iteration"] == report["num_trees"]
    assert json.loads((tmp_path / "out" / "report.json").read_text())["best_iteration"] == report["best_iteration"]


def test_early_stopping_keeps_at_least_the_minimum_rounds(synthetic_file: Path, base_config: dict[str, object]):
    data = read_training_file(synthetic_file)
    common = {
        "num_boost_round": 200,
        "early_stopping_rounds": 5,
        "lightgbm": {**base_config["lightgbm"], "learning_rate": 0.3},
    }

    _, free = fit(data, _config(base_config, early_stopping_min_rounds=0, **common))
    booster, held = fit(data, _config(base_config, early_stopping_min_rounds=free["best_iteration"] + 20, **common))

    curve = held["validation_ndcg_at_10_by_round"]
    minimum = free["best_iteration"] + 20
    assert held["best_iteration"] >= minimum
    assert booster.best_iteration == held["best_iteration"]
    # The best round counts only from the minimum on, and stopping waits for the patience after it.
    assert curve[held["best_iteration"] - 1] == max(curve[minimum - 1 :])
    assert held["rounds"] >= held["best_iteration"] + 5 or held["rounds"] == 200
    with pytest.raises(TrainerError) as raised:
        _config(base_config, early_stopping_min_rounds=-1)
    assert raised.value.code == ErrorCode.CONFIG_INVALID
    with pytest.raises(TrainerError):
        _config(base_config, num_boost_round=10, early_stopping_min_rounds=11)


def _ndcg_at(k: int, scores: np.ndarray, labels: np.ndarray, sizes: np.ndarray) -> float:
    """NDCG@k as LightGBM defines it (rank_metric.hpp): gain 2^label - 1, stable sort by score, empty ideal = 1."""
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    values, start = [], 0
    for size in sizes:
        score, label = scores[start : start + size], labels[start : start + size]
        start += size
        top = label[np.argsort(-score, kind="stable")[:k]]
        ideal = np.sort(label)[::-1][:k]
        best = float(((2.0**ideal - 1) * discount[: ideal.size]).sum())
        values.append(float(((2.0**top - 1) * discount[: top.size]).sum()) / best if best > 0 else 1.0)
    return float(np.mean(values))


def test_validation_ndcg_is_measured_on_the_later_groups(synthetic_file: Path, base_config: dict[str, object]):
    config = _config(base_config, num_boost_round=20, early_stopping_rounds=None)
    data = read_training_file(synthetic_file)

    booster, report = fit(data, config)

    assert report["best_iteration"] == booster.num_trees() == 20
    _, valid = time_split(data, report["cutoff_ms"])
    valid, _ = with_relevance(valid)
    expected = _ndcg_at(10, booster.predict(valid.features), valid.label, valid.group_sizes)
    assert report["validation_metrics"]["ndcg@10"] == pytest.approx(expected, abs=1e-9)
    assert report["validation"]["groups"] == valid.group_sizes.size


def test_position_reaches_lightgbm(synthetic_file: Path, base_config: dict[str, object]):
    data = read_training_file(synthetic_file)
    common = {"num_boost_round": 15, "early_stopping_rounds": None}

    with_position, report = fit(data, _config(base_config, position_bias=True, **common))
    without, _ = fit(data, _config(base_config, position_bias=False, **common))

    assert report["position_bias"] == {"enabled": True, "distinct_positions": 40}
    assert (
        with_position.model_to_string().split("end of trees")[0] != without.model_to_string().split("end of trees")[0]
    )


def test_position_bias_correction_ranks_true_relevance_better(base_config: dict[str, object], tmp_path: Path):
    """Labels come from a shopper who mostly looks at the top of a ranking that promoted an irrelevant flag; the models
    are judged against the grades that shopper would have given with no position bias."""
    table, grades = sessions_with_grades(groups=2000, features=20, seed=21)
    path = tmp_path / "biased.parquet"
    pq.write_table(table, path)
    data = read_training_file(path)
    # A learning rate low enough for 100 rounds on 2,000 groups not to over-fit the biased clicks.
    common = {
        "num_boost_round": 100,
        "early_stopping_rounds": None,
        "lightgbm": {**base_config["lightgbm"], "learning_rate": 0.05},
    }
    # read_training_file keeps the file's row order here: the synthetic groups are already in time order.
    assert np.array_equal(data.label, table.column("label").to_numpy())

    unbiased_ndcg = {}
    for enabled in (True, False):
        booster, report = fit(data, _config(base_config, position_bias=enabled, **common))
        later = np.repeat(data.group_time_ms >= report["cutoff_ms"], data.group_sizes)
        sizes = data.group_sizes[data.group_time_ms >= report["cutoff_ms"]]
        unbiased_ndcg[enabled] = _ndcg_at(10, booster.predict(data.features[later]), grades[later], sizes)

    assert unbiased_ndcg[True] > unbiased_ndcg[False] + 0.01, unbiased_ndcg


def test_config_refuses_what_the_fit_step_owns(base_config: dict[str, object]):
    bad = [
        {"lightgbm": {"objective": "regression"}},
        {"lightgbm": {"n_estimators": 10}},
        {"lightgbm": {"categorical_feature": [0]}},
        {"split": {"validation_fraction": 1.5}},
        {"split": {"cutoff": "2025-06-01T00:00:00"}},
        {"split": {}},
        {"eval_at": [0]},
        {"num_boost_round": 0},
        {"position_bias": "yes"},
        {"surprise": 1},
    ]
    for override in bad:
        with pytest.raises(TrainerError) as raised:
            parse_config({**base_config, **override})
        assert raised.value.code == ErrorCode.CONFIG_INVALID, override
    without_early_stopping = {k: v for k, v in base_config.items() if k != "early_stopping_rounds"}
    with pytest.raises(TrainerError):
        parse_config(without_early_stopping)


def test_config_always_reports_ndcg_at_10(base_config: dict[str, object]):
    assert _config(base_config, eval_at=[5, 1, 20]).eval_at == (1, 5, 10, 20)
    assert parse_cutoff("2025-06-01T00:00:00Z") == 1_748_736_000_000 == parse_cutoff(1_748_736_000_000)


def _write(path: Path, columns: dict[str, pa.Array]) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


def test_bad_training_files_are_typed_errors(tmp_path: Path):
    ok = {
        "query_id": pa.array(["a", "a", "b"]),
        "label": pa.array([1, 0, 2]),
        "position": pa.array([1, 2, 1]),
        "timestamp": pa.array([5, 5, 9]),
        "f": pa.array([0.1, None, 0.3]),
    }
    cases = {
        "no_label": {k: v for k, v in ok.items() if k != "label"},
        "text_feature": {**ok, "f": pa.array(["x", "y", "z"])},
        "float_label": {**ok, "label": pa.array([1.0, 0.0, 2.0])},
        "negative_position": {**ok, "position": pa.array([1, -2, 1])},
        "infinite_feature": {**ok, "f": pa.array([0.1, float("inf"), 0.3])},
    }
    for name, columns in cases.items():
        with pytest.raises(TrainerError) as raised:
            read_training_file(_write(tmp_path / f"{name}.parquet", columns))
        assert raised.value.code == ErrorCode.DATA_INVALID, name

    with pytest.raises(TrainerError) as raised:
        read_training_file(_write(tmp_path / "ok.parquet", ok), expected_features=["g"])
    assert raised.value.code == ErrorCode.FEATURES_MISMATCH
    data = read_training_file(tmp_path / "ok.parquet")
    assert data.group_sizes.tolist() == [2, 1] and np.isnan(data.features[1, 0])


def test_cli_fit_then_export(synthetic_file: Path, base_config: dict[str, object], tmp_path: Path):
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps({**base_config, "num_boost_round": 30, "early_stopping_rounds": None}))

    fitted = run_module(
        "searchop_trainer.fit",
        *("--data", str(synthetic_file), "--config", str(config_path), "--out", str(tmp_path / "run")),
        *("--cutoff", "2025-06-15T00:00:00Z", "--spec-version", SPEC_VERSION),
    )
    assert fitted.returncode == 0, fitted.stderr
    summary = json.loads(fitted.stdout)
    assert summary["num_trees"] == 30
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["cutoff"] == "2025-06-15T00:00:00Z"

    exported = run_module(
        "searchop_trainer.export_onnx",
        *("--model", summary["model"], "--out", str(tmp_path / "run" / "model.onnx"), "--spec-version", SPEC_VERSION),
    )
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["parity"]["top10_identical"] is True


def test_cli_fit_reports_a_bad_config_as_a_typed_error(synthetic_file: Path, tmp_path: Path):
    config_path = tmp_path / "config.json"
    config_path.write_text("{not json")

    args = ("--data", str(synthetic_file), "--config", str(config_path), "--out", str(tmp_path / "run"))

    done = run_module("searchop_trainer.fit", *args)

    assert typed_error_code(done) == ErrorCode.CONFIG_INVALID
