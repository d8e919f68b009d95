import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import * as undici from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syncBalancedPool } from '../../src/adapters/undici.js';
import { type ClusterDns, createClusterDns } from '../../src/testing/index.js';
import { type PeerWatcher, watchPeers } from '../../src/watch/watcher.js';
import { until } from '../watch/helpers.js';

const SERVICE = 'web.default.svc.cluster.local.';

/** An HTTP server standing for a pod: it answers with its own address. */
async function startServer(host: string, port = 0): Promise<{ host: string; port: number; server: Server }> {
  const server = createServer((_req, res) => res.end(host));
  server.listen(port, host);
  await once(server, 'listening');
  const address = server.address();
  return { host, port: typeof address === 'object' && address !== null ? address.port : 0, server };
}

describe('syncBalancedPool', () => {
  let dns: ClusterDns;
  let watcher: PeerWatcher;
  const servers: Server[] = [];

  async function pod(name: string, host: string, port?: number): Promise<number> {
    const started = await startServer(host, port);
    servers.push(started.server);
    dns.addPod('web', { name, ip: started.host, ports: { http: started.port } });
    return started.port;
  }

  async function answers(pool: undici.BalancedPool, n: number): Promise<string[]> {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) seen.add(await (await pool.request({ path: '/', method: 'GET' })).body.text());
    return [...seen].sort();
  }

  beforeEach(async () => {
    dns = await createClusterDns({ ttl: 1 });
    watcher = watchPeers({
      name: SERVICE,
      port: 'http',
      nameservers: [dns.nameserver],
      respectTtl: false,
      interval: 50,
      minInterval: 20,
    });
  });

  afterEach(async () => {
    await watcher.close();
    for (const server of servers.splice(0)) server.closeAllConnections();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    await dns.close();
  });

  it('keeps the upstreams equal to the peers through scale-up, a move and scale-down, until stopped', async () => {
    await pod('web-0', '127.0.8.1');
    const port1 = await pod('web-1', '127.0.8.2');
    await watcher.ready();
    const pool = new undici.BalancedPool([]);
    const stop = syncBalancedPool(pool, watcher);
    try {
      // The watcher had answered: the upstreams are its peers at once.
      expect(pool.upstreams).toHaveLength(2);
      expect(await answers(pool, 10)).toEqual(['127.0.8.1', '127.0.8.2']);
      // Scale-up, with an IPv6 pod: its upstream has the address in brackets.
      const port6 = await pod('web-2', '::1');
      await until(() => pool.upstreams.length === 3, 'three upstreams');
      expect(pool.upstreams).toContain(`http://[::1]:${port6}`);
      expect(await answers(pool, 15)).toEqual(['127.0.8.1', '127.0.8.2', '::1']);
      // web-1 restarts on a new address: the old upstream goes, the new one comes.
      await pod('web-1', '127.0.8.12', port1);
      await until(() => pool.upstreams.includes(`http://127.0.8.12:${port1}`), 'the moved upstream');
      expect(pool.upstreams).not.toContain(`http://127.0.8.2:${port1}`);
      expect(await answers(pool, 15)).toEqual(['127.0.8.1', '127.0.8.12', '::1']);
      // Scale-down.
      dns.removePod('web', 'web-0');
      dns.removePod('web', 'web-2');
      await until(() => pool.upstreams.length === 1, 'one upstream');
      expect(await answers(pool, 5)).toEqual(['127.0.8.12']);
      // Stopped: the pool stays as it is.
      stop();
      await pod('web-3', '127.0.8.4');
      await watcher.refresh();
      expect(pool.upstreams).toEqual([`http://127.0.8.12:${port1}`]);
    } finally {
      stop();
      await pool.close();
    }
  });

  it('takes the peers as url() says, and leaves the pool alone until the first successful poll', async () => {
    const port = await pod('web-0', '127.0.8.1');
    const pool = new undici.BalancedPool(['http://127.0.8.99:1']);
    const stop = syncBalancedPool(pool, watcher, {
      url: (peer) => `http://${peer.address}:${peer.port}/ignored/path`,
    });
    try {
      expect(pool.upstreams).toEqual(['http://127.0.8.99:1']); // no answer yet: untouched
      await watcher.ready();
      await until(() => pool.upstreams.length === 1 && pool.upstreams[0] === `http://127.0.8.1:${port}`, 'the peer');
    } finally {
      stop();
      await pool.close();
    }
  });

  it('rejects what is not a BalancedPool, a watcher or a url function, naming it', () => {
    const pool = new undici.BalancedPool([]);
    expect(() => syncBalancedPool(new undici.Pool('http://127.0.0.1:1') as never, watcher)).toThrow(
      /^pool: expected an undici BalancedPool/,
    );
    expect(() => syncBalancedPool(pool, {} as PeerWatcher)).toThrow(/^watcher: expected a PeerWatcher/);
    expect(() => syncBalancedPool(pool, watcher, { url: 'x' as never })).toThrow(/^url: expected a function, got "x"$/);
    void pool.close();
  });
});
