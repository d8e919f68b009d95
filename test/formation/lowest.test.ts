import { SocketAddress } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareAddresses, lowestPeer } from '../../src/formation/lowest.js';
import type { Peer } from '../../src/watch/peer.js';

function peer(address: string, ordinal?: number): Peer {
  const p: Peer = { id: address, address, addresses: [address], family: address.includes(':') ? 6 : 4, ttl: 5 };
  if (ordinal !== undefined) p.ordinal = ordinal;
  return p;
}

/** An address's bytes written the way DNS answers give them (compressed IPv6). */
function text(bytes: number[]): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

function compareBytes(a: number[], b: number[]): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

describe('lowestPeer', () => {
  it('picks the lowest ordinal, peers with one before peers without', () => {
    expect(lowestPeer([peer('10.0.0.1', 2), peer('10.0.0.9', 0), peer('10.0.0.5', 1)])?.address).toBe('10.0.0.9');
    expect(lowestPeer([peer('10.0.0.1'), peer('10.0.0.7', 3)])?.address).toBe('10.0.0.7');
    expect(lowestPeer([])).toBeUndefined();
  });

  it('without ordinals, the lowest address numerically, IPv4 before IPv6', () => {
    expect(lowestPeer([peer('10.0.0.10'), peer('10.0.0.9'), peer('9.255.0.1')])?.address).toBe('9.255.0.1');
    expect(lowestPeer([peer('fd00::1'), peer('10.0.0.10')])?.address).toBe('10.0.0.10');
    expect(lowestPeer([peer('fd00::10'), peer('fd00::9'), peer('fc00:1::')])?.address).toBe('fc00:1::');
    expect(compareAddresses('::ffff:1.2.3.4', '::ffff:1.2.3.5')).toBeLessThan(0);
    expect(compareAddresses('::1.2.3.4', '::1:0:0')).toBeLessThan(0);
  });

  it('orders any two addresses as their bytes compare (IPv4 first)', () => {
    const address = fc.oneof(
      fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
      fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })), { minLength: 16, maxLength: 16 }),
    );
    fc.assert(
      fc.property(address, address, (a, b) => {
        expect(Math.sign(compareAddresses(text(a), text(b)))).toBe(Math.sign(compareBytes(a, b)));
      }),
      { numRuns: 2000 },
    );
  });
});
