import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPeerPool, type PeerPool } from '../../src/index.js';
import { type PeerWatcher, watchPeers } from '../../src/watch/watcher.js';
import { type BindServer, startBind } from '../support/bind.js';
import { connectEcho, type EchoClient, type EchoServer, startEchoServer } from '../support/echo-server.js';
import { requireNamed, skipIntegration } from '../support/named-required.js';
import { until } from '../watch/helpers.js';

const ZONE = 'cluster.local';
const BASE = 'echo.default.svc.cluster.local';

describe.skipIf(skipIntegration)('createPeerPool against BIND 9 changed with nsupdate', () => {
  let bind: BindServer;
  let watcher: PeerWatcher;
  let pool: PeerPool<EchoClient>;
  const servers: EchoServer[] = [];
  const records = (i: number, server: EchoServer) => [
    `echo-${i}.${BASE}. 5 A ${server.host}`,
    `${BASE}. 5 A ${server.host}`,
    `_echo._tcp.${BASE}. 5 SRV 0 50 ${server.port} echo-${i}.${BASE}.`,
  ];

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) servers.push(await startEchoServer(`127.0.0.${40 + i}`));
    bind = await startBind(requireNamed(), [
      // Absolute owner names with a TTL are valid zone-file lines as they are.
      { origin: ZONE, records: [0, 1].flatMap((i) => records(i, servers[i] as EchoServer)) },
    ]);
    watcher = watchPeers({
      name: `${BASE}.`,
      port: 'echo',
      family: 4,
      nameservers: [bind.nameserver],
      respectTtl: false,
      interval: 100,
    });
    await watcher.ready();
    pool = createPeerPool<EchoClient>({
      watcher,
      connect: (peer, signal) => connectEcho(peer.address, peer.port ?? 0, signal),
      destroy: (conn) => conn.socket.destroy(),
      check: (conn, signal) => conn.ping(signal),
      checkInterval: 50,
      reconnectDelay: 20,
    });
  });

  afterAll(async () => {
    await pool?.close();
    await watcher?.close();
    await bind?.close();
    await Promise.all(servers.map((server) => server.kill().catch(() => {})));
  });

  it('connects to both pods, then to a third added live', async () => {
    await until(() => pool.stats.healthy === 2, 'two healthy peers');
    await bind.update(
      ZONE,
      records(2, servers[2] as EchoServer).map((r) => `update add ${r}`),
    );
    await until(() => pool.stats.healthy === 3, 'the added pod');
    const seen = new Set<string>();
    for (let i = 0; i < 9; i++) {
      const lease = await pool.acquire({ signal: AbortSignal.timeout(2000) });
      await lease.conn.ping();
      seen.add(lease.conn.address);
      pool.release(lease);
    }
    expect(seen.size).toBe(3);
  });

  it('drops a pod deleted live and sends nothing more to it', async () => {
    await bind.update(
      ZONE,
      records(0, servers[0] as EchoServer).map((r) => `update delete ${r.replace(' 5 ', ' ')}`),
    );
    await until(() => pool.stats.members === 2 && pool.stats.draining === 0, 'echo-0 drained');
    for (let i = 0; i < 6; i++) {
      const lease = await pool.acquire({ signal: AbortSignal.timeout(2000) });
      expect(lease.peer.name).not.toBe(`echo-0.${BASE}`);
      pool.release(lease);
    }
  });
});
