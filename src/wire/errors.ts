/**
 * Stable error codes. Callers branch on `code`, never on message text.
 *
 * - `ENOTFOUND`: NXDOMAIN, the name does not exist (authoritative).
 * - `ENODATA`: the name exists but holds no record of the asked type (authoritative).
 * - `ESERVFAIL`, `EREFUSED`: the server failed or refused to answer.
 * - `ETIMEOUT`: no acceptable answer within the attempt's timeout.
 * - `EBADRESP`: an answer that matched the question but could not be used.
 * - `ECONNREFUSED`: the network said nobody listens there.
 * - `ECANCELLED`: the query was aborted or its client closed.
 *
 * Bad arguments (a name that cannot be asked, an unknown record type, a bad option) are a
 * `TypeError`, thrown before anything is sent, never a DnsError.
 */
export type DnsErrorCode =
  | 'ENOTFOUND'
  | 'ENODATA'
  | 'ESERVFAIL'
  | 'EREFUSED'
  | 'ETIMEOUT'
  | 'EBADRESP'
  | 'ECONNREFUSED'
  | 'ECANCELLED';

// Worth asking again (possibly another server): the next answer may differ.
const RETRYABLE: ReadonlySet<DnsErrorCode> = new Set(['ESERVFAIL', 'EREFUSED', 'ETIMEOUT', 'EBADRESP', 'ECONNREFUSED']);

export interface DnsErrorDetails {
  hostname?: string | undefined;
  server?: string | undefined;
  rcode?: string | undefined;
  cause?: unknown;
  truncated?: boolean | undefined;
}

/**
 * A DNS lookup that did not produce records.
 *
 * @example
 * try { await client.resolveA('web.default.svc.cluster.local') }
 * catch (err) { if (err instanceof DnsError && err.code === 'ENOTFOUND') { ... } }
 */
export class DnsError extends Error {
  override readonly name = 'DnsError';
  readonly code: DnsErrorCode;
  /** The response code when a response was received (`'SERVFAIL'`, `'NXDOMAIN'`, ...). */
  readonly rcode: string | undefined;
  /** The name that was asked. */
  readonly hostname: string | undefined;
  /** The nameserver (`host:port`) of the last attempt. */
  readonly server: string | undefined;
  /** Whether asking again may succeed (failures yes; NXDOMAIN, NODATA, cancellation no). */
  readonly retryable: boolean;
  /** The UDP answer came truncated, and this failure came over TCP (is TCP to the server blocked?). */
  readonly truncated: boolean;
  // The message as given, for copies with more details.
  private readonly text: string;

  constructor(code: DnsErrorCode, message: string, details: DnsErrorDetails = {}) {
    super(
      `${code}: ${message}${details.hostname ? ` (${details.hostname}` : ''}${
        details.hostname ? `${details.server ? ` via ${details.server}` : ''})` : ''
      }`,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.code = code;
    this.rcode = details.rcode;
    this.hostname = details.hostname;
    this.server = details.server;
    this.retryable = RETRYABLE.has(code);
    this.truncated = details.truncated ?? false;
    this.text = message;
  }

  /** This error with `details` added. */
  with(details: DnsErrorDetails): DnsError {
    const { hostname, server, rcode, cause, truncated } = this;
    return new DnsError(this.code, this.text, { hostname, server, rcode, cause, truncated, ...details });
  }
}
