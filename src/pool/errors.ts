/** Why `acquire()` gave up: no healthy peer before its signal ended, or the pool closed. */
export type PoolErrorCode = 'ENOPEER' | 'ECLOSED';

/** An `acquire()` that could not be served. */
export class PoolError extends Error {
  override readonly name = 'PoolError';
  readonly code: PoolErrorCode;

  constructor(code: PoolErrorCode, message: string, cause?: unknown) {
    super(`${code}: ${message}`, cause === undefined ? undefined : { cause });
    this.code = code;
  }
}
