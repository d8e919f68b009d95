import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ClusterDns, createClusterDns } from '../../src/testing/index.js';
import { type PeerQuery, toPeerQuery } from '../../src/watch/options.js';
import type { Peer } from '../../src/watch/peer.js';
import { Poller, type PollOutcome } from '../../src/watch/poll.js';

function peersOf(outcome: PollOutcome): Peer[] {
  if (outcome.kind !== 'records') throw new Error(`expected records, got ${outcome.kind}`);
  return outcome.peers;
}

describe('Poller', () => {
  let dns: ClusterDns;
  let query: PeerQuery;
  let poller: Poller;
  beforeEach(async () => {
    dns = await createClusterDns();
    for (let i = 0; i < 3; i++) {
      dns.addPod('web', { name: `web-${i}`, ip: [`10.1.0.${i + 1}`, `fd00::${i + 1}`], ports: { http: 80 } });
    }
    query = toPeerQuery({
      name: 'web.default.svc.cluster.local.',
      port: 'http',
      nameservers: [dns.nameserver],
      search: [],
    });
    poller = new Poller(query);
  });
  afterEach(async () => {
    query.client.close();
    await dns.close();
  });

  it('gives an unchanged peer again as the same object, and builds a changed one anew', async () => {
    const first = peersOf(await poller.poll());
    expect(first.map((peer) => peer.addresses)).toEqual([0, 1, 2].map((i) => [`10.1.0.${i + 1}`, `fd00::${i + 1}`]));
    const second = peersOf(await poller.poll());
    expect(second).not.toBe(first);
    for (const [i, peer] of second.entries()) expect(peer).toBe(first[i]);
    // A new IPv6 address for web-1: that peer alone is a new object.
    dns.removePod('web', 'web-1');
    dns.addPod('web', { name: 'web-1', ip: ['10.1.0.2', 'fd00::9'], ports: { http: 80 } });
    const third = peersOf(await poller.poll());
    expect(third[1]).not.toBe(second[1]);
    expect(third[1]).toMatchObject({ name: 'web-1.web.default.svc.cluster.local', addresses: ['10.1.0.2', 'fd00::9'] });
    expect(second[1]?.addresses).toEqual(['10.1.0.2', 'fd00::2']);
    expect(third[0]).toBe(second[0]);
    expect(third[2]).toBe(second[2]);
  });
});
