"""The fit step's hyper-parameter file (trainer/config/lightgbm.json), checked before any data is read.

Keys (see trainer/python/README.md for the meaning of each):
  lightgbm                      LightGBM parameters, passed through; the keys the fit step owns are refused.
  num_boost_round               upper bound on trees.
  early_stopping_rounds         stop when validation NDCG@10 has not improved for this many rounds; null disables.
  early_stopping_min_rounds     trees always kept (default 0): the best round is searched from this round on. Click
                                labels are position-biased while the model is trained to undo that bias (position
                                above), so validation NDCG@10 on clicks favours the logged order and can peak at the
                                first tree while the ranking by true relevance is still improving.
  eval_at                       NDCG cut-offs reported on validation; 10 is always added, and only it drives early
                                stopping.
  split                         {"cutoff": ISO-8601 or epoch ms} or {"validation_fraction": 0 < f < 1}.
  position_bias                 true: LightGBM learns position bias from the `position` column (Dataset.position).
  drop_groups_without_relevance true: groups whose labels are all 0 are left out (no gradient; NDCG reads them as 1).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import ErrorCode, TrainerError

EARLY_STOPPING_AT = 10

# Parameters the fit step sets itself; a config naming them (or a LightGBM alias of them) is refused.
_OWNED_PARAMETERS = {
    "objective": "the objective is lambdarank",
    "objective_type": "the objective is lambdarank",
    "app": "the objective is lambdarank",
    "application": "the objective is lambdarank",
    "loss": "the objective is lambdarank",
    "metric": "the metric is NDCG (see eval_at)",
    "metrics": "the metric is NDCG (see eval_at)",
    "metric_types": "the metric is NDCG (see eval_at)",
    "eval_at": "use the top-level eval_at",
    "ndcg_eval_at": "use the top-level eval_at",
    "ndcg_at": "use the top-level eval_at",
    "map_eval_at": "use the top-level eval_at",
    "map_at": "use the top-level eval_at",
    "num_iterations": "use num_boost_round",
    "num_iteration": "use num_boost_round",
    "n_iter": "use num_boost_round",
    "num_tree": "use num_boost_round",
    "num_trees": "use num_boost_round",
    "num_round": "use num_boost_round",
    "num_rounds": "use num_boost_round",
    "nrounds": "use num_boost_round",
    "num_boost_round": "use the top-level num_boost_round",
    "n_estimators": "use num_boost_round",
    "max_iter": "use num_boost_round",
    "early_stopping_round": "use early_stopping_rounds",
    "early_stopping_rounds": "use the top-level early_stopping_rounds",
    "early_stopping": "use early_stopping_rounds",
    "n_iter_no_change": "use early_stopping_rounds",
    "first_metric_only": "early stopping always uses NDCG@10",
    "categorical_feature": "categorical splits are not exported",
    "cat_feature": "categorical splits are not exported",
    "categorical_column": "categorical splits are not exported",
    "cat_column": "categorical splits are not exported",
    "categorical_features": "categorical splits are not exported",
    "linear_tree": "linear trees are not exported",
    "linear_trees": "linear trees are not exported",
}

_TOP_LEVEL = {
    "lightgbm",
    "num_boost_round",
    "early_stopping_rounds",
    "early_stopping_min_rounds",
    "eval_at",
    "split",
    "position_bias",
    "drop_groups_without_relevance",
}


@dataclass(frozen=True)
class SplitConfig:
    cutoff_ms: int | None
    validation_fraction: float | None


@dataclass(frozen=True)
class FitConfig:
    lightgbm: dict[str, Any]
    num_boost_round: int
    early_stopping_rounds: int | None
    early_stopping_min_rounds: int
    eval_at: tuple[int, ...]
    split: SplitConfig
    position_bias: bool
    drop_groups_without_relevance: bool


def _fail(message: str) -> TrainerError:
    return TrainerError(ErrorCode.CONFIG_INVALID, message)


def parse_cutoff(value: object, key: str = "split.cutoff") -> int:
    """An instant as epoch milliseconds: an integer, or an ISO-8601 string (a time zone is required)."""
    if isinstance(value, bool):
        raise _fail(f"{key}: expected an ISO-8601 timestamp or epoch milliseconds, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if value.strip().lstrip("-").isdigit():
            return int(value)
        try:
            instant = datetime.fromisoformat(value)
        except ValueError as error:
            raise _fail(f"{key}: '{value}' is not an ISO-8601 timestamp") from error
        if instant.tzinfo is None:
            raise _fail(f"{key}: '{value}' has no time zone (add Z or an offset)")
        return int(instant.timestamp() * 1000)
    raise _fail(f"{key}: expected an ISO-8601 timestamp or epoch milliseconds, got {value!r}")


def iso_from_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _positive_int(raw: dict[str, Any], key: str) -> int:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _fail(f"{key}: expected a positive integer, got {value!r}")
    return value


def _bool(raw: dict[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise _fail(f"{key}: expected true or false, got {value!r}")
    return value


def parse_config(raw: object) -> FitConfig:
    if not isinstance(raw, dict):
        raise _fail("the config must be a JSON object")
    unknown = sorted(set(raw) - _TOP_LEVEL)
    if unknown:
        raise _fail(f"unknown keys: {', '.join(unknown)} (known: {', '.join(sorted(_TOP_LEVEL))})")

    params = raw.get("lightgbm", {})
    if not isinstance(params, dict):
        raise _fail("lightgbm: expected an object of LightGBM parameters")
    for key in params:
        if key in _OWNED_PARAMETERS:
            raise _fail(f"lightgbm.{key}: set by the fit step ({_OWNED_PARAMETERS[key]})")

    if "early_stopping_rounds" not in raw:
        raise _fail("early_stopping_rounds: required (a positive integer, or null to train all num_boost_round trees)")
    early = raw["early_stopping_rounds"]
    if early is not None:
        early = _positive_int(raw, "early_stopping_rounds")

    min_rounds = raw.get("early_stopping_min_rounds", 0)
    if isinstance(min_rounds, bool) or not isinstance(min_rounds, int) or min_rounds < 0:
        raise _fail(f"early_stopping_min_rounds: expected an integer >= 0, got {min_rounds!r}")

    eval_at_raw = raw.get("eval_at", [EARLY_STOPPING_AT])
    if not isinstance(eval_at_raw, list) or not all(
        isinstance(k, int) and not isinstance(k, bool) and k > 0 for k in eval_at_raw
    ):
        raise _fail(f"eval_at: expected a list of positive integers, got {eval_at_raw!r}")
    eval_at = tuple(sorted(set(eval_at_raw) | {EARLY_STOPPING_AT}))

    split_raw = raw.get("split")
    if (
        not isinstance(split_raw, dict)
        or len(split_raw) != 1
        or not set(split_raw) <= {"cutoff", "validation_fraction"}
    ):
        raise _fail('split: expected {"cutoff": <ISO-8601 or epoch ms>} or {"validation_fraction": <0..1>}')
    if "cutoff" in split_raw:
        split = SplitConfig(cutoff_ms=parse_cutoff(split_raw["cutoff"]), validation_fraction=None)
    else:
        fraction = split_raw["validation_fraction"]
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
            raise _fail(f"split.validation_fraction: expected a number strictly between 0 and 1, got {fraction!r}")
        split = SplitConfig(cutoff_ms=None, validation_fraction=float(fraction))

    num_boost_round = _positive_int(raw, "num_boost_round")
    if min_rounds > num_boost_round:
        raise _fail(f"early_stopping_min_rounds ({min_rounds}) exceeds num_boost_round ({num_boost_round})")
    return FitConfig(
        lightgbm=dict(params),
        num_boost_round=num_boost_round,
        early_stopping_rounds=early,
        early_stopping_min_rounds=min_rounds,
        eval_at=eval_at,
        split=split,
        position_bias=_bool(raw, "position_bias", True),
        drop_groups_without_relevance=_bool(raw, "drop_groups_without_relevance", True),
    )


def load_config(path: Path) -> FitConfig:
    try:
        raw = json.loads(path.read_text())
    except OSError as error:
        raise _fail(f"cannot read {path}: {error}") from error
    except json.JSONDecodeError as error:
        raise _fail(f"{path} is not valid JSON: {error}") from error
    return parse_config(raw)
