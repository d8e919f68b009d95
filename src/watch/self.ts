import { hostname, networkInterfaces } from 'node:os';
import type { Peer } from './peer.js';

/** What identifies this pod among its peers. */
export interface SelfIdentity {
  /** First label of the host name, lower-case (a pod's hostname is its name). */
  host: string;
  /** Every address of every interface. */
  addresses: ReadonlySet<string>;
}

/** This host's identity, read from the OS. */
export function selfIdentity(): SelfIdentity {
  const addresses = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) addresses.add(info.address);
  }
  return { host: (hostname().split('.')[0] ?? '').toLowerCase(), addresses };
}

/** Whether `peer` is this pod: its name's first label is our host name, or it has one of our addresses. */
export function isSelf(peer: Peer, self: SelfIdentity): boolean {
  if (peer.name !== undefined && self.host !== '' && peer.name.split('.')[0] === self.host) return true;
  return peer.addresses.some((address) => self.addresses.has(address));
}
