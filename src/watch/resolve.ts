import { setMaxListeners } from 'node:events';
import type { PeerQueryOptions } from './options.js';
import { toPeerQuery } from './options.js';
import type { Peer } from './peer.js';
import { Poller } from './poll.js';
import { isSelf, selfIdentity } from './self.js';
import { follow } from './signals.js';

/** Options of {@link resolvePeers}. */
export type ResolvePeersOptions = PeerQueryOptions;

/**
 * Looks the service's peers up once.
 *
 * Resolves with the peers sorted by id, or `[]` when the service is authoritatively
 * empty (NXDOMAIN: no ready pods; or NODATA). Rejects with a `DnsError` when the lookup
 * failed: a failure is never an empty list.
 *
 * @example
 * const peers = await resolvePeers({ name: 'kafka-headless', port: 'kafka' });
 * for (const peer of peers) console.log(peer.name, peer.address, peer.port);
 */
export async function resolvePeers(options: ResolvePeersOptions): Promise<Peer[]> {
  const query = toPeerQuery(options);
  // One listener on the caller's signal, however many lookups run under it (64 at once for a
  // big service's targets) on the call's own.
  const { controller, unlink } = follow(options.signal);
  setMaxListeners(0, controller.signal);
  try {
    const outcome = await new Poller(query).poll(controller.signal);
    if (outcome.kind !== 'records') return [];
    if (!query.excludeSelf) return outcome.peers;
    const self = query.self ?? selfIdentity();
    return outcome.peers.filter((peer) => !isSelf(peer, self));
  } finally {
    unlink();
    if (query.ownsClient) query.client.close();
  }
}
