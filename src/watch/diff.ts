import type { Peer } from './peer.js';

/** How the peer set of one poll differs from the one before. */
export interface PeerDiff {
  /** In `next`, not in `current`. */
  joined: Peer[];
  /** In both with the same id, but other addresses, port, weight, priority or name. */
  updated: { peer: Peer; previous: Peer }[];
  /** In `current`, not in `next`. */
  missing: Peer[];
  /** In both and the same (their TTL may have changed). */
  same: Peer[];
}

/**
 * Compares two peer sets by id in O(n): one map lookup per peer. Pure: no I/O, no time.
 *
 * @example
 * const { joined, updated, missing } = diffPeers(current, polled);
 */
export function diffPeers(current: ReadonlyMap<string, Peer>, next: readonly Peer[]): PeerDiff {
  const diff: PeerDiff = { joined: [], updated: [], missing: [], same: [] };
  const seen = new Set<string>();
  for (const peer of next) {
    seen.add(peer.id);
    const previous = current.get(peer.id);
    if (previous === undefined) diff.joined.push(peer);
    else if (samePeer(previous, peer)) diff.same.push(peer);
    else diff.updated.push({ peer, previous });
  }
  for (const [id, peer] of current) if (!seen.has(id)) diff.missing.push(peer);
  return diff;
}

/** Same member as far as a user can tell; the TTL alone is not a change. */
export function samePeer(a: Peer, b: Peer): boolean {
  return (
    a.address === b.address &&
    a.port === b.port &&
    a.priority === b.priority &&
    a.weight === b.weight &&
    a.name === b.name &&
    a.ordinal === b.ordinal &&
    a.family === b.family &&
    sameList(a.addresses, b.addresses)
  );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
