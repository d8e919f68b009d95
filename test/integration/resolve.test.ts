import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { decode } from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePeers } from '../../src/index.js';
import { DnsClient } from '../../src/wire/client.js';
import { DnsError } from '../../src/wire/errors.js';
import { encodeQuestion, judge, withId } from '../../src/wire/message.js';
import { type BindServer, startBind } from '../support/bind.js';
import { requireNamed, skipIntegration } from '../support/named-required.js';
import { clusterZones, ipv4 } from '../support/zones.js';

const FQDN = (service: string) => `${service}.default.svc.cluster.local`;

describe.skipIf(skipIntegration)('resolvePeers against BIND 9', () => {
  let bind: BindServer;
  let client: DnsClient;
  const silent: Socket[] = [];

  /** A loopback UDP port that takes queries and never answers. */
  async function silentServer(): Promise<string> {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    silent.push(socket);
    return `127.0.0.1:${socket.address().port}`;
  }

  beforeAll(async () => {
    bind = await startBind(requireNamed(), clusterZones());
    client = new DnsClient({ nameservers: [bind.nameserver], search: [], ndots: 1, timeout: 2000, attempts: 2 });
  });

  afterAll(async () => {
    client?.close();
    for (const socket of silent) socket.close();
    await bind?.close();
  });

  it('finds a 3-pod StatefulSet through SRV: names, ordinals, ports, addresses', async () => {
    const peers = await resolvePeers({ name: FQDN('kafka-headless'), port: 'kafka', client });
    expect(peers).toEqual(
      [0, 1, 2].map((i) => ({
        id: `kafka-${i}.kafka-headless.default.svc.cluster.local:9092`,
        name: `kafka-${i}.kafka-headless.default.svc.cluster.local`,
        address: `10.244.1.${10 + i}`,
        addresses: [`10.244.1.${10 + i}`],
        family: 4,
        port: 9092,
        priority: 0,
        weight: 33,
        ordinal: i,
        ttl: 5,
      })),
    );
    const metrics = await resolvePeers({ name: FQDN('kafka-headless'), port: 'metrics', client });
    expect(metrics.map((peer) => peer.port)).toEqual([9404, 9404, 9404]);
  });

  it('takes target addresses from the Additional section when BIND sends them', async () => {
    const result = await client.query(`_kafka._tcp.${FQDN('kafka-headless')}`, 'SRV');
    expect(result.additionals.filter((record) => record.type === 'A')).toHaveLength(3);
    expect(result.authoritative).toBe(true);
  });

  it("reads BIND's compressed SRV answers and Additional records as dns-packet does, owners and all", async () => {
    // Raw answers from BIND: owners of the Additional records are pointers to the SRV targets.
    const socket = createSocket('udp4');
    const [host, port] = bind.nameserver.split(':');
    try {
      for (const [service, portName] of [
        ['kafka-headless', 'kafka'],
        ['dual', 'grpc'],
        ['web', 'http'],
      ] as const) {
        const name = `_${portName}._tcp.${FQDN(service)}`;
        const question = encodeQuestion(name, 'SRV', 1232);
        const raw: Buffer = await new Promise((resolve) => {
          socket.once('message', resolve);
          socket.send(withId(question, 4321), Number(port), host);
        });
        const verdict = judge(raw, question);
        if (verdict.kind !== 'answer') throw new Error(`no answer: ${verdict.kind}`);
        const whole = decode(raw);
        expect(verdict.reply.answers).toEqual(whole.answers);
        const { additionals } = verdict.reply;
        expect(additionals.length).toBeGreaterThanOrEqual(2);
        expect(additionals).toEqual((whole.additionals ?? []).filter((r) => r.type !== 'OPT'));
      }
    } finally {
      socket.close();
    }
  });

  it('handles dashed-IP targets: addresses, no ordinal', async () => {
    const peers = await resolvePeers({ name: FQDN('web'), port: 'http', client });
    expect(peers.map((peer) => [peer.name, peer.address, peer.ordinal])).toEqual([
      ['10-244-2-5.web.default.svc.cluster.local', '10.244.2.5', undefined],
      ['10-244-2-6.web.default.svc.cluster.local', '10.244.2.6', undefined],
    ]);
  });

  it('returns dual-stack peers with IPv4 first, and one family on request', async () => {
    const both = await resolvePeers({ name: FQDN('dual'), port: 'grpc', client });
    expect(both.map((peer) => peer.addresses)).toEqual([
      ['10.244.3.1', 'fd00::3:1'],
      ['10.244.3.2', 'fd00::3:2'],
    ]);
    expect(both.map((peer) => peer.family)).toEqual([4, 4]);
    const v6 = await resolvePeers({ name: FQDN('dual'), port: 'grpc', family: 6, client });
    expect(v6.map((peer) => [peer.address, peer.family])).toEqual([
      ['fd00::3:1', 6],
      ['fd00::3:2', 6],
    ]);
    const addressMode = await resolvePeers({ name: FQDN('dual'), port: 443, client });
    expect(addressMode.map((peer) => peer.id)).toEqual([
      '10.244.3.1:443',
      '10.244.3.2:443',
      '[fd00::3:1]:443',
      '[fd00::3:2]:443',
    ]);
  });

  it('returns all 800 targets of a big SRV service, each with its address (UDP truncated, then TCP)', async () => {
    const srv = await client.query(`_gossip._tcp.${FQDN('big')}`, 'SRV');
    expect(srv.truncated).toBe(true);
    expect(srv.tcp).toBe(true);
    expect(srv.answers).toHaveLength(800);
    // The fact that makes per-target lookups necessary: BIND sends no addresses here.
    expect(srv.additionals.filter((record) => record.type === 'A')).toHaveLength(0);

    const peers = await resolvePeers({ name: FQDN('big'), port: 'gossip', client });
    expect(peers).toHaveLength(800);
    const byName = new Map(peers.map((peer) => [peer.name, peer]));
    for (let i = 0; i < 800; i++) {
      const peer = byName.get(`big-${i}.big.default.svc.cluster.local`);
      expect(peer?.addresses).toEqual([ipv4(100, i)]);
      expect(peer?.ordinal).toBe(i);
    }
  });

  it('returns all 4,000 addresses of a big A service (about 64 KB over TCP)', async () => {
    const peers = await resolvePeers({ name: FQDN('wide'), client });
    expect(peers).toHaveLength(4000);
    expect(new Set(peers.map((peer) => peer.address))).toEqual(
      new Set(Array.from({ length: 4000 }, (_, i) => ipv4(200, i))),
    );
    expect(peers.every((peer) => peer.port === undefined && peer.id === peer.address)).toBe(true);
  });

  it('classifies NXDOMAIN and NODATA, and resolvePeers gives [] for both', async () => {
    await expect(client.resolveA(FQDN('gone'))).rejects.toMatchObject({ code: 'ENOTFOUND', rcode: 'NXDOMAIN' });
    await expect(client.resolveAaaa(FQDN('kafka-headless'))).rejects.toMatchObject({ code: 'ENODATA' });
    const nx = await client.query(FQDN('gone'), 'A');
    expect([nx.status, nx.ttl]).toEqual(['nxdomain', 5]);
    expect(await resolvePeers({ name: FQDN('gone'), port: 'kafka', client })).toEqual([]);
    expect(await resolvePeers({ name: FQDN('kafka-headless'), family: 6, client })).toEqual([]);
  });

  it('fills names and ordinals from PTR records when the port has no name (MySQL)', async () => {
    const peers = await resolvePeers({ name: FQDN('mysql'), port: 3306, names: true, client });
    expect(peers.map((peer) => [peer.id, peer.name, peer.ordinal])).toEqual([
      ['10.244.4.1:3306', 'mysql-0.mysql.default.svc.cluster.local', 0],
      ['10.244.4.2:3306', 'mysql-1.mysql.default.svc.cluster.local', 1],
      ['10.244.4.3:3306', 'mysql-2.mysql.default.svc.cluster.local', 2],
    ]);
  });

  it('follows the search list for short names, as a pod resolver does', async () => {
    const peers = await resolvePeers({
      name: 'kafka-headless',
      port: 'kafka',
      nameservers: [bind.nameserver],
      search: ['nope.svc.cluster.local', 'default.svc.cluster.local', 'svc.cluster.local'],
      ndots: 5,
    });
    expect(peers.map((peer) => peer.ordinal)).toEqual([0, 1, 2]);
  });

  it('moves on to the second nameserver when the first never answers', async () => {
    const dead = await silentServer();
    const started = Date.now();
    const peers = await resolvePeers({
      name: FQDN('kafka-headless'),
      port: 'kafka',
      nameservers: [dead, bind.nameserver],
      search: [],
      timeout: 300,
      attempts: 3,
    });
    expect(peers).toHaveLength(3);
    expect(Date.now() - started).toBeLessThan(300 * 3 + 1000);
  });

  it('fails with ETIMEOUT within timeout × attempts when every nameserver is silent', async () => {
    const nameservers = [await silentServer(), await silentServer()];
    const started = Date.now();
    const error = await resolvePeers({
      name: FQDN('kafka-headless'),
      port: 'kafka',
      nameservers,
      search: [],
      timeout: 250,
      attempts: 4,
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(DnsError);
    expect(error).toMatchObject({ code: 'ETIMEOUT', retryable: true });
    expect(elapsed).toBeGreaterThanOrEqual(250 * 4 - 20);
    expect(elapsed).toBeLessThan(250 * 4 + 1000);
  });

  it('fails with ECONNREFUSED when nobody listens on any nameserver port', async () => {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    const closedPort = socket.address().port;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    const error = await resolvePeers({
      name: FQDN('kafka-headless'),
      nameservers: [`127.0.0.1:${closedPort}`],
      search: [],
      timeout: 2000,
      attempts: 2,
    }).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
  });
});
