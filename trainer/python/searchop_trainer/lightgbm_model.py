"""LightGBM's text model format, read into plain data (no LightGBM needed).

The format is what Booster.model_to_string() writes: a `key=value` header, one `Tree=i` block per tree, then
`end of trees`. Thresholds and leaf values are written with 17 significant digits, so parsing them gives back the
exact doubles LightGBM predicts with. Node semantics follow include/LightGBM/tree.h (NumericalDecision):
decision_type bit 0 is "categorical", bit 1 "default left", bits 2-3 the missing-value type (0 None, 1 Zero, 2 NaN).
A child index >= 0 is an internal node, a negative one is the leaf ~index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import ErrorCode, TrainerError

# include/LightGBM/meta.h: kZeroThreshold = 1e-35f, a float literal widened to double. The predictor reads values with
# |x| <= kZeroThreshold as 0.0, and IsZero (missing type Zero) uses the same bound.
ZERO_THRESHOLD = 1.0000000180025095e-35

CATEGORICAL_MASK = 1
DEFAULT_LEFT_MASK = 2


class MissingType:
    NONE = 0
    ZERO = 1
    NAN = 2


@dataclass(frozen=True)
class Tree:
    split_feature: tuple[int, ...]
    threshold: tuple[float, ...]
    decision_type: tuple[int, ...]
    left_child: tuple[int, ...]
    right_child: tuple[int, ...]
    leaf_value: tuple[float, ...]

    @property
    def num_leaves(self) -> int:
        return len(self.leaf_value)


@dataclass(frozen=True)
class Model:
    version: str
    objective: str
    feature_names: tuple[str, ...]
    trees: tuple[Tree, ...]

    @property
    def num_features(self) -> int:
        return len(self.feature_names)


def missing_type(decision_type: int) -> int:
    return (decision_type >> 2) & 3


def default_left(decision_type: int) -> bool:
    return bool(decision_type & DEFAULT_LEFT_MASK)


def is_categorical(decision_type: int) -> bool:
    return bool(decision_type & CATEGORICAL_MASK)


def parse_model(text: str) -> Model:
    """Parses a LightGBM text model, refusing what an exact single-output tree-sum export cannot carry."""
    header_text, sep, rest = text.partition("\nTree=")
    if not sep:
        if text.startswith("tree\n") and "\nend of trees" in text:
            raise TrainerError(ErrorCode.MODEL_UNSUPPORTED, "the model has no trees")
        raise TrainerError(ErrorCode.MODEL_INVALID, "not a LightGBM text model (no 'Tree=' block)")
    header = _key_values(header_text.splitlines())
    if header_text.splitlines()[0:1] != ["tree"]:
        raise TrainerError(ErrorCode.MODEL_INVALID, "not a LightGBM text model (first line is not 'tree')")
    for key in ("num_class", "num_tree_per_iteration"):
        if header.get(key, "1") != "1":
            raise TrainerError(
                ErrorCode.MODEL_UNSUPPORTED, f"{key}={header[key]}: only single-output models (ranking) are exported"
            )
    if "average_output" in header_text.splitlines():
        raise TrainerError(ErrorCode.MODEL_UNSUPPORTED, "average_output (random forest mode) is not exported")
    max_feature_idx = _int(header, "max_feature_idx")
    names = header.get("feature_names", "").split(" ") if header.get("feature_names") else []
    if len(names) != max_feature_idx + 1:
        raise TrainerError(
            ErrorCode.MODEL_INVALID, f"feature_names has {len(names)} names but max_feature_idx is {max_feature_idx}"
        )

    trees_text = rest.partition("\nend of trees")[0]
    blocks = ("Tree=" + trees_text).split("\nTree=")
    trees = tuple(_parse_tree(i, block.splitlines()[1:], max_feature_idx) for i, block in enumerate(blocks))
    return Model(
        version=header.get("version", ""),
        objective=header.get("objective", ""),
        feature_names=tuple(names),
        trees=trees,
    )


def _parse_tree(index: int, lines: list[str], max_feature_idx: int) -> Tree:
    kv = _key_values(lines)
    where = f"Tree={index}"
    num_leaves = _int(kv, "num_leaves", where)
    if _int(kv, "num_cat", where) != 0:
        raise TrainerError(
            ErrorCode.MODEL_UNSUPPORTED, f"{where} has categorical splits; the exporter handles numerical splits only"
        )
    if kv.get("is_linear", "0") != "0":
        raise TrainerError(
            ErrorCode.MODEL_UNSUPPORTED, f"{where} is a linear tree; the exporter handles constant leaves"
        )
    leaf_value = tuple(_floats(kv, "leaf_value", where))
    if len(leaf_value) != num_leaves:
        raise TrainerError(ErrorCode.MODEL_INVALID, f"{where}: {len(leaf_value)} leaf values for {num_leaves} leaves")
    internal = num_leaves - 1
    if internal == 0:
        return Tree((), (), (), (), (), leaf_value)
    tree = Tree(
        split_feature=tuple(_ints(kv, "split_feature", where)),
        threshold=tuple(_floats(kv, "threshold", where)),
        decision_type=tuple(_ints(kv, "decision_type", where)),
        left_child=tuple(_ints(kv, "left_child", where)),
        right_child=tuple(_ints(kv, "right_child", where)),
        leaf_value=leaf_value,
    )
    for name in ("split_feature", "threshold", "decision_type", "left_child", "right_child"):
        if len(getattr(tree, name)) != internal:
            raise TrainerError(ErrorCode.MODEL_INVALID, f"{where}: {name} does not have {internal} entries")
    for node in range(internal):
        if is_categorical(tree.decision_type[node]):
            raise TrainerError(
                ErrorCode.MODEL_UNSUPPORTED, f"{where} node {node} is a categorical split; only numerical splits export"
            )
        if missing_type(tree.decision_type[node]) not in (MissingType.NONE, MissingType.ZERO, MissingType.NAN):
            raise TrainerError(ErrorCode.MODEL_INVALID, f"{where} node {node}: unknown missing type")
        if not 0 <= tree.split_feature[node] <= max_feature_idx:
            raise TrainerError(ErrorCode.MODEL_INVALID, f"{where} node {node}: split_feature out of range")
        if math.isnan(tree.threshold[node]):
            raise TrainerError(ErrorCode.MODEL_INVALID, f"{where} node {node}: threshold is NaN")
        for child in (tree.left_child[node], tree.right_child[node]):
            if not (0 < child < internal or 0 <= ~child < num_leaves):
                raise TrainerError(ErrorCode.MODEL_INVALID, f"{where} node {node}: child {child} out of range")
    return tree


def _key_values(lines: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if sep:
            out[key] = value
    return out


def _int(kv: dict[str, str], key: str, where: str = "header") -> int:
    try:
        return int(kv[key])
    except (KeyError, ValueError) as error:
        raise TrainerError(ErrorCode.MODEL_INVALID, f"{where}: '{key}' is missing or not an integer") from error


def _ints(kv: dict[str, str], key: str, where: str) -> list[int]:
    try:
        return [int(v) for v in kv[key].split(" ") if v]
    except (KeyError, ValueError) as error:
        raise TrainerError(ErrorCode.MODEL_INVALID, f"{where}: '{key}' is missing or not integers") from error


def _floats(kv: dict[str, str], key: str, where: str) -> list[float]:
    try:
        return [float(v) for v in kv[key].split(" ") if v]
    except (KeyError, ValueError) as error:
        raise TrainerError(ErrorCode.MODEL_INVALID, f"{where}: '{key}' is missing or not numbers") from error
