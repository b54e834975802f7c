"""Fits the LightGBM lambdarank model on a training file (see dataset.py) and writes it with a report.

  python -m searchop_trainer.fit --data train.parquet --config trainer/config/lightgbm.json --out DIR
      [--cutoff 2025-06-01T00:00:00Z] [--feature-names a,b,c] [--spec-version v3]

Writes DIR/model.txt (LightGBM text model, trees up to the best iteration) and DIR/report.json; prints the report.
The split is by time: groups served before the cut-off train, later ones validate (never at random, which would let
the future leak into training). Early stopping watches validation NDCG@10. With position_bias on, the `position`
column goes to Dataset(position=...): LightGBM >= 4.1 learns a bias per position during training and leaves it out of
the trees, so serving needs no position.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
from lightgbm.callback import CallbackEnv, EarlyStopException

from .config import EARLY_STOPPING_AT, FitConfig, iso_from_ms, load_config, parse_cutoff
from .dataset import TrainingData, cutoff_for_fraction, read_training_file, time_split, with_relevance
from .errors import ErrorCode, TrainerError, run_cli

MODEL_FILE = "model.txt"
VALIDATION = "validation"
REPORT_FILE = "report.json"


def _describe(side: TrainingData) -> dict[str, object]:
    return {
        "rows": int(side.label.size),
        "groups": int(side.group_sizes.size),
        "from": iso_from_ms(int(side.group_time_ms[0])),
        "to": iso_from_ms(int(side.group_time_ms[-1])),
    }


def _early_stopping(metric: str, rounds: int, min_rounds: int = 0) -> Callable[[CallbackEnv], None]:
    """Stops when validation `metric` has not improved for `rounds` rounds and keeps its best round.

    The best round is searched from round `min_rounds` on (rounds count from 1), so at least that many trees are kept.
    LightGBM's own early_stopping(first_metric_only=True) would watch the smallest NDCG cut-off, because LightGBM sorts
    eval_at; this one watches the named metric whatever else is reported.
    """
    best_score, best_round, best_results = -math.inf, -1, []

    def callback(env: CallbackEnv) -> None:
        nonlocal best_score, best_round, best_results
        if env.iteration + 1 < min_rounds:
            return
        score = next(v for data, name, v, _ in env.evaluation_result_list if data == VALIDATION and name == metric)
        if score > best_score:
            best_score, best_round, best_results = score, env.iteration, list(env.evaluation_result_list)
        elif env.iteration - best_round >= rounds or env.iteration == env.end_iteration - 1:
            raise EarlyStopException(best_round, best_results)

    callback.order = 30  # type: ignore[attr-defined]  # after record_evaluation (20), as LightGBM's own
    return callback


def fit(data: TrainingData, config: FitConfig, cutoff_ms: int | None = None) -> tuple[lightgbm.Booster, dict[str, Any]]:
    """Trains on the groups before the cut-off (config's, unless given) and reports on the ones after it."""
    if cutoff_ms is None:
        cutoff_ms = config.split.cutoff_ms
    if cutoff_ms is None:
        assert config.split.validation_fraction is not None
        cutoff_ms = cutoff_for_fraction(data.group_time_ms, config.split.validation_fraction)
    train, valid = time_split(data, cutoff_ms)
    dropped = {"training": 0, "validation": 0}
    if config.drop_groups_without_relevance:
        train, dropped["training"] = with_relevance(train)
        valid, dropped["validation"] = with_relevance(valid)
        for name, side in (("training", train), ("validation", valid)):
            if side.group_sizes.size == 0:
                raise TrainerError(ErrorCode.SPLIT_EMPTY, f"no {name} group has a label above 0")

    params: dict[str, Any] = {
        "verbosity": -1,
        **config.lightgbm,
        "objective": "lambdarank",
        "metric": "ndcg",
        "eval_at": list(config.eval_at),
    }
    names = list(data.feature_names)
    train_set = lightgbm.Dataset(
        train.features,
        label=train.label,
        group=train.group_sizes,
        position=train.position if config.position_bias else None,
        feature_name=names,
        free_raw_data=True,
        params=params,
    )
    valid_set = lightgbm.Dataset(
        valid.features, label=valid.label, group=valid.group_sizes, feature_name=names, reference=train_set
    )
    history: dict[str, dict[str, list[float]]] = {}
    callbacks = [lightgbm.record_evaluation(history)]
    if config.early_stopping_rounds is not None:
        callbacks.append(
            _early_stopping(f"ndcg@{EARLY_STOPPING_AT}", config.early_stopping_rounds, config.early_stopping_min_rounds)
        )
    started = time.perf_counter()
    try:
        booster = lightgbm.train(
            params,
            train_set,
            num_boost_round=config.num_boost_round,
            valid_sets=[valid_set],
            valid_names=[VALIDATION],
            callbacks=callbacks,
        )
    except lightgbm.basic.LightGBMError as error:
        raise TrainerError(ErrorCode.DATA_INVALID, f"LightGBM refused the data or parameters: {error}") from error
    fit_seconds = time.perf_counter() - started

    curves = history.get(VALIDATION, {})
    rounds = len(curves.get(f"ndcg@{EARLY_STOPPING_AT}", []))
    best_iteration = booster.best_iteration if booster.best_iteration > 0 else rounds
    validation_at_best = {name: values[best_iteration - 1] for name, values in curves.items() if values}
    report: dict[str, Any] = {
        "lightgbm_version": lightgbm.__version__,
        "feature_names": names,
        "feature_spec_version": data.feature_spec_version,
        "cutoff": iso_from_ms(cutoff_ms),
        "cutoff_ms": cutoff_ms,
        "training": _describe(train),
        "validation": _describe(valid),
        "dropped_groups_without_relevance": dropped,
        "position_bias": {
            "enabled": config.position_bias,
            "distinct_positions": int(np.unique(train.position).size),
        },
        "rounds": rounds,
        "best_iteration": best_iteration,
        "early_stopped": config.early_stopping_rounds is not None and rounds < config.num_boost_round,
        "validation_metrics": validation_at_best,
        "validation_ndcg_at_10_by_round": curves.get(f"ndcg@{EARLY_STOPPING_AT}", []),
        "params": params,
        "num_boost_round": config.num_boost_round,
        "early_stopping_rounds": config.early_stopping_rounds,
        "early_stopping_min_rounds": config.early_stopping_min_rounds,
        "fit_seconds": round(fit_seconds, 3),
    }
    return booster, report


def run(
    data_path: Path,
    config_path: Path,
    out_dir: Path,
    cutoff: str | None = None,
    feature_names: list[str] | None = None,
    spec_version: str | None = None,
) -> dict[str, Any]:
    config = load_config(config_path)
    cutoff_ms = parse_cutoff(cutoff, "--cutoff") if cutoff is not None else None
    data = read_training_file(data_path, feature_names)
    if spec_version is not None:
        if data.feature_spec_version is not None and data.feature_spec_version != spec_version:
            raise TrainerError(
                ErrorCode.FEATURES_MISMATCH,
                f"the file follows feature spec '{data.feature_spec_version}', not '{spec_version}'",
            )
        data = replace(data, feature_spec_version=spec_version)
    booster, report = fit(data, config, cutoff_ms)
    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / MODEL_FILE
    booster.save_model(str(model_path), num_iteration=report["best_iteration"])
    report["model"] = str(model_path)
    report["num_trees"] = report["best_iteration"]
    (out_dir / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
    return report


def _main(argv: list[str]) -> dict[str, object]:
    parser = argparse.ArgumentParser(prog="python -m searchop_trainer.fit", description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, type=Path, help="training file (Parquet, see dataset.py)")
    parser.add_argument("--config", required=True, type=Path, help="hyper-parameter file (JSON, see config.py)")
    parser.add_argument("--out", required=True, type=Path, help="directory for model.txt and report.json")
    parser.add_argument("--cutoff", help="time cut-off (ISO-8601 with zone, or epoch ms); overrides the config's split")
    parser.add_argument("--feature-names", help="comma-separated feature columns the file must have, in order")
    parser.add_argument("--spec-version", help="feature-spec version the file follows (checked against its metadata)")
    args = parser.parse_args(argv)
    names = args.feature_names.split(",") if args.feature_names is not None else None
    report = run(args.data, args.config, args.out, args.cutoff, names, args.spec_version)
    return {key: report[key] for key in ("model", "best_iteration", "num_trees", "validation_metrics", "fit_seconds")}


if __name__ == "__main__":
    run_cli(_main)
