import type { BalancedPool } from 'undici';
import type { Peer } from '../watch/peer.js';
import { checkWatcher, type PeerWatcher } from '../watch/watcher.js';
import { describe } from '../wire/check.js';

/** Options of {@link syncBalancedPool}. */
export interface SyncBalancedPoolOptions {
  /**
   * The upstream of a peer: its origin. @default `http://<address>:<port>` (an IPv6 address in
   * brackets; port 80 when the peer has none)
   */
  url?: (peer: Peer) => string;
}

/** A peer's origin as undici keys its upstreams. */
function defaultUrl(peer: Peer): string {
  const host = peer.family === 6 ? `[${peer.address}]` : peer.address;
  return `http://${host}:${peer.port ?? 80}`;
}

/**
 * Keeps an undici `BalancedPool`'s upstreams equal to the watcher's peers: an upstream is added
 * for a peer that joins or moves, and removed (its connections closed once idle) for one that
 * leaves or moves away. Until the watcher's first successful poll the pool is left as it is.
 * Returns a function that stops following the watcher (the upstreams stay as they are).
 *
 * @example
 * const pool = new BalancedPool([]);
 * const stop = syncBalancedPool(pool, watchPeers({ name: 'web-headless', port: 'http' }));
 * const { body } = await pool.request({ path: '/', method: 'GET' });
 */
export function syncBalancedPool(
  pool: BalancedPool,
  watcher: PeerWatcher,
  options: SyncBalancedPoolOptions = {},
): () => void {
  const shape = pool as Partial<BalancedPool> | null;
  if (
    typeof shape !== 'object' ||
    shape === null ||
    typeof shape.addUpstream !== 'function' ||
    typeof shape.removeUpstream !== 'function' ||
    !Array.isArray(shape.upstreams)
  ) {
    throw new TypeError(`pool: expected an undici BalancedPool, got ${describe(pool)}`);
  }
  checkWatcher(watcher);
  const { url = defaultUrl } = options;
  if (typeof url !== 'function') throw new TypeError(`url: expected a function, got ${describe(url)}`);
  let stopped = false;
  const sync = (peers: readonly Peer[]) => {
    if (stopped) return;
    const wanted = new Set(peers.map((peer) => new URL(url(peer)).origin));
    for (const upstream of pool.upstreams) if (!wanted.has(upstream)) pool.removeUpstream(upstream);
    const have = new Set(pool.upstreams);
    for (const upstream of wanted) if (!have.has(upstream)) pool.addUpstream(upstream);
  };
  const onChanged = ({ peers }: { peers: Peer[] }) => sync(peers);
  watcher.on('changed', onChanged);
  if (watcher.stats.successes > 0) sync(watcher.peers());
  else
    watcher.ready().then(
      () => sync(watcher.peers()),
      () => {},
    );
  return () => {
    stopped = true;
    watcher.off('changed', onChanged);
  };
}
