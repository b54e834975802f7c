from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import lightgbm
import numpy as np
import pyarrow.parquet as pq
import pytest

from searchop_trainer.lightgbm_model import Model, parse_model
from searchop_trainer.synthetic import sessions

CONFIG_FILE = Path(__file__).resolve().parents[2] / "config" / "lightgbm.json"


@dataclass(frozen=True)
class TrainedModel:
    text: str
    model: Model


def _ranking_data(seed: int, rows_per_group: int = 20, groups: int = 400, features: int = 32):
    rng = np.random.default_rng(seed)
    rows = rows_per_group * groups
    x = rng.normal(size=(rows, features))
    x[:, 1::4] = np.where(rng.random((rows, x[:, 1::4].shape[1])) < 0.3, np.nan, x[:, 1::4])
    x[:, 2::4] = np.where(rng.random((rows, x[:, 2::4].shape[1])) < 0.5, 0.0, x[:, 2::4])
    x[:, 3::4] = rng.integers(0, 6, size=(rows, x[:, 3::4].shape[1]))
    signal = np.nan_to_num(x) @ rng.normal(size=features) + np.isnan(x[:, 1]) * 1.5
    label = np.clip(np.digitize(signal + rng.normal(size=rows), [0.5, 2.0, 3.5]), 0, 3)
    return x, label, [rows_per_group] * groups


def _train(params: dict[str, object], seed: int, rounds: int) -> TrainedModel:
    x, label, group = _ranking_data(seed)
    booster = lightgbm.train(
        {
            "objective": "lambdarank",
            "verbosity": -1,
            "num_leaves": 31,
            "min_data_in_leaf": 5,
            "seed": seed,
            "num_threads": 1,
            **params,
        },
        lightgbm.Dataset(x, label, group=group),
        num_boost_round=rounds,
    )
    text = booster.model_to_string()
    return TrainedModel(text, parse_model(text))


@pytest.fixture(scope="session")
def nan_model() -> TrainedModel:
    """Missing values as NaN: splits of missing type None (features without NaN) and NaN, both default directions."""
    return _train({}, seed=11, rounds=120)


@pytest.fixture(scope="session")
def zero_model() -> TrainedModel:
    """zero_as_missing: splits of missing type Zero, including ones where zero goes against `0 <= threshold`."""
    return _train({"zero_as_missing": True}, seed=12, rounds=120)


@pytest.fixture(scope="session")
def synthetic_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "sessions.parquet"
    pq.write_table(sessions(groups=900, features=30, seed=3, days=21), path)
    return path


@pytest.fixture
def base_config() -> dict[str, object]:
    """The shipped hyper-parameters, on one thread: small fits spend more on OpenMP hand-offs than on work.

    Without the floor of trees (early_stopping_min_rounds): tests choose their own numbers of rounds, and the floor
    has its own test.
    """
    config = json.loads(CONFIG_FILE.read_text())
    return {**config, "lightgbm": {**config["lightgbm"], "num_threads": 1}, "early_stopping_min_rounds": 0}


def run_module(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m module args` in this interpreter, as the TypeScript wrapper runs it."""
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, check=False)


def typed_error_code(done: subprocess.CompletedProcess[str]) -> str:
    """The code of a CLI's typed failure: exit status 2 and a JSON error as the last stderr line."""
    assert done.returncode == 2, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])["error"]["code"]
