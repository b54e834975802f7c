"""Typed failures of the trainer's Python side.

The codes are a closed list shared with trainer/src/errors.ts (a unit test there keeps both in step). A CLI that fails
with a TrainerError prints one JSON line {"error": {"code", "message"}} as the last line of stderr and exits with 2, so
the TypeScript wrapper can raise the same code.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import NoReturn


class ErrorCode:
    # The hyper-parameter file is missing, not JSON, or holds an unknown key or a bad value.
    CONFIG_INVALID = "TRN_CONFIG_INVALID"
    # The training file cannot be read, lacks a required column, or holds a bad value.
    DATA_INVALID = "TRN_DATA_INVALID"
    # The time-based split left the training or the validation side without any query group.
    SPLIT_EMPTY = "TRN_SPLIT_EMPTY"
    # The LightGBM text model cannot be parsed.
    MODEL_INVALID = "TRN_MODEL_INVALID"
    # The model uses something the exporter refuses (categorical splits, linear trees, several outputs, ...).
    MODEL_UNSUPPORTED = "TRN_MODEL_UNSUPPORTED"
    # Feature names given to the exporter disagree with the model's.
    FEATURES_MISMATCH = "TRN_FEATURES_MISMATCH"
    # The exported graph's scores differ from LightGBM's own on the parity sample.
    EXPORT_PARITY = "TRN_EXPORT_PARITY"


class TrainerError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


EXIT_TRAINER_ERROR = 2


def run_cli(main: Callable[[list[str]], dict[str, object]], argv: list[str] | None = None) -> NoReturn:
    """Runs a CLI body: its result goes to stdout as one JSON line; a TrainerError becomes the JSON error line."""
    try:
        result = main(sys.argv[1:] if argv is None else argv)
    except TrainerError as error:
        print(json.dumps({"error": {"code": error.code, "message": error.message}}), file=sys.stderr)
        sys.exit(EXIT_TRAINER_ERROR)
    print(json.dumps(result))
    sys.exit(0)
