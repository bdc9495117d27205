/**
 * Every error Sluice reports to an operator, with a stable code (`SLUICE_E_…`) that the CLI and
 * the logs print, so scripts and alerts can match the code rather than the wording. It sits with
 * the configuration at the bottom of the import graph: every layer raises these.
 */

export const ERROR_CODES = {
  /** A configuration value, key or file is wrong (exit 2). */
  config: 'SLUICE_E_CONFIG',
  /** The collector cannot start: a port taken, a WAL directory unusable. */
  start: 'SLUICE_E_START',
  /** The WAL directory is held by another process. */
  walLocked: 'SLUICE_E_WAL_LOCKED',
  /** wal.state is unreadable. */
  walState: 'SLUICE_E_WAL_STATE',
  /** An HTTP worker process could not start. */
  workerStart: 'SLUICE_E_WORKER_START',
  /** S3 stored something else than what was uploaded. */
  uploadVerify: 'SLUICE_E_UPLOAD_VERIFY',
  /** A tool's input or run failed (replay, consolidate, inspect). */
  tool: 'SLUICE_E_TOOL',
  /** Anything unexpected. */
  internal: 'SLUICE_E_INTERNAL',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** An error for the operator: a message that says what to do, and its code. */
export class SluiceError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The code of any error: a SluiceError's own, else SLUICE_E_INTERNAL. */
export function codeOf(err: unknown): ErrorCode {
  return err instanceof SluiceError ? err.code : ERROR_CODES.internal;
}

/** The one line an operator sees: `message [CODE]`. */
export function operatorLine(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const message = err instanceof SluiceError ? err.message
    : typeof e.code === 'string' && typeof e.path === 'string' ? `cannot use ${e.path}: ${e.code}${e.syscall === undefined ? '' : ` (${e.syscall})`}`
      : err instanceof Error ? err.message : String(err);
  return `${message} [${codeOf(err)}]`;
}

/** A start-up failure the operator can fix (a port taken, a WAL directory unusable): exit 1, one line. */
export class StartError extends SluiceError {
  constructor(message: string) {
    super(ERROR_CODES.start, message);
  }
}
