import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPeerPool, type Peer, type PeerPool, type PeerPoolOptions, PoolError } from '../../src/index.js';
import { type ClusterDns, createClusterDns } from '../../src/testing/index.js';
import { type PeerWatcher, watchPeers } from '../../src/watch/watcher.js';
import { connectEcho, type EchoClient, type EchoServer, startEchoServer } from '../support/echo-server.js';
import { until } from '../watch/helpers.js';

const SVC = 'echo.default.svc.cluster.local.';

describe('createPeerPool', () => {
  let dns: ClusterDns;
  let watcher: PeerWatcher;
  const servers: EchoServer[] = [];
  const pools: PeerPool<EchoClient>[] = [];
  const destroyed: string[] = [];

  async function addServer(i: number): Promise<EchoServer> {
    const server = await startEchoServer(`127.0.0.${20 + i}`);
    servers[i] = server;
    dns.addPod('echo', { name: `echo-${i}`, ip: server.host, ports: { echo: server.port } });
    return server;
  }

  function pool(options: Partial<PeerPoolOptions<EchoClient>> = {}): PeerPool<EchoClient> {
    const created = createPeerPool<EchoClient>({
      watcher,
      connect: (peer, signal) => connectEcho(peer.address, peer.port ?? 0, signal),
      destroy: (conn) => {
        destroyed.push(conn.address);
        conn.socket.destroy();
      },
      check: (conn, signal) => conn.ping(signal),
      checkInterval: 50,
      checkTimeout: 200,
      reconnectDelay: 20,
      baseEjectionTime: 300,
      ...options,
    });
    pools.push(created);
    return created;
  }

  async function spread(target: PeerPool<EchoClient>, n: number): Promise<Record<string, number>> {
    const seen: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const lease = await target.acquire({ signal: AbortSignal.timeout(2000) });
      await lease.conn.ping();
      seen[lease.peer.name?.split('.')[0] ?? '?'] = (seen[lease.peer.name?.split('.')[0] ?? '?'] ?? 0) + 1;
      target.release(lease);
    }
    return seen;
  }

  beforeEach(async () => {
    destroyed.length = 0;
    dns = await createClusterDns({ ttl: 1 });
    for (let i = 0; i < 3; i++) await addServer(i);
    watcher = watchPeers({
      name: SVC,
      port: 'echo',
      nameservers: [dns.nameserver],
      respectTtl: false,
      interval: 50,
      minInterval: 20,
    });
    await watcher.ready();
  });

  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()));
    await watcher.close();
    await Promise.all(servers.splice(0).map((server) => server.kill().catch(() => {})));
    await dns.close();
  });

  it('connects to every peer and spreads leases round-robin', async () => {
    const p = pool();
    const connected: string[] = [];
    p.on('connected', (peer) => connected.push(peer.name ?? ''));
    await until(() => p.stats.healthy === 3, '3 healthy peers');
    expect(connected.sort()).toEqual([0, 1, 2].map((i) => `echo-${i}.echo.default.svc.cluster.local`));
    expect(await spread(p, 30)).toEqual({ 'echo-0': 10, 'echo-1': 10, 'echo-2': 10 });
    expect(p.stats).toMatchObject({ members: 3, healthy: 3, connections: 3, leased: 0, waiting: 0 });
  });

  it('a killed server fails its checks and gets no traffic; restarted, it is re-admitted', async () => {
    const p = pool();
    const events: string[] = [];
    p.on('unhealthy', (peer, reason) => events.push(`unhealthy ${peer.name?.split('.')[0]} ${reason}`));
    p.on('healthy', (peer) => events.push(`healthy ${peer.name?.split('.')[0]}`));
    await until(() => p.stats.healthy === 3, '3 healthy peers');
    events.length = 0;
    await servers[1]?.kill();
    await until(() => p.stats.healthy === 2, 'echo-1 unhealthy');
    expect(events).toEqual(['unhealthy echo-1 check']);
    expect(await spread(p, 20)).toEqual({ 'echo-0': 10, 'echo-2': 10 });
    await servers[1]?.restart();
    await until(() => p.stats.healthy === 3, 'echo-1 back');
    expect(events).toEqual(['unhealthy echo-1 check', 'healthy echo-1']);
    expect(Object.keys(await spread(p, 30)).sort()).toEqual(['echo-0', 'echo-1', 'echo-2']);
  });

  it('ejects a peer after maxFailures failed leases, then re-admits it with a growing ejection time', async () => {
    const p = pool({ maxFailures: 3, check: undefined });
    const events: string[] = [];
    p.on('unhealthy', (peer, reason) => events.push(`unhealthy ${peer.name?.split('.')[0]} ${reason}`));
    p.on('healthy', (peer) => events.push(`healthy ${peer.name?.split('.')[0]}`));
    await until(() => p.stats.healthy === 3, '3 healthy peers');
    events.length = 0;
    const failOn = async (name: string) => {
      let failures = 0;
      while (failures < 3) {
        const lease = await p.acquire();
        const isTarget = lease.peer.name?.startsWith(name) ?? false;
        p.release(lease, { failed: isTarget });
        if (isTarget) failures++;
      }
    };
    await failOn('echo-2');
    expect(events).toEqual(['unhealthy echo-2 ejected']);
    expect(p.stats.ejected).toBe(1);
    expect(await spread(p, 10)).toEqual({ 'echo-0': 5, 'echo-1': 5 });
    const first = performance.now();
    await until(() => p.stats.ejected === 0, 're-admission');
    const firstEjection = performance.now() - first;
    expect(events).toEqual(['unhealthy echo-2 ejected', 'healthy echo-2']);
    await failOn('echo-2');
    const second = performance.now();
    await until(() => p.stats.ejected === 0, 'second re-admission');
    // base 300 ms, then 600 ms: the second ejection lasts about twice the first.
    expect(performance.now() - second).toBeGreaterThan(Math.max(450, firstEjection));
  });

  it('never ejects more than maxEjectedPercent of the members', async () => {
    const p = pool({ maxFailures: 1, maxEjectedPercent: 34, check: undefined });
    await until(() => p.stats.healthy === 3, '3 healthy peers');
    for (let i = 0; i < 6; i++) {
      const lease = await p.acquire();
      p.release(lease, { failed: true });
    }
    expect(p.stats.ejected).toBe(1);
    expect(p.stats.healthy).toBe(2);
  });

  it('opens a connection for a new pod, and drains a leaving pod once its lease comes back', async () => {
    const p = pool();
    await until(() => p.stats.healthy === 3, '3 healthy peers');
    const connected: string[] = [];
    const disconnected: string[] = [];
    p.on('connected', (peer) => connected.push(peer.name?.split('.')[0] ?? ''));
    p.on('disconnected', (peer) => disconnected.push(peer.name?.split('.')[0] ?? ''));
    await addServer(3);
    await until(() => p.stats.healthy === 4, 'the new pod');
    expect(connected).toEqual(['echo-3']);

    // A lease on echo-0 itself: any strategy may leave it out of a few acquires.
    const echo0 = watcher.peers().find((peer) => peer.name?.startsWith('echo-0.'));
    expect(echo0).toBeDefined();
    const held = await p.acquire({ peer: echo0 as Peer });
    expect(held.peer.name).toMatch(/^echo-0\./);
    dns.removePod('echo', 'echo-0');
    await until(() => p.stats.members === 3, 'echo-0 gone from the pool');
    expect(p.stats.draining).toBe(1);
    expect(disconnected).toEqual([]);
    await held.conn.ping(); // still usable while draining
    p.release(held);
    await until(() => disconnected.length === 1, 'echo-0 disconnected');
    expect(disconnected).toEqual(['echo-0']);
    expect(p.stats.draining).toBe(0);
  });

  it('reconnects to a pod that comes back on a new address (peer-updated)', async () => {
    const p = pool();
    await until(() => p.stats.healthy === 3, '3 healthy peers');
    const moved = await startEchoServer('127.0.0.99');
    servers.push(moved);
    dns.addPod('echo', { name: 'echo-1', ip: moved.host, ports: { echo: moved.port } });
    await until(() => moved.connections === 1 && p.stats.healthy === 3, 'connection to the new address');
    await until(() => destroyed.includes(`127.0.0.21:${servers[1]?.port}`), 'old connection destroyed');
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const lease = await p.acquire();
      seen.add(lease.conn.address);
      p.release(lease);
    }
    expect(seen.has(`127.0.0.99:${moved.port}`)).toBe(true);
    expect(seen.has(`127.0.0.21:${servers[1]?.port}`)).toBe(false);
  });

  it('lifts an ejection when the peer moves to a new address: a restarted pod is a new endpoint', async () => {
    const p = pool({ maxFailures: 2, baseEjectionTime: 60_000 });
    await until(() => p.stats.healthy === 3, '3 healthy peers');
    const events: string[] = [];
    p.on('healthy', (peer) => events.push(`healthy ${peer.name?.split('.')[0]} ${peer.address}`));
    // echo-1 dies; leases to it fail until it is ejected (for a minute).
    await servers[1]?.kill();
    for (let failed = 0; failed < 2; ) {
      const lease = await p.acquire({ signal: AbortSignal.timeout(2000) });
      const ok = lease.peer.name?.startsWith('echo-1.') !== true;
      if (!ok) failed++;
      p.release(lease, { failed: !ok });
    }
    expect(p.stats.ejected).toBe(1);
    // It comes back as a new pod at a new address (same port: the same peer id, an update):
    // healthy as soon as it is connected.
    const moved = await startEchoServer('127.0.0.98', servers[1]?.port);
    servers.push(moved);
    dns.addPod('echo', { name: 'echo-1', ip: moved.host, ports: { echo: moved.port } });
    await until(() => p.stats.healthy === 3, 'the moved peer healthy');
    expect(p.stats.ejected).toBe(0);
    expect(events).toEqual(['healthy echo-1 127.0.0.98']);
  });

  it('with every server down, acquire waits and fails with ENOPEER when its signal ends', async () => {
    const p = pool();
    await until(() => p.stats.healthy === 3, '3 healthy peers');
    await Promise.all(servers.map((server) => server.kill()));
    await until(() => p.stats.healthy === 0, 'all unhealthy');
    const started = performance.now();
    const error = await p.acquire({ signal: AbortSignal.timeout(300) }).catch((err: unknown) => err);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(error).toBeInstanceOf(PoolError);
    expect(error).toMatchObject({
      code: 'ENOPEER',
      message: expect.stringMatching(/no healthy peer .*3 members: 0 healthy/),
    });
    // A waiting acquire is served as soon as a server comes back.
    const waiting = p.acquire({ signal: AbortSignal.timeout(5000) });
    await until(() => p.stats.waiting === 1, 'a waiting acquire');
    await servers[2]?.restart();
    const lease = await waiting;
    expect(lease.peer.name).toMatch(/^echo-2\./);
    p.release(lease);
  });

  it('acquire({ peer }) leases that one peer, waits while it is down, and fails with ENOPEER naming it', async () => {
    const p = pool();
    await until(() => p.stats.healthy === 3, '3 healthy peers');
    const target = watcher.peers()[1];
    if (target === undefined) throw new Error('no peer 1');
    for (let i = 0; i < 4; i++) {
      const lease = await p.acquire({ peer: target });
      expect(lease.peer.id).toBe(target.id);
      p.release(lease);
    }
    const byId = await p.acquire({ peer: target.id });
    expect(byId.peer.id).toBe(target.id);
    p.release(byId);
    await servers[1]?.kill();
    await until(() => p.stats.healthy === 2, 'peer 1 unhealthy');
    const error = await p.acquire({ peer: target, signal: AbortSignal.timeout(100) }).catch((err: unknown) => err);
    expect(error).toMatchObject({
      code: 'ENOPEER',
      message: expect.stringContaining(`peer ${target.id} is not healthy`),
    });
    await expect(p.acquire({ peer: 'nobody:1', signal: AbortSignal.timeout(50) })).rejects.toThrow(/not a member/);
    // Waiting for it while the others are healthy: served when it is back, not by another peer.
    const waiting = p.acquire({ peer: target, signal: AbortSignal.timeout(5000) });
    const other = await p.acquire();
    expect(other.peer.id).not.toBe(target.id);
    p.release(other);
    await servers[1]?.restart();
    const lease = await waiting;
    expect(lease.peer.id).toBe(target.id);
    p.release(lease);
    await expect(p.acquire({ peer: 42 as unknown as string })).rejects.toThrow(/^peer: expected a Peer or a peer id/);
  });

  it('each() runs a function on every healthy member in parallel, releases each lease, and reports each outcome', async () => {
    const p = pool({ maxFailures: 1, maxEjectedPercent: 100 });
    await until(() => p.stats.healthy === 3, '3 healthy peers');
    let inFlight = 0;
    let most = 0;
    const results = await p.each(async (lease) => {
      most = Math.max(most, ++inFlight);
      await lease.conn.ping();
      await new Promise((resolve) => setTimeout(resolve, 20));
      inFlight--;
      if (lease.peer.name?.startsWith('echo-2.')) throw new Error('write refused');
      return lease.peer.address;
    });
    expect(most).toBe(3);
    expect(results.map((result) => [result.peer.name?.split('.')[0], result.status])).toEqual([
      ['echo-0', 'fulfilled'],
      ['echo-1', 'fulfilled'],
      ['echo-2', 'rejected'],
    ]);
    expect(results[0]).toMatchObject({ value: '127.0.0.20' });
    expect(results[2]).toMatchObject({ reason: new Error('write refused') });
    expect(p.stats.leased).toBe(0);
    // The rejection counted as a failed lease: with maxFailures 1, echo-2 is ejected.
    expect(p.stats.ejected).toBe(1);
    const next = await p.each((lease) => lease.peer.name?.split('.')[0]);
    expect(next.map((result) => result.status === 'fulfilled' && result.value)).toEqual(['echo-0', 'echo-1']);
    await expect(p.each((lease) => lease, { signal: AbortSignal.abort('stop') })).rejects.toBe('stop');
  });

  it('close() destroys every connection, leased ones too, and rejects waiting acquires', async () => {
    const p = pool();
    await until(() => p.stats.healthy === 3, '3 healthy peers');
    const lease = await p.acquire();
    await Promise.all(servers.map((server) => server.kill()));
    await until(() => p.stats.healthy === 0, 'all unhealthy');
    const waiting = p.acquire();
    await p.close();
    await expect(waiting).rejects.toMatchObject({ code: 'ECLOSED' });
    await expect(p.acquire()).rejects.toMatchObject({ code: 'ECLOSED' });
    expect(lease.conn.socket.destroyed).toBe(true);
    expect(destroyed).toHaveLength(3);
    p.release(lease); // harmless after close
  });

  it('rejects bad options with a TypeError naming the option', () => {
    const base = { watcher, connect: async () => ({}), destroy: () => {} };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ watcher: {} }, /^watcher: /],
      [{ connect: 'x' }, /^connect: /],
      [{ destroy: undefined }, /^destroy: /],
      [{ check: 5 }, /^check: /],
      [{ strategy: 'random' }, /^strategy: .*"random"/],
      [{ connectionsPerPeer: 0 }, /^connectionsPerPeer: /],
      [{ checkInterval: -1 }, /^checkInterval: /],
      [{ maxFailures: 0 }, /^maxFailures: /],
      [{ maxEjectedPercent: 101 }, /^maxEjectedPercent: .*101/],
      [{ baseEjectionTime: 1000, maxEjectionTime: 10 }, /^maxEjectionTime: /],
    ];
    for (const [options, message] of cases) {
      expect(() => createPeerPool({ ...base, ...options } as never), JSON.stringify(options)).toThrow(TypeError);
      expect(() => createPeerPool({ ...base, ...options } as never)).toThrow(message);
    }
  });
});
