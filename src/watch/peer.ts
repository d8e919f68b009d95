/** One member of the headless service: a ready pod in the record set. */
export interface Peer {
  /** SRV mode: `${name}:${port}`; A/AAAA mode: the address (plus `:port`, `[v6]:port`). */
  id: string;
  /** SRV target (or PTR name with `names: true`), lower-case, no trailing dot. */
  name?: string;
  /** The preferred address: the first of `addresses`. */
  address: string;
  /** Every address of the peer, IPv4 first, each family sorted. */
  addresses: string[];
  /** Family of `address`. */
  family: 4 | 6;
  port?: number;
  /** SRV priority (lower is preferred). */
  priority?: number;
  /** SRV weight within a priority. */
  weight?: number;
  /** StatefulSet ordinal from a first label shaped `<set>-<n>`. */
  ordinal?: number;
  /** Smallest TTL of the records this peer came from, in seconds. */
  ttl: number;
  /**
   * Set while the peer is missing from the latest answers but held by `leaveAfter`: when it
   * went missing (`Date.now()`). Writers can skip such a member; it has not left.
   */
  absentSince?: number;
}

/** The id of a peer at `address` (and `port`): `10.0.0.1`, `10.0.0.1:80`, `[fd00::1]:80`. */
export function addressId(address: string, port: number | undefined): string {
  if (port === undefined) return address;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Sorts addresses IPv4 first, then each family in a stable order. */
export function orderAddresses(v4: readonly string[], v6: readonly string[]): string[] {
  // The usual pod: one address, nothing to sort or merge.
  if (v4.length + v6.length === 1) return [(v4[0] ?? v6[0]) as string];
  return [...[...new Set(v4)].sort(), ...[...new Set(v6)].sort()];
}

/** Peers sorted by id, the order `peers()` and every list of peers use. */
export function byId(a: Peer, b: Peer): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
