import type { Answer } from 'dns-packet';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ClusterDns, createClusterDns } from '../../src/testing/index.js';
import { type PeerQuery, toPeerQuery } from '../../src/watch/options.js';
import type { Peer } from '../../src/watch/peer.js';
import { Poller, type PollOutcome } from '../../src/watch/poll.js';
import { type ScriptedServer, startScriptedServer } from '../support/scripted-server.js';

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

describe('Poller, SRV answers written by hand', () => {
  let server: ScriptedServer;
  afterEach(async () => {
    await server.close();
  });

  it('takes every address of a target from the Additional section, and one peer per target and port', async () => {
    server = await startScriptedServer();
    const srvName = '_p._tcp.svc.default.svc.cluster.local';
    const target = (pod: string) => `${pod}.svc.default.svc.cluster.local`;
    const srv = (pod: string, priority: number): Answer => ({
      type: 'SRV',
      name: srvName,
      ttl: 30,
      class: 'IN',
      data: { priority, weight: 10, port: 80, target: target(pod) },
    });
    const address = (type: 'A' | 'AAAA', pod: string, data: string, ttl = 30): Answer => ({
      type,
      name: target(pod),
      ttl,
      class: 'IN',
      data,
    });
    server.onUdp((exchange) =>
      exchange.reply({
        // a-0 twice with one port: one peer, the later record's.
        answers: [srv('a-0', 1), srv('b-0', 0), srv('a-0', 2)],
        additionals: [
          address('A', 'a-0', '10.0.0.2'),
          address('AAAA', 'b-0', 'fd00::3', 7),
          address('A', 'a-0', '10.0.0.1'),
          address('A', 'b-0', '10.0.0.3'),
          address('AAAA', 'a-0', 'fd00::1'),
          // Not a target: never a peer, never an address of one.
          address('A', 'stranger', '10.9.9.9'),
        ],
      }),
    );
    const query = toPeerQuery({
      name: 'svc.default.svc.cluster.local.',
      port: 'p',
      nameservers: [server.nameserver],
      search: [],
    });
    const poller = new Poller(query);
    try {
      const first = await poller.poll();
      expect(first).toMatchObject({ kind: 'records', ttl: 7, queries: 1 });
      expect(peersOf(first)).toEqual([
        expect.objectContaining({
          id: `${target('a-0')}:80`,
          addresses: ['10.0.0.1', '10.0.0.2', 'fd00::1'],
          priority: 2,
          ttl: 30,
        }),
        expect.objectContaining({ id: `${target('b-0')}:80`, addresses: ['10.0.0.3', 'fd00::3'], priority: 0, ttl: 7 }),
      ]);
      const second = peersOf(await poller.poll());
      expect(second).toHaveLength(2);
      for (const [i, peer] of second.entries()) expect(peer).toBe(peersOf(first)[i]);
      // Every address came with the SRV answer: nothing else was asked.
      expect(server.udpQueries).toBe(2);
    } finally {
      query.client.close();
    }
  });
});
