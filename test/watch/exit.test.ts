import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterDns, createClusterDns } from '../../src/testing/index.js';
import { runTs } from '../support/child.js';

/** Runs a script in a child process; resolves with its exit code and output, or fails after 15 s. */
const runScript = (source: string, env: Record<string, string> = {}) =>
  runTs(['--input-type=module', '-e', source], { env, timeout: 15_000 });

describe('process lifetime', () => {
  let dns: ClusterDns;
  beforeAll(async () => {
    dns = await createClusterDns();
    dns.addPod('web', { name: 'web-0', ip: '10.0.0.1', ports: { http: 80 } });
  });
  afterAll(() => dns.close());

  // A script that watches the embedded DNS of this test, then runs `extra`.
  const watch = (extra: string) => `
    import { watchPeers } from './src/index.ts';
    const watcher = watchPeers({ name: 'web.default.svc.cluster.local.', port: 'http', nameservers: ['${dns.nameserver}'], interval: 50, respectTtl: false, minInterval: 10 });
    const peers = await watcher.ready();
    console.log(peers.length);
    ${extra}
  `;

  it('a script that watches and then calls close() exits by itself', async () => {
    const started = performance.now();
    const result = await runScript(watch('await watcher.close();'));
    expect(result).toMatchObject({ code: 0, out: '1\n' });
    expect(performance.now() - started).toBeLessThan(14_000);
  });

  it('an idle watcher alone does not keep the process alive', async () => {
    const result = await runScript(watch(''));
    expect(result).toMatchObject({ code: 0, out: '1\n' });
  });

  it('NODE_DEBUG=headless-peers logs polls through util.debuglog', async () => {
    const result = await runScript(watch('await watcher.close();'), {
      NODE_DEBUG: 'headless-peers',
    });
    expect(result.err).toMatch(
      /HEADLESS-PEERS \d+: web\.default\.svc\.cluster\.local\.: 1 joined, 0 updated, 0 returned, 0 missing, 0 left/,
    );
  });
});
