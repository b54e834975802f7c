"""The training file (the one format between the TypeScript pipeline and the fit step) and the time-based split.

A Parquet file, one row per (query group, shown product):
  query_id   string or integer   the query group: one ranking that was served (all its rows share one timestamp)
  label      integer >= 0        graded relevance (e.g. 0 shown, 1 clicked, 2 added to cart, 3 purchased)
  position   integer >= 0        where the product was shown in that ranking (position-bias correction)
  timestamp  timestamp or int64  when the ranking was served; integers are epoch milliseconds
  <features> numeric             every other column, in feature-spec order; null means missing (NaN)
Key-value metadata `searchop.feature_spec_version`, when present, names the feature spec the columns follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .errors import ErrorCode, TrainerError

QUERY_ID = "query_id"
LABEL = "label"
POSITION = "position"
TIMESTAMP = "timestamp"
RESERVED = (QUERY_ID, LABEL, POSITION, TIMESTAMP)
SPEC_VERSION_KEY = b"searchop.feature_spec_version"


@dataclass(frozen=True)
class TrainingData:
    """Rows ordered by (group time, group first appearance) so each group's rows are contiguous."""

    feature_names: tuple[str, ...]
    feature_spec_version: str | None
    features: np.ndarray  # float64 [rows, features], NaN = missing
    label: np.ndarray  # int32 [rows]
    position: np.ndarray  # int32 [rows]
    group_sizes: np.ndarray  # int64 [groups]
    group_time_ms: np.ndarray  # int64 [groups], ascending
    group_keys: np.ndarray  # [groups]

    @property
    def group_starts(self) -> np.ndarray:
        return np.concatenate(([0], np.cumsum(self.group_sizes)[:-1]))

    def select_groups(self, mask: np.ndarray) -> TrainingData:
        """The groups where `mask` holds; a contiguous run of groups is a view (no copy of the features)."""
        if mask.all():
            return self
        chosen = np.flatnonzero(mask)
        if chosen.size and chosen[-1] - chosen[0] + 1 == chosen.size:
            starts = self.group_starts
            first, last = int(chosen[0]), int(chosen[-1])
            rows: slice | np.ndarray = slice(int(starts[first]), int(starts[last] + self.group_sizes[last]))
            groups: slice | np.ndarray = slice(first, last + 1)
        else:
            rows = np.repeat(mask, self.group_sizes)
            groups = mask
        return TrainingData(
            feature_names=self.feature_names,
            feature_spec_version=self.feature_spec_version,
            features=self.features[rows],
            label=self.label[rows],
            position=self.position[rows],
            group_sizes=self.group_sizes[groups],
            group_time_ms=self.group_time_ms[groups],
            group_keys=self.group_keys[groups],
        )


def _invalid(message: str) -> TrainerError:
    return TrainerError(ErrorCode.DATA_INVALID, message)


def _integers(table: pa.Table, name: str) -> np.ndarray:
    column = table.column(name)
    if not pa.types.is_integer(column.type):
        raise _invalid(f"column '{name}' must be integers, is {column.type}")
    if column.null_count:
        raise _invalid(f"column '{name}' has {column.null_count} nulls")
    values = column.to_numpy().astype(np.int64)
    if values.size and values.min() < 0:
        raise _invalid(f"column '{name}' has negative values")
    return values


def _timestamps_ms(table: pa.Table) -> np.ndarray:
    column = table.column(TIMESTAMP)
    if column.null_count:
        raise _invalid(f"column '{TIMESTAMP}' has {column.null_count} nulls")
    if pa.types.is_timestamp(column.type):
        return pc.cast(pc.cast(column, pa.timestamp("ms", tz=column.type.tz)), pa.int64()).to_numpy()
    if pa.types.is_integer(column.type):
        return column.to_numpy().astype(np.int64)
    raise _invalid(f"column '{TIMESTAMP}' must be a timestamp or epoch milliseconds, is {column.type}")


def read_training_file(path: Path, expected_features: list[str] | None = None) -> TrainingData:
    """Reads the file into one float64 feature matrix, a column at a time (the peak is the matrix plus one column).

    The TypeScript side writes rows grouped and in time order; only a file that is not gets its rows permuted (a copy).
    """
    try:
        parquet = pq.ParquetFile(path)
        schema = parquet.schema_arrow
    except (OSError, pa.ArrowException) as error:
        raise _invalid(f"cannot read {path} as Parquet: {error}") from error
    missing = [name for name in RESERVED if name not in schema.names]
    if missing:
        raise _invalid(f"{path} lacks the columns {', '.join(missing)} (required: {', '.join(RESERVED)})")
    feature_names = [name for name in schema.names if name not in RESERVED]
    if not feature_names:
        raise _invalid(f"{path} has no feature columns")
    if expected_features is not None and feature_names != expected_features:
        raise TrainerError(
            ErrorCode.FEATURES_MISMATCH,
            f"feature columns {feature_names} differ from the expected {expected_features}",
        )
    if parquet.metadata.num_rows == 0:
        raise _invalid(f"{path} has no rows")

    def read(names: list[str]) -> pa.Table:
        try:
            return parquet.read(columns=names)
        except (OSError, pa.ArrowException) as error:
            raise _invalid(f"cannot read {path} as Parquet: {error}") from error

    table = read(list(RESERVED))
    label = _integers(table, LABEL)
    position = _integers(table, POSITION)
    time_ms = _timestamps_ms(table)
    query = table.column(QUERY_ID)
    if query.null_count:
        raise _invalid(f"column '{QUERY_ID}' has {query.null_count} nulls")
    keys, first_row, group_of_row = np.unique(
        query.to_numpy(zero_copy_only=False), return_index=True, return_inverse=True
    )
    del table, query
    group_time = np.full(keys.size, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(group_time, group_of_row, time_ms)
    group_order = np.lexsort((first_row, group_time))
    rank_of_group = np.empty_like(group_order)
    rank_of_group[group_order] = np.arange(group_order.size)
    row_order = np.argsort(rank_of_group[group_of_row], kind="stable")
    in_order = bool(np.array_equal(row_order, np.arange(row_order.size)))

    features = np.empty((label.size, len(feature_names)), dtype=np.float64)
    for j, name in enumerate(feature_names):
        column = read([name]).column(0)
        if not (
            pa.types.is_floating(column.type) or pa.types.is_integer(column.type) or pa.types.is_boolean(column.type)
        ):
            raise _invalid(f"feature column '{name}' must be numeric, is {column.type}")
        values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
        if np.isinf(values).any():
            raise _invalid(f"feature '{name}' has +-Infinity; use null for missing values")
        features[:, j] = values
    if not in_order:
        features = features[row_order]

    spec = (schema.metadata or {}).get(SPEC_VERSION_KEY)
    return TrainingData(
        feature_names=tuple(feature_names),
        feature_spec_version=spec.decode() if spec is not None else None,
        features=features,
        label=label[row_order].astype(np.int32),
        position=position[row_order].astype(np.int32),
        group_sizes=np.bincount(group_of_row, minlength=keys.size)[group_order].astype(np.int64),
        group_time_ms=group_time[group_order],
        group_keys=keys[group_order],
    )


def cutoff_for_fraction(group_time_ms: np.ndarray, validation_fraction: float) -> int:
    """The group time from which about `validation_fraction` of the groups (the latest ones) form the validation set."""
    index = min(max(int(np.floor(group_time_ms.size * (1 - validation_fraction))), 1), group_time_ms.size - 1)
    return int(group_time_ms[index])


def time_split(data: TrainingData, cutoff_ms: int) -> tuple[TrainingData, TrainingData]:
    """Groups served before the cut-off train, the rest validate; a group is never split and nothing is shuffled."""
    validation = data.group_time_ms >= cutoff_ms
    train, valid = data.select_groups(~validation), data.select_groups(validation)
    for name, side in (("training", train), ("validation", valid)):
        if side.group_sizes.size == 0:
            raise TrainerError(
                ErrorCode.SPLIT_EMPTY,
                f"the cut-off leaves no {name} groups (groups span {int(data.group_time_ms[0])}.."
                f"{int(data.group_time_ms[-1])} ms, cut-off {cutoff_ms} ms)",
            )
    return train, valid


def with_relevance(data: TrainingData) -> tuple[TrainingData, int]:
    """Drops the groups whose labels are all zero; returns the kept data and how many groups went."""
    starts = data.group_starts
    best = np.maximum.reduceat(data.label, starts) if starts.size else np.array([], dtype=np.int32)
    keep = best > 0
    return data.select_groups(keep), int((~keep).sum())
