"""What the usual float32 export (onnxmltools) would score on the parity sample, next to this exporter.

Not a test and not part of the pinned environment: onnxmltools is only needed here. Run it in a throwaway venv:

  python3 -m venv /tmp/omt && /tmp/omt/bin/pip install -r trainer/python/requirements.txt onnxmltools==1.16.0
  PYTHONPATH=trainer/python /tmp/omt/bin/python trainer/python/bench/float32_onnxmltools.py [--trees 120 --features 32]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import lightgbm
import numpy as np
import pyarrow.parquet as pq
from onnxmltools import convert_lightgbm
from onnxmltools.convert.common.data_types import FloatTensorType

from searchop_trainer.config import load_config
from searchop_trainer.dataset import read_training_file
from searchop_trainer.export_onnx import build_onnx
from searchop_trainer.fit import fit
from searchop_trainer.lightgbm_model import parse_model
from searchop_trainer.parity import compare, lightgbm_scores, onnx_scores, threshold_sample
from searchop_trainer.synthetic import sessions

CONFIG = Path(__file__).resolve().parents[2] / "config" / "lightgbm.json"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trees", type=int, default=120)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--groups", type=int, default=1200)
    parser.add_argument("--rows", type=int, default=3000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data_path = Path(tmp) / "sessions.parquet"
        pq.write_table(sessions(args.groups, args.features, seed=1), data_path)
        raw = json.loads(CONFIG.read_text())
        config_path = Path(tmp) / "config.json"
        config_path.write_text(json.dumps({**raw, "num_boost_round": args.trees, "early_stopping_rounds": None}))
        booster, _ = fit(read_training_file(data_path), load_config(config_path))

    text = booster.model_to_string()
    model = parse_model(text)
    x = threshold_sample(model, args.rows, np.random.default_rng(7))
    groups = np.arange(args.rows) // 30
    expected = lightgbm_scores(text, x)

    exact = onnx_scores(build_onnx(model, list(model.feature_names), "bench", text).SerializeToString(), x)
    float32_model = convert_lightgbm(
        lightgbm.Booster(model_str=text),
        initial_types=[("features", FloatTensorType([None, model.num_features]))],
        zipmap=False,
    )
    import onnxruntime

    session = onnxruntime.InferenceSession(float32_model.SerializeToString(), providers=["CPUExecutionProvider"])
    (float32_scores,) = session.run(None, {session.get_inputs()[0].name: x.astype(np.float32)})
    float32_scores = np.asarray(float32_scores, dtype=np.float64).reshape(-1)

    print(f"model: {len(model.trees)} trees, {model.num_features} features; sample: {args.rows} rows, groups of 30")
    for name, scores in (("double TreeEnsemble (this exporter)", exact), ("onnxmltools float32", float32_scores)):
        report = compare(expected, scores, groups, x, model)
        rows_off = int((np.abs(expected - scores) > 1e-6).sum())
        print(
            f"{name}: max |diff| {report.max_abs_diff:.3g}, rows off by > 1e-6: {rows_off}/{report.rows}, "
            f"groups with another top-10: {report.groups_with_different_top10}/{report.groups}"
        )


if __name__ == "__main__":
    main()
