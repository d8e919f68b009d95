import { isIP, SocketAddress } from 'node:net';
import { describe } from './check.js';

/** A parsed nameserver address. */
export interface Nameserver {
  host: string;
  port: number;
  family: 4 | 6;
  /** `host:port`, or `[host]:port` for IPv6: how errors and stats name it. */
  label: string;
}

const DNS_PORT = 53;

/**
 * Parses `'10.96.0.10'`, `'127.0.0.1:5353'`, `'::1'` or `'[::1]:5353'`.
 * Host names are refused: a resolver's nameserver must be an address.
 *
 * @throws {TypeError} naming `option` and the bad value.
 */
export function parseNameserver(value: unknown, option = 'nameservers'): Nameserver {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`${option}: expected an address string, got ${describe(value)}`);
  }
  let host = value;
  let port = DNS_PORT;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (bracketed) {
    host = bracketed[1] ?? '';
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else if (isIP(value) === 0) {
    const colon = value.lastIndexOf(':');
    if (colon > 0 && value.indexOf(':') === colon) {
      host = value.slice(0, colon);
      const portText = value.slice(colon + 1);
      port = /^\d+$/.test(portText) ? Number(portText) : Number.NaN;
    }
  }
  const family = isIP(host);
  if (family === 0 || (bracketed && family !== 6)) {
    throw new TypeError(`${option}: ${JSON.stringify(value)} is not an IPv4 or IPv6 address (with an optional :port)`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(`${option}: ${JSON.stringify(value)} has a port outside 1..65535`);
  }
  // One text per address: `[0:0:0:0:0:0:0:1]` and `[::0001]` are the server `[::1]`.
  const address = canonicalAddress(host);
  return {
    host: address,
    port,
    family: family === 6 ? 6 : 4,
    label: family === 6 ? `[${address}]:${port}` : `${address}:${port}`,
  };
}

/** The one text of an address (`0:0::1` and `::0001` are `::1`); anything else as it is. */
export function canonicalAddress(address: string): string {
  const family = isIP(address);
  if (family === 0) return address;
  return new SocketAddress({ address, family: family === 6 ? 'ipv6' : 'ipv4' }).address;
}
