import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// Runs a script from the package root, where `headless-peers` resolves to this package's
// own `exports` (self-reference): exactly what a user's import or require gets.
function run(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 30_000 });
}

const exercise = `
  const dns = await createClusterDns();
  dns.addPod('kafka-headless', { name: 'kafka-0', ip: '10.0.0.1', ports: { kafka: 9092 } });
  const peers = await resolvePeers({ name: 'kafka-headless.default.svc.cluster.local', port: 'kafka', nameservers: [dns.nameserver], search: [] });
  // The watcher's backoff comes from p-retry, an ESM-only package: this call proves the CJS build carries it.
  dns.setFailure('servfail');
  const watcher = watchPeers({ name: 'kafka-headless.default.svc.cluster.local.', port: 'kafka', nameservers: [dns.nameserver], minInterval: 10 });
  await new Promise((resolve) => watcher.once('error', resolve));
  dns.setFailure(null);
  const watched = await watcher.ready();
  await watcher.close();
  if (watched.length !== peers.length) throw new Error('watcher and resolvePeers disagree');
  await dns.close();
  console.log(JSON.stringify({ peers: peers.map((p) => p.id), names: [typeof DnsClient, typeof DnsError, typeof serviceName, typeof srvName, typeof podName, typeof readResolvConf, typeof watchPeers] }));
`;
const expected = {
  peers: ['kafka-0.kafka-headless.default.svc.cluster.local:9092'],
  names: Array(7).fill('function'),
};

describe('the built package', () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist/index.cjs'))) {
      execFileSync(process.execPath, [join(root, 'node_modules/tsup/dist/cli-default.js')], {
        cwd: root,
        stdio: 'ignore',
        timeout: 120_000,
      });
    }
  }, 130_000);

  it('works through require()', () => {
    const out = run([
      '--input-type=commonjs',
      '-e',
      `const { resolvePeers, watchPeers, DnsClient, DnsError, serviceName, srvName, podName, readResolvConf } = require('headless-peers');
       const { createClusterDns } = require('headless-peers/testing');
       (async () => { ${exercise} })().catch((err) => { console.error(err); process.exit(1); });`,
    ]);
    expect(JSON.parse(out)).toEqual(expected);
  });

  it('works through import', () => {
    const out = run([
      '--input-type=module',
      '-e',
      `import { resolvePeers, watchPeers, DnsClient, DnsError, serviceName, srvName, podName, readResolvConf } from 'headless-peers';
       import { createClusterDns } from 'headless-peers/testing';
       ${exercise}`,
    ]);
    expect(JSON.parse(out)).toEqual(expected);
  });

  it('ships a CLI that answers --help', () => {
    expect(run([join(root, 'dist/cli/main.js'), '--help'])).toMatch(/Usage: headless-peers/);
  });
});
