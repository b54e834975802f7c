import { SearchOpError } from '@searchop/runtime';

export const StackErrorCode = {
  /** A program the stack needs (java, mvn, redis-server, apt-get) is not installed. */
  PREREQUISITE_MISSING: 'STK_PREREQUISITE_MISSING',
  /** A port is held by a process this stack did not start. */
  PORT_TAKEN: 'STK_PORT_TAKEN',
  /** A build or install step (Maven, apt) failed. */
  INSTALL_FAILED: 'STK_INSTALL_FAILED',
  /** A service did not answer a real request before its deadline, or exited while starting. */
  START_FAILED: 'STK_START_FAILED',
  /** A stack setting (port, heap size, directory) is invalid. */
  CONFIG_INVALID: 'STK_CONFIG_INVALID',
} as const;
export type StackErrorCode = (typeof StackErrorCode)[keyof typeof StackErrorCode];

export class StackError extends SearchOpError<StackErrorCode> {}
