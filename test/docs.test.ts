import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterDns, createClusterDns } from '../src/testing/index.js';
import { root, runTs } from './support/child.js';

const blocksDir = join(root, '.readme-blocks');

/** The TypeScript code blocks of a markdown file. */
function codeBlocks(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1] ?? '');
}

const run = (file: string, env: Record<string, string>) => runTs([file], { env, timeout: 25_000 });

// The cluster the README's examples talk to: every pod on a loopback address, the Kafka
// pods with a real listener on 9092, and a resolv.conf like a pod's pointing at it all.
describe('documentation code runs', () => {
  let dns: ClusterDns;
  let env: Record<string, string>;
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const confDir = mkdtempSync(join(tmpdir(), 'hp-docs-'));

  beforeAll(async () => {
    // TTL 1 s: watchers in the examples poll every second, so settling takes seconds, not tens.
    dns = await createClusterDns({ ttl: 1 });
    for (let i = 0; i < 3; i++) {
      dns.addPod('kafka-headless', { name: `kafka-${i}`, ip: `127.0.0.${11 + i}`, ports: { kafka: 9092 } });
      dns.addPod('mysql', { name: `mysql-${i}`, ip: `127.0.0.${21 + i}` });
      dns.addPod('cluster-headless', { name: `node-${i}`, ip: `127.0.0.${31 + i}`, ports: { gossip: 7946 } });
      const server = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      });
      await new Promise<void>((resolve) => server.listen(9092, `127.0.0.${11 + i}`, resolve));
      servers.push(server);
    }
    const conf = join(confDir, 'resolv.conf');
    writeFileSync(
      conf,
      `nameserver ${dns.nameserver}\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:1\n`,
    );
    // Each block runs as pod node-0 would: the downward API's POD_NAME and POD_IP say who it is.
    env = { HEADLESS_PEERS_RESOLV_CONF: conf, POD_NAME: 'node-0', POD_IP: '127.0.0.31' };
    mkdirSync(blocksDir, { recursive: true });
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    await dns.close();
    rmSync(confDir, { recursive: true, force: true });
    rmSync(blocksDir, { recursive: true, force: true });
  });

  const files = [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  for (const file of files) {
    codeBlocks(file).forEach((code, index) => {
      it(`${file}, TypeScript block ${index + 1}`, async () => {
        const path = join(blocksDir, `${file.replaceAll('/', '-')}-${index + 1}.ts`);
        writeFileSync(path, code);
        const result = await run(path, env);
        expect(result.err).toBe('');
        expect(result.code).toBe(0);
      });
    });
  }

  it('README has its TypeScript blocks (so this test cannot pass by finding none)', () => {
    expect(codeBlocks('README.md').length).toBeGreaterThanOrEqual(4);
  });

  for (const example of readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.ts'))) {
    it(`examples/${example} runs to the end`, async () => {
      const result = await run(join(root, 'examples', example), {});
      expect(result.code, result.err).toBe(0);
      expect(result.out.length).toBeGreaterThan(0);
    });
  }
});
