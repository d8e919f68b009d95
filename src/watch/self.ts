import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { describe } from '../wire/check.js';
import { canonicalAddress } from '../wire/nameserver.js';
import type { Peer } from './peer.js';

/** Who this process is among the peers, as the `self` option gives it. */
export interface SelfOptions {
  /** This pod's name (`kafka-0`), or a DNS name whose first label it is. */
  name?: string;
  /** This pod's IP address. */
  address?: string;
}

/** What identifies this process among its peers. */
export interface SelfIdentity {
  /** First label of the pod's name, lower-case; '' when unknown. */
  host: string;
  /** Its addresses, in canonical text (as peers carry them). */
  addresses: ReadonlySet<string>;
}

/**
 * This process's identity: `self` as given; without it, what the downward API gives a pod
 * (`POD_NAME` or `HOSTNAME`, `POD_IP`), then the OS (host name, every interface address).
 *
 * @throws {TypeError} naming `self.name` or `self.address` when they are not a name or an address.
 */
export function selfIdentity(self?: SelfOptions, env: NodeJS.ProcessEnv = process.env): SelfIdentity {
  if (self !== undefined) return givenIdentity(self);
  const name = env.POD_NAME?.trim() || env.HOSTNAME?.trim() || hostname();
  const podIp = env.POD_IP?.trim();
  if (podIp && isIP(podIp) !== 0) return { host: firstLabel(name), addresses: new Set([canonicalAddress(podIp)]) };
  const addresses = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) addresses.add(canonicalAddress(info.address));
  }
  return { host: firstLabel(name), addresses };
}

function givenIdentity(self: SelfOptions): SelfIdentity {
  if (typeof self !== 'object' || self === null || Array.isArray(self)) {
    throw new TypeError(`self: expected { name?, address? }, got ${describe(self)}`);
  }
  const { name, address } = self;
  if (name !== undefined && (typeof name !== 'string' || firstLabel(name) === '')) {
    throw new TypeError(`self.name: expected a pod name, got ${describe(name)}`);
  }
  if (address !== undefined && (typeof address !== 'string' || isIP(address) === 0)) {
    throw new TypeError(`self.address: expected an IPv4 or IPv6 address, got ${describe(address)}`);
  }
  if (name === undefined && address === undefined) {
    throw new TypeError('self: give name, address or both');
  }
  return {
    host: name === undefined ? '' : firstLabel(name),
    addresses: new Set(address === undefined ? [] : [canonicalAddress(address)]),
  };
}

function firstLabel(name: string): string {
  return (name.trim().split('.')[0] ?? '').toLowerCase();
}

/** Whether `peer` is this process: its name's first label is our name, or it has one of our addresses. */
export function isSelf(peer: Peer, self: SelfIdentity): boolean {
  if (peer.name !== undefined && self.host !== '' && peer.name.split('.')[0] === self.host) return true;
  return peer.addresses.some((address) => self.addresses.has(address));
}
