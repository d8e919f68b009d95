import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ClusterDns, createClusterDns } from '../../src/testing/index.js';
import { DnsClient } from '../../src/wire/client.js';

const SVC = 'kafka-headless.default.svc.cluster.local';

describe('createClusterDns', () => {
  let dns: ClusterDns;
  let client: DnsClient;
  beforeEach(async () => {
    dns = await createClusterDns();
    client = new DnsClient({ nameservers: [dns.nameserver], timeout: 300, attempts: 1, search: [], ndots: 1 });
    for (let i = 0; i < 3; i++) {
      dns.addPod('kafka-headless', {
        name: `kafka-${i}`,
        ip: [`10.0.0.${i + 1}`, `fd00::${i + 1}`],
        ports: { kafka: 9092 },
      });
    }
  });
  afterEach(async () => {
    client.close();
    await dns.close();
  });

  it('listens on 127.0.0.1 and says so', () => {
    expect(dns.nameserver).toBe(`127.0.0.1:${dns.port}`);
    expect(dns.port).toBeGreaterThan(0);
  });

  it('answers A and AAAA per ready pod, and per pod name', async () => {
    expect((await client.resolveA(SVC)).sort()).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect((await client.resolveAaaa(SVC)).sort()).toEqual(['fd00::1', 'fd00::2', 'fd00::3']);
    expect(await client.resolveA(`kafka-1.${SVC}`)).toEqual(['10.0.0.2']);
  });

  it("answers SRV per named port, CoreDNS's weights, targets' addresses in Additional", async () => {
    const result = await client.query(`_kafka._tcp.${SVC}`, 'SRV');
    expect(result.answers).toHaveLength(3);
    expect(result.answers[0]).toMatchObject({
      data: { priority: 0, weight: 33, port: 9092, target: `kafka-0.${SVC}` },
    });
    expect(result.additionals.map((record) => record.type).sort()).toEqual(['A', 'A', 'A', 'AAAA', 'AAAA', 'AAAA']);
    expect(result.authoritative).toBe(true);
  });

  it('gives NXDOMAIN at zero ready pods and NODATA for a missing type', async () => {
    for (let i = 0; i < 3; i++) dns.setReady('kafka-headless', `kafka-${i}`, false);
    await expect(client.resolveA(SVC)).rejects.toMatchObject({ code: 'ENOTFOUND' });
    dns.setReady('kafka-headless', '10.0.0.2', true);
    expect(await client.resolveA(SVC)).toEqual(['10.0.0.2']);
    await expect(client.resolveSrv(`_kafka._tcp.${SVC}`)).resolves.toHaveLength(1);
    await expect(client.resolveA(`_kafka._tcp.${SVC}`)).rejects.toMatchObject({ code: 'ENODATA' });
    expect(dns.removePod('kafka-headless', 'kafka-1')).toBe(true);
    await expect(client.resolveA(SVC)).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(client.resolveA('other.default.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('names pods without a hostname by their dashed IP, and serves PTR for pods with one', async () => {
    dns.addPod('web', { ip: '10.1.2.3', ports: { http: 80 } });
    expect(await client.resolveSrv('_http._tcp.web.default.svc.cluster.local')).toMatchObject([
      { name: '10-1-2-3.web.default.svc.cluster.local', port: 80 },
    ]);
    expect(await client.resolvePtr('2.0.0.10.in-addr.arpa')).toEqual([`kafka-1.${SVC}`]);
    await expect(client.resolvePtr('3.2.1.10.in-addr.arpa')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('sends a partial answer with TC=1 when UDP cannot hold it, and the whole over TCP', async () => {
    for (let i = 0; i < 200; i++)
      dns.addPod('big', { name: `big-${i}`, ip: `10.9.${i >> 8}.${i & 255}`, ports: { p: 1 } });
    const small = new DnsClient({ nameservers: [dns.nameserver], udpPayloadSize: 512, timeout: 500, attempts: 1 });
    try {
      const result = await small.query('_p._tcp.big.default.svc.cluster.local', 'SRV');
      expect(result).toMatchObject({ truncated: true, tcp: true });
      expect(result.answers).toHaveLength(200);
      expect(dns.stats.tcp).toBe(1);
    } finally {
      small.close();
    }
  });

  it('replaces a pod added again under its name (a restart with a new IP)', async () => {
    dns.addPod('kafka-headless', { name: 'kafka-0', ip: '10.0.0.99', ports: { kafka: 9092 } });
    expect((await client.resolveA(SVC)).sort()).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.99']);
  });

  it('fails on purpose: SERVFAIL, REFUSED, silence, and back', async () => {
    dns.setFailure('servfail');
    await expect(client.query(SVC, 'A')).rejects.toMatchObject({ code: 'ESERVFAIL' });
    dns.setFailure('refused');
    await expect(client.query(SVC, 'A')).rejects.toMatchObject({ code: 'EREFUSED' });
    dns.setFailure('silent');
    await expect(client.query(SVC, 'A')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    dns.setFailure(null);
    await expect(client.resolveA(SVC)).resolves.toHaveLength(3);
    expect(() => dns.setFailure('flaky' as never)).toThrow(TypeError);
  });

  it('rejects bad pods and options', async () => {
    expect(() => dns.addPod('x', { ip: 'nope' })).toThrow(/ip/);
    expect(() => dns.addPod('x', { ip: '10.0.0.1', ports: { p: 0 } })).toThrow(/ports.p/);
    await expect(createClusterDns({ ttl: -1 })).rejects.toThrow(/ttl/);
    await expect(createClusterDns({ port: 70000 })).rejects.toThrow(/port/);
  });
});
