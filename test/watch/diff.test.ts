import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffPeers, mergeById } from '../../src/watch/diff.js';
import { byId, type Peer } from '../../src/watch/peer.js';
import { fixturePeer } from '../support/peers.js';

const peer = (i: number, address = `10.0.0.${i}`, extra: Partial<Peer> = {}) => fixturePeer(i, address, extra);

// Both sides sorted by id, as polls and peers() give them.
const sorted = (peers: Peer[]) => [...peers].sort(byId);

describe('diffPeers', () => {
  it('sorts peers into joined, updated, missing and same', () => {
    const current = sorted([peer(1), peer(2), peer(3)]);
    const diff = diffPeers(current, sorted([peer(1, '10.0.0.1', { ttl: 30 }), peer(2, '10.9.9.9'), peer(4)]));
    expect(diff.joined.map((p) => p.id)).toEqual(['pod-4.svc:80']);
    expect(diff.updated.map((u) => [u.previous.address, u.peer.address])).toEqual([['10.0.0.2', '10.9.9.9']]);
    expect(diff.missing.map((p) => p.id)).toEqual(['pod-3.svc:80']);
    expect(diff.same.map((p) => p.id)).toEqual(['pod-1.svc:80']);
  });

  it('calls a change of port, weight, priority or an added address an update', () => {
    const before = peer(1);
    for (const after of [
      peer(1, '10.0.0.1', { weight: 50 }),
      peer(1, '10.0.0.1', { priority: 1 }),
      peer(1, '10.0.0.1', { addresses: ['10.0.0.1', 'fd00::1'] }),
    ]) {
      expect(diffPeers([before], [after]).updated).toHaveLength(1);
    }
  });

  it('property: applying the diff to the current set gives the next set', () => {
    const peersArb = fc.uniqueArray(
      fc.record({ i: fc.integer({ min: 0, max: 50 }), a: fc.integer({ min: 1, max: 3 }) }),
      { selector: (x) => x.i, maxLength: 40 },
    );
    fc.assert(
      fc.property(peersArb, peersArb, (a, b) => {
        const current = sorted(a.map(({ i, a: octet }) => peer(i, `10.0.${octet}.${i}`)));
        const next = sorted(b.map(({ i, a: octet }) => peer(i, `10.0.${octet}.${i}`)));
        const diff = diffPeers(current, next);
        const result = new Map(current.map((p) => [p.id, p]));
        for (const p of diff.missing) result.delete(p.id);
        for (const p of diff.joined) result.set(p.id, p);
        for (const u of diff.updated) result.set(u.peer.id, u.peer);
        expect([...result.values()].map((p) => p.address).sort()).toEqual(next.map((p) => p.address).sort());
        expect(diff.joined.length + diff.updated.length + diff.same.length).toBe(next.length);
        expect(diff.missing.length + diff.updated.length + diff.same.length).toBe(current.length);
      }),
    );
  });

  it('mergeById keeps the order by id', () => {
    const merged = mergeById(sorted([peer(1), peer(4), peer(7)]), sorted([peer(2), peer(5)]));
    expect(merged.map((p) => p.id)).toEqual(sorted([1, 2, 4, 5, 7].map((i) => peer(i))).map((p) => p.id));
  });
});
