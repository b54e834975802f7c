import { SearchOpError } from '@searchop/runtime';

/**
 * The trainer's closed list of failure codes. The first block is shared with the Python side
 * (trainer/python/searchop_trainer/errors.py): a Python CLI that fails prints the code, and the
 * TypeScript wrapper raises the same one.
 */
export const TrainerErrorCode = {
  // Shared with Python.
  /** The hyper-parameter file (or another trainer config file) is missing, not JSON, or holds an unknown key or a bad value. */
  CONFIG_INVALID: 'TRN_CONFIG_INVALID',
  /** The training file cannot be read, lacks a required column, or holds a bad value. */
  DATA_INVALID: 'TRN_DATA_INVALID',
  /** The time-based split left the training or the validation side without any query group. */
  SPLIT_EMPTY: 'TRN_SPLIT_EMPTY',
  /** The LightGBM text model cannot be parsed. */
  MODEL_INVALID: 'TRN_MODEL_INVALID',
  /** The model uses something the exporter refuses (categorical splits, linear trees, several outputs, ...). */
  MODEL_UNSUPPORTED: 'TRN_MODEL_UNSUPPORTED',
  /** Feature names given to the exporter (or found in a model) disagree with the expected ones. */
  FEATURES_MISMATCH: 'TRN_FEATURES_MISMATCH',
  /** The exported graph's scores differ from LightGBM's own on the parity sample. */
  EXPORT_PARITY: 'TRN_EXPORT_PARITY',

  // TypeScript side.
  /** The offline store has no events (of a needed topic) in the requested window. */
  NO_DATA: 'TRN_NO_DATA',
  /** The offline store or a truth file cannot be read (missing directory, unreadable Parquet, bad columns). */
  STORE_UNREADABLE: 'TRN_STORE_UNREADABLE',
  /** The model registry is unreadable or inconsistent (a pointer to a missing model, a malformed pointer). */
  REGISTRY_INVALID: 'TRN_REGISTRY_INVALID',
  /** A rollback names a version the registry does not hold. */
  VERSION_NOT_FOUND: 'TRN_VERSION_NOT_FOUND',
  /** A backfill worker thread failed (crashed, or its DuckDB or replay threw without a typed error). */
  BACKFILL_FAILED: 'TRN_BACKFILL_FAILED',
  /** The Python environment cannot be created or a Python step failed without a typed error. */
  PYTHON_FAILED: 'TRN_PYTHON_FAILED',
  /** Command-line arguments are missing or malformed. */
  USAGE: 'TRN_USAGE',
} as const;
export type TrainerErrorCode = (typeof TrainerErrorCode)[keyof typeof TrainerErrorCode];

export class TrainerError extends SearchOpError<TrainerErrorCode> {}
