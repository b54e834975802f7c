"""LightGBM text model -> ONNX graph that scores exactly as LightGBM does.

Why not onnxmltools: it writes float32 thresholds and leaf values, so a feature value sitting on a split threshold can
take the other branch. Here every tree goes into one ai.onnx.ml opset-5 TreeEnsemble whose splits and leaf weights are
doubles, evaluated on double input, so each comparison is the one LightGBM makes (tree.h NumericalDecision), as a
BRANCH_LEQ node whose missing_value_tracks_true sends NaN where LightGBM sends it:

  missing type NaN : NaN goes the default direction; otherwise x <= t.
  missing type None: NaN is read as 0.0, so it goes left iff 0 <= t.
  missing type Zero: NaN and zero go the default direction; otherwise x <= t. These splits read a copy of the
                     feature with zero replaced by NaN (columns F..2F-1 of the ensemble's input), so one LEQ node
                     with the default direction as its NaN branch is exact whatever the threshold.

Before the trees, values with |x| <= kZeroThreshold (1e-35f as a double) become 0.0: LightGBM's predictor drops them
from the row as zeros (c_api.cpp RowFunctionFromDenseMatric), and its thresholds include +-kZeroThreshold itself.

Graph: input "features" double [N, F] in the feature-spec order, output "score" double [N] (raw lambdarank score).
The feature names and the feature-spec version are in the model's metadata_props for the ranker to check at load.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .errors import ErrorCode, TrainerError, run_cli
from .lightgbm_model import ZERO_THRESHOLD, MissingType, Model, Tree, default_left, missing_type, parse_model

INPUT_NAME = "features"
OUTPUT_NAME = "score"
EXPORTER = "searchop_trainer.export_onnx/1"
OPSET_DEFAULT = 21
OPSET_ML = 5
IR_VERSION = 10

_BRANCH_LEQ = 0


class MetadataKey:
    FEATURE_NAMES = "searchop.feature_names"
    FEATURE_SPEC_VERSION = "searchop.feature_spec_version"
    EXPORTER = "searchop.exporter"
    SOURCE_SHA256 = "searchop.lightgbm_model_sha256"
    OBJECTIVE = "searchop.objective"
    NUM_TREES = "searchop.num_trees"


@dataclass
class _Ensemble:
    featureids: list[int] = field(default_factory=list)
    modes: list[int] = field(default_factory=list)
    splits: list[float] = field(default_factory=list)
    truenodeids: list[int] = field(default_factory=list)
    trueleafs: list[int] = field(default_factory=list)
    falsenodeids: list[int] = field(default_factory=list)
    falseleafs: list[int] = field(default_factory=list)
    missing_tracks_true: list[int] = field(default_factory=list)
    leaf_weights: list[float] = field(default_factory=list)
    tree_roots: list[int] = field(default_factory=list)

    def node(self, feature: int, mode: int, split: float, missing_tracks_true: bool) -> int:
        self.featureids.append(feature)
        self.modes.append(mode)
        self.splits.append(split)
        self.missing_tracks_true.append(int(missing_tracks_true))
        for column in (self.truenodeids, self.trueleafs, self.falsenodeids, self.falseleafs):
            column.append(-1)
        return len(self.modes) - 1

    def link(self, node: int, true: tuple[bool, int], false: tuple[bool, int]) -> None:
        self.trueleafs[node], self.truenodeids[node] = int(true[0]), true[1]
        self.falseleafs[node], self.falsenodeids[node] = int(false[0]), false[1]

    def leaf(self, weight: float) -> tuple[bool, int]:
        self.leaf_weights.append(weight)
        return True, len(self.leaf_weights) - 1


def _add_tree(ensemble: _Ensemble, tree: Tree, num_features: int) -> None:
    if tree.num_leaves == 1:
        # A root must be a node; one whose branches both reach the single leaf is what ORT reads as a leaf-only tree.
        root = ensemble.node(0, _BRANCH_LEQ, 0.0, False)
        leaf = ensemble.leaf(tree.leaf_value[0])
        ensemble.link(root, leaf, leaf)
        ensemble.tree_roots.append(root)
        return
    ensemble.tree_roots.append(_emit(ensemble, tree, 0, num_features)[1])


def _emit(ensemble: _Ensemble, tree: Tree, ref: int, num_features: int) -> tuple[bool, int]:
    if ref < 0:
        return ensemble.leaf(tree.leaf_value[~ref])
    feature, threshold, decision = tree.split_feature[ref], tree.threshold[ref], tree.decision_type[ref]
    missing = missing_type(decision)
    if missing == MissingType.NONE:
        # NaN is read as 0.0.
        node = ensemble.node(feature, _BRANCH_LEQ, threshold, 0.0 <= threshold)
    elif missing == MissingType.ZERO:
        # On the zero-as-NaN copy of the feature, zero and NaN both take the default direction.
        node = ensemble.node(num_features + feature, _BRANCH_LEQ, threshold, default_left(decision))
    else:
        node = ensemble.node(feature, _BRANCH_LEQ, threshold, default_left(decision))
    left = _emit(ensemble, tree, tree.left_child[ref], num_features)
    right = _emit(ensemble, tree, tree.right_child[ref], num_features)
    ensemble.link(node, left, right)
    return False, node


def uses_zero_as_missing(model: Model) -> bool:
    return any(missing_type(d) == MissingType.ZERO for tree in model.trees for d in tree.decision_type)


def build_onnx(
    model: Model,
    feature_names: list[str],
    spec_version: str,
    source_text: str,
) -> onnx.ModelProto:
    """The ONNX model for a parsed LightGBM model; feature_names must be the model's, in the model's column order."""
    if len(feature_names) != model.num_features:
        raise TrainerError(
            ErrorCode.FEATURES_MISMATCH,
            f"{len(feature_names)} feature names given but the model has {model.num_features} features",
        )
    ensemble = _Ensemble()
    deepest = max(tree.num_leaves for tree in model.trees)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * deepest + 100))
    for tree in model.trees:
        _add_tree(ensemble, tree, model.num_features)

    zero_as_missing = uses_zero_as_missing(model)
    tree_input = "features_and_zero_as_nan" if zero_as_missing else "features_or_zero"
    trees = helper.make_node(
        "TreeEnsemble",
        [tree_input],
        ["tree_sum"],
        domain="ai.onnx.ml",
        name="lightgbm_trees",
        aggregate_function=1,
        post_transform=0,
        n_targets=1,
        tree_roots=ensemble.tree_roots,
        nodes_featureids=ensemble.featureids,
        nodes_modes=numpy_helper.from_array(np.asarray(ensemble.modes, dtype=np.uint8), "nodes_modes"),
        nodes_splits=numpy_helper.from_array(np.asarray(ensemble.splits, dtype=np.float64), "nodes_splits"),
        nodes_truenodeids=ensemble.truenodeids,
        nodes_trueleafs=ensemble.trueleafs,
        nodes_falsenodeids=ensemble.falsenodeids,
        nodes_falseleafs=ensemble.falseleafs,
        nodes_missing_value_tracks_true=ensemble.missing_tracks_true,
        leaf_targetids=[0] * len(ensemble.leaf_weights),
        leaf_weights=numpy_helper.from_array(np.asarray(ensemble.leaf_weights, dtype=np.float64), "leaf_weights"),
    )
    nodes = [
        helper.make_node("Abs", [INPUT_NAME], ["magnitude"]),
        helper.make_node("LessOrEqual", ["magnitude", "zero_threshold"], ["is_zero"]),
        helper.make_node("Where", ["is_zero", "zero", INPUT_NAME], ["features_or_zero"]),
    ]
    if zero_as_missing:
        # Columns F..2F-1: the features with zero replaced by NaN, read by the splits of missing type Zero.
        nodes += [
            helper.make_node("Equal", ["features_or_zero", "zero"], ["equals_zero"]),
            helper.make_node("Where", ["equals_zero", "nan", "features_or_zero"], ["zero_as_nan"]),
            helper.make_node("Concat", ["features_or_zero", "zero_as_nan"], [tree_input], axis=1),
        ]
    nodes += [trees, helper.make_node("Reshape", ["tree_sum", "flat"], [OUTPUT_NAME])]
    graph = helper.make_graph(
        nodes,
        "searchop_ranker",
        inputs=[helper.make_tensor_value_info(INPUT_NAME, TensorProto.DOUBLE, ["N", model.num_features])],
        outputs=[helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.DOUBLE, ["N"])],
        initializer=[
            numpy_helper.from_array(np.array(ZERO_THRESHOLD, dtype=np.float64), "zero_threshold"),
            numpy_helper.from_array(np.array(0.0, dtype=np.float64), "zero"),
            numpy_helper.from_array(np.array([-1], dtype=np.int64), "flat"),
            *([numpy_helper.from_array(np.array(np.nan, dtype=np.float64), "nan")] if zero_as_missing else []),
        ],
    )
    onnx_model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET_DEFAULT), helper.make_opsetid("ai.onnx.ml", OPSET_ML)],
        producer_name="searchop-trainer",
        doc_string="LightGBM lambdarank scores; input columns in the feature-spec order (see metadata_props).",
    )
    onnx_model.ir_version = IR_VERSION
    helper.set_model_props(
        onnx_model,
        {
            MetadataKey.FEATURE_NAMES: json.dumps(feature_names),
            MetadataKey.FEATURE_SPEC_VERSION: spec_version,
            MetadataKey.EXPORTER: EXPORTER,
            MetadataKey.SOURCE_SHA256: hashlib.sha256(source_text.encode()).hexdigest(),
            MetadataKey.OBJECTIVE: model.objective,
            MetadataKey.NUM_TREES: str(len(model.trees)),
        },
    )
    onnx.checker.check_model(onnx_model, full_check=True)
    return onnx_model


def resolve_feature_names(model: Model, given: list[str] | None) -> list[str]:
    """The names to record: the model's own, checked against the caller's list when one is given."""
    own = list(model.feature_names)
    if given is None:
        return own
    if len(given) != len(own):
        raise TrainerError(
            ErrorCode.FEATURES_MISMATCH, f"{len(given)} feature names given but the model has {len(own)} features"
        )
    lightgbm_defaults = [f"Column_{i}" for i in range(len(own))]
    if own != lightgbm_defaults and own != given:
        differing = [
            f"#{i}: model '{m}' vs given '{g}'" for i, (m, g) in enumerate(zip(own, given, strict=True)) if m != g
        ]
        raise TrainerError(
            ErrorCode.FEATURES_MISMATCH, "feature names differ from the model's: " + "; ".join(differing[:5])
        )
    return list(given)


def export(
    model_path: Path,
    out_path: Path,
    spec_version: str,
    feature_names: list[str] | None = None,
    verify: bool = True,
) -> dict[str, object]:
    try:
        text = model_path.read_text()
    except OSError as error:
        raise TrainerError(ErrorCode.MODEL_INVALID, f"cannot read {model_path}: {error}") from error
    started = time.perf_counter()
    model = parse_model(text)
    names = resolve_feature_names(model, feature_names)
    onnx_model = build_onnx(model, names, spec_version, text)
    payload = onnx_model.SerializeToString()
    result: dict[str, object] = {
        "onnx": str(out_path),
        "trees": len(model.trees),
        "features": len(names),
        "bytes": len(payload),
        "export_seconds": round(time.perf_counter() - started, 3),
    }
    if verify:
        from .parity import check_parity

        started = time.perf_counter()
        result["parity"] = check_parity(text, payload).as_dict()
        result["parity_seconds"] = round(time.perf_counter() - started, 3)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".tmp")
    tmp.write_bytes(payload)
    tmp.replace(out_path)
    return result


def _main(argv: list[str]) -> dict[str, object]:
    parser = argparse.ArgumentParser(prog="python -m searchop_trainer.export_onnx", description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, type=Path, help="LightGBM text model (model_to_string)")
    parser.add_argument("--out", required=True, type=Path, help="ONNX file to write")
    parser.add_argument("--spec-version", required=True, help="feature-spec version recorded in metadata_props")
    parser.add_argument(
        "--feature-names",
        help="comma-separated names in column order; checked against the model's (default: the model's own)",
    )
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="skip the parity check against LightGBM on a threshold-heavy sample (on by default)",
    )
    args = parser.parse_args(argv)
    names = args.feature_names.split(",") if args.feature_names is not None else None
    return export(args.model, args.out, args.spec_version, names, verify=not args.no_verify)


if __name__ == "__main__":
    run_cli(_main)
