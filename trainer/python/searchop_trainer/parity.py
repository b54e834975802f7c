"""Parity between LightGBM's own predictions and an exported ONNX graph, on the inputs where exports go wrong.

The sample puts feature values exactly on the model's split thresholds, one ulp either side of them, at NaN, at +-0.0
and at LightGBM's zero threshold, mixed with ordinary values, in query groups so the top-10 order can be compared.

CLI (used by the TypeScript parity test): writes the sample and LightGBM's raw scores as JSON; the row-major feature
matrix is base64 of little-endian doubles (JSON has no NaN or infinity), the scores are printed with repr, so both
read back as the same doubles:
  python -m searchop_trainer.parity --model model.txt --out sample.json [--rows 3000 --group-size 30 --seed 7]
    [--onnx model.onnx]   also score with onnxruntime (Python) and report the difference
"""

from __future__ import annotations

import argparse
import base64
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .errors import ErrorCode, TrainerError, run_cli
from .lightgbm_model import ZERO_THRESHOLD, Model, parse_model

PARITY_TOLERANCE = 1e-9
TOP_K = 10


def model_thresholds(model: Model) -> list[np.ndarray]:
    """The distinct split thresholds of each feature."""
    per_feature: list[set[float]] = [set() for _ in range(model.num_features)]
    for tree in model.trees:
        for feature, threshold in zip(tree.split_feature, tree.threshold, strict=True):
            per_feature[feature].add(threshold)
    return [np.array(sorted(values), dtype=np.float64) for values in per_feature]


def threshold_sample(model: Model, rows: int, rng: np.random.Generator) -> np.ndarray:
    """Rows whose values sit on, next to, and around the model's thresholds, with missing values and zeros."""
    thresholds = model_thresholds(model)
    specials = np.array(
        [np.nan, 0.0, -0.0, ZERO_THRESHOLD, -ZERO_THRESHOLD, 1e-36, -1e-36, np.nextafter(ZERO_THRESHOLD, 1.0)],
        dtype=np.float64,
    )
    x = np.empty((rows, model.num_features), dtype=np.float64)
    for feature, values in enumerate(thresholds):
        if values.size == 0:
            column = rng.normal(size=rows)
            column[rng.random(rows) < 0.1] = np.nan
            x[:, feature] = column
            continue
        picked = values[rng.integers(0, values.size, size=rows)]
        # LightGBM writes an infinite threshold for "NaN one way, every number the other" splits.
        finite = values[np.isfinite(values)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
        spread = max(high - low, 1.0)
        kind = rng.random(rows)
        column = picked.copy()
        column = np.where((kind >= 0.40) & (kind < 0.52), np.nextafter(picked, np.inf), column)
        column = np.where((kind >= 0.52) & (kind < 0.64), np.nextafter(picked, -np.inf), column)
        column = np.where((kind >= 0.64) & (kind < 0.78), specials[rng.integers(0, specials.size, size=rows)], column)
        column = np.where(kind >= 0.78, rng.uniform(low - 0.25 * spread, high + 0.25 * spread, size=rows), column)
        x[:, feature] = column
    return x


def rows_at_threshold(x: np.ndarray, model: Model) -> int:
    """How many rows have at least one feature value exactly on one of that feature's split thresholds."""
    at_threshold = np.zeros(x.shape[0], dtype=bool)
    for feature, values in enumerate(model_thresholds(model)):
        at_threshold |= np.isin(x[:, feature], values)
    return int(at_threshold.sum())


def top_k_orders(scores: np.ndarray, groups: np.ndarray, k: int = TOP_K) -> list[list[int]]:
    """Per query group (in order of first appearance), the row indices of the k best scores, ties by row index."""
    orders = []
    for group in dict.fromkeys(groups.tolist()):
        rows = np.flatnonzero(groups == group)
        ranked = rows[np.lexsort((rows, -scores[rows]))]
        orders.append(ranked[:k].tolist())
    return orders


@dataclass(frozen=True)
class ParityReport:
    rows: int
    groups: int
    max_abs_diff: float
    rows_at_threshold: int
    top10_identical: bool
    groups_with_different_top10: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def lightgbm_scores(model_text: str, x: np.ndarray) -> np.ndarray:
    import lightgbm

    booster = lightgbm.Booster(model_str=model_text)
    return np.asarray(booster.predict(x, raw_score=True), dtype=np.float64)


def onnx_scores(onnx_model: bytes, x: np.ndarray, threads: int = 0) -> np.ndarray:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(onnx_model, options, providers=["CPUExecutionProvider"])
    (scores,) = session.run(None, {"features": x})
    return np.asarray(scores, dtype=np.float64).reshape(-1)


def compare(
    reference: np.ndarray, candidate: np.ndarray, groups: np.ndarray, x: np.ndarray, model: Model
) -> ParityReport:
    diff = np.abs(reference - candidate)
    max_diff = float(np.max(diff)) if diff.size else 0.0
    if np.any(np.isnan(candidate) != np.isnan(reference)):
        max_diff = math.inf
    expected, actual = top_k_orders(reference, groups), top_k_orders(candidate, groups)
    differing = sum(1 for a, b in zip(expected, actual, strict=True) if a != b)
    return ParityReport(
        rows=int(x.shape[0]),
        groups=len(expected),
        max_abs_diff=max_diff,
        rows_at_threshold=rows_at_threshold(x, model),
        top10_identical=differing == 0,
        groups_with_different_top10=differing,
    )


def check_parity(
    model_text: str, onnx_model: bytes, rows: int = 3000, group_size: int = 30, seed: int = 7
) -> ParityReport:
    """Scores a threshold-heavy sample both ways; raises TRN_EXPORT_PARITY unless they agree to 1e-9 and in top-10."""
    model = parse_model(model_text)
    x = threshold_sample(model, rows, np.random.default_rng(seed))
    groups = np.arange(rows) // group_size
    report = compare(lightgbm_scores(model_text, x), onnx_scores(onnx_model, x), groups, x, model)
    if not (report.max_abs_diff <= PARITY_TOLERANCE and report.top10_identical):
        raise TrainerError(
            ErrorCode.EXPORT_PARITY,
            f"ONNX scores differ from LightGBM's: max |diff| {report.max_abs_diff:.3g} (tolerance {PARITY_TOLERANCE}), "
            f"{report.groups_with_different_top10} of {report.groups} groups with another top-{TOP_K}",
        )
    return report


def _main(argv: list[str]) -> dict[str, object]:
    parser = argparse.ArgumentParser(prog="python -m searchop_trainer.parity", description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path, help="JSON file for the sample and LightGBM's scores")
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--group-size", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--onnx", type=Path, help="also score this ONNX model with onnxruntime and compare")
    args = parser.parse_args(argv)
    try:
        text = args.model.read_text()
    except OSError as error:
        raise TrainerError(ErrorCode.MODEL_INVALID, f"cannot read {args.model}: {error}") from error
    model = parse_model(text)
    x = threshold_sample(model, args.rows, np.random.default_rng(args.seed))
    groups = np.arange(args.rows) // args.group_size
    scores = lightgbm_scores(text, x)
    sample = {
        "featureNames": list(model.feature_names),
        "rows": args.rows,
        "groups": groups.tolist(),
        "featuresFloat64LeBase64": base64.b64encode(x.astype("<f8").tobytes()).decode(),
        "lightgbmScores": scores.tolist(),
        "rowsAtThreshold": rows_at_threshold(x, model),
        "trees": len(model.trees),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(sample, allow_nan=False))
    result: dict[str, object] = {"sample": str(args.out), "rows": args.rows, "features": model.num_features}
    if args.onnx is not None:
        result["onnxruntimePython"] = compare(
            scores, onnx_scores(args.onnx.read_bytes(), x), groups, x, model
        ).as_dict()
    return result


if __name__ == "__main__":
    run_cli(_main)
