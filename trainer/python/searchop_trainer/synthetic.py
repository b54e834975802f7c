"""Synthetic search sessions in the training-file format, for tests and benchmarks (never for a real model).

Each query group is one served ranking of 10-40 products. A hidden relevance comes from a few of the features; an
earlier ranker ordered the products by a noisy copy of it that also promoted one irrelevant flag (that order is
`position`), and a shopper examined position p with probability 1/p, so labels carry position bias as real clicks do.
Feature columns mix the shapes real ones have: smooth values, counts, mostly-zero counters, flags, and columns with
missing values (null).

  python -m searchop_trainer.synthetic --out train.parquet [--groups 4000 --features 50 --seed 1 --days 28]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .dataset import LABEL, POSITION, QUERY_ID, SPEC_VERSION_KEY, TIMESTAMP
from .errors import run_cli

START_MS = 1_748_736_000_000  # 2025-06-01T00:00:00Z
DAY_MS = 86_400_000
SPEC_VERSION = "synthetic-1"
PROMOTED = 3  # a flag column
PROMOTION_BOOST = 2.5
PREVIOUS_RANKER_NOISE = 3.0
EXAMINATION_DECAY = 1.0


def feature_names(count: int) -> list[str]:
    return [f"f{i:02d}_{('smooth', 'count', 'sparse', 'flag', 'missing')[i % 5]}" for i in range(count)]


def sessions(groups: int, features: int, seed: int, days: int = 28) -> pa.Table:
    return sessions_with_grades(groups, features, seed, days)[0]


def sessions_with_grades(groups: int, features: int, seed: int, days: int = 28) -> tuple[pa.Table, np.ndarray]:
    """The sessions and, per row, the grade the shopper would have given had they examined every position."""
    if features <= PROMOTED:
        raise ValueError(f"at least {PROMOTED + 1} features are needed (column {PROMOTED} is the promoted flag)")
    rng = np.random.default_rng(seed)
    sizes = rng.integers(10, 41, size=groups)
    rows = int(sizes.sum())
    group_of_row = np.repeat(np.arange(groups), sizes)

    latent = rng.normal(size=(rows, features))
    x = np.empty((rows, features), dtype=np.float64)
    for j in range(features):
        kind = j % 5
        if kind == 0:
            x[:, j] = np.round(latent[:, j], 3)
        elif kind == 1:
            x[:, j] = rng.poisson(np.exp(0.8 * latent[:, j]))
        elif kind == 2:
            x[:, j] = np.where(rng.random(rows) < 0.7, 0.0, np.round(np.exp(latent[:, j]), 2))
        elif kind == 3:
            x[:, j] = (latent[:, j] > 0.3).astype(np.float64)
        else:
            x[:, j] = np.where(rng.random(rows) < 0.25, np.nan, np.round(latent[:, j] * 10, 1))

    weights = np.zeros(features)
    informative = rng.choice(features, size=min(features, 12), replace=False)
    weights[informative] = rng.normal(scale=0.6, size=informative.size)
    weights[PROMOTED] = 0.0
    relevance = np.nan_to_num(latent) @ weights + 0.5 * rng.normal(size=rows)

    # The earlier ranker also promoted products carrying flag PROMOTED, which says nothing about relevance: only a
    # model that corrects for position bias can tell that those products were clicked for being shown first.
    previous_ranker = relevance + PROMOTION_BOOST * x[:, PROMOTED] + rng.normal(scale=PREVIOUS_RANKER_NOISE, size=rows)
    position = np.empty(rows, dtype=np.int64)
    grade = np.zeros(rows, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    for start, size in zip(starts, sizes, strict=True):
        block = slice(start, start + size)
        order = np.argsort(-previous_ranker[block], kind="stable")
        position[start + order] = np.arange(1, size + 1)
        quantiles = np.quantile(relevance[block], [0.6, 0.85, 0.95])
        grade[block] = np.searchsorted(quantiles, relevance[block])
    examined = rng.random(rows) < 1.0 / position**EXAMINATION_DECAY
    label = np.where(examined, grade, 0)

    group_time = START_MS + np.sort(rng.integers(0, days * DAY_MS, size=groups))
    table = pa.table(
        {
            QUERY_ID: pa.array([f"q{g:07d}" for g in group_of_row]),
            LABEL: pa.array(label, pa.int32()),
            POSITION: pa.array(position, pa.int32()),
            TIMESTAMP: pa.array(group_time[group_of_row], pa.timestamp("ms", tz="UTC")),
            **{
                name: pa.array(x[:, j], pa.float64(), mask=np.isnan(x[:, j]))
                for j, name in enumerate(feature_names(features))
            },
        }
    )
    return table.replace_schema_metadata({SPEC_VERSION_KEY: SPEC_VERSION.encode()}), grade


def _main(argv: list[str]) -> dict[str, object]:
    parser = argparse.ArgumentParser(prog="python -m searchop_trainer.synthetic", description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--groups", type=int, default=4000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=28)
    args = parser.parse_args(argv)
    table = sessions(args.groups, args.features, args.seed, args.days)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, args.out)
    return {"out": str(args.out), "rows": table.num_rows, "groups": args.groups, "features": args.features}


if __name__ == "__main__":
    run_cli(_main)
