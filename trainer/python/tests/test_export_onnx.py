from __future__ import annotations

import json
from pathlib import Path

import lightgbm
import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from searchop_trainer.errors import ErrorCode, TrainerError
from searchop_trainer.export_onnx import INPUT_NAME, OUTPUT_NAME, MetadataKey, build_onnx, resolve_feature_names
from searchop_trainer.lightgbm_model import ZERO_THRESHOLD, MissingType, default_left, missing_type, parse_model
from searchop_trainer.parity import (
    PARITY_TOLERANCE,
    check_parity,
    compare,
    lightgbm_scores,
    model_thresholds,
    onnx_scores,
    threshold_sample,
)

from .conftest import TrainedModel, run_module, typed_error_code


def _export(trained: TrainedModel) -> onnx.ModelProto:
    return build_onnx(trained.model, list(trained.model.feature_names), "test-1", trained.text)


def _trees_node(model: onnx.ModelProto) -> onnx.NodeProto:
    return next(node for node in model.graph.node if node.op_type == "TreeEnsemble")


def _attribute(node: onnx.NodeProto, name: str) -> onnx.AttributeProto:
    return next(a for a in node.attribute if a.name == name)


@pytest.mark.parametrize("fixture", ["nan_model", "zero_model"])
@pytest.mark.parametrize("threads", [1, 0])
def test_scores_equal_lightgbm_on_values_at_thresholds(request: pytest.FixtureRequest, fixture: str, threads: int):
    trained: TrainedModel = request.getfixturevalue(fixture)
    x = threshold_sample(trained.model, 6000, np.random.default_rng(5))
    groups = np.arange(x.shape[0]) // 30

    expected = lightgbm_scores(trained.text, x)
    actual = onnx_scores(_export(trained).SerializeToString(), x, threads=threads)
    report = compare(expected, actual, groups, x, trained.model)

    assert report.max_abs_diff <= PARITY_TOLERANCE
    assert report.top10_identical
    if threads == 1:
        # One thread sums the trees in LightGBM's order: not merely close, the same doubles.
        assert np.array_equal(expected, actual)


def test_sample_puts_values_on_and_beside_every_threshold(nan_model: TrainedModel):
    x = threshold_sample(nan_model.model, 6000, np.random.default_rng(5))
    for feature, values in enumerate(model_thresholds(nan_model.model)):
        if values.size == 0:
            continue
        column = x[:, feature]
        assert np.isin(column, values).mean() > 0.3
        assert np.isin(column, np.nextafter(values, np.inf)).any()
        assert np.isin(column, np.nextafter(values, -np.inf)).any()
        assert np.isnan(column).any()
        assert (column == 0).any()
        assert np.isin(column, [ZERO_THRESHOLD, -ZERO_THRESHOLD]).any()


def test_fixtures_cover_every_missing_type_and_default_direction(nan_model: TrainedModel, zero_model: TrainedModel):
    seen = {
        (missing_type(decision), default_left(decision))
        for trained in (nan_model, zero_model)
        for tree in trained.model.trees
        for decision in tree.decision_type
    }
    for kind in (MissingType.NONE, MissingType.ZERO, MissingType.NAN):
        assert (kind, True) in seen or (kind, False) in seen
    assert (MissingType.NAN, True) in seen and (MissingType.NAN, False) in seen
    assert (MissingType.ZERO, True) in seen and (MissingType.ZERO, False) in seen

    # The case a plain `x <= t` gets wrong: missing type Zero where zero's default side is not the side 0 <= t picks.
    against = [
        (tree.threshold[i], default_left(d))
        for tree in zero_model.model.trees
        for i, d in enumerate(tree.decision_type)
        if missing_type(d) == MissingType.ZERO and (0.0 <= tree.threshold[i]) != default_left(d)
    ]
    assert len(against) > 0
    graph_ops = [node.op_type for node in _export(zero_model).graph.node]
    assert "Concat" in graph_ops and "Concat" not in [node.op_type for node in _export(nan_model).graph.node]


def test_float32_thresholds_fail_the_same_check(nan_model: TrainedModel):
    """Control: the sample catches the onnxmltools failure mode (float32 splits), so its passing means something."""
    exported = _export(nan_model)
    splits = _attribute(_trees_node(exported), "nodes_splits")
    rounded = numpy_helper.to_array(splits.t).astype(np.float32).astype(np.float64)
    splits.t.CopyFrom(numpy_helper.from_array(rounded, "nodes_splits"))

    x = threshold_sample(nan_model.model, 6000, np.random.default_rng(5))
    report = compare(
        lightgbm_scores(nan_model.text, x),
        onnx_scores(exported.SerializeToString(), x),
        np.arange(x.shape[0]) // 30,
        x,
        nan_model.model,
    )

    assert report.max_abs_diff > 1e-3
    assert not report.top10_identical


def _stump(index: int, decision_type: int, threshold: float) -> str:
    return "\n".join(
        [
            f"Tree={index}",
            "num_leaves=2",
            "num_cat=0",
            "split_feature=0",
            "split_gain=1",
            f"threshold={threshold!r}",
            f"decision_type={decision_type}",
            "left_child=-1",
            "right_child=-2",
            f"leaf_value=0 {2.0**index!r}",
            "leaf_weight=1 1",
            "leaf_count=1 1",
            "internal_value=0",
            "internal_weight=0",
            "internal_count=2",
            "is_linear=0",
            "shrinkage=1",
            "",
            "",
        ]
    )


def test_every_decision_type_at_every_awkward_value():
    """One stump per (decision type, threshold): any branch taken differently changes a distinct bit of the sum."""
    decision_types = [0, 2, 4, 6, 8, 10]
    thresholds = [
        ZERO_THRESHOLD,
        -ZERO_THRESHOLD,
        0.0,
        0.5,
        -0.5,
        1e-36,
        float(np.nextafter(ZERO_THRESHOLD, 1.0)),
        np.inf,
    ]
    stumps = [(d, t) for d in decision_types for t in thresholds]
    text = (
        "tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\nmax_feature_idx=0\n"
        "objective=lambdarank\nfeature_names=x\nfeature_infos=[-1:1]\n\n"
        + "".join(_stump(i, d, t) for i, (d, t) in enumerate(stumps))
        + "end of trees\n\nparameters:\nend of parameters\n\npandas_categorical:null\n"
    )
    model = parse_model(text)
    awkward = [np.nan, 0.0, -0.0, 1e-36, -1e-36, 1e-300, -1e-300, 0.5, -0.5, 1.0, -1.0]
    awkward += [float(v) for t in thresholds for v in (t, np.nextafter(t, np.inf), np.nextafter(t, -np.inf))]
    x = np.array(awkward, dtype=np.float64)[:, None]

    expected = lightgbm.Booster(model_str=text).predict(x, raw_score=True)
    actual = onnx_scores(build_onnx(model, ["x"], "test-1", text).SerializeToString(), x, threads=1)

    mismatched = [(x[i, 0], expected[i], actual[i]) for i in range(x.shape[0]) if expected[i] != actual[i]]
    assert mismatched == []


def test_single_leaf_trees_export(tmp_path: Path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4))
    booster = lightgbm.train(
        {"objective": "regression", "verbosity": -1, "min_data_in_leaf": 1000},
        lightgbm.Dataset(x, rng.normal(size=300)),
        num_boost_round=3,
    )
    text = booster.model_to_string()
    model = parse_model(text)
    assert all(tree.num_leaves == 1 for tree in model.trees)

    actual = onnx_scores(build_onnx(model, list(model.feature_names), "v", text).SerializeToString(), x, threads=1)

    assert np.array_equal(actual, booster.predict(x, raw_score=True))


def test_graph_contract_and_metadata(nan_model: TrainedModel):
    exported = _export(nan_model)
    graph_input, graph_output = exported.graph.input[0], exported.graph.output[0]
    props = {p.key: p.value for p in exported.metadata_props}

    assert graph_input.name == INPUT_NAME
    assert graph_input.type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    assert [d.dim_value for d in graph_input.type.tensor_type.shape.dim][1] == nan_model.model.num_features
    assert graph_output.name == OUTPUT_NAME
    assert graph_output.type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    assert json.loads(props[MetadataKey.FEATURE_NAMES]) == list(nan_model.model.feature_names)
    assert props[MetadataKey.FEATURE_SPEC_VERSION] == "test-1"
    assert props[MetadataKey.NUM_TREES] == str(len(nan_model.model.trees))
    assert {o.domain: o.version for o in exported.opset_import}["ai.onnx.ml"] == 5


def test_categorical_splits_are_refused():
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.integers(0, 8, size=2000), rng.normal(size=2000)])
    y = (x[:, 0] % 3 == 0).astype(int)
    booster = lightgbm.train(
        {"objective": "lambdarank", "verbosity": -1, "min_data_in_leaf": 5, "min_data_per_group": 5},
        lightgbm.Dataset(x, y, group=[20] * 100, categorical_feature=[0]),
        num_boost_round=5,
    )

    with pytest.raises(TrainerError) as raised:
        parse_model(booster.model_to_string())

    assert raised.value.code == ErrorCode.MODEL_UNSUPPORTED
    assert "categorical" in raised.value.message


def test_multiclass_and_linear_models_are_refused():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 3))
    multiclass = lightgbm.train(
        {"objective": "multiclass", "num_class": 3, "verbosity": -1},
        lightgbm.Dataset(x, rng.integers(0, 3, size=600)),
        num_boost_round=2,
    )
    linear = lightgbm.train(
        {"objective": "regression", "linear_tree": True, "verbosity": -1},
        lightgbm.Dataset(x, x[:, 0] * 2),
        num_boost_round=2,
    )
    for booster in (multiclass, linear):
        with pytest.raises(TrainerError) as raised:
            parse_model(booster.model_to_string())
        assert raised.value.code == ErrorCode.MODEL_UNSUPPORTED


def test_feature_names_must_match_the_model(nan_model: TrainedModel):
    names = list(nan_model.model.feature_names)
    assert resolve_feature_names(nan_model.model, None) == names
    renamed = [f"feature_{i}" for i in range(len(names))]
    # LightGBM's default names (Column_i) carry no meaning, so the caller's names replace them.
    assert resolve_feature_names(nan_model.model, renamed) == renamed

    named = parse_model(nan_model.text.replace("Column_", "named_"))
    for wrong in (renamed, renamed[:-1]):
        with pytest.raises(TrainerError) as raised:
            resolve_feature_names(named, wrong)
        assert raised.value.code == ErrorCode.FEATURES_MISMATCH


def test_garbage_is_an_invalid_model():
    with pytest.raises(TrainerError) as raised:
        parse_model("not a model")
    assert raised.value.code == ErrorCode.MODEL_INVALID


def test_cli_exports_with_a_parity_check(tmp_path: Path, nan_model: TrainedModel):
    model_path, out = tmp_path / "model.txt", tmp_path / "out" / "model.onnx"
    model_path.write_text(nan_model.text)
    names = ",".join(f"f{i}" for i in range(nan_model.model.num_features))

    done = run_module(
        "searchop_trainer.export_onnx",
        *("--model", str(model_path), "--out", str(out), "--spec-version", "v7", "--feature-names", names),
    )

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["parity"]["max_abs_diff"] <= PARITY_TOLERANCE
    assert result["parity"]["top10_identical"] is True
    props = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert props[MetadataKey.FEATURE_SPEC_VERSION] == "v7"
    assert json.loads(props[MetadataKey.FEATURE_NAMES]) == names.split(",")


def test_cli_failure_ends_with_a_typed_error_line(tmp_path: Path):
    model_path = tmp_path / "model.txt"
    model_path.write_text("garbage")

    args = ("--model", str(model_path), "--out", str(tmp_path / "m.onnx"), "--spec-version", "v1")

    done = run_module("searchop_trainer.export_onnx", *args)

    assert typed_error_code(done) == ErrorCode.MODEL_INVALID
    assert not (tmp_path / "m.onnx").exists()


def test_check_parity_passes_for_a_real_export(zero_model: TrainedModel):
    report = check_parity(zero_model.text, _export(zero_model).SerializeToString())

    assert report.max_abs_diff <= PARITY_TOLERANCE and report.top10_identical
    assert report.rows_at_threshold > report.rows // 2
