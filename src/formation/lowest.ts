import { isIPv4 } from 'node:net';
import { byId, type Peer } from '../watch/peer.js';

/**
 * The order in which the lowest member forms a cluster: lowest StatefulSet ordinal first
 * (peers with one before peers without); then by address, IPv4 before IPv6, numerically;
 * then by id. Every pod that sees the same set picks the same lowest.
 */
export function comparePeers(a: Peer, b: Peer): number {
  if (a.ordinal !== b.ordinal) {
    if (a.ordinal === undefined) return 1;
    if (b.ordinal === undefined) return -1;
    return a.ordinal - b.ordinal;
  }
  const byAddress = compareAddresses(a.address, b.address);
  if (byAddress !== 0) return byAddress;
  return byId(a, b);
}

/**
 * The lowest of `peers` (lowest ordinal; without one, lowest address, IPv4 first), or undefined
 * for none: the member that forms the cluster when nobody has yet, for users running their own
 * protocol.
 *
 * @example
 * const first = lowestPeer(await watcher.settled({ min: 3 }));
 * if (first !== undefined && watcher.isSelf(first)) startNewCluster();
 */
export function lowestPeer(peers: readonly Peer[]): Peer | undefined {
  let lowest: Peer | undefined;
  for (const peer of peers) if (lowest === undefined || comparePeers(peer, lowest) < 0) lowest = peer;
  return lowest;
}

/** Compares two addresses: IPv4 before IPv6, then numerically. */
export function compareAddresses(a: string, b: string): number {
  const x = addressNumbers(a);
  const y = addressNumbers(b);
  if (x.length !== y.length) return x.length - y.length;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return 0;
}

// IPv4: its 4 bytes. IPv6: its 8 groups of 16 bits, '::' expanded, an IPv4 tail as two groups.
function addressNumbers(address: string): number[] {
  if (isIPv4(address)) return address.split('.').map(Number);
  let text = address;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const [a = 0, b = 0, c = 0, d = 0] = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    tail.push(a * 256 + b, c * 256 + d);
    // Keep a '::' before the IPv4 tail whole; drop a single separating colon.
    text = text.slice(0, text[lastColon - 1] === ':' ? lastColon + 1 : lastColon);
  }
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)));
  const gap = text.indexOf('::');
  const head = groups(gap < 0 ? text : text.slice(0, gap));
  const rest = gap < 0 ? [] : groups(text.slice(gap + 2));
  const zeros = Math.max(0, 8 - tail.length - head.length - rest.length);
  return [...head, ...new Array<number>(gap < 0 ? 0 : zeros).fill(0), ...rest, ...tail];
}
