import { channel } from 'node:diagnostics_channel';

/**
 * `headless-peers:query`: one message per finished `DnsClient.query`, with `name`,
 * `type`, `server`, `status` (`records`/`nxdomain`/`nodata`) or `error` (a DnsError),
 * `tcp` and `durationMs`. Published only while somebody subscribes.
 */
export const queryChannel = channel('headless-peers:query');

/** What {@link queryChannel} carries. */
export interface QueryMessage {
  name: string;
  type: string;
  server: string | undefined;
  status: 'records' | 'nxdomain' | 'nodata' | undefined;
  error: Error | undefined;
  tcp: boolean;
  durationMs: number;
}
