import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolvePeers } from '../../src/index.js';
import { type ClusterDns, createClusterDns } from '../../src/testing/index.js';
import { DnsClient } from '../../src/wire/client.js';
import { type Exchange, startScriptedServer } from '../support/scripted-server.js';

describe('resolvePeers on the embedded cluster DNS', () => {
  let dns: ClusterDns;
  let base: { nameservers: string[]; search: string[]; ndots: number; timeout: number; attempts: number };
  beforeEach(async () => {
    dns = await createClusterDns();
    base = {
      nameservers: [dns.nameserver],
      search: ['default.svc.cluster.local', 'svc.cluster.local'],
      ndots: 5,
      timeout: 300,
      attempts: 1,
    };
    for (let i = 0; i < 3; i++) {
      dns.addPod('kafka-headless', { name: `kafka-${i}`, ip: `10.0.0.${i + 1}`, ports: { kafka: 9092 } });
    }
  });
  afterEach(async () => {
    await dns.close();
  });

  it('finds peers by short name, by FQDN and by service + namespace', async () => {
    const short = await resolvePeers({ ...base, name: 'kafka-headless', port: 'kafka' });
    const fqdn = await resolvePeers({ ...base, name: 'kafka-headless.default.svc.cluster.local.', port: 'kafka' });
    const parts = await resolvePeers({ ...base, service: 'kafka-headless', namespace: 'default', port: 'kafka' });
    expect(short.map((peer) => peer.id)).toEqual(
      [0, 1, 2].map((i) => `kafka-${i}.kafka-headless.default.svc.cluster.local:9092`),
    );
    expect(fqdn).toEqual(short);
    expect(parts).toEqual(short);
  });

  it('uses A/AAAA mode for a numeric or missing port', async () => {
    const withPort = await resolvePeers({ ...base, name: 'kafka-headless', port: 3306 });
    expect(withPort.map((peer) => peer.id)).toEqual(['10.0.0.1:3306', '10.0.0.2:3306', '10.0.0.3:3306']);
    const bare = await resolvePeers({ ...base, name: 'kafka-headless' });
    expect(bare[0]).toEqual({ id: '10.0.0.1', address: '10.0.0.1', addresses: ['10.0.0.1'], family: 4, ttl: 5 });
  });

  it('fills names from PTR with names: true', async () => {
    const peers = await resolvePeers({ ...base, name: 'kafka-headless', port: 3306, names: true });
    expect(peers.map((peer) => [peer.name, peer.ordinal])).toEqual(
      [0, 1, 2].map((i) => [`kafka-${i}.kafka-headless.default.svc.cluster.local`, i]),
    );
    expect(dns.stats.tcp).toBe(0);
  });

  it('asks the PTR names of a service too big for UDP over UDP, its A set alone over TCP', async () => {
    for (let i = 0; i < 120; i++) dns.addPod('wide', { name: `wide-${i}`, ip: `10.7.${i >> 7}.${(i & 127) + 1}` });
    const peers = await resolvePeers({ ...base, name: 'wide', family: 4, names: true });
    expect(peers).toHaveLength(120);
    expect(peers.every((peer) => peer.name === `wide-${peer.ordinal}.wide.default.svc.cluster.local`)).toBe(true);
    // The A set: truncated over UDP, whole over TCP; then 120 PTR lookups, all over UDP.
    expect(dns.stats.byType).toMatchObject({ A: 2, PTR: 120 });
    expect({ udp: dns.stats.udp, tcp: dns.stats.tcp }).toEqual({ udp: 1 + 120, tcp: 1 });
  });

  it('gives [] for an authoritatively empty service and rejects on failure', async () => {
    for (let i = 0; i < 3; i++) dns.removePod('kafka-headless', `kafka-${i}`);
    expect(await resolvePeers({ ...base, name: 'kafka-headless', port: 'kafka' })).toEqual([]);
    dns.setFailure('servfail');
    await expect(resolvePeers({ ...base, name: 'kafka-headless', port: 'kafka' })).rejects.toMatchObject({
      code: 'ESERVFAIL',
    });
  });

  it('ends the search at a failure instead of trying the next suffix', async () => {
    dns.setFailure('refused');
    await expect(resolvePeers({ ...base, name: 'kafka-headless' })).rejects.toMatchObject({ code: 'EREFUSED' });
    expect(dns.stats.byType.A).toBe(1);
  });

  it('looks target addresses up when the Additional section lacks them, with bounded concurrency, over UDP after a truncated SRV answer', async () => {
    const bare = await createClusterDns({ additionals: false });
    for (let i = 0; i < 60; i++) bare.addPod('many', { name: `many-${i}`, ip: `10.8.0.${i + 1}`, ports: { p: 7 } });
    try {
      const peers = await resolvePeers({
        ...base,
        nameservers: [bare.nameserver],
        name: 'many',
        port: 'p',
        family: 4,
        concurrency: 4,
      });
      expect(peers).toHaveLength(60);
      expect(peers.every((peer) => peer.address === `10.8.0.${(peer.ordinal ?? -1) + 1}`)).toBe(true);
      // The SRV set comes truncated over UDP and again over TCP; the service's own A set
      // (kept for later polls) fits in UDP; then one A lookup per target.
      expect(bare.stats.byType).toEqual({ SRV: 2, A: 1 + 60 });
      // Only the SRV answer too big for UDP goes over TCP; the target lookups do not.
      expect({ udp: bare.stats.udp, tcp: bare.stats.tcp }).toEqual({ udp: 2 + 60, tcp: 1 });
      const both = await resolvePeers({ ...base, nameservers: [bare.nameserver], name: 'many', port: 'p' });
      expect(both).toHaveLength(60);
      // Both families asked of the service; it has no IPv6 address, so no target has one
      // either: no AAAA lookup per target.
      expect(bare.stats.byType).toEqual({ SRV: 4, A: 2 * (1 + 60), AAAA: 1 });
      const dual = await createClusterDns({ additionals: false });
      try {
        for (let i = 0; i < 5; i++)
          dual.addPod('d', { name: `d-${i}`, ip: [`10.8.1.${i + 1}`, `fd00::8:${i + 1}`], ports: { p: 7 } });
        const peers = await resolvePeers({ ...base, nameservers: [dual.nameserver], name: 'd', port: 'p' });
        expect(peers.map((peer) => peer.addresses)).toEqual(
          [1, 2, 3, 4, 5].map((i) => [`10.8.1.${i}`, `fd00::8:${i}`]),
        );
        expect(dual.stats.byType).toEqual({ SRV: 1, A: 1 + 5, AAAA: 1 + 5 });
        // An SRV answer that fit in UDP: so do its target lookups.
        expect(dual.stats.tcp).toBe(0);
      } finally {
        await dual.close();
      }
    } finally {
      await bare.close();
    }
  });

  it('cancels through its signal', async () => {
    dns.setFailure('silent');
    const controller = new AbortController();
    const pending = resolvePeers({ ...base, name: 'kafka-headless', signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ code: 'ECANCELLED' });
  });

  it('rejects bad options with a TypeError naming the option and value', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /^name: /],
      [{ name: '' }, /^name: must not be empty/],
      [{ name: 'a'.repeat(64) }, /^name: /],
      [{ name: 'x', service: 'y' }, /^name: give either/],
      [{ name: 'x', port: 0 }, /^port: .*got 0/],
      [{ name: 'x', port: 70000 }, /^port: .*70000/],
      [{ name: 'x', port: 1.5 }, /^port: /],
      [{ name: 'x', port: 'has space' }, /^port: /],
      [{ name: 'x', family: 5 }, /^family: .*5/],
      [{ name: 'x', protocol: '' }, /^protocol: /],
      [{ name: 'x', timeout: -1 }, /^timeout: .*-1/],
      [{ name: 'x', attempts: 0 }, /^attempts: /],
      [{ name: 'x', ndots: 'five' }, /^ndots: .*"five"/],
      [{ name: 'x', nameservers: ['bad host'] }, /^nameservers: /],
      [{ name: 'x', names: 'yes' }, /^names: /],
      [{ name: 'x', concurrency: 0 }, /^concurrency: /],
      [{ name: 'x', client: {} }, /^client: /],
      [{ service: 'Bad_Name' }, /^service: /],
    ];
    for (const [options, message] of cases) {
      const call = resolvePeers({ nameservers: base.nameservers, ...options } as never);
      await expect(call, JSON.stringify(options)).rejects.toThrow(TypeError);
      await expect(resolvePeers({ nameservers: base.nameservers, ...options } as never)).rejects.toThrow(message);
    }
    const client = new DnsClient(base);
    await expect(resolvePeers({ name: 'x', client, timeout: 5 })).rejects.toThrow(
      /^timeout: cannot be given with client/,
    );
    client.close();
  });
});

describe('resolvePeers, a service too big for one DNS message', () => {
  it('fails with EBADRESP naming the service and the limit when the answer comes truncated even over TCP', async () => {
    const server = await startScriptedServer();
    // PowerDNS's way beyond its limit, over UDP and TCP alike: TC=1 and no records at all.
    const truncated = (exchange: Exchange) => exchange.reply({ flags: 1 << 9 });
    server.onUdp(truncated);
    server.onTcp(truncated);
    try {
      const error = await resolvePeers({
        name: 'huge.default.svc.cluster.local.',
        port: 'gossip',
        nameservers: [server.nameserver],
        attempts: 1,
      }).catch((err: unknown) => err);
      expect(error).toMatchObject({ code: 'EBADRESP', hostname: '_gossip._tcp.huge.default.svc.cluster.local' });
      expect((error as Error).message).toContain('_gossip._tcp.huge.default.svc.cluster.local');
      expect((error as Error).message).toMatch(/65,535 bytes.*SRV targets/);
      expect(server.tcpQueries).toBe(1);
    } finally {
      await server.close();
    }
  });
});
